package fsm

import (
	"fmt"
	"time"
)

// movingTasks are the tasks of a migration that hosts carry out and
// answer with a Done.
var movingTasks = map[string]bool{
	TaskMigrating: true, TaskResizeMigrating: true, TaskResizeFinish: true,
	TaskResizeReverting: true, TaskResizeRevertFinish: true,
}

// moveDone applies a host's Done of a migration task of inst (its host,
// the one that reported) and reports whether r was one. Ownership passes
// here and only here: a live migration's server is on its destination
// once its source says libvirt completed it. A migration still waiting
// for the scheduler has no step a host carries out (a live one's task is
// already migrating): a Done of it is not one.
func (s *State) moveDone(inst *Instance, r InstanceReport, host string, t time.Time, index uint64) bool {
	m := s.migrationFor(inst)
	if !movingTasks[r.Done] || m == nil || inst.MigrationPending {
		return false
	}
	s.untrack(inst)
	inst.Updated, inst.ModifyIndex = t, index
	if r.Error != "" {
		s.moveFailed(inst, m, r, t, index)
		s.track(inst)
		return true
	}
	switch r.Done {
	case TaskMigrating:
		inst.Host, inst.PowerState = m.Dest, r.PowerState
		inst.TaskState, inst.TaskIndex, inst.Fault = TaskNone, 0, nil
		msg := fmt.Sprintf("live-migrated from %s to %s", m.Source, m.Dest)
		s.endMigration(inst, MigrationCompleted, msg, t, index)
		inst.finishAction("success", msg, t)
	case TaskResizeMigrating:
		inst.Host, inst.Flavor, inst.PowerState = m.Dest, m.NewFlavor, PowerNoState
		inst.TaskState, inst.TaskIndex = TaskResizeFinish, index
		m.Status, m.Updated, m.ModifyIndex = MigrationPostMigrating, t, index
	case TaskResizeFinish:
		inst.VMState, inst.PowerState = VMResized, r.PowerState
		inst.TaskState, inst.TaskIndex, inst.Fault = TaskNone, 0, nil
		m.Status, m.Updated, m.ModifyIndex = MigrationFinished, t, index
		inst.finishAction("success", fmt.Sprintf("moved from %s to %s; confirm or revert", m.Source, m.Dest), t)
	case TaskResizeReverting:
		inst.Host, inst.Flavor, inst.PowerState = m.Source, m.OldFlavor, PowerNoState
		inst.TaskState, inst.TaskIndex = TaskResizeRevertFinish, index
	case TaskResizeRevertFinish:
		inst.VMState, inst.PowerState = m.PrevVMState, r.PowerState
		inst.TaskState, inst.TaskIndex, inst.Fault = TaskNone, 0, nil
		s.endMigration(inst, MigrationReverted, "", t, index)
		inst.finishAction("success", "", t)
	}
	if h := s.Hosts[inst.Host]; inst.Host != host && h.isDown() {
		// The server passed to a host that went down before the news
		// came: the copy there is gone with it, and no host is left to
		// carry out the next step; as any server of a dead host.
		why := "host " + inst.Host + " went down before it took the server (" + r.Done + ")"
		if r.Done == TaskMigrating {
			why = "host " + inst.Host + " went down as the live migration completed"
		}
		s.evacuateInstance(inst, "", Actor{}, "", false, h.DownSince, t, why, index)
	}
	s.track(inst)
	return true
}

// moveFailed ends a migration whose host could not carry out its step.
// Before ownership passed (a live or cold migration's source failed) the
// server stays as it was: libvirt left the guest on the source. Once on
// the destination, a failed step leaves the server in ERROR, as Nova's.
func (s *State) moveFailed(inst *Instance, m *Migration, r InstanceReport, t time.Time, index uint64) {
	inst.PowerState = r.PowerState
	switch r.Done {
	case TaskMigrating, TaskResizeMigrating:
		inst.TaskState, inst.TaskIndex = TaskNone, 0
		status := MigrationError
		if r.Done == TaskMigrating {
			status = MigrationFailed
		}
		s.endMigration(inst, status, r.Error, t, index)
		inst.finishAction("error", r.Error, t)
	default:
		inst.VMState, inst.TaskState, inst.TaskIndex = VMError, TaskNone, 0
		inst.Fault = &Fault{Code: 500, Message: fmt.Sprintf("%s of instance %s on %s failed: %s", m.Kind, inst.ID, inst.Host, r.Error), Created: t}
		s.endMigration(inst, MigrationError, r.Error, t, index)
		inst.finishAction("error", r.Error, t)
	}
}

// evacuateInstance takes inst off its (dead) host for the scheduler, as
// Instance.evacuate, ending any migration of it in error and recording
// the evacuation as a migration of its own. A server in VERIFY_RESIZE (or
// reverting) lands as it was before the move: a stopped one stopped.
func (s *State) evacuateInstance(inst *Instance, requestID string, by Actor, target string, stop bool, since, now time.Time, why string, index uint64) {
	if m := s.migrationFor(inst); m != nil && inst.VMState == VMResized && m.PrevVMState != "" {
		inst.VMState = m.PrevVMState
	}
	s.endMigration(inst, MigrationError, why, now, index)
	s.newMigration(inst, MigrationEvacuation, MigrationAccepted, "", "", requestID, by, inst.Flavor, now, index)
	inst.evacuate(requestID, by, target, stop, since, now, why)
}

// recoverOnDest ends a live migration whose source went down: the server
// goes to its destination to be rebuilt there (TaskRebuildSpawning), where
// the host adopts a domain that libvirt finished moving, or else builds
// it afresh from its image. Nowhere else: if the migration completed, the
// destination runs the only copy (the source fenced itself before the
// verdict), and the scheduler could place the server elsewhere.
func (s *State) recoverOnDest(inst *Instance, m *Migration, requestID string, since, now time.Time, why string, index uint64) {
	dest := m.Dest
	s.evacuateInstance(inst, requestID, Actor{}, dest, false, since, now, why, index)
	inst.Host, inst.ForceHost = dest, ""
	inst.TaskState, inst.TaskIndex = TaskRebuildSpawning, index
	if e := s.migrationFor(inst); e != nil {
		e.Dest, e.Status = dest, MigrationPreMigrating
	}
}

// liveDestUp reports whether inst is live-migrating to a destination that
// can take it now.
func (s *State) liveDestUp(inst *Instance) (*Migration, bool) {
	m := s.migrationFor(inst)
	if m == nil || m.Kind != MigrationLive || m.Dest == "" || inst.TaskState != TaskMigrating {
		return nil, false
	}
	h, ok := s.Hosts[m.Dest]
	return m, ok && !h.Down && !h.ForcedDown
}

// arrivedAt reports whether r is a live migration's destination saying
// the guest runs there: libvirt resumes it on the destination only once
// the source has handed it over (the source's copy is paused for good and
// shut off at its Confirm), so ownership may pass on whichever of the two
// ends reports the completion first; the other's Done is then ignored
// (the server is no longer on the source, and its task is over). The
// destination's word comes sooner (the source's libvirt call returns after
// its Confirm), which shortens how long the network still points at the
// source. Only a success, of the task and TaskIndex running now.
func (s *State) arrivedAt(inst *Instance, r InstanceReport, host string) bool {
	m := s.migrationFor(inst)
	return m != nil && m.Kind == MigrationLive && m.Dest == host && !inst.MigrationPending &&
		r.Done == TaskMigrating && r.Error == "" && inst.TaskState == TaskMigrating && r.TaskIndex == inst.TaskIndex
}
