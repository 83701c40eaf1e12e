package cluster_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/shoal-project/shoal/cluster"
	"github.com/shoal-project/shoal/cluster/clustertest"
	"github.com/shoal-project/shoal/fsm"
	"github.com/shoal-project/shoal/internal/testkit"
)

// settle bounds the waits for a cluster to converge: a wait ends as soon
// as it has, so the bound only has to outlast a loaded machine (five Raft
// nodes under the race detector beside the other packages' tests).
const settle = 45 * time.Second

// formed reports whether node i sees want alive members, one leader and the
// given numbers of voters (leader included) and non-voters.
func formed(nd *clustertest.Node, want, voters, nonvoters int) bool {
	alive, leaders, v, nv := 0, 0, 0, 0
	for _, m := range nd.Members() {
		if m.Status == "alive" {
			alive++
		}
		switch m.Role {
		case "leader":
			leaders++
			v++
		case "follower":
			v++
		case "nonvoter":
			nv++
		}
	}
	return alive == want && leaders == 1 && v == voters && nv == nonvoters
}

func waitFormed(t *testing.T, c *clustertest.Cluster, voters, nonvoters int) {
	t.Helper()
	for i, nd := range c.Nodes {
		if !c.Up(i) {
			continue
		}
		testkit.WaitFor(t, settle, fmt.Sprintf("%s to see %d voters, %d non-voters", nd.Name(), voters, nonvoters),
			func() bool { return formed(nd, voters+nonvoters, voters, nonvoters) })
	}
}

// newFormed starts three nodes with opt, waits until each sees three voters,
// and returns them with the index of their leader.
func newFormed(t *testing.T, opt func(*cluster.Config)) (*clustertest.Cluster, int) {
	t.Helper()
	c := clustertest.New(t, 3, opt)
	waitFormed(t, c, 3, 0)
	return c, c.WaitForLeader(settle)
}

func createFlavor(t *testing.T, nd *clustertest.Node, name string) uint64 {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), settle)
	defer cancel()
	idx, err := nd.Apply(ctx, &fsm.CreateFlavor{Flavor: fsm.Flavor{ID: name, Name: name, VCPUs: 1, RAM: 64, Disk: 1}})
	if err != nil {
		t.Fatalf("create flavor %s through %s: %v", name, nd.Name(), err)
	}
	return idx
}

func waitFlavor(t *testing.T, nd *clustertest.Node, name string) {
	t.Helper()
	testkit.WaitFor(t, settle, name+" on "+nd.Name(), func() bool {
		_, err := nd.FSM().Flavor(name)
		return err == nil
	})
}

func TestClusterForms(t *testing.T) {
	for _, tc := range []struct {
		nodes, maxVoters, voters, nonvoters int
	}{
		{3, 5, 3, 0},
		{5, 5, 5, 0},
		{4, 3, 3, 1},
	} {
		t.Run(fmt.Sprintf("%d-nodes-max-%d-voters", tc.nodes, tc.maxVoters), func(t *testing.T) {
			c := clustertest.New(t, tc.nodes, func(cfg *cluster.Config) { cfg.MaxVoters = tc.maxVoters })
			waitFormed(t, c, tc.voters, tc.nonvoters)
			for _, nd := range c.Nodes {
				testkit.WaitFor(t, settle, "hosts and default flavors on "+nd.Name(), func() bool {
					return len(nd.FSM().Hosts()) == tc.nodes && len(nd.FSM().Flavors()) == 5
				})
				if _, err := nd.FSM().Flavor("m1.tiny"); err != nil {
					t.Fatalf("%s: default flavor m1.tiny: %v", nd.Name(), err)
				}
				if size := nd.MetaSize(); size == 0 || size > 512 {
					t.Fatalf("%s publishes %d bytes of gossip metadata; want 1..512", nd.Name(), size)
				}
				if got := nd.Health().Status; got != "ok" {
					t.Fatalf("%s health = %q, want ok", nd.Name(), got)
				}
			}
		})
	}
}

