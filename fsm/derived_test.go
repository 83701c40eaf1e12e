package fsm_test

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/shoal-project/shoal/fsm"
)

// assertSameReads checks that two FSMs answer every read identically; used
// to compare a replica that applied the log with one restored from a
// snapshot, whose derived indexes (claims, pending set, MACs, flavor names)
// were rebuilt.
func assertSameReads(t testing.TB, a, b *fsm.FSM) {
	t.Helper()
	same := func(what string, x, y any) {
		t.Helper()
		if !reflect.DeepEqual(x, y) {
			t.Errorf("%s differs:\n%+v\n%+v", what, x, y)
		}
	}
	same("Index", a.Index(), b.Index())
	same("ClusterID", a.ClusterID(), b.ClusterID())
	same("Hosts", a.Hosts(), b.Hosts())
	same("Flavors", a.Flavors(), b.Flavors())
	same("Images", a.Images(), b.Images())
	same("ServerGroups", a.ServerGroups(), b.ServerGroups())
	same("Instances", a.Instances(nil), b.Instances(nil))
	same("Usage", a.Usage(), b.Usage())
	na, oka := a.Network()
	nb, okb := b.Network()
	same("Network", []any{na, oka}, []any{nb, okb})
	for _, limit := range []int{0, 1, 3} {
		same(fmt.Sprintf("SchedulingView(%d)", limit), a.SchedulingView(limit), b.SchedulingView(limit))
	}
	for _, h := range a.Hosts() {
		same("InstancesOnHost("+h.Name+")", a.InstancesOnHost(h.Name), b.InstancesOnHost(h.Name))
	}
	for _, p := range []string{"", "p0", "p1", "p2"} {
		same("Quota("+p+")", a.Quota(p), b.Quota(p))
		same("ProjectUsage("+p+")", a.ProjectUsage(p), b.ProjectUsage(p))
		same("Instances(InProject("+p+"))", a.Instances(fsm.InProject(p)), b.Instances(fsm.InProject(p)))
		same("ImagesVisibleTo("+p+")", a.ImagesVisibleTo(p), b.ImagesVisibleTo(p))
		same("ServerGroupsOf("+p+")", a.ServerGroupsOf(p), b.ServerGroupsOf(p))
		same("SecurityGroupsOf("+p+")", a.SecurityGroupsOf(p), b.SecurityGroupsOf(p))
		same("FloatingIPs(FloatingIPsOf("+p+"))", a.FloatingIPs(fsm.FloatingIPsOf(p)), b.FloatingIPs(fsm.FloatingIPsOf(p)))
		same("FlavorsVisibleTo("+p+")", a.FlavorsVisibleTo(p), b.FlavorsVisibleTo(p))
		same("DeletedInstances(InProject("+p+"))", a.DeletedInstances(time.Time{}, fsm.InProject(p)), b.DeletedInstances(time.Time{}, fsm.InProject(p)))
	}
	same("DeletedInstances", a.DeletedInstances(time.Time{}, nil), b.DeletedInstances(time.Time{}, nil))
	same("Networks", a.Networks(), b.Networks())
	same("ExternalNetworks", a.ExternalNetworks(), b.ExternalNetworks())
	for _, n := range a.Networks() {
		x, errX := a.NetworkByID(n.ID)
		y, errY := b.NetworkByID(n.ID)
		same("NetworkByID("+n.ID+")", []any{x, errX}, []any{y, errY})
	}
	same("FloatingIPs", a.FloatingIPs(nil), b.FloatingIPs(nil))
	for _, fip := range a.FloatingIPs(nil) {
		x, errX := a.FloatingIP(fip.ID)
		y, errY := b.FloatingIP(fip.ID)
		same("FloatingIP("+fip.ID+")", []any{x, errX}, []any{y, errY})
	}
	same("AllSecurityGroups", a.AllSecurityGroups(), b.AllSecurityGroups())
	for _, g := range a.AllSecurityGroups() {
		x, errX := a.SecurityGroup(g.ID)
		y, errY := b.SecurityGroup(g.ID)
		same("SecurityGroup("+g.ID+")", []any{x, errX}, []any{y, errY})
		for _, r := range g.Rules {
			x, errX := a.SecurityGroupRule(r.ID)
			y, errY := b.SecurityGroupRule(r.ID)
			same("SecurityGroupRule("+r.ID+")", []any{x, errX}, []any{y, errY})
		}
	}
	same("NetworkView", a.NetworkView(), b.NetworkView())
	for _, fl := range a.Flavors() {
		x, errX := a.Flavor(fl.Name)
		y, errY := b.Flavor(fl.Name)
		same("Flavor("+fl.Name+")", []any{x, errX}, []any{y, errY})
	}
	same("Projects", a.Projects(), b.Projects())
	same("Users", a.Users(), b.Users())
	same("Roles", a.Roles(), b.Roles())
	same("RoleAssignments", a.RoleAssignments("", ""), b.RoleAssignments("", ""))
	same("SigningKeys", a.SigningKeys(), b.SigningKeys())
	same("JoinTokens", a.JoinTokens(), b.JoinTokens())
	for _, tok := range a.JoinTokens() {
		x, errX := a.JoinToken(tok.ID)
		y, errY := b.JoinToken(tok.ID)
		same("JoinToken("+tok.ID+")", []any{x, errX}, []any{y, errY})
	}
	same("NodeCerts", a.NodeCerts(""), b.NodeCerts(""))
	for _, c := range a.NodeCerts("") {
		same("NodeCerts("+c.Node+")", a.NodeCerts(c.Node), b.NodeCerts(c.Node))
		same("NodeCertRevoked("+c.Serial+")", a.NodeCertRevoked(c.Serial), b.NodeCertRevoked(c.Serial))
	}
	keysA, primaryA := a.GossipKeys()
	keysB, primaryB := b.GossipKeys()
	same("GossipKeys", []any{keysA, primaryA}, []any{keysB, primaryB})
	for _, p := range a.Projects() {
		x, errX := a.Project(p.Name)
		y, errY := b.Project(p.Name)
		same("Project("+p.Name+")", []any{x, errX}, []any{y, errY})
		for _, u := range a.Users() {
			same("RolesOf("+u.ID+", "+p.ID+")", a.RolesOf(u.ID, p.ID), b.RolesOf(u.ID, p.ID))
		}
	}
	for _, u := range a.Users() {
		x, errX := a.User(u.Name)
		y, errY := b.User(u.Name)
		same("User("+u.Name+")", []any{x, errX}, []any{y, errY})
	}
	for _, r := range a.Roles() {
		x, errX := a.Role(r.Name)
		y, errY := b.Role(r.Name)
		same("Role("+r.Name+")", []any{x, errX}, []any{y, errY})
	}
	for _, u := range []string{"u0", "u1", "u2", "u3", "u-admin"} {
		same("KeyPairsOf("+u+")", a.KeyPairsOf(u), b.KeyPairsOf(u))
		for _, k := range a.KeyPairsOf(u) {
			x, errX := a.KeyPair(u, k.Name)
			y, errY := b.KeyPair(u, k.Name)
			same("KeyPair("+u+", "+k.Name+")", []any{x, errX}, []any{y, errY})
		}
	}
	sameSnapshot(t, "snapshots differ", a, b)
}

