package fsm_test

import (
	"strings"
	"testing"

	"github.com/shoal-project/shoal/fsm"
)

// A live migration: the source's Done passes the server to its
// destination (completed), or leaves it where it was (failed); claims are
// on both ends while it moves, on one after.
func TestLiveMigrationReports(t *testing.T) {
	for _, vm := range []string{fsm.VMActive, fsm.VMPaused} {
		t.Run(vm+"/success", func(t *testing.T) {
			w := newWorld(t, testCIDR)
			w.reach("a", vm, fsm.TaskNone)
			w.must(migrateCmd("a", fsm.MigrationLive, "h2"))
			id := w.migration("a").ID
			w.checkClaims(map[string]fsm.Usage{"h1": usage(tiny), "h2": usage(tiny)})
			index := w.next
			w.moveDone("a", fsm.PowerRunning, "")
			i := w.inst("a")
			if i.Host != "h2" || i.VMState != vm || i.TaskState != fsm.TaskNone || i.TaskIndex != 0 || i.PowerState != fsm.PowerRunning {
				t.Fatalf("after completion: %s", describe(i))
			}
			w.notMoving("a")
			m := w.record(id)
			if m.Status != fsm.MigrationCompleted || m.Message != "live-migrated from h1 to h2" || m.ModifyIndex != index || !m.Updated.Equal(t2) {
				t.Fatalf("record %+v", m)
			}
			if a := lastAction(t, i); a.Action != fsm.ActionLiveMigration || a.Result != "success" {
				t.Errorf("action %+v", a)
			}
			w.checkClaims(map[string]fsm.Usage{"h2": usage(tiny)})
			if len(w.f.MovingWith("h1")) != 0 || len(w.f.MovingWith("h2")) != 0 {
				t.Error("MovingWith lists a finished move")
			}
			checkDerived(t, w.f)
		})
	}
	t.Run("failure", func(t *testing.T) {
		w := newWorld(t, testCIDR)
		w.activeOwned("a", "p1")
		w.must(migrateCmd("a", fsm.MigrationLive, "h2"))
		id := w.migration("a").ID
		w.moveDone("a", fsm.PowerRunning, "libvirt: connection refused")
		i := w.inst("a")
		if i.Host != "h1" || i.Status() != "ACTIVE" || i.Fault != nil {
			t.Fatalf("after failure: %s %+v", describe(i), i.Fault)
		}
		w.notMoving("a")
		if m := w.record(id); m.Status != fsm.MigrationFailed || m.Message != "libvirt: connection refused" {
			t.Fatalf("record %+v", m)
		}
		if a := lastAction(t, i); a.Result != "error" {
			t.Errorf("action %+v", a)
		}
		w.checkClaims(map[string]fsm.Usage{"h1": usage(tiny)})
		checkDerived(t, w.f)
	})
}

