package fsm_test

import (
	"reflect"
	"testing"

	"github.com/shoal-project/shoal/fsm"
)

// actorOf is who an action log entry says asked for it.
func actorOf(a fsm.Action) fsm.Actor { return fsm.Actor{UserID: a.UserID, ProjectID: a.ProjectID} }

// The action log records who asked for each action (Nova's instance actions
// carry user_id and project_id): the creator, the user of each action, the
// deleter; the system's own entries (a guest shutting down, a host failing)
// name nobody.
func TestActionLogRecordsWho(t *testing.T) {
	w := newWorld(t, testCIDR)
	owner := fsm.Actor{UserID: "u-p1", ProjectID: "p1"}
	admin := fsm.Actor{UserID: "u-admin", ProjectID: "p-admin"}
	by := func(c *fsm.InstanceAction, a fsm.Actor) *fsm.InstanceAction {
		c.UserID, c.ProjectID = a.UserID, a.ProjectID
		return c
	}
	w.must(ownedCreate("p1", "1", "a"))
	w.place("a", "h1")
	w.finish("a")
	w.must(by(actionCmd("a", fsm.ActionStop), owner))
	w.finish("a")
	w.must(by(resetState("a", "error"), admin))
	w.must(by(actionCmd("a", fsm.ActionDelete), admin))

	var got []fsm.Actor
	var names []string
	for _, a := range w.inst("a").Actions {
		got, names = append(got, actorOf(a)), append(names, a.Action)
	}
	want := []fsm.Actor{owner, owner, admin, admin}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("actions %v by %+v, want %+v", names, got, want)
	}

	// An evacuation asked by an operator names them; one the failure
	// detector starts names nobody.
	w.activeNoHA("n", "h1")
	w.must(markDown("h1"))
	w.must(&fsm.EvacuateInstances{IDs: []string{"n"}, RequestID: "req-evac", UserID: admin.UserID, ProjectID: admin.ProjectID, Time: t2})
	if a := lastAction(t, w.inst("n")); a.Action != fsm.ActionEvacuate || actorOf(a) != admin {
		t.Errorf("operator's evacuation logged as %+v", a)
	}
	w.create("b")
	w.place("b", "h2")
	w.finish("b")
	w.must(markDown("h2"))
	if a := lastAction(t, w.inst("b")); a.Action != fsm.ActionEvacuate || actorOf(a) != (fsm.Actor{}) {
		t.Errorf("automatic evacuation logged as %+v", a)
	}
}

// Entries logged before identity have no user or project: they still
// decode, apply the same, and log an action naming nobody.
func TestActionWithoutActorDecodes(t *testing.T) {
	c, err := fsm.Decode(append([]byte{byte(fsm.TypeInstanceAction)},
		`{"id":"a","action":"stop","request_id":"req-old","time":"2026-01-01T00:00:00Z"}`...))
	if err != nil {
		t.Fatalf("Decode: %v", err)
	}
	act, ok := c.(*fsm.InstanceAction)
	if !ok || act.UserID != "" || act.ProjectID != "" || act.Action != fsm.ActionStop {
		t.Fatalf("Decode = %#v", c)
	}
	w := newWorld(t, testCIDR)
	w.create("a")
	w.place("a", "h1")
	w.finish("a")
	w.must(act)
	if a := lastAction(t, w.inst("a")); a.Action != fsm.ActionStop || actorOf(a) != (fsm.Actor{}) {
		t.Fatalf("old entry logged as %+v", a)
	}
}
