//go:build netns

package agent

import (
	"context"
	"net/netip"
	"testing"
	"time"

	"github.com/google/nftables"
	"github.com/vishvananda/netlink"

	"github.com/shoal-project/shoal/cluster"
	"github.com/shoal-project/shoal/compute"
	"github.com/shoal-project/shoal/compute/network"
	"github.com/shoal-project/shoal/compute/network/link"
	"github.com/shoal-project/shoal/compute/network/nft"
	"github.com/shoal-project/shoal/fsm"
	"github.com/shoal-project/shoal/internal/netnstest"
)

// TestFenceGuardNetworkNetns: the guard's own network steps (package
// network's, not stand-ins) take node n1's recorded floating IP off the
// uplink and delete n1's tables once its lease is over and nothing runs;
// n2, sharing the namespace, keeps its tables and its floating IP.
func TestFenceGuardNetworkNetns(t *testing.T) {
	netnstest.Enter(t)
	// The uplink: any interface that takes addresses (a bridge needs no
	// module this kernel may lack).
	if err := netlink.LinkAdd(&netlink.Bridge{LinkAttrs: netlink.LinkAttrs{Name: "up0"}}); err != nil {
		t.Fatal(err)
	}
	up0, err := netlink.LinkByName("up0")
	if err == nil {
		err = netlink.LinkSetUp(up0)
	}
	if err != nil {
		t.Fatal(err)
	}
	rs := nft.Ruleset{Tenant: netip.MustParsePrefix("10.78.0.0/24")}
	nodes := map[string]string{"n1": "10.66.0.201", "n2": "10.66.0.202"}
	dirs := map[string]string{}
	for name, fip := range nodes {
		dirs[name] = t.TempDir()
		dp := network.NewKernelDataplane(name, dirs[name], discard)
		if err := dp.Filter(rs); err != nil {
			t.Fatal(err)
		}
		if _, err := dp.Program(link.Desired{Uplink: "up0", FloatingAddrs: []netip.Addr{netip.MustParseAddr(fip)}}); err != nil {
			t.Fatal(err)
		}
		dp.Close()
	}

	dir := dirs["n1"]
	if err := cluster.WriteLeaseFile(dir, time.Now().Add(-time.Second)); err != nil {
		t.Fatal(err)
	}
	hv := guardHost(t, fsm.PowerRunning)
	g, err := NewFenceGuard(GuardConfig{Name: "n1", DataDir: dir, Lease: testLease, Logger: discard},
		GuardDeps{Agent: nopReadCloser{}, Connect: func(context.Context) (compute.Hypervisor, error) { return hv, nil }})
	if err != nil {
		t.Fatal(err)
	}
	g.agentGone()
	g.check(context.Background()) // stops the domain: tables go, the guard stays for another look
	if !g.check(context.Background()) {
		t.Error("the guard did not exit with the lease over, nothing running and the agent gone")
	}

	as, err := netlink.AddrList(up0, netlink.FAMILY_V4)
	if err != nil {
		t.Fatal(err)
	}
	var held []string
	for _, a := range as {
		held = append(held, a.IPNet.String())
	}
	if len(held) != 1 || held[0] != "10.66.0.202/32" {
		t.Errorf("up0 holds %v after n1's guard fired, want n2's floating IP only", held)
	}
	c, err := nftables.New()
	if err != nil {
		t.Fatal(err)
	}
	ts, err := c.ListTables()
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, tb := range ts {
		names = append(names, tb.Name)
	}
	if len(names) != 2 || names[0] != nft.TableFor("n2") || names[1] != nft.TableFor("n2") {
		t.Errorf("tables %v after n1's guard fired, want n2's pair only", names)
	}
}
