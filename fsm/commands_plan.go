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
		if inst.MigrationPending {
			s.placeMigration(inst, pl.Host, p, index)
			continue
		}
		s.untrack(inst)
		if why := s.placementProblem(inst, pl.Host, p.Ratios); why != "" {
			inst.Attempts++
			if inst.Attempts >= p.MaxAttempts {
				s.failScheduling(inst, fmt.Sprintf("%s: %d attempts were rejected at commit; last: %s",
					NoValidHost, inst.Attempts, why), p.Time, index)
			}
		} else {
			task := TaskSpawning
			if inst.TaskState == TaskRebuilding {
				task = TaskRebuildSpawning
			}
			inst.Host, inst.TaskState, inst.TaskIndex = pl.Host, task, index
			if m := s.migrationFor(inst); m != nil && m.Kind == MigrationEvacuation {
				m.Dest, m.Status, m.Updated, m.ModifyIndex = pl.Host, MigrationPreMigrating, p.Time, index
			}
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
		if inst.MigrationPending {
			s.failMigration(inst, f.Reason, p.Time, index)
		} else {
			s.failScheduling(inst, f.Reason, p.Time, index)
		}
		inst.Updated, inst.ModifyIndex = p.Time, index
		s.track(inst)
	}
	return nil
}

// placeMigration gives a migration waiting for the scheduler its
// destination, re-checked as any placement (and never the source); a
// destination refused MaxAttempts times ends the migration in error and
// leaves the server as it was.
func (s *State) placeMigration(inst *Instance, host string, p *Plan, index uint64) {
	m := s.migrationFor(inst)
	if m == nil {
		return
	}
	s.untrack(inst)
	why := s.placementProblemFor(inst, host, m.NewFlavor, p.Ratios)
	if host == inst.Host {
		why = "host " + host + " is the server's own"
	}
	switch {
	case why == "":
		mv := moves[m.Kind]
		m.Dest, m.Status, m.Updated, m.ModifyIndex = host, mv.started, p.Time, index
		inst.MigrationPending = false
		inst.TaskState, inst.TaskIndex = mv.placed, index
	default:
		inst.Attempts++
		if inst.Attempts >= p.MaxAttempts {
			s.failMigration(inst, fmt.Sprintf("%s: %d attempts were rejected at commit; last: %s",
				NoValidHost, inst.Attempts, why), p.Time, index)
		}
	}
	inst.Updated, inst.ModifyIndex = p.Time, index
	s.track(inst)
}

// failMigration ends a migration that found no destination: the server
// stays where and as it was (Nova's migration error, no fault).
func (s *State) failMigration(inst *Instance, reason string, t time.Time, index uint64) {
	inst.TaskState, inst.TaskIndex, inst.Attempts = TaskNone, 0, 0
	s.endMigration(inst, MigrationError, reason, t, index)
	inst.finishAction("error", reason, t)
}

func (s *State) failScheduling(inst *Instance, reason string, t time.Time, index uint64) {
	inst.VMState, inst.TaskState, inst.TaskIndex = VMError, TaskNone, 0
	inst.Fault = &Fault{Code: 500, Message: reason, Created: t}
	inst.finishAction("error", reason, t)
	s.endMigration(inst, MigrationFailed, reason, t, index) // an evacuation's
}

// placementProblem says why inst cannot go on host now, or "" if it can.
func (s *State) placementProblem(inst *Instance, host string, r Ratios) string {
	return s.placementProblemFor(inst, host, inst.Flavor, r)
}

// placementProblemFor is placementProblem with flavor instead of inst's
// own (a resize's new one).
func (s *State) placementProblemFor(inst *Instance, host string, flavor FlavorSpec, r Ratios) string {
	h, ok := s.Hosts[host]
	switch {
	case !ok:
		return "host " + host + " is not registered"
	case !h.Enabled:
		return "host " + host + " is disabled"
	case h.Down || h.ForcedDown:
		return "host " + host + " is down"
	}
	if short, ok := Fit(h.Capacity(), s.usageOf(host).Resources(), flavor.Resources(), r); !ok {
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
			} else if to, _ := s.otherEnd(other); to == host && g.Policy == PolicyAntiAffinity {
				onHost++ // moving there (or back there on a revert): as good as there
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
