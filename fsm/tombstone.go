package fsm

import (
	"fmt"
	"slices"
	"time"
)

// MaxDeletedInstances bounds the record of deleted servers: the newest are
// kept, by the order they went.
const MaxDeletedInstances = 1000

// DeletedInstance is what the state keeps of a server once it is gone, so
// that listings of changes since a time can show it DELETED, its action log
// can still be read (Nova 2.21) and usage can count the time it ran. It is
// the server as it was last, in vm_state deleted, without what only a
// living server needs or what would make the record heavy: addresses,
// metadata, key and user data. Deleted is when it went (the time of the
// command that removed it) and DeleteIndex that command's index.
type DeletedInstance struct {
	Instance
	Deleted     time.Time `json:"deleted"`
	DeleteIndex uint64    `json:"delete_index"`
}

// bury records inst, which is leaving the state at index, time at.
func (s *State) bury(inst *Instance, index uint64, at time.Time) {
	d := DeletedInstance{Instance: inst.clone(), Deleted: at, DeleteIndex: index}
	d.Addresses, d.Metadata, d.KeyData, d.UserData = nil, nil, "", ""
	d.VMState, d.TaskState, d.TaskIndex, d.PowerState = VMDeleted, TaskNone, 0, PowerNoState
	d.Updated, d.ModifyIndex = at, index
	d.finishAction("success", "", at)
	s.Deleted = append(s.Deleted, d)
	if len(s.Deleted) > MaxDeletedInstances {
		s.Deleted = slices.Clone(s.Deleted[len(s.Deleted)-MaxDeletedInstances:])
	}
}

// DeletedInstances lists the deleted servers still on record that went at
// or after since (the zero time: all of them), oldest first; keep (if not
// nil) filters them, as for Instances.
func (f *FSM) DeletedInstances(since time.Time, keep func(*Instance) bool) []DeletedInstance {
	f.mu.RLock()
	defer f.mu.RUnlock()
	var out []DeletedInstance
	for k := range f.state.Deleted {
		d := &f.state.Deleted[k]
		if !d.Deleted.Before(since) && (keep == nil || keep(&d.Instance)) {
			out = append(out, DeletedInstance{Instance: d.clone(), Deleted: d.Deleted, DeleteIndex: d.DeleteIndex})
		}
	}
	return out
}

// DeletedInstance finds the record of a deleted server by ID, the latest
// if an ID was used twice.
func (f *FSM) DeletedInstance(id string) (DeletedInstance, error) {
	f.mu.RLock()
	defer f.mu.RUnlock()
	for k := len(f.state.Deleted) - 1; k >= 0; k-- {
		if d := &f.state.Deleted[k]; d.ID == id {
			return DeletedInstance{Instance: d.clone(), Deleted: d.Deleted, DeleteIndex: d.DeleteIndex}, nil
		}
	}
	return DeletedInstance{}, fmt.Errorf("%w: deleted server %q", ErrNotFound, id)
}