// Only the server's host (the source, until it passes the server on) and
// only for the task running now: a third host's word, a destination's
// failure or stale Done, a stale Done and a Done while the scheduler still
// chooses change nothing. (A live migration's destination may say the
// guest arrived: TestLiveMigrationArrival.)
func TestMigrationReportsIgnored(t *testing.T) {
	w := newWorld(t, testCIDR)
	w.activeOwned("a", "p1")
	w.must(migrateCmd("a", fsm.MigrationLive, ""))
	pending := w.inst("a")
	w.noop(reportCmd("h1", fsm.InstanceReport{ID: "a", PowerState: fsm.PowerRunning, Done: fsm.TaskMigrating, TaskIndex: pending.TaskIndex}))
	w.noop(reportCmd("h1", fsm.InstanceReport{ID: "a", PowerState: fsm.PowerRunning, Done: fsm.TaskMigrating, TaskIndex: pending.TaskIndex, Error: "x"}))
	w.must(planCmd(fsm.Placement{InstanceID: "a", Host: "h2"}))
	i := w.inst("a")
	for _, r := range []*fsm.ReportInstances{
		reportCmd("h3", fsm.InstanceReport{ID: "a", PowerState: fsm.PowerRunning, Done: fsm.TaskMigrating, TaskIndex: i.TaskIndex}),
		reportCmd("h2", fsm.InstanceReport{ID: "a", PowerState: fsm.PowerRunning, Done: fsm.TaskMigrating, TaskIndex: i.TaskIndex, Error: "x"}),
		reportCmd("h2", fsm.InstanceReport{ID: "a", PowerState: fsm.PowerRunning, Done: fsm.TaskMigrating, TaskIndex: i.TaskIndex - 1}),
		reportCmd("h1", fsm.InstanceReport{ID: "a", PowerState: fsm.PowerRunning, Done: fsm.TaskMigrating, TaskIndex: i.TaskIndex - 1}),
		reportCmd("h1", fsm.InstanceReport{ID: "a", PowerState: fsm.PowerRunning, Done: fsm.TaskResizeMigrating, TaskIndex: i.TaskIndex}),
	} {
		w.noop(r)
	}
	// Resize: the destination's resize_finish, then the source's stale one.
	w.activeOwned("b", "p1")
	c := resizeCmd("b", "2")
	c.Host = "h3"
	w.must(c)
	mig := w.inst("b")
	w.noop(reportCmd("h3", fsm.InstanceReport{ID: "b", Done: fsm.TaskResizeMigrating, TaskIndex: mig.TaskIndex}))
	w.moveDone("b", fsm.PowerShutdown, "")
	fin := w.inst("b")
	w.noop(reportCmd("h1", fsm.InstanceReport{ID: "b", Done: fsm.TaskResizeFinish, TaskIndex: fin.TaskIndex}))
	w.noop(reportCmd("h3", fsm.InstanceReport{ID: "b", Done: fsm.TaskResizeFinish, TaskIndex: mig.TaskIndex}))
	w.noop(reportCmd("h3", fsm.InstanceReport{ID: "b", Done: fsm.TaskResizeMigrating, TaskIndex: mig.TaskIndex}))
	w.checkClaims(map[string]fsm.Usage{"h1": usage(tiny, tiny), "h2": usage(tiny), "h3": usage(small)})
}

// A cold migration or resize, step by step as mig-spec.md's table: the
// source's Done passes the server (and its new flavor) to the destination,
// the destination's Done makes it VERIFY_RESIZE; failures on the source
// leave it as it was, on the destination in ERROR.
func TestColdMigrationReports(t *testing.T) {
	for _, tc := range []struct {
		name, flavor, vm string
		newFlavor        fsm.FlavorSpec
	}{
		{"resize active", "2", fsm.VMActive, small},
		{"resize stopped", "2", fsm.VMStopped, small},
		{"cold active", "", fsm.VMActive, tiny},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(t, testCIDR)
			w.activeOwned("a", "p1")
			if tc.vm == fsm.VMStopped {
				w.act("a", fsm.ActionStop)
				w.finish("a")
			}
			c := resizeCmd("a", tc.flavor)
			if tc.flavor == "" {
				c = migrateCmd("a", fsm.MigrationCold, "")
			}
			w.must(c)
			w.must(planCmd(fsm.Placement{InstanceID: "a", Host: "h2"}))
			id := w.migration("a").ID
			both := map[string]fsm.Usage{"h1": usage(tiny), "h2": usage(tc.newFlavor)}
			w.checkClaims(both)
			index := w.next
			w.moveDone("a", fsm.PowerShutdown, "")
			i := w.inst("a")
			if i.Host != "h2" || i.Flavor != tc.newFlavor || i.TaskState != fsm.TaskResizeFinish || i.TaskIndex != index ||
				i.Status() != "RESIZE" || i.PowerState != fsm.PowerNoState || i.VMState != tc.vm {
				t.Fatalf("after resize_migrating: %s flavor %+v", describe(i), i.Flavor)
			}
			if m := w.record(id); m.Status != fsm.MigrationPostMigrating || m.Dest != "h2" {
				t.Fatalf("record %+v", m)
			}
			w.checkClaims(both)
			if mv := w.f.MovingWith("h1"); len(mv) != 1 || mv[0].Instance.ID != "a" || mv[0].Migration.ID != id {
				t.Fatalf("MovingWith(h1) = %+v", mv)
			}
			power := fsm.PowerRunning
			if tc.vm == fsm.VMStopped {
				power = fsm.PowerShutdown
			}
			w.moveDone("a", power, "")
			i = w.inst("a")
			if i.VMState != fsm.VMResized || i.TaskState != fsm.TaskNone || i.Status() != "VERIFY_RESIZE" || i.PowerState != power {
				t.Fatalf("after resize_finish: %s", describe(i))
			}
			if m := w.record(id); m.Status != fsm.MigrationFinished || i.MigrationID != id || m.PrevVMState != tc.vm {
				t.Fatalf("record %+v", m)
			}
			if a := lastAction(t, i); a.Result != "success" || !strings.Contains(a.Message, "confirm or revert") {
				t.Errorf("action %+v", a)
			}
			w.checkClaims(both)
			// Confirm: the source's claim goes, the server is as it was.
			w.must(decideCmd("a", false))
			i = w.inst("a")
			if i.VMState != tc.vm || i.Host != "h2" || i.Flavor != tc.newFlavor || i.TaskState != fsm.TaskNone {
				t.Fatalf("after confirm: %s", describe(i))
			}
			w.notMoving("a")
			if m := w.record(id); m.Status != fsm.MigrationConfirmed {
				t.Fatalf("record %+v", m)
			}
			if a := lastAction(t, i); a.Action != fsm.ActionConfirmResize || a.Result != "success" {
				t.Errorf("action %+v", a)
			}
			w.checkClaims(map[string]fsm.Usage{"h2": usage(tc.newFlavor)})
			checkDerived(t, w.f)
		})
	}
}

