package fsm_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/shoal-project/shoal/fsm"
)

// Every kind of move starts from each vm_state it allows, with or without
// a named host: waiting for the scheduler (pending, claims only on the
// source) or placed at once (claims on both ends), with Nova's statuses
// and a migration record that says what it moves.
func TestMigrateInstanceStarts(t *testing.T) {
	type want struct{ pending, placed, queued, started, status string }
	live := want{fsm.TaskMigrating, fsm.TaskMigrating, fsm.MigrationQueued, fsm.MigrationPreparing, "MIGRATING"}
	cold := want{fsm.TaskResizePrep, fsm.TaskResizeMigrating, fsm.MigrationPreMigrating, fsm.MigrationMigrating, "RESIZE"}
	for _, tc := range []struct {
		kind, vm, flavor string
		want             want
		action           string
	}{
		{fsm.MigrationLive, fsm.VMActive, "", live, fsm.ActionLiveMigration},
		{fsm.MigrationLive, fsm.VMPaused, "", live, fsm.ActionLiveMigration},
		{fsm.MigrationCold, fsm.VMActive, "", cold, fsm.ActionMigrate},
		{fsm.MigrationCold, fsm.VMStopped, "", cold, fsm.ActionMigrate},
		{fsm.MigrationResize, fsm.VMActive, "2", cold, fsm.ActionResize},
		{fsm.MigrationResize, fsm.VMStopped, "2", cold, fsm.ActionResize},
	} {
		for _, host := range []string{"", "h2"} {
			t.Run(fmt.Sprintf("%s/%s/%q", tc.kind, tc.vm, host), func(t *testing.T) {
				w := newWorld(t, testCIDR)
				w.reach("a", tc.vm, fsm.TaskNone)
				c := migrateCmd("a", tc.kind, host)
				newFlavor := tiny
				if tc.kind == fsm.MigrationResize {
					c = resizeCmd("a", tc.flavor)
					c.Host = host
					newFlavor = small
				}
				index := w.next
				w.must(c)
				i := w.inst("a")
				task, status := tc.want.placed, tc.want.started
				claims := map[string]fsm.Usage{"h1": usage(tiny), "h2": usage(newFlavor)}
				if host == "" {
					task, status = tc.want.pending, tc.want.queued
					claims = map[string]fsm.Usage{"h1": usage(tiny)}
				}
				if i.Host != "h1" || i.TaskState != task || i.TaskIndex != index || i.VMState != tc.vm ||
					i.Status() != tc.want.status || i.MigrationPending != (host == "") || i.Pending() != (host == "") ||
					i.Flavor != tiny {
					t.Fatalf("after %s: %s pending %v status %s", tc.kind, describe(i), i.MigrationPending, i.Status())
				}
				m := w.migration("a")
				wantM := fsm.Migration{ID: 1, UUID: "uuid-a", InstanceID: "a", Kind: tc.kind, Status: status, Source: "h1", Dest: host,
					OldFlavor: tiny, NewFlavor: newFlavor, PrevVMState: tc.vm, ProjectID: c.ProjectID, UserID: c.UserID,
					RequestID: c.RequestID, Created: t2, Updated: t2, Indexes: fsm.Indexes{CreateIndex: index, ModifyIndex: index}}
				if m != wantM || i.MigrationID != 1 {
					t.Fatalf("migration = %+v\nwant %+v", m, wantM)
				}
				if a := lastAction(t, i); a.Action != tc.action || a.Result != "" || a.RequestID != c.RequestID || a.ProjectID != c.ProjectID {
					t.Errorf("action %+v", a)
				}
				w.checkClaims(claims)
				if v := w.f.SchedulingView(0); (v.Moves["a"] == m) != (host == "") {
					t.Errorf("SchedulingView.Moves = %+v (pending %v)", v.Moves, host == "")
				}
				moving := w.f.MovingWith("h2")
				if (len(moving) == 1) != (host != "") {
					t.Errorf("MovingWith(h2) = %+v", moving)
				}
				w.refuse(c, fsm.ErrConflict) // busy now
			})
		}
	}
}