func TestWriteThroughFollower(t *testing.T) {
	c, first := newFormed(t, nil)
	follower := (first + 1) % 3
	idx := createFlavor(t, c.Nodes[follower], "via-follower")
	if idx == 0 {
		t.Fatal("write returned index 0")
	}
	for _, nd := range c.Nodes {
		waitFlavor(t, nd, "via-follower")
	}
	// A write through the leader is visible on a follower right after a sync.
	leader := c.Leader()
	createFlavor(t, c.Nodes[leader], "via-leader")
	if err := c.Nodes[follower].SyncReplica(context.Background()); err != nil {
		t.Fatalf("sync: %v", err)
	}
	if _, err := c.Nodes[follower].FSM().Flavor("via-leader"); err != nil {
		t.Fatalf("after a sync the follower lacks the leader's write: %v", err)
	}
	// Business errors come back from the leader as the same sentinel.
	_, err := c.Nodes[follower].Apply(context.Background(), &fsm.CreateFlavor{Flavor: fsm.Flavor{ID: "x", Name: "via-follower", VCPUs: 1, RAM: 1}})
	if !errors.Is(err, fsm.ErrConflict) {
		t.Fatalf("duplicate through follower: got %v, want ErrConflict", err)
	}
}

func TestLeaderKilledWritesContinue(t *testing.T) {
	c, old := newFormed(t, nil)
	createFlavor(t, c.Nodes[old], "before")
	c.Stop(old)
	start := time.Now()
	leader := c.WaitForNewLeader(old, settle)
	t.Logf("new leader %s after %v", c.Nodes[leader].Name(), time.Since(start))
	survivor := 3 - old - leader
	createFlavor(t, c.Nodes[survivor], "after")
	c.Start(old)
	waitFormed(t, c, 3, 0)
	for _, nd := range c.Nodes {
		waitFlavor(t, nd, "before")
		waitFlavor(t, nd, "after")
	}
}

func TestRestartedNodeRejoinsAndCatchesUp(t *testing.T) {
	c, leader := newFormed(t, nil)
	f := (leader + 1) % 3
	c.Stop(f)
	createFlavor(t, c.Nodes[leader], "while-down")
	// Restart with no join addresses and no bootstrap: state on disk is enough.
	c.Nodes[f].Config.Join, c.Nodes[f].Config.Bootstrap = nil, false
	c.Start(f)
	// Caught up means the replica holds every write committed before the
	// restart: the reconciler trusts absence in it only then.
	testkit.WaitFor(t, settle, c.Nodes[f].Name()+" caught up", c.Nodes[f].CaughtUp)
	if _, err := c.Nodes[f].FSM().Flavor("while-down"); err != nil {
		t.Fatalf("caught up but the write made while down is missing: %v", err)
	}
	waitFormed(t, c, 3, 0)
}

func TestRestartWithNewAddressIsReadded(t *testing.T) {
	c, leader := newFormed(t, nil)
	f := (leader + 1) % 3
	c.Stop(f)
	old := c.Nodes[f].Config.RaftPort
	c.Nodes[f].Config.HTTPPort, c.Nodes[f].Config.GossipPort, c.Nodes[f].Config.RaftPort = 0, 0, 0
	c.Start(f)
	if c.Nodes[f].Config.RaftPort == old {
		t.Skip("the kernel handed back the same port")
	}
	createFlavor(t, c.Nodes[leader], "after-move")
	waitFlavor(t, c.Nodes[f], "after-move")
	waitFormed(t, c, 3, 0)
	testkit.WaitFor(t, settle, "host record with the new address", func() bool {
		h, err := c.Nodes[leader].FSM().Host(c.Nodes[f].Name())
		return err == nil && h.RaftAddress == c.Nodes[f].RaftAddr()
	})
}

func TestLateJoinerInstallsSnapshot(t *testing.T) {
	c, leader := newFormed(t, func(cfg *cluster.Config) {
		cfg.SnapshotThreshold, cfg.TrailingLogs = 16, 8
	})
	for i := 0; i < 50; i++ {
		createFlavor(t, c.Nodes[leader], fmt.Sprintf("f%02d", i))
	}
	if err := c.Nodes[leader].Snapshot(); err != nil {
		t.Fatalf("snapshot: %v", err)
	}
	late := c.Add(false, []string{c.Nodes[leader].GossipAddr()})
	waitFormed(t, c, 4, 0)
	waitFlavor(t, late, "f49")
	if got := late.RaftStats()["last_snapshot_index"]; got == "0" || got == "" {
		t.Fatalf("late joiner last_snapshot_index = %q: it replayed the log instead of installing a snapshot", got)
	}
	if got, want := len(late.FSM().Flavors()), 55; got != want {
		t.Fatalf("late joiner has %d flavors, want %d", got, want)
	}
}

