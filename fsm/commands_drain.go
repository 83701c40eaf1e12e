package fsm

import (
	"fmt"
	"time"
)

// DrainHost starts or ends the drain of a host: the leader moves its
// servers away, a few at a time (cluster/drain.go), until none is left.
// Starting disables the host for new servers (reason DrainReason, unless an
// operator gave one already); it stays disabled when the drain ends, for
// the operator to enable after the maintenance. Start false ends the
// drain: Result is the leader's verdict (DrainDone when the host is empty,
// DrainFailed when only servers it cannot move are left), empty for an
// operator's cancel.
type DrainHost struct {
	Name   string    `json:"name"`
	Start  bool      `json:"start,omitempty"`
	Result string    `json:"result,omitempty"`
	Time   time.Time `json:"time"`
}

func (*DrainHost) Type() Type { return TypeDrainHost }

// DrainReason is the disabled reason a drain gives its host (Nova's
// operators' word for it).
const DrainReason = "draining"

// Drain states and results: draining while it runs, then done or failed as
// the leader recorded, or cancelled by an operator; idle is a host with no
// drain (never drained, or cancelled).
const (
	DrainIdle      = "idle"
	DrainDraining  = "draining"
	DrainDone      = "done"
	DrainFailed    = "failed"
	DrainCancelled = "cancelled"
)

func applyDrainHost(s *State, index uint64, c Command) error {
	cmd := c.(*DrainHost)
	return s.changeHost(cmd.Name, index, cmd.Time, func(h *Host) error {
		if cmd.Start {
			return startDrain(h, cmd, index)
		}
		switch {
		case cmd.Result != "" && cmd.Result != DrainDone && cmd.Result != DrainFailed:
			return fmt.Errorf("%w: a drain ends %s or %s, not %q", ErrInvalid, DrainDone, DrainFailed, cmd.Result)
		case !h.Draining:
			return fmt.Errorf("%w: host %s is not draining", ErrConflict, h.Name)
		}
		h.Draining, h.DrainEnded, h.DrainResult = false, cmd.Time, cmd.Result
		if cmd.Result == "" {
			h.DrainResult = DrainCancelled
		}
		return nil
	})
}

func startDrain(h *Host, cmd *DrainHost, index uint64) error {
	switch {
	case cmd.Result != "":
		return fmt.Errorf("%w: a drain that starts has no result", ErrInvalid)
	case h.Draining:
		return fmt.Errorf("%w: host %s is already draining", ErrConflict, h.Name)
	case h.Down || h.ForcedDown:
		return fmt.Errorf("%w: host %s is down: evacuate it instead", ErrConflict, h.Name)
	}
	if h.Enabled || h.DisabledReason == "" {
		h.DisabledReason = DrainReason
	}
	h.Enabled, h.Draining, h.DrainIndex = false, true, index
	h.DrainStarted, h.DrainEnded, h.DrainResult = cmd.Time, time.Time{}, ""
	return nil
}