// After every entry of a random log, the claims and the pending set equal a
// recomputation from the instances, addresses and MACs agree with the
// allocation table, and a replica restored from a snapshot at that point
// answers every read the same and goes on identically.
func TestDerivedIndexes(t *testing.T) {
	for _, seed := range []uint64{3, 5, 8, 13} {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			g := newLogGen(seed)
			log := g.entries(t, 400)
			if g.seen["ACTIVE"] == 0 || len(g.seen) < 3 {
				t.Errorf("servers went through only %v", g.seen)
			}
			f := fsm.New()
			var replicas []*fsm.FSM
			for i, data := range log {
				index := uint64(i + 1)
				res := f.ApplyEntry(index, data)
				for _, r := range replicas {
					if got := r.ApplyEntry(index, data); fmt.Sprint(got) != fmt.Sprint(res) {
						t.Fatalf("entry %d: restored replica got %v, original %v", index, got, res)
					}
				}
				checkDerived(t, f)
				if i%40 == 20 {
					r := fsm.New()
					restore(t, r, snapshotBytes(t, f))
					assertSameReads(t, f, r)
					replicas = append(replicas, r)
				}
				if t.Failed() {
					t.Fatalf("after entry %d", index)
				}
			}
			for k, r := range replicas {
				t.Run(fmt.Sprint("replica ", k), func(t *testing.T) { assertSameReads(t, f, r) })
			}
			t.Logf("statuses seen %v; %d servers at the end; usage %+v", g.seen, len(f.Instances(nil)), f.Usage())
		})
	}
}

