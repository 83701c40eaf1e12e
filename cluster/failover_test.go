package cluster_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/shoal-project/shoal/cluster"
	"github.com/shoal-project/shoal/cluster/clustertest"
	"github.com/shoal-project/shoal/fsm"
	"github.com/shoal-project/shoal/internal/testkit"
)

const (
	testLease  = 600 * time.Millisecond
	testMargin = 400 * time.Millisecond
)

func fastLeases(cfg *cluster.Config) {
	cfg.LeaseDuration, cfg.LeaseMargin, cfg.FailoverInterval = testLease, testMargin, 50*time.Millisecond
	cfg.DeadVoterTimeout = time.Second
}

func applyCmd(t *testing.T, nd *clustertest.Node, c fsm.Command) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), settle)
	defer cancel()
	if _, err := nd.Apply(ctx, c); err != nil {
		t.Fatalf("apply %s: %v", c.Type(), err)
	}
}

// putServer creates a server and places it on host (no scheduler runs here).
func putServer(t *testing.T, nd *clustertest.Node, id, host string) {
	t.Helper()
	now := time.Now().UTC()
	applyCmd(t, nd, &fsm.CreateImage{Image: fsm.Image{ID: "img-" + id, Name: "img-" + id, DiskFormat: "qcow2",
		ContainerFormat: "bare", Size: 1, Status: "active", Created: now, Updated: now}})
	applyCmd(t, nd, &fsm.CreateInstances{RequestID: "r", Time: now, Instances: []fsm.NewInstance{
		{ID: id, Name: id, FlavorID: "1", ImageID: "img-" + id}}})
	applyCmd(t, nd, &fsm.Plan{Time: now, Ratios: fsm.DefaultRatios, MaxAttempts: 3,
		Placements: []fsm.Placement{{InstanceID: id, Host: host}}})
	inst, err := nd.FSM().Instance(id)
	if err != nil {
		t.Fatal(err)
	}
	applyCmd(t, nd, &fsm.ReportInstances{Host: host, Time: now, Reports: []fsm.InstanceReport{
		{ID: id, PowerState: fsm.PowerRunning, Done: fsm.TaskSpawning, TaskIndex: inst.TaskIndex}}})
}

func waitLease(t *testing.T, c *clustertest.Cluster) {
	t.Helper()
	for i, nd := range c.Nodes {
		if c.Up(i) {
			testkit.WaitFor(t, settle, nd.Name()+" to hold a lease", func() bool { return nd.Lease().Valid() })
		}
	}
}

// newLeased starts three nodes with opt and waits until each sees three
// voters and holds a lease; it returns them with the index of their leader.
func newLeased(t *testing.T, opt func(*cluster.Config)) (*clustertest.Cluster, int) {
	t.Helper()
	c := clustertest.New(t, 3, opt)
	waitFormed(t, c, 3, 0)
	waitLease(t, c)
	return c, c.WaitForLeader(settle)
}

// liveHostsUp fails t if the leader's replica marks down any host but dead's;
// when says after what, for the message.
func liveHostsUp(t *testing.T, c *clustertest.Cluster, leader, dead int, when string) {
	t.Helper()
	for i, nd := range c.Nodes {
		if i != dead && host(t, c.Nodes[leader], nd.Name()).Down {
			t.Fatalf("live host %s marked down%s", nd.Name(), when)
		}
	}
}

