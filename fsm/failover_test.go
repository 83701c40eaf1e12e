package fsm_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/shoal-project/shoal/fsm"
)

func markDown(host string) *fsm.MarkHostDown {
	return &fsm.MarkHostDown{Name: host, LastSeen: t1, Reason: "gossip dead, lease expired", RequestID: "req-down", Time: t2}
}

// active creates id on host and has the host report it running.
func (w *world) active(id, host string) {
	w.t.Helper()
	w.create(id)
	w.place(id, host)
	w.finish(id)
}

// activeNoHA is active but with HA policy none.
func (w *world) activeNoHA(id, host string) {
	w.t.Helper()
	c := createCmd(id)
	c.Instances[0].HA = fsm.HANone
	w.must(c)
	w.place(id, host)
	w.finish(id)
}

// A down host's servers are queued again with their identity and address;
// the scheduler places them elsewhere, and the new host's report ends the
// evacuation with the failover time in the action log.
func TestMarkHostDownEvacuates(t *testing.T) {
	w := newWorld(t, testCIDR)
	w.active("a", "h1")
	w.active("b", "h1")
	w.act("b", fsm.ActionStop)
	w.finish("b")
	w.active("c", "h2")
	ipA, macA := w.ip("a"), w.inst("a").Addresses[0].MAC

	w.must(markDown("h1"))
	h, _ := w.f.Host("h1")
	if !h.Down || !h.DownSince.Equal(t1) {
		t.Fatalf("host h1 down=%v since %v, want down since t1", h.Down, h.DownSince)
	}
	for _, id := range []string{"a", "b"} {
		i := w.inst(id)
		if !i.Pending() || i.Host != "" || i.TaskState != fsm.TaskRebuilding || i.Status() != "REBUILD" {
			t.Fatalf("%s after host down: %s", id, describe(i))
		}
	}
	if i := w.inst("c"); i.Host != "h2" || i.Status() != "ACTIVE" {
		t.Fatalf("server on a live host changed: %s", describe(i))
	}
	// The dead host takes nothing.
	w.must(planCmd(fsm.Placement{InstanceID: "a", Host: "h1"}))
	if i := w.inst("a"); i.Host != "" || i.Attempts != 1 {
		t.Fatalf("placement on the down host accepted: %s", describe(i))
	}
	w.must(planCmd(fsm.Placement{InstanceID: "a", Host: "h3"}, fsm.Placement{InstanceID: "b", Host: "h2"}))
	for id, host := range map[string]string{"a": "h3", "b": "h2"} {
		i := w.inst(id)
		if i.Host != host || i.TaskState != fsm.TaskRebuildSpawning {
			t.Fatalf("%s: %s, want rebuild_spawning on %s", id, describe(i), host)
		}
	}
	w.must(reportCmd("h3", fsm.InstanceReport{ID: "a", PowerState: fsm.PowerRunning, Done: fsm.TaskRebuildSpawning}))
	w.must(reportCmd("h2", fsm.InstanceReport{ID: "b", PowerState: fsm.PowerShutdown, Done: fsm.TaskRebuildSpawning}))
	a, b := w.inst("a"), w.inst("b")
	if a.Status() != "ACTIVE" || b.Status() != "SHUTOFF" {
		t.Fatalf("after rebuild: a %s, b %s; want ACTIVE and SHUTOFF (a stopped server stays stopped)", describe(a), describe(b))
	}
	if w.ip("a") != ipA || a.Addresses[0].MAC != macA {
		t.Fatalf("a moved to %v, want IP %s MAC %s kept", a.Addresses, ipA, macA)
	}
	act := lastAction(t, a)
	if act.Action != fsm.ActionEvacuate || act.Result != "success" || !act.Start.Equal(t1) ||
		!strings.Contains(act.Message, fmt.Sprintf("failover took %.1f s", t2.Sub(t1).Seconds())) {
		t.Fatalf("action log: %+v", act)
	}
	checkDerived(t, w.f)
	checkAddresses(t, stateOf(t, w.f))
}

// HA none stays on the dead host in ERROR; deletes in flight complete; ERROR
// servers are left for the operator.
func TestMarkHostDownPolicies(t *testing.T) {
	w := newWorld(t, testCIDR)
	w.activeNoHA("n", "h1")
	w.active("d", "h1")
	w.act("d", fsm.ActionDelete)
	w.create("e")
	w.place("e", "h1")
	w.must(reportCmd("h1", fsm.InstanceReport{ID: "e", Done: fsm.TaskSpawning, Error: "boom"}))
	w.create("s") // spawning when the host died
	w.place("s", "h1")

	w.must(markDown("h1"))
	if i := w.inst("n"); i.Status() != "ERROR" || i.Host != "h1" || i.Fault == nil || !strings.Contains(i.Fault.Message, "HA policy is none") {
		t.Fatalf("ha=none server: %s", describe(i))
	}
	w.gone("d")
	if i := w.inst("e"); i.Status() != "ERROR" || i.Host != "h1" {
		t.Fatalf("errored server: %s", describe(i))
	}
	if i := w.inst("s"); i.Status() != "BUILD" || !i.Pending() {
		t.Fatalf("server spawning on the dead host: %s, want BUILD and pending", describe(i))
	}
	w.refuse(markDown("h1"), fsm.ErrConflict)
	checkDerived(t, w.f)
	checkAddresses(t, stateOf(t, w.f))
}