// A hand-built state with every kind of compute object survives a snapshot
// and restore with identical reads, and both replicas go on identically.
func TestComputeSnapshotRoundTrip(t *testing.T) {
	w := newWorld(t, testCIDR)
	w.must(&fsm.CreateServerGroup{Group: fsm.ServerGroup{ID: "g", Name: "g", Policy: fsm.PolicyAntiAffinity, Created: t0}})
	for k, st := range startStates {
		w.reachState(fmt.Sprintf("s%02d", k), st)
	}
	createInGroup(w, "g", "g1", "g2", "g3")
	w.place("g1", "h2")
	w.must(&fsm.DeleteFlavor{ID: "1"}) // servers keep their spec
	w.act("s00", fsm.ActionDelete)     // a place that will be reused
	w.finish("s00")
	checkDerived(t, w.f)

	r := &world{t: t, f: fsm.New(), next: w.next}
	restore(t, r.f, snapshotBytes(t, w.f))
	assertSameReads(t, w.f, r.f)

	// The same commands on both, then compare again: the rebuilt indexes
	// drive the next allocation, MAC, claim check and pending set alike.
	for _, x := range []*world{w, r} {
		x.must(&fsm.CreateFlavor{Flavor: fsm.Flavor{ID: "1", Name: "m1.tiny", VCPUs: 1, RAM: 512, Disk: 1}})
		x.create("n1", "n2")
		x.must(planCmd(fsm.Placement{InstanceID: "g2", Host: "h2"}, fsm.Placement{InstanceID: "g3", Host: "h3"},
			fsm.Placement{InstanceID: "n1", Host: "h1"}))
		x.finish("g3")
		x.act("s01", fsm.ActionDelete)
	}
	assertSameReads(t, w.f, r.f)
	checkDerived(t, r.f)
}

// The order of the pending queue is derived state too: a replica restored
// from a snapshot must hand the scheduler the same servers in the same order
// as one that applied the log, including servers created together in one
// request and servers whose placement was rejected and that wait again.
func TestPendingOrderSurvivesRestore(t *testing.T) {
	for _, tc := range []struct {
		name  string
		steps func(w *world)
	}{
		{"one request, IDs not in order", func(w *world) {
			w.create("b", "a", "c")
		}},
		{"separate requests", func(w *world) {
			w.create("z")
			w.create("y")
			w.create("x")
		}},
		{"rejected placement waits again", func(w *world) {
			w.create("a", "b")
			w.create("c")
			w.must(&fsm.SetHostEnabled{Name: "h1", Enabled: false, Time: t1})
			w.must(planCmd(fsm.Placement{InstanceID: "a", Host: "h1"}))
			if a := w.inst("a"); !a.Pending() || a.Attempts != 1 {
				t.Fatalf("a: %s attempts %d", describe(a), a.Attempts)
			}
		}},
		{"rejected in a later plan than a placement", func(w *world) {
			w.create("a", "b", "c", "d")
			w.must(&fsm.SetHostEnabled{Name: "h1", Enabled: false, Time: t1})
			w.must(planCmd(fsm.Placement{InstanceID: "c", Host: "h1"}, fsm.Placement{InstanceID: "b", Host: "h2"},
				fsm.Placement{InstanceID: "a", Host: "h1"}))
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(t, testCIDR)
			tc.steps(w)
			checkDerived(t, w.f)
			r := fsm.New()
			restore(t, r, snapshotBytes(t, w.f))
			if a, b := ids(w.f.SchedulingView(0).Pending), ids(r.SchedulingView(0).Pending); !slices.Equal(a, b) {
				t.Errorf("pending order: applied %v, restored %v", a, b)
			}
			assertSameReads(t, w.f, r)
		})
	}
}