func host(t *testing.T, nd *clustertest.Node, name string) fsm.Host {
	t.Helper()
	h, err := nd.FSM().Host(name)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// Every node holds a lease while it reaches a leader; a node cut off (here:
// stopped) is marked down only after lease + margin, and its servers are
// queued for evacuation; it is marked up once it holds a lease again.
func TestDeadHostMarkedDownAfterLeaseAndMargin(t *testing.T) {
	c, leader := newLeased(t, fastLeases)
	victim := (leader + 1) % 3
	name := c.Nodes[victim].Name()
	putServer(t, c.Nodes[leader], "vm-1", name)
	// The victim's lease is recorded for a restart and the fence guard.
	if exp, err := cluster.ReadLeaseFile(c.Nodes[victim].Config.DataDir); err != nil || !exp.After(time.Now()) {
		t.Fatalf("recorded lease %v, %v; want one still running", exp, err)
	}
	c.Stop(victim)
	stopped := time.Now()
	testkit.WaitFor(t, settle, name+" marked down", func() bool { return host(t, c.Nodes[leader], name).Down })
	took := time.Since(stopped)
	if took < testLease+testMargin {
		t.Fatalf("marked down %v after it stopped, before lease + margin (%v): it may not have fenced yet", took, testLease+testMargin)
	}
	t.Logf("marked down %v after it stopped", took)
	inst, err := c.Nodes[leader].FSM().Instance("vm-1")
	if err != nil || inst.Host != "" || inst.TaskState != fsm.TaskRebuilding {
		t.Fatalf("server after its host went down: %+v, %v", inst, err)
	}
	liveHostsUp(t, c, leader, victim, "")
	c.Start(victim)
	testkit.WaitFor(t, settle, name+" up again", func() bool { return !host(t, c.Nodes[leader], name).Down })
	if !c.Nodes[victim].Lease().Valid() {
		t.Fatal("marked up without a lease")
	}
}

// An election alone makes no host look dead: the new leader waits lease +
// margin before any verdict, and the live hosts renew meanwhile. The old
// leader's host is marked down only after that grace.
func TestLeaderChangeGrace(t *testing.T) {
	c, old := newLeased(t, fastLeases)
	oldName := c.Nodes[old].Name()
	c.Stop(old)
	stopped := time.Now()
	leader := c.WaitForNewLeader(old, settle)
	testkit.WaitFor(t, settle, oldName+" marked down", func() bool { return host(t, c.Nodes[leader], oldName).Down })
	if took := time.Since(stopped); took < testLease+testMargin {
		t.Fatalf("old leader marked down after %v, before lease + margin", took)
	}
	liveHostsUp(t, c, leader, old, " after an election")
}

// A forced-down host gets no lease, so it fences itself, and is then marked
// down although gossip still sees it; clearing the flag brings it back.
func TestForcedDownHostLosesItsLease(t *testing.T) {
	c, leader := newLeased(t, fastLeases)
	victim := (leader + 2) % 3
	name := c.Nodes[victim].Name()
	applyCmd(t, c.Nodes[leader], &fsm.ForceHostDown{Name: name, ForcedDown: true, Time: time.Now().UTC()})
	testkit.WaitFor(t, settle, name+" lease expired", func() bool { return !c.Nodes[victim].Lease().Valid() })
	testkit.WaitFor(t, settle, name+" marked down", func() bool { return host(t, c.Nodes[leader], name).Down })
	applyCmd(t, c.Nodes[leader], &fsm.ForceHostDown{Name: name, ForcedDown: false, Time: time.Now().UTC()})
	testkit.WaitFor(t, settle, name+" up again", func() bool {
		return !host(t, c.Nodes[leader], name).Down && c.Nodes[victim].Lease().Valid()
	})
}

// A voter that stays dead is removed from Raft and a live non-voter takes
// its place, so the cluster keeps a full set of voters.
func TestDeadVoterReplaced(t *testing.T) {
	c := clustertest.New(t, 4, func(cfg *cluster.Config) { fastLeases(cfg); cfg.MaxVoters = 3 })
	waitFormed(t, c, 3, 1)
	leader := c.WaitForLeader(settle)
	var victim int
	for i, m := range c.Nodes[leader].Members() {
		if m.Role == "follower" {
			victim = i
			break
		}
	}
	c.Stop(victim)
	// Gossip's dead verdict, the timeout, then a reconcile: several steps,
	// each slower on a loaded machine.
	testkit.WaitFor(t, 2*settle, "a non-voter promoted in place of "+c.Nodes[victim].Name(), func() (bool, string) {
		voters, gone := 0, true
		ms := c.Nodes[leader].Members()
		for _, m := range ms {
			if m.Role == "leader" || m.Role == "follower" {
				voters++
				gone = gone && m.Name != c.Nodes[victim].Name()
			}
		}
		return voters == 3 && gone, fmt.Sprint(roles(ms))
	})
}

func roles(ms []cluster.Member) []string {
	out := make([]string, len(ms))
	for i, m := range ms {
		out[i] = m.Name + ":" + m.Status + "/" + m.Role
	}
	return out
}

// An agent that restarts within lease + margin keeps its servers: it is
// never marked down.
func TestQuickRestartIsNotDown(t *testing.T) {
	c, leader := newLeased(t, func(cfg *cluster.Config) {
		fastLeases(cfg)
		cfg.LeaseDuration, cfg.LeaseMargin = 3*time.Second, 2*time.Second
	})
	victim := (leader + 1) % 3
	name := c.Nodes[victim].Name()
	putServer(t, c.Nodes[leader], "vm-q", name)
	c.Stop(victim)
	c.Start(victim)
	if !c.Nodes[victim].Lease().Valid() {
		t.Fatal("the restarted agent lost the lease it recorded")
	}
	testkit.WaitFor(t, settle, name+" to renew its lease", func() bool { return c.Nodes[victim].Lease().Remaining() > 2*time.Second })
	time.Sleep(3*time.Second + 2*time.Second) // a whole lease + margin more
	if h := host(t, c.Nodes[leader], name); h.Down {
		t.Fatalf("a host restarted within the margin was marked down")
	}
	if inst, _ := c.Nodes[leader].FSM().Instance("vm-q"); inst.Host != name {
		t.Fatalf("its server moved to %q", inst.Host)
	}
}
