package fsm

import (
	"fmt"
	"time"
)

// NoValidHost starts the fault message of a server no host can take (Nova's words).
const NoValidHost = "No valid host was found"

// Placement puts one pending instance on a host.
type Placement struct {
	InstanceID string `json:"instance_id"`
	Host       string `json:"host"`
}

// PlanFailure is an instance the scheduler found no host for, and why.
type PlanFailure struct {
	InstanceID string `json:"instance_id"`
	Reason     string `json:"reason"`
}

// Plan is one batch of scheduling decisions. Apply re-checks each placement
// against the claims as they are now and rejects only what no longer fits
// (optimistic concurrency, as Nomad's plan applier); a rejected instance stays
// pending until it has been rejected MaxAttempts times.
type Plan struct {
	Time        time.Time     `json:"time"`
	RequestID   string        `json:"request_id"`
	Ratios      Ratios        `json:"ratios"`
	MaxAttempts int           `json:"max_attempts"`
	Placements  []Placement   `json:"placements"`
	Failures    []PlanFailure `json:"failures,omitempty"`
}

func (*Plan) Type() Type { return TypePlan }

func applyPlan(s *State, index uint64, c Command) error {
	p := c.(*Plan)
	if p.Ratios.CPU <= 0 || p.Ratios.RAM <= 0 || p.Ratios.Disk <= 0 || p.MaxAttempts < 1 {
		return fmt.Errorf("%w: a plan needs positive allocation ratios and attempts", ErrInvalid)
	}
	for _, pl := range p.Placements {
		inst, ok := s.Instances[pl.InstanceID]
		if !ok || !inst.Pending() {
			continue // deleted or placed meanwhile
		}
		s.untrack(inst)
		if why := s.placementProblem(inst, pl.Host, p.Ratios); why != "" {
			inst.Attempts++
			if inst.Attempts >= p.MaxAttempts {
				s.failScheduling(inst, fmt.Sprintf("%s: %d attempts were rejected at commit; last: %s",
					NoValidHost, inst.Attempts, why), p.Time)
			}
		} else {
			task := TaskSpawning
			if inst.TaskState == TaskRebuilding {
				task = TaskRebuildSpawning
			}
			inst.Host, inst.TaskState, inst.TaskIndex = pl.Host, task, index
		}
		inst.Updated, inst.ModifyIndex = p.Time, index
		s.track(inst)
	}
	for _, f := range p.Failures {
		inst, ok := s.Instances[f.InstanceID]
		if !ok || !inst.Pending() {
			continue
		}
		s.untrack(inst)
		s.failScheduling(inst, f.Reason, p.Time)
		inst.Updated, inst.ModifyIndex = p.Time, index
		s.track(inst)
	}
	return nil
}

func (s *State) failScheduling(inst *Instance, reason string, t time.Time) {
	inst.VMState, inst.TaskState, inst.TaskIndex = VMError, TaskNone, 0
	inst.Fault = &Fault{Code: 500, Message: reason, Created: t}
	inst.finishAction("error", reason, t)
}

// placementProblem says why inst cannot go on host now, or "" if it can.
func (s *State) placementProblem(inst *Instance, host string, r Ratios) string {
	h, ok := s.Hosts[host]
	switch {
	case !ok:
		return "host " + host + " is not registered"
	case !h.Enabled:
		return "host " + host + " is disabled"
	case h.Down || h.ForcedDown:
		return "host " + host + " is down"
	}
	if short, ok := Fit(h.Capacity(), s.usageOf(host).Resources(), inst.Flavor.Resources(), r); !ok {
		return "not enough " + short.String() + " on " + host
	}
	if g, ok := s.Groups[inst.ServerGroupID]; ok {
		onHost := 0
		for _, m := range g.Members {
			other, ok := s.Instances[m]
			if !ok || m == inst.ID || other.Host == "" {
				continue
			}
			if other.Host == host {
				onHost++
			}
			if g.Policy == PolicyAntiAffinity && onHost >= g.PerHost() {
				return "anti-affinity: group member " + m + " is on " + host
			}
			if g.Policy == PolicyAffinity && other.Host != host {
				return "affinity: group members are on " + other.Host
			}
		}
	}
	return ""
}
