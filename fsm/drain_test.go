package fsm_test

import (
	"reflect"
	"strings"
	"testing"

	"github.com/shoal-project/shoal/fsm"
	"github.com/shoal-project/shoal/fsm/fsmtest"
)

func drainCmd(host string) *fsm.DrainHost { return &fsm.DrainHost{Name: host, Start: true, Time: t1} }

func endDrainCmd(host, result string) *fsm.DrainHost {
	return &fsm.DrainHost{Name: host, Result: result, Time: t2}
}

func TestDrainHostRefusals(t *testing.T) {
	w := newWorld(t, testCIDR)
	w.refuse(drainCmd("nope"), fsm.ErrNotFound)
	w.refuse(endDrainCmd("nope", ""), fsm.ErrNotFound)
	w.refuse(endDrainCmd("h1", ""), fsm.ErrConflict)            // not draining
	w.refuse(endDrainCmd("h1", fsm.DrainDone), fsm.ErrConflict) // the leader's end too
	w.refuse(&fsm.DrainHost{Name: "h1", Start: true, Result: fsm.DrainDone, Time: t1}, fsm.ErrInvalid)
	w.must(&fsm.ForceHostDown{Name: "h3", ForcedDown: true, Time: t1})
	if err := w.refuse(drainCmd("h3"), fsm.ErrConflict); !strings.Contains(err.Error(), "evacuate") {
		t.Errorf("draining a down host: %v, want it to say evacuate", err)
	}

	w.must(drainCmd("h1"))
	w.refuse(drainCmd("h1"), fsm.ErrConflict) // already draining
	w.refuse(endDrainCmd("h1", "bogus"), fsm.ErrInvalid)
	w.refuse(&fsm.SetHostEnabled{Name: "h1", Enabled: true, Time: t2}, fsm.ErrConflict)
	w.must(&fsm.SetHostEnabled{Name: "h1", Enabled: false, Reason: "disk swap", Time: t2}) // still disabled: fine
}

func TestDrainHostStartsAndEnds(t *testing.T) {
	w := newWorld(t, testCIDR)
	idx := w.next
	w.must(drainCmd("h1"))
	h := fsmtest.MustRead(t, "Host", w.f.Host, "h1")
	if !h.Draining || h.Enabled || h.DisabledReason != fsm.DrainReason || h.DrainIndex != idx || !h.DrainStarted.Equal(t1) {
		t.Fatalf("after the drain started: %+v", h)
	}
	w.must(endDrainCmd("h1", "")) // an operator's cancel
	h = fsmtest.MustRead(t, "Host", w.f.Host, "h1")
	if h.Draining || h.Enabled || h.DrainResult != fsm.DrainCancelled || !h.DrainEnded.Equal(t2) {
		t.Fatalf("after the cancel: %+v (the host stays disabled)", h)
	}
	if v, _ := w.f.Drain("h1"); v.Progress.State != fsm.DrainIdle {
		t.Errorf("state after a cancel = %q, want idle", v.Progress.State)
	}

	// A host an operator disabled keeps the reason they gave.
	w.must(&fsm.SetHostEnabled{Name: "h2", Enabled: false, Reason: "new RAM", Time: t1}, drainCmd("h2"),
		endDrainCmd("h2", fsm.DrainDone))
	h = fsmtest.MustRead(t, "Host", w.f.Host, "h2")
	if h.DisabledReason != "new RAM" || h.DrainResult != fsm.DrainDone {
		t.Errorf("h2 = %+v, want reason kept and result done", h)
	}
	if v, _ := w.f.Drain("h2"); v.Progress.State != fsm.DrainDone || v.Progress.Total != 0 {
		t.Errorf("h2's drain = %+v, want done and empty", v.Progress)
	}
	w.must(&fsm.SetHostEnabled{Name: "h2", Enabled: true, Time: t2})
	if v, _ := w.f.Drain("h3"); v.Progress.State != fsm.DrainIdle || v.Progress.InProgress == nil || v.Progress.Failed == nil {
		t.Errorf("a host never drained: %+v, want idle with empty (not nil) lists", v.Progress)
	}
	if _, err := w.f.Drain("nope"); err == nil {
		t.Error("Drain of an unknown host: no error")
	}
}

// migrate starts a move of id with no host named (the scheduler's choice)
// and places it on dest, as the scheduler would.
func (w *world) migrate(id, kind, dest string) {
	w.t.Helper()
	w.must(&fsm.MigrateInstance{ID: id, Kind: kind, MigrationUUID: "mig-" + id, RequestID: "req-drain", Admin: true, Time: t1},
		planCmd(fsm.Placement{InstanceID: id, Host: dest}))
}

// report has host answer id's current task, failed when msg is not "".
func (w *world) report(host, id string, power fsm.PowerState, msg string) {
	w.t.Helper()
	w.must(reportCmd(host, fsm.InstanceReport{ID: id, PowerState: power, Done: w.inst(id).TaskState, Error: msg}))
}

