//go:build netns

package nft

import (
	"net/netip"
	"testing"
)

// TestStatefulBridgeNetns proves the rules on real packets: a bridge with two
// guests, each in its own namespace behind a veth port. A is in group ga
// (all egress, no ingress); B is in gb, whose ingress allows tcp 80 from ga.
func TestStatefulBridgeNetns(t *testing.T) {
	inThrowawayNetns(t)
	h, br := newBridge(t)
	const aIP, bIP, spoofIP = "10.88.0.10", "10.88.0.11", "10.88.0.12"
	a := addGuest(t, h, br, "A", "tapaaaaaaaaaaa", "fa:16:3e:00:00:0a", aIP+"/24", spoofIP+"/32")
	b := addGuest(t, h, br, "B", "tapbbbbbbbbbbb", "fa:16:3e:00:00:0b", bIP+"/24")
	a.neigh(t, bIP, b.port.MAC)
	b.neigh(t, spoofIP, a.port.MAC)
	a.listen(t, 80)
	b.listen(t, 80)
	b.listen(t, 81)

	// Controls: without shoal's tables every one of these flows works,
	// including A sending from an address that is not its own.
	requirePass(t, a, "", bIP, 81).Close()
	requirePass(t, a, spoofIP, bIP, 80).Close()
	requirePass(t, b, "", aIP, 80).Close()
	spoofedBefore := b.acceptedFrom(spoofIP)

	a.port.Groups, b.port.Groups = []string{"ga"}, []string{"gb"}
	rs := Ruleset{
		Tenant: prefix("10.88.0.0/24"),
		Ports:  []Port{a.port, b.port},
		Groups: []Group{
			// spoofIP is a member (as if on another host): only anti-spoofing
			// stands between A and B:80 when A sends from it.
			{ID: "ga", Members: []netip.Addr{addr(aIP), addr(spoofIP)}, Rules: []Rule{{}}},
			{ID: "gb", Members: []netip.Addr{addr(bIP)}, Rules: []Rule{{},
				{Ingress: true, Protocol: "tcp", PortMin: 80, PortMax: 80, RemoteGroup: "ga"}}},
		},
	}
	if err := Apply(testTable, rs); err != nil {
		t.Fatalf("Apply: %v", err)
	}
	kept := requirePass(t, a, "", bIP, 80) // allowed, and its replies pass
	defer kept.Close()
	requireDrop(t, a, "", bIP, 81)      // B allows only 80
	requireDrop(t, b, "", aIP, 80)      // A allows no ingress: only replies reach it
	requireDrop(t, a, spoofIP, bIP, 80) // group says yes, the spoofed source says no
	if n := b.acceptedFrom(spoofIP); n != spoofedBefore {
		t.Errorf("B accepted %d connections from the spoofed %s with the rules on", n-spoofedBefore, spoofIP)
	}

	// A leaves ga's member set (an element change): its established flow
	// lives on in conntrack, a new one is dropped.
	rs.Groups[0].Members = []netip.Addr{addr(spoofIP)}
	if err := Apply(testTable, rs); err != nil {
		t.Fatalf("Apply: %v", err)
	}
	if err := echo(kept, "still there"); err != nil {
		t.Errorf("established flow after a membership change: %v", err)
	}
	requireDrop(t, a, "", bIP, 80)

	if err := Remove(testTable); err != nil {
		t.Fatalf("Remove: %v", err)
	}
	requirePass(t, a, "", bIP, 81).Close()
	requirePass(t, b, "", aIP, 80).Close()
}