// A revert goes back where and as it was: the destination's Done passes
// the server back with its old flavor, the source's Done ends it.
func TestResizeRevert(t *testing.T) {
	for _, vm := range []string{fsm.VMActive, fsm.VMStopped} {
		t.Run(vm, func(t *testing.T) {
			w := newWorld(t, testCIDR)
			w.activeOwned("a", "p1")
			if vm == fsm.VMStopped {
				w.act("a", fsm.ActionStop)
				w.finish("a")
			}
			w.toVerify("a", "2")
			id := w.migration("a").ID
			index := w.next
			w.must(decideCmd("a", true))
			i := w.inst("a")
			if i.TaskState != fsm.TaskResizeReverting || i.TaskIndex != index || i.Status() != "REVERT_RESIZE" || i.Host != "h2" {
				t.Fatalf("after revert: %s", describe(i))
			}
			if m := w.record(id); m.Status != fsm.MigrationReverting {
				t.Fatalf("record %+v", m)
			}
			both := map[string]fsm.Usage{"h1": usage(tiny), "h2": usage(small)}
			w.checkClaims(both)
			w.refuse(decideCmd("a", true), fsm.ErrConflict)
			w.refuse(decideCmd("a", false), fsm.ErrConflict)
			w.moveDone("a", fsm.PowerNoState, "")
			i = w.inst("a")
			if i.Host != "h1" || i.Flavor != tiny || i.TaskState != fsm.TaskResizeRevertFinish || i.Status() != "REVERT_RESIZE" {
				t.Fatalf("after resize_reverting: %s", describe(i))
			}
			w.checkClaims(both)
			w.moveDone("a", fsm.PowerRunning, "")
			i = w.inst("a")
			if i.Host != "h1" || i.VMState != vm || i.TaskState != fsm.TaskNone {
				t.Fatalf("after resize_revert_finish: %s", describe(i))
			}
			w.notMoving("a")
			if m := w.record(id); m.Status != fsm.MigrationReverted {
				t.Fatalf("record %+v", m)
			}
			if a := lastAction(t, i); a.Action != fsm.ActionRevertResize || a.Result != "success" {
				t.Errorf("action %+v", a)
			}
			w.checkClaims(map[string]fsm.Usage{"h1": usage(tiny)})
			checkDerived(t, w.f)
		})
	}
}

