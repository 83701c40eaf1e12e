package fsm_test

import (
	"bytes"
	"reflect"
	"strings"
	"testing"

	"github.com/shoal-project/shoal/fsm"
)

// A Plan places a migration waiting for the scheduler: the destination is
// set, the host's task begins, the destination's claim (of the new flavor)
// is made.
func TestPlanPlacesMigration(t *testing.T) {
	for _, tc := range []struct {
		c              *fsm.MigrateInstance
		task, status   string
		newFlavor      fsm.FlavorSpec
		statusAfterPln string
	}{
		{migrateCmd("a", fsm.MigrationLive, ""), fsm.TaskMigrating, fsm.MigrationPreparing, tiny, "MIGRATING"},
		{migrateCmd("a", fsm.MigrationCold, ""), fsm.TaskResizeMigrating, fsm.MigrationMigrating, tiny, "RESIZE"},
		{resizeCmd("a", "2"), fsm.TaskResizeMigrating, fsm.MigrationMigrating, small, "RESIZE"},
	} {
		t.Run(tc.c.Kind, func(t *testing.T) {
			w := newWorld(t, testCIDR)
			w.activeOwned("a", "p1")
			w.must(tc.c)
			index := w.next
			w.must(planCmd(fsm.Placement{InstanceID: "a", Host: "h3"}))
			i := w.inst("a")
			if i.Host != "h1" || i.TaskState != tc.task || i.TaskIndex != index || i.Pending() || i.MigrationPending ||
				i.Status() != tc.statusAfterPln || i.Attempts != 0 {
				t.Fatalf("after the plan: %s", describe(i))
			}
			m := w.migration("a")
			if m.Dest != "h3" || m.Status != tc.status || m.ModifyIndex != index || !m.Updated.Equal(t1) {
				t.Fatalf("migration %+v", m)
			}
			w.checkClaims(map[string]fsm.Usage{"h1": usage(tiny), "h3": usage(tc.newFlavor)})
			if mv := w.f.MovingWith("h3"); len(mv) != 1 || mv[0].Migration.ID != m.ID {
				t.Fatalf("MovingWith(h3) = %+v", mv)
			}
			if v := w.f.SchedulingView(0); len(v.Pending) != 0 || len(v.Moves) != 0 {
				t.Fatalf("still in the scheduling view: %+v", v)
			}
			w.noop(planCmd(fsm.Placement{InstanceID: "a", Host: "h2"})) // placed already
		})
	}
}

// A placement is re-checked as any: the source, a down host, a host too
// small for the new flavor are rejected; MaxAttempts rejections, or the
// scheduler's failure, end the migration in error with the server where
// and as it was (no fault, no ERROR).
func TestPlanRejectsMigration(t *testing.T) {
	w := newWorld(t, testCIDR)
	w.activeOwned("a", "p1")
	w.act("a", fsm.ActionStop)
	w.finish("a")
	w.must(markDown("h3"))
	w.must(resizeCmd("a", "5")) // m1.xlarge: 160 GiB, no host has them
	before := w.inst("a")
	id := w.migration("a").ID
	for k, host := range []string{"h1", "h3", "h2"} {
		w.must(planCmd(fsm.Placement{InstanceID: "a", Host: host}))
		i := w.inst("a")
		if k < 2 && (i.Attempts != k+1 || !i.Pending() || i.TaskState != fsm.TaskResizePrep) {
			t.Fatalf("after rejection %d: %s attempts %d", k+1, describe(i), i.Attempts)
		}
	}
	i := w.inst("a")
	if i.Host != "h1" || i.VMState != fsm.VMStopped || i.TaskState != fsm.TaskNone || i.Flavor != tiny || i.Fault != nil ||
		i.Attempts != 0 || i.Pending() || i.Status() != "SHUTOFF" || i.Addresses[0] != before.Addresses[0] {
		t.Fatalf("after MaxAttempts: %s", describe(i))
	}
	w.notMoving("a")
	m := w.record(id)
	if m.Status != fsm.MigrationError || !strings.Contains(m.Message, fsm.NoValidHost) || !strings.Contains(m.Message, "not enough disk on h2") {
		t.Fatalf("migration %+v", m)
	}
	if a := lastAction(t, i); a.Action != fsm.ActionResize || a.Result != "error" {
		t.Errorf("action %+v", a)
	}
	w.checkClaims(map[string]fsm.Usage{"h1": usage(tiny)})
	if msg := m.Message; !strings.Contains(msg, "3 attempts") {
		t.Errorf("message %q", msg)
	}

	// The scheduler found nothing.
	w.must(migrateCmd("a", fsm.MigrationCold, ""))
	id = w.migration("a").ID
	p := planCmd()
	p.Failures = []fsm.PlanFailure{{InstanceID: "a", Reason: fsm.NoValidHost + ". There are not enough hosts available."}}
	w.must(p)
	i = w.inst("a")
	if i.Host != "h1" || i.Status() != "SHUTOFF" || i.Fault != nil || i.Pending() {
		t.Fatalf("after the plan's failure: %s", describe(i))
	}
	if m := w.record(id); m.Status != fsm.MigrationError || m.Message != p.Failures[0].Reason {
		t.Fatalf("migration %+v", m)
	}
	// A failure for a server no longer pending changes nothing.
	w.noop(p)
	checkDerived(t, w.f)
}

