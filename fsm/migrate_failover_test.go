package fsm_test

import (
	"strings"
	"testing"

	"github.com/shoal-project/shoal/fsm"
)

// evacuation is the evacuation record moving id now.
func (w *world) evacuation(id string) fsm.Migration {
	w.t.Helper()
	m := w.migration(id)
	if m.Kind != fsm.MigrationEvacuation {
		w.t.Fatalf("server %s moves by %+v, want an evacuation", id, m)
	}
	return m
}

// The source dies during a live migration to a destination that is up:
// the server goes to the destination to be rebuilt (adopted) there, the
// live migration in error and an evacuation recorded; the destination's
// report ends the evacuation, done or failed.
func TestSourceDownDuringLiveMigration(t *testing.T) {
	for _, fail := range []bool{false, true} {
		name := "done"
		if fail {
			name = "failed"
		}
		t.Run(name, func(t *testing.T) {
			w := newWorld(t, testCIDR)
			w.activeOwned("a", "p1")
			w.must(migrateCmd("a", fsm.MigrationLive, "h2"))
			live := w.migration("a").ID
			index := w.next
			w.must(markDown("h1"))
			i := w.inst("a")
			if i.Host != "h2" || i.TaskState != fsm.TaskRebuildSpawning || i.TaskIndex != index || i.Status() != "REBUILD" ||
				i.Pending() || i.ForceHost != "" {
				t.Fatalf("after the source went down: %s", describe(i))
			}
			if m := w.record(live); m.Status != fsm.MigrationError || !strings.Contains(m.Message, "during the live migration to h2") {
				t.Fatalf("live migration %+v", m)
			}
			e := w.evacuation("a")
			if e.Source != "h1" || e.Dest != "h2" || e.Status != fsm.MigrationPreMigrating || e.ID != live+1 || e.RequestID != "req-down" {
				t.Fatalf("evacuation %+v", e)
			}
			if a := lastAction(t, i); a.Action != fsm.ActionEvacuate || a.Result != "" {
				t.Errorf("action %+v", a)
			}
			w.checkClaims(map[string]fsm.Usage{"h2": usage(tiny)})
			if len(w.f.MovingWith("h1")) != 0 {
				t.Error("an evacuation ties the server to its dead source")
			}
			errMsg := ""
			if fail {
				errMsg = "no image"
			}
			w.must(reportCmd("h2", fsm.InstanceReport{ID: "a", PowerState: fsm.PowerRunning, Done: fsm.TaskRebuildSpawning, Error: errMsg}))
			i = w.inst("a")
			want, status := "ACTIVE", fsm.MigrationDone
			if fail {
				want, status = "ERROR", fsm.MigrationFailed
			}
			if i.Status() != want || i.Host != "h2" {
				t.Fatalf("after the rebuild: %s", describe(i))
			}
			w.notMoving("a")
			if m := w.record(e.ID); m.Status != status {
				t.Fatalf("evacuation ended %+v, want %s", m, status)
			}
			w.checkClaims(map[string]fsm.Usage{"h2": usage(tiny)})
			checkDerived(t, w.f)
		})
	}
}

