package fsm

import (
	"fmt"
	"slices"
	"time"
)

// MarkHostDown is the leader's verdict that a host is gone and has certainly
// fenced itself. Its servers are evacuated: re-placed by the scheduler with
// the same UUID, name, flavor, fixed IP and MAC, and rebuilt from their image;
// servers whose HA policy is none go to ERROR on the dead host instead.
type MarkHostDown struct {
	Name      string    `json:"name"`
	LastSeen  time.Time `json:"last_seen"` // the host's last lease grant: when it stopped answering
	Reason    string    `json:"reason"`
	RequestID string    `json:"request_id"`
	Time      time.Time `json:"time"`
}

// MarkHostUp clears the verdict once the host is back and holds a lease.
type MarkHostUp struct {
	Name string    `json:"name"`
	Time time.Time `json:"time"`
}

// EvacuateInstances is an operator's evacuation (Nova's evacuate): allowed only
// for servers whose host is down, or that an evacuation left without a host.
// UserID and ProjectID are who asks, for the action log. Stop makes every
// server land stopped (SHUTOFF), whatever it was (Nova 2.95); without it a
// stopped server stays stopped and any other runs.
type EvacuateInstances struct {
	IDs        []string  `json:"ids"`
	TargetHost string    `json:"target_host,omitempty"`
	Stop       bool      `json:"stop,omitempty"`
	RequestID  string    `json:"request_id"`
	UserID     string    `json:"user_id,omitempty"`
	ProjectID  string    `json:"project_id,omitempty"`
	Time       time.Time `json:"time"`
}

// ForceHostDown sets or clears a host's forced_down flag (Nova's
// os-services force-down).
type ForceHostDown struct {
	Name       string    `json:"name"`
	ForcedDown bool      `json:"forced_down"`
	Time       time.Time `json:"time"`
}

func (*MarkHostDown) Type() Type      { return TypeMarkHostDown }
func (*MarkHostUp) Type() Type        { return TypeMarkHostUp }
func (*EvacuateInstances) Type() Type { return TypeEvacuateInstances }
func (*ForceHostDown) Type() Type     { return TypeForceHostDown }

// ActionEvacuate names evacuations in the action log.
const ActionEvacuate = "evacuate"

func applyMarkHostDown(s *State, index uint64, c Command) error {
	cmd := c.(*MarkHostDown)
	err := s.changeHost(cmd.Name, index, cmd.Time, func(h *Host) error {
		if h.Down {
			return fmt.Errorf("%w: host %s is already down", ErrConflict, cmd.Name)
		}
		h.Down, h.DownSince = true, cmd.LastSeen
		return nil
	})
	if err != nil {
		return err
	}
	for _, inst := range s.instancesOn(cmd.Name) {
		if inst.TaskState == TaskDeleting {
			s.removeInstance(inst, index, cmd.Time) // its disk went with the host
			continue
		}
		s.untrack(inst)
		why := "host " + cmd.Name + " is down (" + cmd.Reason + ")"
		m, destUp := s.liveDestUp(inst)
		switch {
		case destUp:
			s.recoverOnDest(inst, m, cmd.RequestID, cmd.LastSeen, cmd.Time, why+" during the live migration to "+m.Dest, index)
		case inst.VMState == VMError || inst.VMState == VMDeleted:
			// left for the operator, as before the failure
			s.endMigration(inst, MigrationError, why, cmd.Time, index)
		case inst.Policy() == HANone:
			s.endMigration(inst, MigrationError, why, cmd.Time, index)
			inst.VMState, inst.TaskState, inst.TaskIndex = VMError, TaskNone, 0
			inst.Fault = &Fault{Code: 500, Created: cmd.Time, Message: "host " + cmd.Name +
				" is down and this server's HA policy is none: evacuate it (shoal server evacuate) or wait for the host"}
			inst.finishAction("error", "host "+cmd.Name+" went down", cmd.Time)
		default:
			s.evacuateInstance(inst, cmd.RequestID, Actor{}, "", false, cmd.LastSeen, cmd.Time, why, index)
		}
		inst.Updated, inst.ModifyIndex = cmd.Time, index
		s.track(inst)
	}
	return nil
}

func applyMarkHostUp(s *State, index uint64, c Command) error {
	cmd := c.(*MarkHostUp)
	return s.changeHost(cmd.Name, index, cmd.Time, func(h *Host) error {
		if !h.Down {
			return fmt.Errorf("%w: host %s is not down", ErrConflict, cmd.Name)
		}
		h.Down, h.DownSince = false, time.Time{}
		return nil
	})
}

func applyForceHostDown(s *State, index uint64, c Command) error {
	cmd := c.(*ForceHostDown)
	return s.changeHost(cmd.Name, index, cmd.Time, func(h *Host) error {
		h.ForcedDown = cmd.ForcedDown
		return nil
	})
}

