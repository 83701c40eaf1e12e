package api

import (
	"context"
	"time"

	"github.com/shoal-project/shoal/fsm"
)

// Host drains (an admin's routes). A drain is one DrainHost command: the
// leader's drain loop (cluster/drain.go) does the moving, a few servers at
// a time, and records how it ended; its progress is derived from the
// replica on every read (fsm.FSM.Drain).

// HostDrain is how the drain of a host goes.
func (o *Ops) HostDrain(ctx context.Context, name string) (fsm.DrainProgress, error) {
	v, err := o.s.state.Drain(name)
	return v.Progress, err
}

// StartHostDrain disables a host and has the leader move its servers
// away: live (ACTIVE, PAUSED) or cold and confirmed at once (SHUTOFF).
// Refused (409) while it drains already and when it is down.
func (o *Ops) StartHostDrain(ctx context.Context, name string) (uint64, fsm.DrainProgress, error) {
	return o.drainChange(ctx, name, true)
}

// CancelHostDrain stops a drain: no new move starts, those under way end
// as they would, and the host stays disabled. Refused (409) when it does
// not drain.
func (o *Ops) CancelHostDrain(ctx context.Context, name string) (uint64, fsm.DrainProgress, error) {
	return o.drainChange(ctx, name, false)
}

func (o *Ops) drainChange(ctx context.Context, name string, start bool) (uint64, fsm.DrainProgress, error) {
	h, err := o.s.state.Host(name)
	if err != nil {
		return 0, fsm.DrainProgress{}, err
	}
	idx, p, err := applyRead(o.s, ctx, &fsm.DrainHost{Name: h.Name, Start: start, Time: time.Now().UTC()},
		"host", h.Name, func(name string) (fsm.DrainProgress, error) { return o.HostDrain(ctx, name) })
	if err == nil {
		c := Caller(ctx)
		o.s.log.Info("api: host drain", "host", h.Name, "start", start, "user", c.UserName, "project", c.ProjectName)
	}
	return idx, p, err
}
