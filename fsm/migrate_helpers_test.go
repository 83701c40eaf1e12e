package fsm_test

import (
	"reflect"
	"testing"

	"github.com/shoal-project/shoal/fsm"
	"github.com/shoal-project/shoal/fsm/fsmtest"
)

// Helpers for the migration state machine (migration.go,
// commands_migrate*.go): an admin's live or cold migration, an owner's
// resize, and the hosts' reports of the moving tasks.

func migrateCmd(id, kind, host string) *fsm.MigrateInstance {
	return &fsm.MigrateInstance{ID: id, Kind: kind, Host: host, Ratios: fsm.DefaultRatios, MigrationUUID: "uuid-" + id,
		RequestID: "req-" + kind, UserID: "u-admin", ProjectID: "admin", Admin: true, Time: t2}
}

// resizeCmd is the owner's (p1, not admin) resize of id to flavor.
func resizeCmd(id, flavor string) *fsm.MigrateInstance {
	c := migrateCmd(id, fsm.MigrationResize, "")
	c.FlavorID, c.UserID, c.ProjectID, c.Admin = flavor, "u-p1", "p1", false
	return c
}

func decideCmd(id string, revert bool) *fsm.ResizeDecision {
	return &fsm.ResizeDecision{ID: id, Revert: revert, RequestID: "req-decide", UserID: "u-p1", ProjectID: "p1", Time: t2}
}

// moveDone has the server's host report its current (moving) task done;
// errMsg "" is a success.
func (w *world) moveDone(id string, power fsm.PowerState, errMsg string) {
	w.t.Helper()
	i := w.inst(id)
	w.must(reportCmd(i.Host, fsm.InstanceReport{ID: id, PowerState: power, Done: i.TaskState, Error: errMsg}))
}

// migration is the migration moving id now.
func (w *world) migration(id string) fsm.Migration {
	w.t.Helper()
	return fsmtest.MustRead(w.t, "MigrationOf", w.f.MigrationOf, id)
}

func (w *world) record(id uint64) fsm.Migration {
	w.t.Helper()
	m, err := w.f.Migration(id)
	if err != nil {
		w.t.Fatalf("Migration(%d): %v", id, err)
	}
	return m
}

// notMoving checks that id has no migration in progress.
func (w *world) notMoving(id string) {
	w.t.Helper()
	if m, err := w.f.MigrationOf(id); err == nil {
		w.t.Fatalf("server %s still moving: %+v", id, m)
	}
	if i := w.inst(id); i.MigrationID != 0 || i.MigrationPending {
		w.t.Fatalf("server %s: migration_id %d pending %v", id, i.MigrationID, i.MigrationPending)
	}
}

// usage is n servers' worth of claims of flavors.
func usage(flavors ...fsm.FlavorSpec) fsm.Usage {
	var u fsm.Usage
	for _, f := range flavors {
		u.VCPUs, u.RAM, u.Disk, u.Instances = u.VCPUs+f.VCPUs, u.RAM+f.RAM, u.Disk+f.Disk, u.Instances+1
	}
	return u
}

var (
	tiny  = fsm.FlavorSpec{ID: "1", Name: "m1.tiny", VCPUs: 1, RAM: 512, Disk: 1}
	small = fsm.FlavorSpec{ID: "2", Name: "m1.small", VCPUs: 1, RAM: 2048, Disk: 20}
)

// checkClaims checks the FSM's claims against want (nil: not checked) and
// against those a replica restored from its snapshot rebuilds from
// scratch, which must be the same.
func (w *world) checkClaims(want map[string]fsm.Usage) {
	w.t.Helper()
	got := w.f.Usage()
	if want != nil && !reflect.DeepEqual(got, want) {
		w.t.Fatalf("Usage() = %+v, want %+v", got, want)
	}
	r := fsm.New()
	restore(w.t, r, snapshotBytes(w.t, w.f))
	if again := r.Usage(); !reflect.DeepEqual(got, again) {
		w.t.Fatalf("Usage() = %+v, a restored replica rebuilds %+v", got, again)
	}
	if a, b := w.f.SchedulingView(0), r.SchedulingView(0); !reflect.DeepEqual(a, b) {
		w.t.Fatalf("SchedulingView differs after restore:\n%+v\n%+v", a, b)
	}
}

// toVerify moves the active tiny server id of p1 on h1 to h2 by a resize
// to m1.small (or a cold migration when flavor is ""), up to VERIFY_RESIZE.
func (w *world) toVerify(id, flavor string) {
	w.t.Helper()
	c := resizeCmd(id, flavor)
	if flavor == "" {
		c = migrateCmd(id, fsm.MigrationCold, "")
	}
	c.Host, c.Admin = "h2", true
	w.must(c)
	w.moveDone(id, fsm.PowerShutdown, "") // resize_migrating on h1
	w.moveDone(id, fsm.PowerRunning, "")  // resize_finish on h2
	if i := w.inst(id); i.Status() != "VERIFY_RESIZE" || i.Host != "h2" {
		w.t.Fatalf("toVerify %s: %s", id, describe(i))
	}
}

// addMoveClaims adds to want the claims that moves in progress hold on
// their other end, from the migration records: the destination's (new
// flavor) while the server is on its source, the source's (old flavor,
// kept for a revert) once it is on its destination. Evacuations hold
// none. A server's migration must exist and be in progress.
func addMoveClaims(t testing.TB, f *fsm.FSM, insts []fsm.Instance, want map[string]fsm.Usage) {
	t.Helper()
	for _, i := range insts {
		if i.MigrationID == 0 {
			if i.MigrationPending {
				t.Fatalf("server %s waits for a migration it does not have", i.ID)
			}
			continue
		}
		m, err := f.Migration(i.MigrationID)
		if err != nil || !m.InProgress() || m.InstanceID != i.ID {
			t.Fatalf("server %s moves by migration %d: %+v, %v", i.ID, i.MigrationID, m, err)
		}
		if i.Host == "" || i.VMState == fsm.VMDeleted || m.Kind == fsm.MigrationEvacuation || m.Dest == "" {
			continue
		}
		host, flavor := m.Dest, m.NewFlavor
		switch i.Host {
		case m.Source:
		case m.Dest:
			host, flavor = m.Source, m.OldFlavor
		default:
			t.Fatalf("server %s on %s moves between %s and %s", i.ID, i.Host, m.Source, m.Dest)
		}
		u := want[host]
		u.VCPUs, u.RAM, u.Disk, u.Instances = u.VCPUs+flavor.VCPUs, u.RAM+flavor.RAM, u.Disk+flavor.Disk, u.Instances+1
		want[host] = u
	}
}