// movingTo brings server id (active on h1, of p1) to the given step of a
// move, through the commands the API and the hosts send.
func (w *world) movingTo(id, task string) {
	w.t.Helper()
	w.activeOwned(id, "p1")
	switch task {
	case "migrating-pending":
		w.must(migrateCmd(id, fsm.MigrationLive, ""))
	case fsm.TaskMigrating:
		w.must(migrateCmd(id, fsm.MigrationLive, "h2"))
	case fsm.TaskResizePrep:
		w.must(resizeCmd(id, "2"))
	case fsm.TaskResizeMigrating:
		w.must(migrateCmd(id, fsm.MigrationCold, "h2"))
	case fsm.TaskResizeFinish:
		w.must(migrateCmd(id, fsm.MigrationCold, "h2"))
		w.moveDone(id, fsm.PowerShutdown, "")
	case fsm.VMResized:
		w.toVerify(id, "2")
	case fsm.TaskResizeReverting:
		w.toVerify(id, "2")
		w.must(decideCmd(id, true))
	case fsm.TaskResizeRevertFinish:
		w.toVerify(id, "2")
		w.must(decideCmd(id, true))
		w.moveDone(id, fsm.PowerNoState, "")
	default:
		w.t.Fatalf("movingTo %s", task)
	}
	want := task
	if task == "migrating-pending" {
		want = fsm.TaskMigrating
	}
	if i := w.inst(id); i.TaskState != want && i.VMState != want {
		w.t.Fatalf("movingTo %s: %s", task, describe(i))
	}
}

// A server that is busy, in a vm_state the kind does not allow, locked
// (for a non-admin), or on a host that is down cannot start moving, and a
// refusal changes nothing.
func TestMigrateInstanceRefusedByState(t *testing.T) {
	kinds := []string{fsm.MigrationLive, fsm.MigrationCold, fsm.MigrationResize}
	cmd := func(kind, host string) *fsm.MigrateInstance {
		if kind == fsm.MigrationResize {
			c := resizeCmd("a", "3")
			c.Host = host
			return c
		}
		return migrateCmd("a", kind, host)
	}
	busy := [][2]string{
		{fsm.VMBuilding, fsm.TaskScheduling}, {fsm.VMBuilding, fsm.TaskSpawning},
		{fsm.VMActive, fsm.TaskRebooting}, {fsm.VMActive, fsm.TaskRebootingHard}, {fsm.VMActive, fsm.TaskPoweringOff},
		{fsm.VMActive, fsm.TaskPausing}, {fsm.VMActive, fsm.TaskSuspending}, {fsm.VMActive, fsm.TaskDeleting},
		{fsm.VMStopped, fsm.TaskPoweringOn}, {fsm.VMPaused, fsm.TaskUnpausing}, {fsm.VMSuspended, fsm.TaskResuming},
		{fsm.VMError, fsm.TaskPoweringOff}, {fsm.VMError, fsm.TaskRebootingHard},
	}
	for _, st := range busy {
		for _, kind := range kinds {
			t.Run(st[0]+"/"+st[1]+"/"+kind, func(t *testing.T) {
				w := newWorld(t, testCIDR)
				w.reach("a", st[0], st[1])
				w.refuse(cmd(kind, ""), fsm.ErrConflict)
				w.refuse(cmd(kind, "h2"), fsm.ErrConflict)
			})
		}
	}
	for _, task := range []string{"migrating-pending", fsm.TaskMigrating, fsm.TaskResizePrep, fsm.TaskResizeMigrating,
		fsm.TaskResizeFinish, fsm.VMResized, fsm.TaskResizeReverting, fsm.TaskResizeRevertFinish, fsm.TaskRebuilding} {
		for _, kind := range kinds {
			t.Run(task+"/"+kind, func(t *testing.T) {
				w := newWorld(t, testCIDR)
				if task == fsm.TaskRebuilding {
					w.activeOwned("a", "p1")
					w.must(rebuildCmd("a", testImage))
				} else {
					w.movingTo("a", task)
				}
				w.refuse(cmd(kind, ""), fsm.ErrConflict)
				w.refuse(cmd(kind, "h3"), fsm.ErrConflict)
			})
		}
	}
	wrongVM := map[string][]string{
		fsm.MigrationLive:   {fsm.VMStopped, fsm.VMSuspended, fsm.VMError},
		fsm.MigrationCold:   {fsm.VMPaused, fsm.VMSuspended, fsm.VMError},
		fsm.MigrationResize: {fsm.VMPaused, fsm.VMSuspended, fsm.VMError},
	}
	for kind, vms := range wrongVM {
		for _, vm := range vms {
			t.Run(vm+"/"+kind, func(t *testing.T) {
				w := newWorld(t, testCIDR)
				w.reach("a", vm, fsm.TaskNone)
				err := w.refuse(cmd(kind, ""), fsm.ErrConflict)
				if !strings.Contains(err.Error(), "vm_state "+vm) {
					t.Errorf("refusal says %v", err)
				}
			})
		}
	}
	t.Run("no host", func(t *testing.T) {
		w := newWorld(t, testCIDR)
		w.errorNoHost("a")
		for _, kind := range kinds {
			w.refuse(cmd(kind, ""), fsm.ErrConflict)
		}
	})
	t.Run("unknown", func(t *testing.T) {
		w := newWorld(t, testCIDR)
		w.refuse(migrateCmd("nope", fsm.MigrationLive, ""), fsm.ErrNotFound)
		w.refuse(&fsm.ResizeDecision{ID: "nope", Time: t2}, fsm.ErrNotFound)
		w.activeOwned("a", "p1")
		for _, kind := range []string{"", fsm.MigrationEvacuation, "teleport"} {
			w.refuse(migrateCmd("a", kind, ""), fsm.ErrInvalid)
		}
	})
	t.Run("locked", func(t *testing.T) {
		w := newWorld(t, testCIDR)
		w.activeOwned("a", "p1")
		w.must(lockCmd("a", "p1", false))
		for _, kind := range kinds {
			c := cmd(kind, "")
			c.Admin = false
			if err := w.refuse(c, fsm.ErrConflict); !strings.Contains(err.Error(), "is locked") {
				t.Errorf("locked: %v", err)
			}
		}
		w.must(migrateCmd("a", fsm.MigrationLive, "")) // an admin may
	})
	t.Run("source down", func(t *testing.T) {
		w := newWorld(t, testCIDR)
		w.activeNoHA("a", "h1")
		w.must(markDown("h1"), resetState("a", "active"))
		for _, kind := range kinds {
			if err := w.refuse(cmd(kind, ""), fsm.ErrConflict); !strings.Contains(err.Error(), "is down") {
				t.Errorf("source down: %v", err)
			}
		}
	})
}