// SchedulingView's hosts follow every command that changes a host, and a
// restore.
func TestSchedulingViewHostsFollowChanges(t *testing.T) {
	w := newWorld(t, testCIDR)
	check := func(what string) {
		t.Helper()
		if got, want := w.f.SchedulingView(0).Hosts, w.f.Hosts(); !reflect.DeepEqual(got, want) {
			t.Errorf("after %s: SchedulingView.Hosts =\n%+v\nHosts() =\n%+v", what, got, want)
		}
	}
	check("setup")
	for _, step := range []struct {
		what string
		cmd  fsm.Command
	}{
		{"register", registerHost("h0", t1)},
		{"re-register", func() fsm.Command { c := registerHost("h0", t2); c.HTTPAddress = "elsewhere:1"; return c }()},
		{"inventory", inventory("h0", 2, 2048, 20)},
		{"disable", &fsm.SetHostEnabled{Name: "h1", Enabled: false, Reason: "x", Time: t1}},
		{"enable", &fsm.SetHostEnabled{Name: "h1", Enabled: true, Time: t2}},
		{"deregister", &fsm.DeregisterHost{Name: "h2"}},
		{"batch", batchOf(t, registerHost("h9", t2), inventory("h9", 1, 1, 1), &fsm.DeregisterHost{Name: "h3"})},
	} {
		apply(t, w.f, w.next, step.cmd)
		w.next++
		check(step.what)
	}
	_ = w.f.SchedulingView(0) // warm whatever the FSM caches
	src := newWorld(t, "10.0.0.0/16")
	restore(t, w.f, snapshotBytes(t, src.f))
	check("restore")
}

// Many servers entering and leaving the queue (deleted, placed, failed,
// rejected) in a shuffled order: the queue stays exact through compaction.
func TestPendingQueueChurn(t *testing.T) {
	w := newWorld(t, "10.0.0.0/16")
	w.must(inventory("h1", 1000, 1<<20, 1<<20), inventory("h2", 1000, 1<<20, 1<<20))
	w.must(&fsm.SetHostEnabled{Name: "h3", Enabled: false, Time: t0})
	rng := rand.New(rand.NewPCG(11, 12))
	for round := range 30 {
		var batch []string
		for range 1 + rng.IntN(20) {
			batch = append(batch, fmt.Sprintf("q%05d", rng.IntN(100000)))
		}
		slices.Sort(batch)
		batch = slices.Compact(batch)
		if err := w.apply(createCmd(batch...)); err != nil {
			assertBusinessError(t, err, fsm.ErrConflict) // an ID drawn twice
		}
		pending := w.f.SchedulingView(0).Pending
		rng.Shuffle(len(pending), func(a, b int) { pending[a], pending[b] = pending[b], pending[a] })
		p := planCmd()
		for k, i := range pending {
			switch k % 5 {
			case 0:
				w.act(i.ID, fsm.ActionDelete)
			case 1:
				p.Placements = append(p.Placements, fsm.Placement{InstanceID: i.ID, Host: "h1"})
			case 2:
				p.Placements = append(p.Placements, fsm.Placement{InstanceID: i.ID, Host: "h3"}) // rejected
			case 3:
				p.Failures = append(p.Failures, fsm.PlanFailure{InstanceID: i.ID, Reason: "no"})
			}
		}
		w.must(p)
		checkDerived(t, w.f)
		if round%10 == 9 {
			r := fsm.New()
			restore(t, r, snapshotBytes(t, w.f))
			assertSameReads(t, w.f, r)
		}
	}
	t.Logf("%d servers, %d pending", len(w.f.Instances(nil)), len(w.f.SchedulingView(0).Pending))
}
