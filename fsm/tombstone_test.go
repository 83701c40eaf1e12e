package fsm_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/shoal-project/shoal/fsm"
)

// A server that goes leaves a record: deleted, when, its action log with
// the delete closed, and nothing heavy.
func TestDeletedInstanceRecord(t *testing.T) {
	w := newWorld(t, testCIDR)
	c := ownedCreate("p1", "2", "i-1", "i-2")
	c.Instances[0].Metadata, c.Instances[0].UserData = map[string]string{"k": "v"}, script
	w.must(c)
	w.place("i-1", "h1")
	w.finish("i-1")
	w.act("i-1", fsm.ActionDelete)
	index := w.next
	w.finish("i-1") // the host reports it destroyed at t2
	w.gone("i-1")

	d, err := w.f.DeletedInstance("i-1")
	if err != nil {
		t.Fatal(err)
	}
	if d.VMState != fsm.VMDeleted || d.Status() != "DELETED" || d.TaskState != "" || !d.Deleted.Equal(t2) || d.DeleteIndex != index ||
		!d.Updated.Equal(t2) || d.ModifyIndex != index {
		t.Errorf("record = %+v", d)
	}
	if d.ProjectID != "p1" || d.Flavor.ID != "2" || d.Host != "h1" || !d.Created.Equal(t0) {
		t.Errorf("record lost what usage needs: %+v", d)
	}
	if d.Addresses != nil || d.Metadata != nil || d.UserData != "" {
		t.Errorf("record keeps heavy fields: %+v", d)
	}
	if a := lastAction(t, d.Instance); a.Action != fsm.ActionDelete || a.Result != "success" || !a.Finish.Equal(t2) {
		t.Errorf("last action %+v, want the delete, closed", a)
	}

	// A server deleted before placement goes at once, its delete logged.
	w.must(&fsm.InstanceAction{ID: "i-2", Action: fsm.ActionDelete, RequestID: "req-del", ProjectID: "p1", Time: t1})
	d2, err := w.f.DeletedInstance("i-2")
	if err != nil || !d2.Deleted.Equal(t1) || lastAction(t, d2.Instance).RequestID != "req-del" {
		t.Errorf("i-2 record = %+v, %v", d2, err)
	}

	if got := w.f.DeletedInstances(t2, nil); len(got) != 1 || got[0].ID != "i-1" {
		t.Errorf("DeletedInstances(since t2) = %v", got)
	}
	if got := w.f.DeletedInstances(t0, fsm.InProject("p2")); len(got) != 0 {
		t.Errorf("p2's deleted = %v", got)
	}
	if got := w.f.DeletedInstances(t0, nil); len(got) != 2 || got[0].ID != "i-1" { // in the order they went
		t.Errorf("all deleted = %v", got)
	}
	if _, err := w.f.DeletedInstance("i-3"); !errors.Is(err, fsm.ErrNotFound) {
		t.Errorf("never deleted: %v", err)
	}
	// A live server of the same ID is not the record's business.
	w.must(ownedCreate("p1", "1", "i-2"))
	if d, _ := w.f.DeletedInstance("i-2"); d.Flavor.ID != "2" {
		t.Errorf("record after the ID came back: %+v", d)
	}
}

// The record keeps the newest MaxDeletedInstances, in the order they went.
func TestDeletedInstancesBounded(t *testing.T) {
	w := newWorld(t, "10.30.0.0/16")
	n := fsm.MaxDeletedInstances + 5
	for k := range n {
		id := fmt.Sprint("i-", k)
		w.create(id)
		w.act(id, fsm.ActionDelete)
	}
	all := w.f.DeletedInstances(t0, nil)
	if len(all) != fsm.MaxDeletedInstances || all[0].ID != "i-5" || all[len(all)-1].ID != fmt.Sprint("i-", n-1) {
		t.Fatalf("%d records from %s to %s", len(all), all[0].ID, all[len(all)-1].ID)
	}
	for k := 1; k < len(all); k++ {
		if all[k].DeleteIndex <= all[k-1].DeleteIndex {
			t.Fatalf("records out of order at %d", k)
		}
	}
	if _, err := w.f.DeletedInstance("i-4"); !errors.Is(err, fsm.ErrNotFound) {
		t.Errorf("the oldest record is still there: %v", err)
	}
	// A restored replica keeps the same record.
	f := fsm.New()
	restore(t, f, snapshotBytes(t, w.f))
	sameSnapshot(t, "restored record", w.f, f)
}