// An operator evacuates only from a host that is down (Nova's rule), and a
// target must be able to take servers.
func TestEvacuateInstances(t *testing.T) {
	w := newWorld(t, testCIDR)
	w.activeNoHA("n", "h1")
	evac := &fsm.EvacuateInstances{IDs: []string{"n"}, TargetHost: "h2", RequestID: "req-evac", Time: t2}
	if err := w.refuse(evac, fsm.ErrConflict); !strings.Contains(err.Error(), "is up") {
		t.Fatalf("refusal says %v", err)
	}
	w.must(markDown("h1"))
	w.refuse(&fsm.EvacuateInstances{IDs: []string{"n"}, TargetHost: "h1", Time: t2}, fsm.ErrInvalid)
	w.refuse(&fsm.EvacuateInstances{IDs: []string{"n"}, TargetHost: "nope", Time: t2}, fsm.ErrNotFound)
	w.refuse(&fsm.EvacuateInstances{IDs: []string{"n", "missing"}, Time: t2}, fsm.ErrNotFound)
	w.refuse(&fsm.EvacuateInstances{Time: t2}, fsm.ErrInvalid)
	w.must(&fsm.ForceHostDown{Name: "h3", ForcedDown: true, Time: t2})
	w.refuse(&fsm.EvacuateInstances{IDs: []string{"n"}, TargetHost: "h3", Time: t2}, fsm.ErrConflict)
	w.must(evac)
	i := w.inst("n")
	if !i.Pending() || i.ForceHost != "h2" || i.Status() != "REBUILD" {
		t.Fatalf("after evacuate: %s", describe(i))
	}
	w.refuse(evac, fsm.ErrConflict) // already waiting
	w.must(planCmd(fsm.Placement{InstanceID: "n", Host: "h2"}))
	w.must(reportCmd("h2", fsm.InstanceReport{ID: "n", PowerState: fsm.PowerRunning, Done: fsm.TaskRebuildSpawning}))
	if i := w.inst("n"); i.Status() != "ACTIVE" || i.Host != "h2" || i.Fault != nil {
		t.Fatalf("after rebuild: %s", describe(i))
	}
	checkDerived(t, w.f)
}

// A forced-down host takes no servers; up clears the verdict, and only a
// down host can be marked up.
func TestForceDownAndMarkUp(t *testing.T) {
	w := newWorld(t, testCIDR)
	w.must(&fsm.ForceHostDown{Name: "h2", ForcedDown: true, Time: t1})
	w.create("a")
	w.must(planCmd(fsm.Placement{InstanceID: "a", Host: "h2"}))
	if i := w.inst("a"); i.Host != "" {
		t.Fatalf("placed on a forced-down host: %s", describe(i))
	}
	w.refuse(&fsm.MarkHostUp{Name: "h2", Time: t2}, fsm.ErrConflict)
	w.refuse(&fsm.ForceHostDown{Name: "nope", ForcedDown: true, Time: t2}, fsm.ErrNotFound)
	w.must(markDown("h2"), &fsm.MarkHostUp{Name: "h2", Time: t2})
	if h, _ := w.f.Host("h2"); h.Down || !h.DownSince.IsZero() || !h.ForcedDown {
		t.Fatalf("host after up: %+v", h)
	}
	w.refuse(&fsm.CreateInstances{RequestID: "r", Time: t0, Instances: []fsm.NewInstance{{ID: "x", Name: "x", FlavorID: "1", ImageID: testImage, HA: "maybe"}}}, fsm.ErrInvalid)
}

// Nova 2.95: an evacuation with Stop lands the server stopped, whatever
// it was (here ERROR, as a server of HA policy none on a dead host is);
// without it such a server comes back ACTIVE.
func TestEvacuateStop(t *testing.T) {
	w := newWorld(t, testCIDR)
	w.activeNoHA("s", "h1")
	w.activeNoHA("r", "h1")
	w.must(markDown("h1"))
	w.must(&fsm.EvacuateInstances{IDs: []string{"s"}, TargetHost: "h2", Stop: true, RequestID: "req-s", Time: t2},
		&fsm.EvacuateInstances{IDs: []string{"r"}, TargetHost: "h2", RequestID: "req-r", Time: t2})
	if s, r := w.inst("s"), w.inst("r"); s.VMState != fsm.VMStopped || s.TaskState != fsm.TaskRebuilding ||
		r.VMState != fsm.VMActive || r.TaskState != fsm.TaskRebuilding {
		t.Fatalf("after evacuate: s %s, r %s", describe(s), describe(r))
	}
	w.must(planCmd(fsm.Placement{InstanceID: "s", Host: "h2"}, fsm.Placement{InstanceID: "r", Host: "h2"}))
	w.must(reportCmd("h2", fsm.InstanceReport{ID: "s", PowerState: fsm.PowerShutdown, Done: fsm.TaskRebuildSpawning},
		fsm.InstanceReport{ID: "r", PowerState: fsm.PowerRunning, Done: fsm.TaskRebuildSpawning}))
	if s, r := w.inst("s"), w.inst("r"); s.Status() != "SHUTOFF" || r.Status() != "ACTIVE" {
		t.Fatalf("landed: s %s, r %s; want SHUTOFF and ACTIVE", describe(s), describe(r))
	}
	checkDerived(t, w.f)
}
