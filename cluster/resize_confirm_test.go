package cluster

import (
	"context"
	"testing"
	"time"

	"github.com/shoal-project/shoal/fsm"
)

// resized brings server id on h1 to VERIFY_RESIZE on h2 (a user's resize
// to m1.small); its migration is last updated at w.now.
func (w *moveWorld) resized(id string) fsm.Migration {
	w.t.Helper()
	w.server(id, "h1", false)
	w.a.MustApply(w.t, &fsm.MigrateInstance{ID: id, Kind: fsm.MigrationResize, FlavorID: "2", MigrationUUID: "mig-" + id,
		RequestID: "req-resize", Time: w.now},
		&fsm.Plan{Time: w.now, Ratios: fsm.DefaultRatios, MaxAttempts: 3, Placements: []fsm.Placement{{InstanceID: id, Host: "h2"}}})
	w.done("h1", id, fsm.PowerShutdown, "")
	w.done("h2", id, fsm.PowerRunning, "")
	if i := w.inst(id); i.Status() != "VERIFY_RESIZE" {
		w.t.Fatalf("%s is %s, want VERIFY_RESIZE", id, i.Status())
	}
	m, err := w.a.FSM.MigrationOf(id)
	if err != nil {
		w.t.Fatal(err)
	}
	return m
}

func TestResizeConfirmWindow(t *testing.T) {
	const window = time.Hour
	w := newMoveWorld(t, "h1", "h2")
	w.now = moveT0.Add(time.Minute)
	old := w.resized("old")
	w.now = moveT0.Add(30 * time.Minute)
	w.resized("young")
	m := w.mover(moverConfig{PerHost: 2, PerCluster: 5, ConfirmWindow: window})

	w.now = old.Updated.Add(window - time.Second) // the leader's clock: not yet
	m.step(context.Background())
	if s := w.status("old"); s != "VERIFY_RESIZE" {
		t.Fatalf("old is %s before its window ran out", s)
	}
	w.now = old.Updated.Add(window + time.Second)
	m.step(context.Background())
	i := w.inst("old")
	if i.Status() != "ACTIVE" || i.Host != "h2" || i.Flavor.ID != "2" {
		t.Errorf("old after its window: %s on %s, flavor %s; want ACTIVE on h2 with m1.small", i.Status(), i.Host, i.Flavor.ID)
	}
	if got, _ := w.a.FSM.Migration(old.ID); got.Status != fsm.MigrationConfirmed {
		t.Errorf("old's migration is %s, want confirmed", got.Status)
	}
	if a := i.Actions[len(i.Actions)-1]; a.Action != fsm.ActionConfirmResize || a.UserID != "" {
		t.Errorf("old's last action = %+v, want confirmResize by the system (no user)", a)
	}
	if s := w.status("young"); s != "VERIFY_RESIZE" {
		t.Errorf("young is %s, confirmed before its window ran out", s)
	}

	// No window: nothing is ever confirmed.
	w.now = w.now.Add(1000 * time.Hour)
	w.mover(moverConfig{PerHost: 2, PerCluster: 5}).step(context.Background())
	if s := w.status("young"); s != "VERIFY_RESIZE" {
		t.Errorf("young is %s with no confirm window", s)
	}
}

func (w *moveWorld) status(id string) string {
	w.t.Helper()
	i := w.inst(id)
	return i.Status()
}