func TestDrainProgress(t *testing.T) {
	w := newWorld(t, testCIDR)
	w.reach("a", fsm.VMActive, fsm.TaskNone)
	w.reach("b", fsm.VMStopped, fsm.TaskNone)
	w.reach("c", fsm.VMPaused, fsm.TaskNone)
	w.reach("d", fsm.VMError, fsm.TaskNone)
	w.reach("e", fsm.VMSuspended, fsm.TaskNone)
	w.reach("f", fsm.VMActive, fsm.TaskRebooting)
	w.must(drainCmd("h1"))
	view := func() fsm.DrainView {
		t.Helper()
		v, err := w.f.Drain("h1")
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	v := view()
	if !reflect.DeepEqual(v.Live, []string{"a", "c"}) || !reflect.DeepEqual(v.Cold, []string{"b"}) || v.Waiting != 1 ||
		v.Progress.Total != 6 || v.Progress.Remaining != 6 || v.Progress.State != fsm.DrainDraining || v.Outcome() != "" {
		t.Fatalf("at the start: %+v", v)
	}
	if got := failedIDs(v); !reflect.DeepEqual(got, []string{"d", "e"}) {
		t.Errorf("failed at the start = %v, want d (ERROR) and e (SUSPENDED)", got)
	}

	// a moves live.
	w.migrate("a", fsm.MigrationLive, "h2")
	if v = view(); !reflect.DeepEqual(v.Progress.InProgress, []string{"a"}) || v.Busy != 1 || len(v.Live) != 1 {
		t.Fatalf("a moving: %+v", v)
	}
	w.report("h1", "a", fsm.PowerRunning, "")

	// b moves cold: in progress until its VERIFY_RESIZE is confirmed.
	w.migrate("b", fsm.MigrationCold, "h3")
	w.report("h1", "b", fsm.PowerShutdown, "")
	if v = view(); !reflect.DeepEqual(v.Progress.InProgress, []string{"b"}) || v.Busy != 1 {
		t.Fatalf("b post-migrating on h3: %+v", v)
	}
	w.report("h3", "b", fsm.PowerShutdown, "")
	if v = view(); !reflect.DeepEqual(v.Confirm, []string{"b"}) || v.Busy != 0 || v.Progress.Remaining != 5 {
		t.Fatalf("b in VERIFY_RESIZE: %+v", v)
	}
	w.must(&fsm.ResizeDecision{ID: "b", RequestID: "req-confirm", Admin: true, Time: t2})
	if i := w.inst("b"); i.Host != "h3" || i.VMState != fsm.VMStopped {
		t.Fatalf("b after the confirm: host %s vm_state %s", i.Host, i.VMState)
	}

	// c fails to move twice and is left.
	for range fsm.MaxDrainAttempts {
		w.migrate("c", fsm.MigrationLive, "h2")
		w.report("h1", "c", fsm.PowerPaused, "libvirt: unable to connect")
	}
	// f's reboot ends: it can go now.
	w.report("h1", "f", fsm.PowerRunning, "")
	v = view()
	if !reflect.DeepEqual(v.Live, []string{"f"}) || v.Waiting != 0 || v.Progress.Moved != 2 || v.Outcome() != "" {
		t.Fatalf("after a and b moved: %+v", v)
	}
	if got := failedIDs(v); !reflect.DeepEqual(got, []string{"c", "d", "e"}) {
		t.Errorf("failed = %v, want c, d, e", got)
	}
	w.migrate("f", fsm.MigrationLive, "h2")
	w.report("h1", "f", fsm.PowerRunning, "")
	v = view()
	if v.Outcome() != fsm.DrainFailed || v.Progress.Moved != 3 || v.Progress.Remaining != 3 || v.Progress.Total != 6 ||
		!v.Progress.UpdatedAt.Equal(t2) {
		t.Fatalf("only failures left: outcome %q, %+v", v.Outcome(), v.Progress)
	}
	if msg := v.Progress.Failed[0].Message; !strings.Contains(msg, "2 moves failed") || !strings.Contains(msg, "unable to connect") {
		t.Errorf("c's failure says %q", msg)
	}

	// The leader records the end; the failures stay listed.
	w.must(endDrainCmd("h1", fsm.DrainFailed))
	if v = view(); v.Progress.State != fsm.DrainFailed || len(v.Progress.Failed) != 3 || !v.Progress.StartedAt.Equal(t1) {
		t.Errorf("after the end: %+v", v.Progress)
	}

	// Deleting the failures and draining again ends done.
	for _, id := range []string{"c", "d", "e"} {
		w.act(id, fsm.ActionDelete)
		w.finish(id)
	}
	w.must(drainCmd("h1"))
	if v = view(); v.Outcome() != fsm.DrainDone || v.Progress.Total != 0 {
		t.Errorf("an empty host's drain: outcome %q, %+v", v.Outcome(), v.Progress)
	}
}

func failedIDs(v fsm.DrainView) []string {
	var out []string
	for _, f := range v.Progress.Failed {
		out = append(out, f.Instance)
	}
	return out
}