// A resize needs a flavor the caller sees, other than the server's, with
// no smaller disk.
func TestResizeRefusedFlavor(t *testing.T) {
	w := newWorld(t, testCIDR)
	w.must(ownedCreate("p1", "2", "a"))
	w.place("a", "h1")
	w.finish("a")
	w.must(&fsm.CreateFlavor{Flavor: privateFlavor("fp", "p2")})
	big := privateFlavor("fq", "p2")
	big.Name, big.Disk = "p-fq-big", 40
	w.must(&fsm.CreateFlavor{Flavor: big})
	for _, tc := range []struct{ flavor, says string }{
		{"nope", "Unable to find flavor"},
		{"fq", "Unable to find flavor"}, // private to p2
		{"2", "must change flavor"},
		{"1", "Unable to resize disk down"},
		{"fp", "Unable to find flavor"},
	} {
		if err := w.refuse(resizeCmd("a", tc.flavor), fsm.ErrInvalid); !strings.Contains(err.Error(), tc.says) {
			t.Errorf("resize to %s: %v, want %q", tc.flavor, err, tc.says)
		}
	}
	admin := resizeCmd("a", "fq")
	admin.Admin = true
	w.must(admin) // an admin sees every flavor
	if m := w.migration("a"); m.NewFlavor.ID != "fq" || m.NewFlavor.Disk != 40 || m.OldFlavor != small {
		t.Errorf("migration %+v", m)
	}
}