// Migration records: IDs count from 1 in the state; the listing is newest
// first; beyond MaxMigrations the oldest ended records go, never one in
// progress.
func TestMigrationRecords(t *testing.T) {
	w := newWorld(t, testCIDR)
	w.activeOwned("keep", "p1")
	w.activeOwned("a", "p1")
	w.must(resizeCmd("keep", "2")) // waits for the scheduler throughout: ID 1
	for k := range fsm.MaxMigrations + 5 {
		w.must(migrateCmd("a", fsm.MigrationLive, []string{"h2", "h3"}[k%2]))
		w.moveDone("a", fsm.PowerRunning, "")
	}
	all := w.f.Migrations(nil)
	if len(all) != fsm.MaxMigrations {
		t.Fatalf("%d records, want %d", len(all), fsm.MaxMigrations)
	}
	if all[0].ID != fsm.MaxMigrations+6 || all[len(all)-1].ID != 1 || all[len(all)-1].InstanceID != "keep" {
		t.Fatalf("records from %d to %d (last %+v)", all[0].ID, all[len(all)-1].ID, all[len(all)-1])
	}
	for k := 1; k < len(all); k++ {
		if all[k].ID >= all[k-1].ID {
			t.Fatalf("not newest first at %d: %d after %d", k, all[k].ID, all[k-1].ID)
		}
	}
	// IDs 2..7 (the oldest ended ones) went.
	if _, err := w.f.Migration(7); err == nil {
		t.Error("record 7 kept")
	}
	if m := w.record(8); m.Status != fsm.MigrationCompleted {
		t.Errorf("record 8 %+v", m)
	}
	mine := w.f.Migrations(func(m *fsm.Migration) bool { return m.InstanceID == "keep" })
	if len(mine) != 1 || mine[0].ID != 1 || !mine[0].InProgress() {
		t.Errorf("filtered: %+v", mine)
	}
	w.checkClaims(nil)
}

// A snapshot carries the records and the sequence; a restored replica
// rebuilds the claims of moves in progress (both ends) as the live one
// has them, and goes on numbering where it left off.
func TestMigrationSnapshotRoundTrip(t *testing.T) {
	w := newWorld(t, testCIDR)
	w.movingTo("live", fsm.TaskMigrating)
	w.activeOwned("pend", "p1")
	w.must(migrateCmd("pend", fsm.MigrationLive, ""))
	w.movingTo("fin", fsm.TaskResizeFinish)
	w.movingTo("ver", fsm.VMResized)
	w.movingTo("rev", fsm.TaskResizeRevertFinish)
	w.checkClaims(nil)

	snap := snapshotBytes(t, w.f)
	r := fsm.New()
	restore(t, r, snap)
	if again := snapshotBytes(t, r); !bytes.Equal(again, snap) {
		t.Fatalf("restored snapshot differs:\n%s\n%s", snap, again)
	}
	assertSameReads(t, w.f, r)
	if a, b := w.f.Migrations(nil), r.Migrations(nil); !reflect.DeepEqual(a, b) || len(a) != 5 {
		t.Fatalf("migrations differ: %+v\n%+v", a, b)
	}
	for _, h := range []string{"h1", "h2", "h3"} {
		if a, b := w.f.MovingWith(h), r.MovingWith(h); !reflect.DeepEqual(a, b) {
			t.Fatalf("MovingWith(%s): %+v\n%+v", h, a, b)
		}
	}
	// Both go on the same way.
	w2 := &world{t: t, f: r, next: w.next}
	for _, x := range []*world{w, w2} {
		x.activeOwned("n", "p1")
		x.must(migrateCmd("n", fsm.MigrationCold, "h3"))
		if m := x.migration("n"); m.ID != 6 {
			t.Fatalf("next migration ID %d, want 6", m.ID)
		}
	}
	sameSnapshot(t, "after the same commands", w.f, r)
}

