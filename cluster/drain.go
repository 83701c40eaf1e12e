package cluster

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/google/uuid"

	"github.com/shoal-project/shoal/fsm"
)

// The leader's own moves: it drains hosts (DrainHost marks them; this
// loop moves their servers away, a few at a time) and confirms resizes
// left in VERIFY_RESIZE longer than the confirm window (resize_confirm.go).
// Everything it knows comes from the replica on every tick, so a new
// leader picks a drain up where the last one left it: nothing lives in
// this loop but the clock.

// moverState is what the loop reads; *fsm.FSM is one.
type moverState interface {
	Hosts() []fsm.Host
	Drain(host string) (fsm.DrainView, error)
	Migrations(keep func(*fsm.Migration) bool) []fsm.Migration
	Instance(id string) (fsm.Instance, error)
}

// moverConfig bounds the loop's moves (Config's Drain* and
// ResizeConfirmWindow; Ratios are the scheduler's).
type moverConfig struct {
	PerHost       int
	PerCluster    int
	ConfirmWindow time.Duration
	Ratios        fsm.Ratios
}

// mover starts the moves of drains and the confirmations the window
// calls for, committing them through apply (the node's Apply).
type mover struct {
	cfg   moverConfig
	state moverState
	apply func(context.Context, fsm.Command) (uint64, error)
	now   func() time.Time
	log   *slog.Logger
	turn  int // which draining host takes cluster slots first, in turn
}

// moverLoop runs the mover while this node leads.
func (n *Node) moverLoop(ctx context.Context) {
	m := &mover{cfg: moverConfig{PerHost: n.cfg.DrainPerHost, PerCluster: n.cfg.DrainPerCluster,
		ConfirmWindow: n.cfg.ResizeConfirmWindow, Ratios: n.cfg.Ratios},
		state: n.fsm, apply: n.Apply, now: time.Now, log: n.log}
	t := time.NewTicker(n.cfg.DrainInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		m.step(ctx)
	}
}

// step is one look at the replica: drains, then the confirm window.
func (m *mover) step(ctx context.Context) {
	m.drainHosts(ctx)
	m.confirmExpired(ctx)
}

// drainHosts moves the servers of every draining host, at most
// cfg.PerHost moving from one host and cfg.PerCluster in the cluster
// (busy migrations, whoever started them), confirms the drains' cold
// migrations as soon as they wait in VERIFY_RESIZE, and records the end
// of each drain that has nothing left to do.
func (m *mover) drainHosts(ctx context.Context) {
	var draining []fsm.Host
	for _, h := range m.state.Hosts() {
		if h.Draining {
			draining = append(draining, h)
		}
	}
	if len(draining) == 0 {
		return
	}
	busy := len(m.state.Migrations(func(x *fsm.Migration) bool { return x.Busy() }))
	m.turn++
	for i := range draining {
		h := draining[(m.turn+i)%len(draining)]
		v, err := m.state.Drain(h.Name)
		if err != nil {
			continue // removed meanwhile
		}
		for _, id := range v.Confirm {
			m.confirm(ctx, id, "drain of "+h.Name)
		}
		if out := v.Outcome(); out != "" {
			m.endDrain(ctx, h.Name, out, v.Progress)
			continue
		}
		room := min(m.cfg.PerHost-v.Busy, m.cfg.PerCluster-busy)
		for _, mv := range nextMoves(v) {
			if room <= 0 {
				break
			}
			if m.migrate(ctx, h.Name, mv.id, mv.kind) {
				room--
				busy++
			}
		}
	}
}

type drainMove struct{ id, kind string }

// nextMoves are the moves a drain may start, live ones first (running
// guests are what an operator waits for), each list in ID order.
func nextMoves(v fsm.DrainView) []drainMove {
	out := make([]drainMove, 0, len(v.Live)+len(v.Cold))
	for _, id := range v.Live {
		out = append(out, drainMove{id, fsm.MigrationLive})
	}
	for _, id := range v.Cold {
		out = append(out, drainMove{id, fsm.MigrationCold})
	}
	return out
}

// migrate proposes the move of server id off host, the scheduler to
// choose where; it reports whether the move started. A refusal (the
// server changed since the read) is tried again at the next tick.
func (m *mover) migrate(ctx context.Context, host, id, kind string) bool {
	cmd := &fsm.MigrateInstance{ID: id, Kind: kind, Ratios: m.cfg.Ratios, MigrationUUID: uuid.NewString(),
		RequestID: "req-" + uuid.NewString(), Admin: true, Time: m.now().UTC()}
	if _, err := m.apply(ctx, cmd); err != nil {
		m.logRefusal("starting a drain's move failed", err, "host", host, "server", id, "kind", kind)
		return false
	}
	m.log.Info("drain: moving a server", "host", host, "server", id, "kind", kind, "migration", cmd.MigrationUUID)
	return true
}

// confirm confirms server id's move (Nova's confirmResize, by the system:
// no user), for why.
func (m *mover) confirm(ctx context.Context, id, why string) {
	cmd := &fsm.ResizeDecision{ID: id, RequestID: "req-" + uuid.NewString(), Admin: true, Time: m.now().UTC()}
	if _, err := m.apply(ctx, cmd); err != nil {
		m.logRefusal("confirming a move failed", err, "server", id, "for", why)
		return
	}
	m.log.Info("confirmed a move", "server", id, "for", why)
}

// endDrain records how the drain of host ended.
func (m *mover) endDrain(ctx context.Context, host, result string, p fsm.DrainProgress) {
	if _, err := m.apply(ctx, &fsm.DrainHost{Name: host, Result: result, Time: m.now().UTC()}); err != nil {
		m.logRefusal("recording the end of a drain failed", err, "host", host, "result", result)
		return
	}
	level := slog.LevelInfo
	if result == fsm.DrainFailed {
		level = slog.LevelWarn
	}
	m.log.Log(ctx, level, "drain ended", "host", host, "result", result, "moved", p.Moved, "failed", p.Failed)
}

// logRefusal logs a write the loop will try again: quietly when the
// state merely moved on under it (conflict), loudly otherwise.
func (m *mover) logRefusal(msg string, err error, args ...any) {
	level := slog.LevelWarn
	if errors.Is(err, fsm.ErrConflict) || errors.Is(err, fsm.ErrNotFound) {
		level = slog.LevelDebug
	}
	m.log.Log(context.Background(), level, msg, append(args, "err", err)...)
}