// A named destination must exist, differ from the source, be up, enabled,
// have room for the (new) flavor by the command's ratios, and keep the
// server's group policy.
func TestMigrateNamedHostRefused(t *testing.T) {
	w := newWorld(t, testCIDR)
	w.must(registerHost("h4", t0), inventory("h4", 8, 16384, 100), registerHost("h5", t0), inventory("h5", 8, 16384, 100),
		registerHost("h6", t0), inventory("h6", 8, 16384, 100))
	w.must(&fsm.CreateServerGroup{Group: fsm.ServerGroup{ID: "anti", Name: "anti", Policy: fsm.PolicyAntiAffinity}},
		&fsm.CreateServerGroup{Group: fsm.ServerGroup{ID: "aff", Name: "aff", Policy: fsm.PolicyAffinity}})
	grouped := func(id, group, host string) {
		c := createCmd(id)
		c.Instances[0].ServerGroupID = group
		w.must(c)
		w.place(id, host)
		w.finish(id)
	}
	grouped("a", "anti", "h1")
	grouped("b", "anti", "h6")
	grouped("c", "aff", "h1")
	grouped("d", "aff", "h1")
	w.must(markDown("h3"), &fsm.ForceHostDown{Name: "h4", ForcedDown: true, Time: t1},
		&fsm.SetHostEnabled{Name: "h5", Enabled: false, Reason: "maintenance", Time: t1})
	ratios := func(cpu, ram, disk float64) *fsm.MigrateInstance {
		c := migrateCmd("a", fsm.MigrationLive, "h2")
		c.Ratios = fsm.Ratios{CPU: cpu, RAM: ram, Disk: disk}
		return c
	}
	for _, tc := range []struct {
		name string
		c    *fsm.MigrateInstance
		says string
	}{
		{"unknown", migrateCmd("a", fsm.MigrationLive, "nope"), "could not be found"},
		{"own", migrateCmd("a", fsm.MigrationLive, "h1"), "to current host"},
		{"down", migrateCmd("a", fsm.MigrationCold, "h3"), "is down"},
		{"forced down", migrateCmd("a", fsm.MigrationLive, "h4"), "is down"},
		{"disabled", migrateCmd("a", fsm.MigrationLive, "h5"), "is disabled"},
		{"RAM", ratios(16, 0.01, 1), "not enough RAM"},
		{"vCPUs", ratios(0.01, 1.5, 1), "not enough vCPUs"},
		{"disk", ratios(16, 1.5, 0.001), "not enough disk"},
		{"no ratios", ratios(0, 1.5, 1), "positive allocation ratios"},
		{"anti-affinity", migrateCmd("a", fsm.MigrationLive, "h6"), "anti-affinity"},
		{"affinity", migrateCmd("c", fsm.MigrationCold, "h2"), "affinity"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := w.refuse(tc.c, fsm.ErrInvalid); !strings.Contains(err.Error(), tc.says) {
				t.Errorf("%v, want %q", err, tc.says)
			}
		})
	}
	// A resize is checked with its new flavor: m1.xlarge's 160 GiB do not
	// fit a 100 GiB host.
	c := migrateCmd("b", fsm.MigrationResize, "h2")
	c.FlavorID = "5"
	if err := w.refuse(c, fsm.ErrInvalid); !strings.Contains(err.Error(), "not enough disk") {
		t.Errorf("resize to a host too small: %v", err)
	}
	w.must(migrateCmd("a", fsm.MigrationLive, "h2"))
	w.checkClaims(nil)
}

// A resize that grows a server must fit its project's cores and ram
// quota (Nova's upsize check), counting the growth of the project's other
// resizes not yet on their destination; a shrink or a migration needs no
// room.
func TestResizeQuota(t *testing.T) {
	w := newWorld(t, testCIDR)
	w.activeOwned("a", "p1")
	w.activeOwned("b", "p1")
	w.must(setQuota("p1", fsm.QuotaOverride{Cores: ptr(3), RAM: ptr(4607)}))
	// m1.medium: 2 vCPUs, 4096 MiB; the project holds 2 and 1024.
	err := w.refuse(resizeCmd("a", "3"), fsm.ErrOverQuota)
	if !strings.Contains(err.Error(), "Quota exceeded for ram: Requested 3584, but already used 1024 of 4607 ram") {
		t.Fatalf("over ram: %v", err)
	}
	w.must(setQuota("p1", fsm.QuotaOverride{RAM: ptr(16384)}))
	w.must(resizeCmd("a", "3")) // 1 more core: 3 of 3
	if err := w.refuse(resizeCmd("b", "3"), fsm.ErrOverQuota); !strings.Contains(err.Error(), "Quota exceeded for cores: Requested 1, but already used 3 of 3 cores") {
		t.Fatalf("over cores with a resize pending: %v", err)
	}
	w.must(migrateCmd("b", fsm.MigrationCold, "")) // no growth
	w.must(planCmd(fsm.Placement{InstanceID: "a", Host: "h2"}))
	w.moveDone("a", fsm.PowerShutdown, "") // the new flavor is the server's now: counted once
	if u := w.f.ProjectUsage("p1"); u.Cores != 3 || u.RAM != 4096+512 {
		t.Fatalf("usage %+v", u)
	}
}