// Failed steps: before the server passes on it stays as it was (the
// migration in error); after, it is in ERROR where it is. Either way the
// other end's claim goes.
func TestMoveStepFailures(t *testing.T) {
	for _, tc := range []struct {
		task, host, vm string
		flavor         fsm.FlavorSpec
	}{
		{fsm.TaskResizeMigrating, "h1", fsm.VMActive, tiny},
		{fsm.TaskResizeFinish, "h2", fsm.VMError, tiny}, // a cold migration's
		{fsm.TaskResizeReverting, "h2", fsm.VMError, small},
		{fsm.TaskResizeRevertFinish, "h1", fsm.VMError, tiny},
	} {
		t.Run(tc.task, func(t *testing.T) {
			w := newWorld(t, testCIDR)
			if tc.task == fsm.TaskResizeMigrating {
				w.activeOwned("a", "p1")
				w.must(migrateCmd("a", fsm.MigrationCold, "h2"))
			} else {
				w.movingTo("a", tc.task)
			}
			id := w.migration("a").ID
			w.moveDone("a", fsm.PowerShutdown, "disk full")
			i := w.inst("a")
			if i.Host != tc.host || i.VMState != tc.vm || i.TaskState != fsm.TaskNone || i.Flavor.Disk != tc.flavor.Disk {
				t.Fatalf("after a failed %s: %s", tc.task, describe(i))
			}
			if (tc.vm == fsm.VMError) != (i.Fault != nil) {
				t.Errorf("fault %+v", i.Fault)
			}
			w.notMoving("a")
			if m := w.record(id); m.Status != fsm.MigrationError || m.Message != "disk full" {
				t.Fatalf("record %+v", m)
			}
			if a := lastAction(t, i); a.Result != "error" {
				t.Errorf("action %+v", a)
			}
			w.checkClaims(map[string]fsm.Usage{tc.host: usage(tc.flavor)})
		})
	}
}

// Confirm and revert need a server in VERIFY_RESIZE, unlocked for a
// non-admin, and a revert its source up.
func TestResizeDecisionRefused(t *testing.T) {
	w := newWorld(t, testCIDR)
	w.activeOwned("a", "p1")
	for _, revert := range []bool{false, true} {
		if err := w.refuse(decideCmd("a", revert), fsm.ErrConflict); !strings.Contains(err.Error(), "vm_state active") {
			t.Errorf("not resized: %v", err)
		}
	}
	w.movingTo("b", fsm.TaskResizeFinish)
	w.refuse(decideCmd("b", false), fsm.ErrConflict)
	w.toVerifyFrom("c")
	w.must(lockCmd("c", "p1", false))
	for _, revert := range []bool{false, true} {
		if err := w.refuse(decideCmd("c", revert), fsm.ErrConflict); !strings.Contains(err.Error(), "is locked") {
			t.Errorf("locked: %v", err)
		}
	}
	admin := decideCmd("c", false)
	admin.Admin = true
	w.must(admin)
	w.toVerifyFrom("d")
	w.must(markDown("h1"))
	if err := w.refuse(decideCmd("d", true), fsm.ErrConflict); !strings.Contains(err.Error(), "is down") {
		t.Errorf("revert with the source down: %v", err)
	}
	w.must(decideCmd("d", false)) // a confirm needs only the destination
	if i := w.inst("d"); i.Status() != "ACTIVE" || i.Host != "h2" {
		t.Errorf("confirmed with the source down: %s", describe(i))
	}
	w.checkClaims(nil)
}

// toVerifyFrom is toVerify of a new server of p1 on h1.
func (w *world) toVerifyFrom(id string) {
	w.t.Helper()
	w.activeOwned(id, "p1")
	w.toVerify(id, "2")
}

