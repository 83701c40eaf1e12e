package compute

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/shoal-project/shoal/fsm"
)

// ErrFenced is returned by a fenced host's hypervisor for anything that
// would make a domain run.
var ErrFenced = errors.New("compute: this host is fenced (no lease): it starts no domain")

// FenceConfig configures a Fence.
type FenceConfig struct {
	// Valid reports whether the host holds a lease now.
	Valid func() bool
	// Resync brings the local replica up to date through the leader (a read
	// index); the host acts again only after it succeeded.
	Resync func(ctx context.Context) error
	// Check is how often the lease is looked at (default 100ms); Sweep how
	// often a fenced host looks for running domains again (default 1s).
	Check, Sweep time.Duration
	// OnChange, when set, is told each time the host becomes fenced or
	// leaves that state (to publish it).
	OnChange func(fenced bool)
	Logger   *slog.Logger
}

// Fence keeps a host that lost its lease from running anything: it hard-stops
// every shoal domain (disks kept), refuses starts, and lets the host act
// again only after the lease is back and the replica has been re-read, so
// servers that moved away meanwhile are never started here. A host starts
// fenced: it has proven nothing yet.
type Fence struct {
	cfg FenceConfig
	hv  Hypervisor
	log *slog.Logger

	mu     sync.Mutex
	fenced bool
	epoch  uint64 // times the host came back from being fenced
}

// NewFence returns a fenced Fence over hv.
func NewFence(cfg FenceConfig, hv Hypervisor) *Fence {
	if cfg.Valid == nil || cfg.Resync == nil || hv == nil {
		panic("compute: NewFence needs Valid, Resync and a hypervisor")
	}
	if cfg.Check <= 0 {
		cfg.Check = 100 * time.Millisecond
	}
	if cfg.Sweep <= 0 {
		cfg.Sweep = time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	return &Fence{cfg: cfg, hv: hv, log: cfg.Logger.With("component", "fence"), fenced: true}
}

// Fenced reports whether the host is fenced now.
func (f *Fence) Fenced() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.fenced
}

// Ready reports whether the host may act: not fenced and the lease valid.
func (f *Fence) Ready() bool { return !f.Fenced() && f.cfg.Valid() }

// Epoch counts the times the host left the fenced state (1 after the first
// time at start-up). A change tells the reconciler that domains may have
// been stopped behind its back and the ones still wanted must start again.
func (f *Fence) Epoch() uint64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.epoch
}

