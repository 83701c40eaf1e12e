//go:build netns

package nft

import (
	"net"
	"net/netip"
	"testing"

	"github.com/vishvananda/netlink"
)

// TestNATNetns proves the NAT on real packets: this namespace routes between
// a bridge with guests A and B (gateway 10.88.0.1) and an uplink up0 to an
// "outside" namespace (10.99.0.0/24 and the external network
// 10.66.0.0/24). B has the floating IP 10.66.0.200; A has none. A guest on
// another host reaching 10.66.0.200 is "outside" here: its own host SNATs
// it to its uplink (or floating) address on the way out, as A's is below.
func TestNATNetns(t *testing.T) {
	a, b, out := uplinkTopology(t)
	a.listen(t, 80)
	b.listen(t, 80)
	out.listen(t, 8080)

	a.port.Groups, b.port.Groups = []string{"g"}, []string{"g"}
	rs := Ruleset{
		Tenant: prefix("10.88.0.0/24"), Gateway: addr("10.88.0.1"), Uplink: "up0", UplinkAddr: addr("10.99.0.11"),
		NAT:   []NAT{{Floating: addr("10.66.0.200"), Fixed: b.port.IP}},
		Ports: []Port{a.port, b.port},
		Groups: []Group{{ID: "g", Members: []netip.Addr{a.port.IP, b.port.IP}, Rules: []Rule{{},
			{Ingress: true, RemoteGroup: "g"},
			{Ingress: true, Protocol: "tcp", PortMin: 80, PortMax: 80, Remote: prefix("10.66.0.0/24")}}}},
	}
	requireApplied(t, rs)

	// In through the floating IP, DNATed to B, replies un-NATed; B sees the
	// real client, so a remote prefix can name outside clients.
	requirePass(t, out, "", "10.66.0.200", 80).Close()
	if n := b.acceptedFrom("10.66.0.1"); n != 1 {
		t.Errorf("B accepted %d connections from the outside client, want 1 (its address kept)", n)
	}
	// Out from B as its floating IP; out from A (none) as the host.
	requirePass(t, b, "", "10.66.0.1", 8080).Close()
	requirePass(t, a, "", "10.66.0.1", 8080).Close()
	if fip, host := out.acceptedFrom("10.66.0.200"), out.acceptedFrom("10.99.0.11"); fip != 1 || host != 1 {
		t.Errorf("outside saw %d connections from the floating IP and %d from the host, want 1 and 1", fip, host)
	}
	// Guest to guest, even to a guest with a floating IP, is not NATed.
	requirePass(t, a, "", b.port.IP.String(), 80).Close()
	requirePass(t, b, "", a.port.IP.String(), 80).Close()
	if b.acceptedFrom(a.port.IP.String()) != 1 || a.acceptedFrom(b.port.IP.String()) != 1 {
		t.Errorf("guest to guest: B saw A %d times, A saw B %d times, want 1 and 1 by fixed IPs",
			b.acceptedFrom(a.port.IP.String()), a.acceptedFrom(b.port.IP.String()))
	}
	// Hairpin: A reaches B through B's floating IP on their shared bridge.
	// B sees the gateway, so it answers through the host, which un-NATs
	// the answer (answering A directly, B would answer from an address A
	// never asked).
	requirePass(t, a, "", "10.66.0.200", 80).Close()
	if n := b.acceptedFrom("10.88.0.1"); n != 1 {
		t.Errorf("B accepted %d hairpinned connections from the gateway, want 1", n)
	}
	// The host's own connection to the floating IP (output DNAT).
	c, err := net.DialTimeout("tcp4", "10.66.0.200:80", passTimeout)
	if err != nil {
		t.Fatalf("host → floating IP: %v", err)
	}
	if err := echo(c, "from the host"); err != nil {
		t.Errorf("host → floating IP: %v", err)
	}
	c.Close()
	// A port the rules do not open stays shut through the floating IP (B has
	// no listener there: unfiltered, the dial would be refused, not time out).
	requireDrop(t, out, "", "10.66.0.200", 8080)
}

// uplinkTopology is what the NAT tests route through, in a throwaway
// namespace: a bridge with guests A (10.88.0.10) and B (10.88.0.11) behind
// the gateway 10.88.0.1, and an uplink up0 to an "outside" namespace
// (10.99.0.2, and 10.66.0.1 on the external network), programmed as
// compute/network/link does: the host's address, B's floating IP
// 10.66.0.200 as a /32, an on-link route to the external network.
func uplinkTopology(t *testing.T) (a, b, out *guest) {
	inThrowawayNetns(t)
	sysctl(t, "net/ipv4/ip_forward", "1")
	h, br := newBridge(t, "10.88.0.1/24")
	a = addGuest(t, h, br, "A", "tapaaaaaaaaaaa", "fa:16:3e:00:00:0a", "10.88.0.10/24")
	b = addGuest(t, h, br, "B", "tapbbbbbbbbbbb", "fa:16:3e:00:00:0b", "10.88.0.11/24")
	a.route(t, "10.88.0.1")
	b.route(t, "10.88.0.1")
	out = addGuest(t, h, nil, "outside", "up0", "02:00:00:00:00:02", "10.66.0.1/24", "10.99.0.2/24")
	up0, err := h.LinkByName("up0")
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range []string{"10.99.0.11/24", "10.66.0.200/32"} {
		nl, _ := netlink.ParseAddr(a)
		if err := h.AddrAdd(up0, nl); err != nil {
			t.Fatalf("uplink address %s: %v", a, err)
		}
	}
	if err := h.RouteAdd(&netlink.Route{LinkIndex: up0.Attrs().Index, Dst: &net.IPNet{IP: net.IP{10, 66, 0, 0},
		Mask: net.CIDRMask(24, 32)}, Scope: netlink.SCOPE_LINK}); err != nil {
		t.Fatalf("on-link route: %v", err)
	}
	return a, b, out
}