// Delete waits while a host carries out a step of a move; a server waiting
// for the scheduler or in VERIFY_RESIZE may go, and its migration ends.
func TestDeleteWhileMoving(t *testing.T) {
	for _, task := range []string{fsm.TaskMigrating, fsm.TaskResizeMigrating, fsm.TaskResizeFinish,
		fsm.TaskResizeReverting, fsm.TaskResizeRevertFinish} {
		t.Run("refused/"+task, func(t *testing.T) {
			w := newWorld(t, testCIDR)
			w.movingTo("a", task)
			if err := w.refuse(actionCmd("a", fsm.ActionDelete), fsm.ErrConflict); !strings.Contains(err.Error(), "while it moves") {
				t.Errorf("delete: %v", err)
			}
		})
	}
	for _, task := range []string{"migrating-pending", fsm.TaskResizePrep, fsm.VMResized} {
		t.Run("allowed/"+task, func(t *testing.T) {
			w := newWorld(t, testCIDR)
			w.movingTo("a", task)
			id := w.migration("a").ID
			host := w.inst("a").Host
			w.act("a", fsm.ActionDelete)
			i := w.inst("a")
			if i.TaskState != fsm.TaskDeleting || i.Pending() {
				t.Fatalf("after delete: %s pending %v", describe(i), i.Pending())
			}
			w.notMoving("a")
			if m := w.record(id); m.Status != fsm.MigrationError || m.Message != "the server was deleted" {
				t.Fatalf("record %+v", m)
			}
			w.checkClaims(map[string]fsm.Usage{host: usage(i.Flavor)})
			w.finish("a")
			w.gone("a")
			w.checkClaims(map[string]fsm.Usage{})
			checkDerived(t, w.f)
		})
	}
	// An evacuated server waiting for a host goes at once, its evacuation
	// record ended.
	w := newWorld(t, testCIDR)
	w.activeOwned("a", "p1")
	w.must(markDown("h1"))
	id := w.migration("a").ID
	w.act("a", fsm.ActionDelete)
	w.gone("a")
	if m := w.record(id); m.Kind != fsm.MigrationEvacuation || !m.Ended() {
		t.Fatalf("record %+v", m)
	}
	w.checkClaims(map[string]fsm.Usage{})
}

// reset-state ends a move where the server is; the other end's claim goes.
func TestResetStateEndsMove(t *testing.T) {
	for _, task := range []string{fsm.TaskMigrating, fsm.TaskResizeFinish, fsm.VMResized, fsm.TaskResizeRevertFinish} {
		t.Run(task, func(t *testing.T) {
			w := newWorld(t, testCIDR)
			w.movingTo("a", task)
			id := w.migration("a").ID
			i := w.inst("a")
			w.must(resetState("a", "active"))
			w.notMoving("a")
			if m := w.record(id); m.Status != fsm.MigrationError || m.Message != "interrupted by reset-state" {
				t.Fatalf("record %+v", m)
			}
			w.checkClaims(map[string]fsm.Usage{i.Host: usage(i.Flavor)})
			checkDerived(t, w.f)
		})
	}
}

// A live migration's destination saying its guest runs there passes the
// server as the source's Done would; the source's Done that follows is
// then ignored (the server is no longer on it), and so is a second word
// of the destination.
func TestLiveMigrationArrival(t *testing.T) {
	w := newWorld(t, testCIDR)
	w.activeOwned("a", "p1")
	w.must(migrateCmd("a", fsm.MigrationLive, "h2"))
	id := w.migration("a").ID
	i := w.inst("a")
	arrived := fsm.InstanceReport{ID: "a", PowerState: fsm.PowerRunning, Done: fsm.TaskMigrating, TaskIndex: i.TaskIndex}
	w.must(reportCmd("h2", arrived))
	after := w.inst("a")
	if after.Host != "h2" || after.Status() != "ACTIVE" || after.TaskState != fsm.TaskNone || after.PowerState != fsm.PowerRunning {
		t.Fatalf("after arrival: %s", describe(after))
	}
	w.notMoving("a")
	if m := w.record(id); m.Status != fsm.MigrationCompleted {
		t.Fatalf("record %+v", m)
	}
	w.noop(reportCmd("h1", arrived))
	w.noop(reportCmd("h1", fsm.InstanceReport{ID: "a", PowerState: fsm.PowerShutdown, Done: fsm.TaskMigrating, TaskIndex: i.TaskIndex, Error: "x"}))
	w.noop(reportCmd("h2", arrived))
	w.checkClaims(map[string]fsm.Usage{"h2": usage(tiny)})
	checkDerived(t, w.f)
}
