package scheduler

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"math/rand/v2"
	"time"

	"github.com/google/uuid"

	"github.com/shoal-project/shoal/fsm"
	"github.com/shoal-project/shoal/internal/backoff"
)

// State is the replicated state as the scheduler reads it.
type State interface {
	// SchedulingView is a consistent read: at most limit pending instances
	// (oldest first), hosts, claims, group placements and images.
	SchedulingView(limit int) fsm.SchedulingView
	// WatchCh returns a channel closed after the next Apply.
	WatchCh() <-chan struct{}
}

// Liveness is gossip's opinion of the hosts.
type Liveness interface {
	// AliveHosts names the hosts gossip sees as alive or suspect.
	AliveHosts() map[string]bool
}

// Planner commits plans.
type Planner interface {
	// SubmitPlan commits a plan through Raft; returns the index it applied at.
	SubmitPlan(ctx context.Context, p *fsm.Plan) (uint64, error)
}

// Config tunes the scheduler. Zero values take the defaults in withDefaults;
// a weight whose default is 1.0 therefore cannot be set to exactly 0 (a very
// small weight makes that weigher a mere tie-breaker).
type Config struct {
	// Ratios are the allocation ratios placements are checked and committed
	// with (default fsm.DefaultRatios; a zero component takes its default).
	Ratios fsm.Ratios
	// MaxAttempts is how many times a placement may be rejected at commit
	// before the instance goes to ERROR (default 3).
	MaxAttempts int
	// BatchSize is how many pending instances one plan places (default 512).
	BatchSize int
	// SampleSize is how many hosts that pass every filter are weighed per
	// placement (default 32): power of k choices keeps a placement's cost
	// independent of the cluster's size.
	SampleSize int

	// Weigher multipliers (Nova's *_weight_multiplier). Positive RAMWeight
	// and CPUWeight spread by free RAM and vCPUs, negative ones pack.
	RAMWeight float64 // default 1.0
	CPUWeight float64 // default 1.0
	// InstanceWeight > 0 prefers hosts with more instances, < 0 fewer (default 0).
	InstanceWeight         float64
	SoftAffinityWeight     float64 // default 1.0
	SoftAntiAffinityWeight float64 // default 1.0

	// Interval is how often Run looks for work when no Apply wakes it (default 1 s).
	Interval time.Duration
	// StartupGrace holds back "No valid host" failures for this long after
	// Run starts (default 0): a leader that has just taken over may not have
	// heard from every host yet, and an election must not fail servers.
	StartupGrace time.Duration
	Logger       *slog.Logger
	// Rand drives sampling and tie-breaking; nil seeds one from the clock.
	// Only the Run goroutine uses it.
	Rand *rand.Rand
}