// Run watches the lease until ctx ends.
func (f *Fence) Run(ctx context.Context) {
	tick := time.NewTicker(f.cfg.Check)
	defer tick.Stop()
	var lastSweep time.Time
	for {
		if !f.cfg.Valid() {
			if !f.Fenced() {
				f.log.Warn("lease expired: fencing this host (stopping every shoal domain, starting none)")
				f.setFenced(true)
				lastSweep = time.Time{}
			}
			if time.Since(lastSweep) >= f.cfg.Sweep {
				lastSweep = time.Now()
				_, _ = Sweep(ctx, f.hv, f.log)
			}
		} else if f.Fenced() {
			f.unfence(ctx)
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// unfence re-reads the replica through the leader and, if the lease still
// holds, lets the host act again.
func (f *Fence) unfence(ctx context.Context) {
	rctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	err := f.cfg.Resync(rctx)
	cancel()
	if err != nil {
		f.log.Debug("lease held but the replica cannot be re-read yet", "err", err)
		return
	}
	if !f.cfg.Valid() {
		return
	}
	f.mu.Lock()
	f.epoch++
	f.mu.Unlock()
	f.setFenced(false)
	f.log.Info("lease held and replica re-read: this host acts again")
}

func (f *Fence) setFenced(v bool) {
	f.mu.Lock()
	f.fenced = v
	f.mu.Unlock()
	if f.cfg.OnChange != nil {
		f.cfg.OnChange(v)
	}
}

// Sweep hard-stops every running or paused shoal domain on hv (disks and
// definitions kept) and returns how many it stopped; an error when it could
// not list them. It is also what the fence guard process runs when the
// agent is gone.
func Sweep(ctx context.Context, hv Hypervisor, log *slog.Logger) (int, error) {
	doms, err := hv.List(ctx)
	if err != nil {
		log.Warn("fenced but cannot list domains; will retry", "err", err)
		return 0, err
	}
	// All at once: a QEMU under TCG can take two seconds to die, and the
	// leader's margin must cover the slowest stop, not the sum of them.
	var (
		mu   sync.Mutex
		n    int
		errs []error
		wg   sync.WaitGroup
	)
	for _, d := range doms {
		if d.PowerState != fsm.PowerRunning && d.PowerState != fsm.PowerPaused {
			continue
		}
		wg.Go(func() {
			err := hv.Destroy(ctx, d.ID)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				log.Warn("fenced but cannot stop domain; will retry", "domain", d.ID, "err", err)
				errs = append(errs, err)
				return
			}
			n++
			log.Warn("fenced: domain stopped", "domain", d.ID, "name", d.Name)
		})
	}
	wg.Wait()
	return n, errors.Join(errs...)
}

// FenceLead is how long before its lease ends a host starts fencing, so that
// stopping its domains is over well before the leader's verdict (lease +
// margin after the last grant): 30% of the lease.
func FenceLead(lease time.Duration) time.Duration { return lease * 3 / 10 }

// Guard wraps hv so that nothing starts a domain while the host is fenced.
// When hv is a Migrator the guarded one is too: a fenced host sends no
// domain away (MigrateTo is ErrFenced); PrepareIncoming and Resize start
// nothing and pass through.
func (f *Fence) Guard(hv Hypervisor) Hypervisor {
	g := &guarded{Hypervisor: hv, f: f}
	if m, ok := hv.(Migrator); ok {
		return &guardedMigrator{guarded: g, m: m}
	}
	return g
}

type guardedMigrator struct {
	*guarded
	m Migrator
}

func (g *guardedMigrator) PrepareIncoming(ctx context.Context, spec InstanceSpec) (string, error) {
	return g.m.PrepareIncoming(ctx, spec)
}

func (g *guardedMigrator) MigrateTo(ctx context.Context, id string, to MigrationTarget, opt MigrateOptions) (MigrationStats, error) {
	if err := g.allowed(); err != nil {
		return MigrationStats{}, err
	}
	return g.m.MigrateTo(ctx, id, to, opt)
}

func (g *guardedMigrator) Resize(ctx context.Context, spec InstanceSpec) error {
	return g.m.Resize(ctx, spec)
}

type guarded struct {
	Hypervisor
	f *Fence
}

func (g *guarded) allowed() error {
	if !g.f.Ready() {
		return ErrFenced
	}
	return nil
}

func (g *guarded) Start(ctx context.Context, id string) error {
	if err := g.allowed(); err != nil {
		return err
	}
	return g.Hypervisor.Start(ctx, id)
}

func (g *guarded) Reboot(ctx context.Context, id string, hard bool) error {
	if err := g.allowed(); err != nil {
		return err
	}
	return g.Hypervisor.Reboot(ctx, id, hard)
}

func (g *guarded) Unpause(ctx context.Context, id string) error {
	if err := g.allowed(); err != nil {
		return err
	}
	return g.Hypervisor.Unpause(ctx, id)
}

func (g *guarded) Resume(ctx context.Context, id string) error {
	if err := g.allowed(); err != nil {
		return err
	}
	return g.Hypervisor.Resume(ctx, id)
}

// Events passes on the wrapped hypervisor's events, if it has any.
func (g *guarded) Events() <-chan string {
	if n, ok := g.Hypervisor.(Notifier); ok {
		return n.Events()
	}
	return nil
}