// The destination of a live migration goes down: the server (on its
// source) is left alone; a later success puts it on the dead host, so it
// is evacuated at once; a failure leaves it where it was. If the source
// dies too, the server is evacuated as any.
func TestDestDownDuringLiveMigration(t *testing.T) {
	for _, end := range []string{"success", "failure", "source down"} {
		t.Run(end, func(t *testing.T) {
			w := newWorld(t, testCIDR)
			w.activeOwned("a", "p1")
			w.must(migrateCmd("a", fsm.MigrationLive, "h2"))
			live := w.migration("a").ID
			before := w.inst("a")
			w.must(markDown("h2"))
			if i := w.inst("a"); i.Host != "h1" || i.TaskState != fsm.TaskMigrating || i.ModifyIndex != before.ModifyIndex {
				t.Fatalf("server moving to a dead host changed: %s", describe(i))
			}
			w.checkClaims(map[string]fsm.Usage{"h1": usage(tiny), "h2": usage(tiny)})
			switch end {
			case "success":
				w.moveDone("a", fsm.PowerRunning, "")
				if m := w.record(live); m.Status != fsm.MigrationCompleted {
					t.Fatalf("live migration %+v", m)
				}
			case "failure":
				w.moveDone("a", fsm.PowerRunning, "dest unreachable")
				if i := w.inst("a"); i.Host != "h1" || i.Status() != "ACTIVE" {
					t.Fatalf("after failure: %s", describe(i))
				}
				w.notMoving("a")
				w.checkClaims(map[string]fsm.Usage{"h1": usage(tiny)})
				return
			case "source down":
				w.must(markDown("h1"))
				if m := w.record(live); m.Status != fsm.MigrationError {
					t.Fatalf("live migration %+v", m)
				}
			}
			i := w.inst("a")
			if i.Host != "" || !i.Pending() || i.TaskState != fsm.TaskRebuilding {
				t.Fatalf("not evacuated: %s", describe(i))
			}
			e := w.evacuation("a")
			if e.Status != fsm.MigrationAccepted || e.Dest != "" {
				t.Fatalf("evacuation %+v", e)
			}
			w.checkClaims(map[string]fsm.Usage{})
			w.must(planCmd(fsm.Placement{InstanceID: "a", Host: "h3"}))
			if m := w.record(e.ID); m.Status != fsm.MigrationPreMigrating || m.Dest != "h3" {
				t.Fatalf("placed evacuation %+v", m)
			}
			w.must(reportCmd("h3", fsm.InstanceReport{ID: "a", PowerState: fsm.PowerRunning, Done: fsm.TaskRebuildSpawning}))
			if m := w.record(e.ID); m.Status != fsm.MigrationDone {
				t.Fatalf("evacuation %+v", m)
			}
			w.checkClaims(map[string]fsm.Usage{"h3": usage(tiny)})
			checkDerived(t, w.f)
		})
	}
}

// Every other move of a server whose host goes down ends in error, and
// the server is evacuated as any (HA none: ERROR on the dead host); the
// other end's claim goes.
func TestHostDownEndsOtherMoves(t *testing.T) {
	for _, tc := range []struct {
		step, down, vm string
		flavor         fsm.FlavorSpec
	}{
		{"migrating-pending", "h1", fsm.VMActive, tiny},
		{fsm.TaskResizePrep, "h1", fsm.VMActive, tiny},
		{fsm.TaskResizeMigrating, "h1", fsm.VMActive, tiny},
		{fsm.TaskResizeFinish, "h2", fsm.VMActive, tiny},
		{fsm.VMResized, "h2", fsm.VMActive, small},
		{fsm.TaskResizeReverting, "h2", fsm.VMActive, small},
		{fsm.TaskResizeRevertFinish, "h1", fsm.VMActive, tiny},
	} {
		t.Run(tc.step, func(t *testing.T) {
			w := newWorld(t, testCIDR)
			w.movingTo("a", tc.step)
			id := w.migration("a").ID
			w.must(markDown(tc.down))
			if m := w.record(id); m.Status != fsm.MigrationError || !strings.Contains(m.Message, "is down") {
				t.Fatalf("migration %+v", m)
			}
			i := w.inst("a")
			if i.Host != "" || !i.Pending() || i.VMState != tc.vm || i.Flavor != tc.flavor {
				t.Fatalf("not evacuated: %s flavor %+v", describe(i), i.Flavor)
			}
			if e := w.evacuation("a"); e.Source != tc.down || e.Status != fsm.MigrationAccepted {
				t.Fatalf("evacuation %+v", e)
			}
			w.checkClaims(map[string]fsm.Usage{})
		})
	}
}

// A server of HA policy none whose host goes down mid-move is in ERROR on
// the dead host; its move ends and the other end's claim goes.
func TestHostDownEndsMoveHANone(t *testing.T) {
	w := newWorld(t, testCIDR)
	w.activeNoHA("a", "h1")
	w.must(migrateCmd("a", fsm.MigrationCold, "h2"))
	id := w.migration("a").ID
	w.must(markDown("h1"))
	if i := w.inst("a"); i.Status() != "ERROR" || i.Host != "h1" {
		t.Fatalf("after host down: %s", describe(i))
	}
	w.notMoving("a")
	if m := w.record(id); m.Status != fsm.MigrationError {
		t.Fatalf("migration %+v", m)
	}
	w.checkClaims(map[string]fsm.Usage{"h1": usage(tiny)})
	// An operator's evacuation is recorded too: accepted, pre-migrating
	// once placed, failed when no host takes it.
	w.must(&fsm.EvacuateInstances{IDs: []string{"a"}, RequestID: "req-evac", UserID: "u-admin", ProjectID: "admin", Time: t2})
	e := w.evacuation("a")
	if e.Status != fsm.MigrationAccepted || e.Source != "h1" || e.RequestID != "req-evac" || e.UserID != "u-admin" || e.ID != id+1 {
		t.Fatalf("evacuation %+v", e)
	}
	p := planCmd()
	p.Failures = []fsm.PlanFailure{{InstanceID: "a", Reason: fsm.NoValidHost}}
	w.must(p)
	w.notMoving("a")
	if m := w.record(e.ID); m.Status != fsm.MigrationFailed {
		t.Fatalf("evacuation %+v", m)
	}
	w.checkClaims(map[string]fsm.Usage{})
}