func (c Config) withDefaults() Config {
	if c.Ratios.CPU == 0 {
		c.Ratios.CPU = fsm.DefaultRatios.CPU
	}
	if c.Ratios.RAM == 0 {
		c.Ratios.RAM = fsm.DefaultRatios.RAM
	}
	if c.Ratios.Disk == 0 {
		c.Ratios.Disk = fsm.DefaultRatios.Disk
	}
	if c.MaxAttempts == 0 {
		c.MaxAttempts = 3
	}
	if c.BatchSize == 0 {
		c.BatchSize = 512
	}
	if c.SampleSize == 0 {
		c.SampleSize = 32
	}
	for _, w := range []*float64{&c.RAMWeight, &c.CPUWeight, &c.SoftAffinityWeight, &c.SoftAntiAffinityWeight} {
		if *w == 0 {
			*w = 1.0
		}
	}
	if c.Interval == 0 {
		c.Interval = time.Second
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.Rand == nil {
		now := uint64(time.Now().UnixNano())
		c.Rand = rand.New(rand.NewPCG(now, now>>32|now<<32))
	}
	return c
}

// Validate reports whether the configuration, once defaulted, is usable.
func (c Config) Validate() error {
	c = c.withDefaults()
	var errs []error
	for _, r := range []struct {
		name string
		v    float64
	}{{"cpu", c.Ratios.CPU}, {"ram", c.Ratios.RAM}, {"disk", c.Ratios.Disk}} {
		if !(r.v > 0) || math.IsInf(r.v, 0) {
			errs = append(errs, fmt.Errorf("scheduler: %s allocation ratio must be positive and finite, not %v", r.name, r.v))
		}
	}
	if c.MaxAttempts < 1 {
		errs = append(errs, fmt.Errorf("scheduler: max attempts must be at least 1, not %d", c.MaxAttempts))
	}
	if c.BatchSize < 1 {
		errs = append(errs, fmt.Errorf("scheduler: batch size must be at least 1, not %d", c.BatchSize))
	}
	if c.SampleSize < 1 {
		errs = append(errs, fmt.Errorf("scheduler: sample size must be at least 1, not %d", c.SampleSize))
	}
	for _, w := range []struct {
		name string
		v    float64
	}{{"ram", c.RAMWeight}, {"cpu", c.CPUWeight}, {"instance", c.InstanceWeight},
		{"soft affinity", c.SoftAffinityWeight}, {"soft anti-affinity", c.SoftAntiAffinityWeight}} {
		if math.IsNaN(w.v) || math.IsInf(w.v, 0) {
			errs = append(errs, fmt.Errorf("scheduler: %s weight must be finite, not %v", w.name, w.v))
		}
	}
	if c.StartupGrace < 0 {
		errs = append(errs, fmt.Errorf("scheduler: startup grace must not be negative, not %v", c.StartupGrace))
	}
	if c.Interval < 0 {
		errs = append(errs, fmt.Errorf("scheduler: interval must not be negative, not %v", c.Interval))
	}
	return errors.Join(errs...)
}

// Scheduler places pending instances. Run it on the leader only.
type Scheduler struct {
	cfg     Config
	state   State
	live    Liveness
	planner Planner
	log     *slog.Logger
	rng     *rand.Rand
	batch   batch // per-batch structures, reused between batches
}

// New returns a scheduler. It panics if cfg does not Validate or a dependency
// is nil: both are wiring mistakes, caught by Validate in cmd first.
func New(cfg Config, st State, live Liveness, p Planner) *Scheduler {
	if err := cfg.Validate(); err != nil {
		panic(err)
	}
	if st == nil || live == nil || p == nil {
		panic("scheduler: New needs a State, a Liveness and a Planner")
	}
	cfg = cfg.withDefaults()
	return &Scheduler{cfg: cfg, state: st, live: live, planner: p, log: cfg.Logger, rng: cfg.Rand}
}

// Backoff after a failed submit: short, because a failed submit usually means
// an election or a full queue, and bounded so a lost leader is noticed
// through ctx rather than through sleeping.
const (
	minBackoff = 50 * time.Millisecond
	maxBackoff = 2 * time.Second
)

// Run schedules until ctx ends (leadership lost). Each round takes a view,
// plans its pending instances as one batch and submits the plan; it then
// waits for the state to move past that plan before the next round, so a
// batch never re-places what the previous one already placed.
func (s *Scheduler) Run(ctx context.Context) {
	s.log.Info("scheduler started", "batch_size", s.cfg.BatchSize, "sample_size", s.cfg.SampleSize)
	defer s.log.Info("scheduler stopped")
	var applied uint64 // index our last plan applied at
	retry := backoff.Backoff{Min: minBackoff, Max: maxBackoff}
	graceEnds := time.Now().Add(s.cfg.StartupGrace)
	for ctx.Err() == nil {
		// Taken before the view: any Apply after this point closes it.
		watch := s.state.WatchCh()
		v := s.state.SchedulingView(s.cfg.BatchSize)
		if len(v.Pending) == 0 || v.Index < applied {
			s.wait(ctx, watch)
			continue
		}
		p := s.plan(v, s.live.AliveHosts())
		if len(p.Failures) > 0 && time.Now().Before(graceEnds) {
			s.log.Debug("holding unplaceable servers during the startup grace", "servers", len(p.Failures))
			p.Failures = nil
			if len(p.Placements) == 0 {
				sleep(ctx, min(s.cfg.Interval, time.Until(graceEnds)))
				continue
			}
		}
		p.Time = time.Now().UTC()
		p.RequestID = "req-" + uuid.NewString()
		idx, err := s.planner.SubmitPlan(ctx, p)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			wait := retry.Next()
			s.log.Warn("submitting plan failed", "err", err, "placements", len(p.Placements),
				"failures", len(p.Failures), "retry_in", wait)
			sleep(ctx, wait)
			continue
		}
		retry.Reset()
		applied = idx
		s.log.Debug("plan committed", "index", idx, "request_id", p.RequestID,
			"placements", len(p.Placements), "failures", len(p.Failures))
		s.wait(ctx, watch)
	}
}

// wait returns when the state changes, Interval passes or ctx ends.
func (s *Scheduler) wait(ctx context.Context, watch <-chan struct{}) {
	t := time.NewTimer(s.cfg.Interval)
	defer t.Stop()
	select {
	case <-watch:
	case <-t.C:
	case <-ctx.Done():
	}
}

func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}
