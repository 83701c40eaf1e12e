//go:build netns

package network

import (
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/google/nftables"
	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"github.com/shoal-project/shoal/compute/network/link"
	"github.com/shoal-project/shoal/compute/network/nft"
	"github.com/shoal-project/shoal/fsm"
	"github.com/shoal-project/shoal/internal/netnstest"
)

// TestColocatedNodesNetns: two nodes in one namespace, as the three of
// scripts/local-cluster.sh share the machine's (peers on loopback, one
// bridge, one uplink named with --external-interface). Each reconciler
// keeps the other's tables and floating IPs through its passes; fencing one
// node and resetting the other take away only that node's.
func TestColocatedNodesNetns(t *testing.T) {
	netnstest.Enter(t)
	underlay := netnstest.Other(t)
	netnstest.Bridge(t, "br0", "10.78.0.1/24")
	netnstest.Veth(t, "up0", "10.99.0.11/24", underlay, "peer0", "10.99.0.12/24")

	nv := cluster()
	nv.Hosts = []fsm.Host{{Name: "h1", RaftAddress: "127.0.0.1:7947"}, {Name: "h2", RaftAddress: "127.0.0.1:7957"}}
	nv.FloatingIPs = append(nv.FloatingIPs, fsm.FloatingIP{ID: "f2", IP: "10.66.0.202", InstanceID: idB})
	st := newState(nv)
	type node struct {
		name   string
		dir    string
		fence  *fence
		r      *Reconciler
		tables string
	}
	var nodes []*node
	for _, name := range []string{"h1", "h2"} {
		n := &node{name: name, dir: t.TempDir(), fence: &fence{}, tables: nft.TableFor(name)}
		dp := NewKernelDataplane(name, n.dir, nil)
		t.Cleanup(dp.Close)
		r, err := New(Config{Host: name, Address: netip.MustParseAddr("127.0.0.1"), ExternalInterface: "up0",
			Bridge: func() (string, error) { return "br0", nil }, Fenced: n.fence.get}, st, dp)
		if err != nil {
			t.Fatal(err)
		}
		n.r = r
		nodes = append(nodes, n)
	}
	h1, h2 := nodes[0], nodes[1]
	for _, n := range []*node{h1, h2, h1, h2} {
		if err := n.r.Pass(true); err != nil {
			t.Fatalf("%s: %v", n.name, err)
		}
	}
	// A forced pass of either finds its own state whole: the other's
	// passes removed none of it.
	for _, n := range nodes {
		if changed, err := n.r.pass(true); err != nil || len(changed) != 0 {
			t.Fatalf("%s's pass after the other's changed %q, %v", n.name, changed, err)
		}
	}
	if got := floatingOn(t, "up0"); !slices.Equal(got, []string{"10.66.0.201/32", "10.66.0.202/32"}) {
		t.Fatalf("up0 holds %v, want both nodes' floating IPs", got)
	}
	if got := tables(t); !slices.Equal(got, []string{"bridge shoal-h1", "bridge shoal-h2", "inet shoal-h1", "inet shoal-h2"}) {
		t.Fatalf("tables %v, want a pair per node", got)
	}
	if got := shoalRoutes(t); len(got) != 1 || got[0] != "10.66.0.0/24" {
		t.Fatalf("routes of protocol 250: %v, want only the external network's (no route via loopback)", got)
	}

	// h1 is fenced: its floating IP goes, h2's stays.
	h1.fence.set(true)
	if err := h1.r.Pass(false); err != nil {
		t.Fatal(err)
	}
	if got := floatingOn(t, "up0"); !slices.Equal(got, []string{"10.66.0.202/32"}) {
		t.Fatalf("after fencing h1, up0 holds %v, want h2's floating IP only", got)
	}
	// h2 is reset (its guard fired): its floating IP and tables go, h1's
	// tables stay.
	if _, err := Reset("h2", h2.dir); err != nil {
		t.Fatal(err)
	}
	if got := floatingOn(t, "up0"); len(got) != 0 {
		t.Fatalf("after resetting h2, up0 holds %v", got)
	}
	if got := tables(t); !slices.Equal(got, []string{"bridge shoal-h1", "inet shoal-h1"}) {
		t.Fatalf("tables after resetting h2: %v, want h1's only", got)
	}
	if changed, err := h1.r.pass(true); err != nil || len(changed) != 0 {
		t.Fatalf("h1's pass after h2's reset changed %q, %v", changed, err)
	}
}

// floatingOn lists the /32 addresses on dev.
func floatingOn(t *testing.T, dev string) []string {
	t.Helper()
	var out []string
	for _, a := range netnstest.Addrs(t, dev) {
		if strings.HasSuffix(a, "/32") {
			out = append(out, a)
		}
	}
	return out
}

// tables lists the namespace's nftables tables as "family name".
func tables(t *testing.T) []string {
	t.Helper()
	c, err := nftables.New()
	if err != nil {
		t.Fatal(err)
	}
	ts, err := c.ListTables()
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, tb := range ts {
		fam := map[nftables.TableFamily]string{nftables.TableFamilyINet: "inet", nftables.TableFamilyBridge: "bridge"}[tb.Family]
		out = append(out, fam+" "+tb.Name)
	}
	slices.Sort(out)
	return out
}

// shoalRoutes lists the main table's routes of protocol 250.
func shoalRoutes(t *testing.T) []string {
	t.Helper()
	rs, err := netlink.RouteListFiltered(netlink.FAMILY_V4, &netlink.Route{Table: unix.RT_TABLE_MAIN}, netlink.RT_FILTER_TABLE)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, r := range rs {
		if r.Protocol == link.Protocol && r.Dst != nil {
			out = append(out, r.Dst.String())
		}
	}
	return out
}
