//go:build netns

package nft

import (
	"net/netip"
	"testing"

	"github.com/google/nftables"
)

// TestColocatedNodesNetns: two nodes in one namespace (a development cluster
// on one machine shares the host's) each apply their own ruleset to their
// own tables, and neither undoes the other. On one bridge, A is n1's guest
// (no floating IP) and B is n2's (floating IP 10.66.0.200). B leaves as its
// floating IP whichever node's NAT chains run first (the uplink SNAT runs
// after every node's floating IP SNAT). Filters compose: a drop in either
// node's tables drops, whichever accepts.
func TestColocatedNodesNetns(t *testing.T) {
	a, b, out := uplinkTopology(t)
	for _, g := range []*guest{a, b} {
		g.listen(t, 80)
		g.listen(t, 81)
	}
	out.listen(t, 8080)

	base := Ruleset{Tenant: prefix("10.88.0.0/24"), Uplink: "up0", UplinkAddr: addr("10.99.0.11")}
	n1, n2 := base, base
	a.port.Groups, b.port.Groups = []string{"g1"}, []string{"g2"}
	// n1's A takes port 80 from the outside only; n2's B takes 80 from anyone.
	n1.Ports = []Port{a.port}
	n1.Groups = []Group{{ID: "g1", Members: []netip.Addr{a.port.IP}, Rules: []Rule{{},
		{Ingress: true, Protocol: "tcp", PortMin: 80, PortMax: 80, Remote: prefix("10.66.0.0/24")}}}}
	n2.Ports = []Port{b.port}
	n2.NAT = []NAT{{Floating: addr("10.66.0.200"), Fixed: b.port.IP}}
	n2.Groups = []Group{{ID: "g2", Members: []netip.Addr{b.port.IP}, Rules: []Rule{{},
		{Ingress: true, Protocol: "tcp", PortMin: 80, PortMax: 80}}}}
	t1, t2 := TableFor("n1"), TableFor("n2")
	// Of two NAT chains at one priority the kernel runs the one made last
	// first: both orders are tried, so whichever node's uplink SNAT meets
	// B's flow first, B must leave as its floating IP.
	for i, order := range [][]string{{t1, t2, t1}, {t2, t1, t2}} { // the last: a pass that leaves the other's tables be
		for _, table := range []string{t1, t2} {
			if err := Remove(table); err != nil {
				t.Fatal(err)
			}
		}
		for _, table := range order {
			rs := map[string]Ruleset{t1: n1, t2: n2}[table]
			if err := Apply(table, rs); err != nil {
				t.Fatalf("Apply %s: %v", table, err)
			}
		}
		requireTablesInKernel(t, t1, n1)
		requireTablesInKernel(t, t2, n2)

		// NAT: in through n2's floating IP; out as it; A out as the uplink.
		requirePass(t, out, "", "10.66.0.200", 80).Close()
		requirePass(t, b, "", "10.66.0.1", 8080).Close()
		requirePass(t, a, "", "10.66.0.1", 8080).Close()
		if fip, host := out.acceptedFrom("10.66.0.200"), out.acceptedFrom("10.99.0.11"); fip != i+1 || host != i+1 {
			t.Errorf("tables made in the order %v: outside saw %d connections from the floating IP and %d from the uplink, want %d and %d",
				order, fip, host, i+1, i+1)
		}
	}
	// Filters: n2 lets A reach B:80 but not :81; n1 keeps B from A:80
	// though n2's tables let B's packets go.
	requirePass(t, a, "", b.port.IP.String(), 80).Close()
	requireDrop(t, a, "", b.port.IP.String(), 81)
	requireDrop(t, b, "", a.port.IP.String(), 80)

	// n1's tables go; n2's stay whole, and A is no longer filtered.
	if err := Remove(t1); err != nil {
		t.Fatal(err)
	}
	requireTablesInKernel(t, t2, n2)
	if have, err := readTable(t1, nftables.TableFamilyINet); err != nil || have != nil {
		t.Errorf("n1's inet table after Remove: %v, %v", have, err)
	}
	requirePass(t, b, "", a.port.IP.String(), 80).Close()
	requireDrop(t, a, "", b.port.IP.String(), 81)
}