func TestGracefulLeaveRemovesFromRaft(t *testing.T) {
	c, leaving := newFormed(t, nil) // the hardest case: the leader leaves
	ctx, cancel := context.WithTimeout(context.Background(), settle)
	defer cancel()
	if err := c.Nodes[leaving].Leave(ctx); err != nil {
		t.Fatalf("leave: %v", err)
	}
	other := (leaving + 1) % 3
	testkit.WaitFor(t, settle, "the leaver to be left and out of raft", func() bool {
		for _, m := range c.Nodes[other].Members() {
			if m.Name == c.Nodes[leaving].Name() {
				return m.Status == "left" && m.Role == "none"
			}
		}
		return false
	})
	createFlavor(t, c.Nodes[other], "after-leave")
	testkit.WaitFor(t, settle, "the leaver's certificates revoked", func() bool {
		certs := c.Nodes[other].FSM().NodeCerts(c.Nodes[leaving].Name())
		for _, cert := range certs {
			if !cert.Revoked {
				return false
			}
		}
		return len(certs) > 0
	})
}

// TestJoinRefusesAnotherCluster: each cluster gossips under its own keys, so
// a node of one cannot even read the other's gossip, let alone merge.
func TestJoinRefusesAnotherCluster(t *testing.T) {
	a := clustertest.New(t, 1, nil)
	b := clustertest.New(t, 1, nil)
	for _, c := range []*clustertest.Cluster{a, b} {
		testkit.WaitFor(t, settle, "cluster identity", func() bool { return c.Nodes[0].FSM().ClusterID() != "" })
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := b.Nodes[0].Join(ctx, []string{a.Nodes[0].GossipAddr()})
	if err == nil || !strings.Contains(err.Error(), "no installed keys could decrypt") {
		t.Fatalf("join across clusters: got %v, want a refusal to decrypt", err)
	}
	if len(a.Nodes[0].Members()) != 1 || len(b.Nodes[0].Members()) != 1 {
		t.Fatalf("gossip merged anyway: a sees %d, b sees %d", len(a.Nodes[0].Members()), len(b.Nodes[0].Members()))
	}
}

func TestJoinCommandAddsWaitingNode(t *testing.T) {
	c := clustertest.New(t, 2, nil)
	waiting := c.Add(false, nil)
	if got := waiting.Health().Status; got != "waiting" {
		t.Fatalf("unjoined node health = %q, want waiting", got)
	}
	ctx, cancel := context.WithTimeout(context.Background(), settle)
	defer cancel()
	if err := waiting.Join(ctx, []string{c.Nodes[0].GossipAddr()}); err != nil {
		t.Fatalf("join: %v", err)
	}
	waitFormed(t, c, 3, 0)
}

func TestInventoryChangeReachesOthers(t *testing.T) {
	c := clustertest.New(t, 3, nil)
	waitFormed(t, c, 3, 0)
	inv := fsm.Inventory{VCPUs: 32, VCPUsFree: 30, MemoryMiB: 65536, MemoryFreeMiB: 60000,
		DiskGiB: 500, DiskFreeGiB: 400, Arch: "x86_64", HypervisorType: "fake", HypervisorVersion: "2", Instances: 3}
	c.Nodes[2].Inv.Set(inv)
	inv.Zone, inv.AgentVersion = "nova", "dev"
	for _, nd := range c.Nodes[:2] {
		testkit.WaitFor(t, 5*time.Second, "new inventory on "+nd.Name(), func() bool {
			for _, m := range nd.Members() {
				if m.Name == c.Nodes[2].Name() {
					return m.Inventory == inv
				}
			}
			return false
		})
	}
}
