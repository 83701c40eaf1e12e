package fsm

import (
	"fmt"
	"time"
)

// InstanceReport is what a host's reconciler observed about one instance:
// its power state, and, when it finished a task, which one and whether it
// failed.
type InstanceReport struct {
	ID         string     `json:"id"`
	PowerState PowerState `json:"power_state"`
	Done       string     `json:"done,omitempty"`       // the task_state it completed
	TaskIndex  uint64     `json:"task_index,omitempty"` // the instance's TaskIndex when it started
	Error      string     `json:"error,omitempty"`      // why the task failed
}

// ReportInstances carries a host's observations in one batch. Reports about
// instances that are not (or no longer) on that host are ignored.
type ReportInstances struct {
	Host    string           `json:"host"`
	Time    time.Time        `json:"time"`
	Reports []InstanceReport `json:"reports"`
}

func (*ReportInstances) Type() Type { return TypeReportInstances }

// taskResult is the vm_state a task leaves behind when it succeeds.
var taskResult = map[string]string{
	TaskSpawning:      VMActive,
	TaskPoweringOff:   VMStopped,
	TaskPoweringOn:    VMActive,
	TaskRebooting:     VMActive,
	TaskRebootingHard: VMActive,
	TaskPausing:       VMPaused,
	TaskUnpausing:     VMActive,
	TaskSuspending:    VMSuspended,
	TaskResuming:      VMActive,
}

func applyReportInstances(s *State, index uint64, c Command) error {
	cmd := c.(*ReportInstances)
	if cmd.Host == "" {
		return fmt.Errorf("%w: a report needs its host", ErrInvalid)
	}
	for _, r := range cmd.Reports {
		inst, ok := s.Instances[r.ID]
		if ok && inst.Host != cmd.Host && s.arrivedAt(inst, r, cmd.Host) {
			s.moveDone(inst, r, cmd.Host, cmd.Time, index)
			continue
		}
		if !ok || inst.Host != cmd.Host {
			continue
		}
		// A Done answers the task that was running when the host started it;
		// a late or repeated one must not complete a newer task of the same name.
		done := r.Done != "" && r.Done == inst.TaskState && r.TaskIndex == inst.TaskIndex
		if done && r.Done == TaskDeleting && r.Error == "" {
			s.removeInstance(inst, index, cmd.Time)
			continue
		}
		if done && s.moveDone(inst, r, cmd.Host, cmd.Time, index) {
			continue
		}
		if _, known := taskResult[r.Done]; done && !known && r.Done != TaskDeleting && r.Done != TaskRebuildSpawning && r.Done != TaskRebuilding {
			continue
		}
		downOnItsOwn := r.Done == "" && inst.TaskState == TaskNone && (r.PowerState == PowerShutdown || r.PowerState == PowerCrashed) &&
			(inst.VMState == VMActive || inst.VMState == VMPaused || inst.VMState == VMSuspended)
		if !done && !downOnItsOwn && r.PowerState == inst.PowerState {
			continue // nothing changes: leave the instance (and its indexes) alone
		}
		s.untrack(inst)
		inst.PowerState = r.PowerState
		switch {
		case done && r.Error != "":
			s.taskFailed(inst, r, cmd.Time)
			s.endMigration(inst, MigrationFailed, r.Error, cmd.Time, index) // an evacuation's
		case done && (r.Done == TaskRebuildSpawning || r.Done == TaskRebuilding):
			// An evacuated or rebuilt server keeps its vm_state (active or
			// stopped); an evacuation's action says how long failover took.
			inst.TaskState, inst.TaskIndex, inst.Fault = TaskNone, 0, nil
			s.endMigration(inst, MigrationDone, "", cmd.Time, index) // an evacuation's
			if n := len(inst.Actions); n > 0 && inst.Actions[n-1].Result == "" {
				message := ""
				if inst.Actions[n-1].Action == ActionEvacuate {
					message = failoverMessage(inst.Actions[n-1], cmd.Time, cmd.Host)
				}
				inst.finishAction("success", message, cmd.Time)
			}
		case done:
			inst.VMState, inst.TaskState, inst.TaskIndex = taskResult[r.Done], TaskNone, 0
			inst.Fault = nil
			inst.finishAction("success", "", cmd.Time)
		case downOnItsOwn:
			// The guest went down on its own: the server is SHUTOFF, as
			// Nova's power-state sync decides.
			inst.VMState = VMStopped
			inst.startAction("", "stop (guest shut down)", Actor{}, cmd.Time)
			inst.finishAction("success", "", cmd.Time)
		}
		inst.Updated, inst.ModifyIndex = cmd.Time, index
		s.track(inst)
	}
	return nil
}

func (s *State) taskFailed(inst *Instance, r InstanceReport, t time.Time) {
	inst.Fault = &Fault{Code: 500, Message: r.Error, Created: t}
	switch inst.TaskState {
	case TaskSpawning:
		inst.VMState = VMError
		inst.Fault.Message = "Build of instance " + inst.ID + " aborted: " + r.Error
	case TaskRebuildSpawning, TaskRebuilding:
		inst.VMState = VMError
		inst.Fault.Message = "Rebuild of instance " + inst.ID + " on " + inst.Host + " failed: " + r.Error
	}
	inst.TaskState, inst.TaskIndex = TaskNone, 0
	inst.finishAction("error", r.Error, t)
}