func applyEvacuateInstances(s *State, index uint64, c Command) error {
	cmd := c.(*EvacuateInstances)
	if len(cmd.IDs) == 0 {
		return fmt.Errorf("%w: no servers to evacuate", ErrInvalid)
	}
	insts := make([]*Instance, 0, len(cmd.IDs))
	for _, id := range cmd.IDs {
		inst, ok := s.Instances[id]
		if !ok {
			return fmt.Errorf("%w: server %q", ErrNotFound, id)
		}
		if err := s.canEvacuate(inst, cmd.TargetHost); err != nil {
			return err
		}
		insts = append(insts, inst)
	}
	for _, inst := range insts {
		s.untrack(inst)
		from := inst.Host
		if from == "" {
			from = "nowhere"
		}
		s.evacuateInstance(inst, cmd.RequestID, Actor{UserID: cmd.UserID, ProjectID: cmd.ProjectID}, cmd.TargetHost, cmd.Stop, cmd.Time, cmd.Time,
			"evacuate from "+from+" asked by an operator", index)
		inst.Updated, inst.ModifyIndex = cmd.Time, index
		s.track(inst)
	}
	return nil
}

// canEvacuate says why inst cannot be evacuated to target ("" = any host).
// Nova's rule: the source host must be down, so the server certainly does
// not run there any more.
func (s *State) canEvacuate(inst *Instance, target string) error {
	switch {
	case inst.TaskState == TaskDeleting:
		return fmt.Errorf("%w: server %s is being deleted", ErrConflict, inst.ID)
	case inst.Pending():
		return fmt.Errorf("%w: server %s already waits for a host", ErrConflict, inst.ID)
	case inst.Host == "" && inst.VMState != VMError:
		return fmt.Errorf("%w: server %s has no host to evacuate from", ErrConflict, inst.ID)
	case inst.Host != "" && !s.Hosts[inst.Host].isDown():
		return fmt.Errorf("%w: cannot evacuate server %s: its host %s is up (evacuate needs the host down: "+
			"wait for the failure verdict or use shoal host force-down)", ErrConflict, inst.ID, inst.Host)
	}
	if target == "" {
		return nil
	}
	h, ok := s.Hosts[target]
	switch {
	case !ok:
		return fmt.Errorf("%w: target host %q", ErrNotFound, target)
	case target == inst.Host:
		return fmt.Errorf("%w: server %s is on %s already", ErrInvalid, inst.ID, target)
	case h.isDown() || h.ForcedDown || !h.Enabled:
		return fmt.Errorf("%w: target host %s cannot take servers (down or disabled)", ErrConflict, target)
	}
	return nil
}

func (h *Host) isDown() bool { return h != nil && h.Down }

// evacuate takes the server off its host and queues it for the scheduler,
// keeping its identity and addresses. A server that was stopped stays
// stopped where it lands, and so does any other when stop is set; any other
// ends ACTIVE (memory state is lost with the host). The action starts at
// since, so its duration is the failover time.
func (i *Instance) evacuate(requestID string, by Actor, target string, stop bool, since, now time.Time, why string) {
	switch {
	case i.VMState == VMBuilding:
		i.TaskState = TaskScheduling // a build that never finished starts over
	case stop, i.VMState == VMStopped && i.TaskState != TaskPoweringOn,
		i.TaskState == TaskPoweringOff:
		i.VMState, i.TaskState = VMStopped, TaskRebuilding
	default:
		i.VMState, i.TaskState = VMActive, TaskRebuilding
	}
	i.finishAction("error", "interrupted: "+why, now)
	i.Host, i.ForceHost, i.TaskIndex, i.Attempts = "", target, 0, 0
	i.PowerState = PowerNoState
	i.Fault = nil
	i.startAction(requestID, ActionEvacuate, by, since)
	if k := len(i.Actions) - 1; k >= 0 {
		i.Actions[k].Message = why
	}
}

// instancesOn lists the servers on host, ordered by ID so Apply is
// deterministic.
func (s *State) instancesOn(host string) []*Instance {
	var out []*Instance
	for _, inst := range s.Instances {
		if inst.Host == host {
			out = append(out, inst)
		}
	}
	slices.SortFunc(out, func(a, b *Instance) int {
		switch {
		case a.ID < b.ID:
			return -1
		case a.ID > b.ID:
			return 1
		}
		return 0
	})
	return out
}

// failoverMessage says how long an evacuation took, from when the old host
// was last seen to when the server runs again.
func failoverMessage(a Action, t time.Time, host string) string {
	return fmt.Sprintf("rebuilt on %s; failover took %.1f s", host, t.Sub(a.Start).Seconds())
}