// Two moves to one host count each other's claims: the second is refused
// when the first took the room, by a named host's check and by the plan.
func TestMoveClaimsCount(t *testing.T) {
	w := newWorld(t, testCIDR)
	w.must(inventory("h3", 8, 16384, 30))
	w.must(ownedCreate("p1", "2", "a", "b"))
	w.place("a", "h1")
	w.place("b", "h2")
	w.finish("a")
	w.finish("b")
	w.must(migrateCmd("a", fsm.MigrationCold, "h3")) // 20 of 30 GiB
	if err := w.refuse(migrateCmd("b", fsm.MigrationLive, "h3"), fsm.ErrInvalid); !strings.Contains(err.Error(), "not enough disk") {
		t.Fatalf("second move: %v", err)
	}
	w.must(migrateCmd("b", fsm.MigrationLive, ""))
	p := planCmd(fsm.Placement{InstanceID: "b", Host: "h3"})
	p.MaxAttempts = 1
	w.must(p)
	if m := w.record(2); m.Status != fsm.MigrationError || !strings.Contains(m.Message, "not enough disk on h3") {
		t.Fatalf("migration %+v", m)
	}
	w.checkClaims(map[string]fsm.Usage{"h1": usage(small), "h2": usage(small), "h3": usage(small)})
}

// The host a create forced binds no move: a migration clears it (as
// evacuate does, and Nova resets forced destinations), so the scheduler
// does not send the server back to its source.
func TestMigrateClearsForcedHost(t *testing.T) {
	w := newWorld(t, testCIDR)
	c := ownedCreate("p1", "1", "a")
	c.Instances[0].ForceHost = "h1"
	w.must(c)
	w.place("a", "h1")
	w.finish("a")
	if i := w.inst("a"); i.ForceHost != "h1" {
		t.Fatalf("force_host %q", i.ForceHost)
	}
	w.must(migrateCmd("a", fsm.MigrationCold, ""))
	if i := w.inst("a"); i.ForceHost != "" {
		t.Fatalf("force_host %q kept by the migration", i.ForceHost)
	}
	w.must(planCmd(fsm.Placement{InstanceID: "a", Host: "h2"}))
	if m := w.migration("a"); m.Dest != "h2" {
		t.Fatalf("migration %+v", m)
	}
}

// Strict anti-affinity counts a member moving to a host as there: a
// second member cannot follow it (by a named host or a plan), nor a new
// one be placed there, and the scheduler's view says so.
func TestAntiAffinityCountsMovesInFlight(t *testing.T) {
	w := newWorld(t, testCIDR)
	w.must(&fsm.CreateServerGroup{Group: fsm.ServerGroup{ID: "anti", Name: "anti", Policy: fsm.PolicyAntiAffinity}})
	member := func(id, host string) {
		c := ownedCreate("p1", "1", id)
		c.Instances[0].ServerGroupID = "anti"
		w.must(c)
		if host != "" {
			w.place(id, host)
			w.finish(id)
		}
	}
	member("a", "h1")
	member("b", "h2")
	w.must(migrateCmd("a", fsm.MigrationLive, "h3"))
	if err := w.refuse(migrateCmd("b", fsm.MigrationCold, "h3"), fsm.ErrInvalid); !strings.Contains(err.Error(), "anti-affinity") {
		t.Fatalf("second member to h3: %v", err)
	}
	member("c", "")
	if v := w.f.SchedulingView(0); v.Groups["anti"].Hosts["h3"] != 1 {
		t.Fatalf("scheduling view of the group: %+v", v.Groups["anti"])
	}
	w.must(planCmd(fsm.Placement{InstanceID: "c", Host: "h3"}))
	if i := w.inst("c"); i.Host != "" || i.Attempts != 1 {
		t.Fatalf("new member placed where another is moving: %s", describe(i))
	}
	w.must(migrateCmd("b", fsm.MigrationCold, ""))
	w.must(planCmd(fsm.Placement{InstanceID: "b", Host: "h3"}))
	if i := w.inst("b"); !i.Pending() || i.Attempts != 1 {
		t.Fatalf("second member planned where another is moving: %s", describe(i))
	}
}