// A step that passes the server to a host that went down meanwhile
// (a cold migration's source finishing the copy to a dead destination, a
// revert's destination handing back to a dead source) evacuates it at
// once, as a live migration's completion does: no host is left to carry
// out the next step.
func TestMoveDoneToDeadHost(t *testing.T) {
	for _, tc := range []struct {
		step, down string
		vm         string
		flavor     fsm.FlavorSpec
	}{
		{fsm.TaskResizeMigrating, "h2", fsm.VMActive, tiny},
		{fsm.TaskResizeReverting, "h1", fsm.VMActive, tiny},
	} {
		t.Run(tc.step, func(t *testing.T) {
			w := newWorld(t, testCIDR)
			if tc.step == fsm.TaskResizeMigrating {
				w.activeOwned("a", "p1")
				w.must(migrateCmd("a", fsm.MigrationCold, "h2"))
			} else {
				w.movingTo("a", tc.step)
			}
			id := w.migration("a").ID
			w.must(markDown(tc.down))
			if i := w.inst("a"); i.TaskState != tc.step {
				t.Fatalf("server changed when its other end went down: %s", describe(i))
			}
			w.moveDone("a", fsm.PowerShutdown, "")
			i := w.inst("a")
			if i.Host != "" || !i.Pending() || i.TaskState != fsm.TaskRebuilding || i.VMState != tc.vm || i.Flavor != tc.flavor {
				t.Fatalf("not evacuated: %s flavor %+v", describe(i), i.Flavor)
			}
			if m := w.record(id); m.Status != fsm.MigrationError {
				t.Fatalf("migration %+v", m)
			}
			w.evacuation("a")
			w.checkClaims(map[string]fsm.Usage{})
		})
	}
}

// A stopped server in VERIFY_RESIZE whose host goes down lands stopped,
// as it was before the resize, not ACTIVE.
func TestEvacuateResizedKeepsVMState(t *testing.T) {
	w := newWorld(t, testCIDR)
	w.activeOwned("a", "p1")
	w.act("a", fsm.ActionStop)
	w.finish("a")
	w.toVerify("a", "2")
	w.must(markDown("h2"))
	if i := w.inst("a"); i.VMState != fsm.VMStopped || i.TaskState != fsm.TaskRebuilding || i.Flavor != small {
		t.Fatalf("evacuated from VERIFY_RESIZE: %s", describe(i))
	}
}

// A host cannot be deregistered while a move ties a server to it (the
// destination being prepared, or the source a revert goes back to): the
// move would end on a host that no longer exists.
func TestDeregisterHostWithMoves(t *testing.T) {
	w := newWorld(t, testCIDR)
	w.activeOwned("a", "p1")
	w.must(migrateCmd("a", fsm.MigrationLive, "h3"))
	if err := w.refuse(&fsm.DeregisterHost{Name: "h3"}, fsm.ErrConflict); !strings.Contains(err.Error(), "still has") {
		t.Errorf("deregister the destination: %v", err)
	}
	w.moveDone("a", fsm.PowerRunning, "")
	w.toVerifyFrom("b") // h1 → h2: h1 keeps only its claim for a revert
	if on := w.f.InstancesOnHost("h1"); len(on) != 0 {
		t.Fatalf("servers on h1: %v", ids(on))
	}
	if err := w.refuse(&fsm.DeregisterHost{Name: "h1"}, fsm.ErrConflict); !strings.Contains(err.Error(), "still has") {
		t.Errorf("deregister the source: %v", err)
	}
	w.must(decideCmd("b", false), &fsm.DeregisterHost{Name: "h1"})
	w.checkClaims(map[string]fsm.Usage{"h2": usage(small), "h3": usage(tiny)})
}
