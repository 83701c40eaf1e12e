package compute

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/shoal-project/shoal/fsm"
)

// State is what the reconciler reads of the cluster's state (an *fsm.FSM).
type State interface {
	// InstancesOnHost lists the instances the FSM gives to host.
	InstancesOnHost(host string) []fsm.Instance
	// WatchCh returns a channel closed after the next change.
	WatchCh() <-chan struct{}
	// MigrationOf is the migration moving server id now (fsm.ErrNotFound
	// when none).
	MigrationOf(id string) (fsm.Migration, error)
	// MovingWith lists the servers a migration in progress ties to host
	// although their Host is the migration's other end: their domain here
	// (there, or arriving) is no orphan.
	MovingWith(host string) []fsm.Moving
}

// Peers reaches the other hosts of the cluster for what a migration needs
// of them.
type Peers interface {
	// PrepareMigration asks m's destination to make ready for inst's
	// domain (its PrepareIncoming) and returns where to send it; an error
	// wrapping ErrArrived when the destination's domain of inst is active
	// already.
	PrepareMigration(ctx context.Context, inst fsm.Instance, m fsm.Migration) (MigrationTarget, error)
}

// ErrArrived is a destination's answer when the domain it is asked to
// prepare for is active there already: the migration brought it (or is
// bringing it).
var ErrArrived = errors.New("compute: the domain is active on the destination already")

// Reporter commits a host's observations through Raft; it returns once they
// are committed, or an error (the reconciler then keeps them and retries).
type Reporter interface {
	Report(ctx context.Context, r *fsm.ReportInstances) error
}

// Ready reports whether this node's replica has caught up with the cluster.
// Until it has, the reconciler touches nothing: a stale view could make a
// live instance look like an orphan.
type Ready func() bool

// ReconcilerConfig configures a Reconciler; zero fields take the defaults.
type ReconcilerConfig struct {
	Host        string        // this node's name, as instances' Host spells it
	Interval    time.Duration // full re-sync without any trigger; default 2s
	StopTimeout time.Duration // graceful (ACPI) stop before a hard power-off; default 30s
	Workers     int           // hypervisor operations running at once; default 4
	// A failing task is retried after MinBackoff, doubling up to MaxBackoff
	// (defaults 1s and 30s); after Attempts tries (default 5: about 15 s of
	// failing) its failure is reported. A failure that retrying cannot fix
	// (ErrInvalidState, ErrNotFound, ErrPermanent) is reported at once: a
	// spawn failing so ends in ERROR with the reason as its fault. Removing
	// an orphan is retried for ever.
	MinBackoff time.Duration
	MaxBackoff time.Duration
	Attempts   int
	// Epoch, when set, counts the times this host came back from being
	// fenced (see Fence.Epoch). After each change the reconciler starts
	// again every server the FSM wants running here that is not: the fence
	// or a power failure stopped it, not its user.
	Epoch func() uint64
	// Peers prepares the destination of a migration this host sends.
	// Without it, or with a Hypervisor that is no Migrator, the migration
	// steps this host should carry out fail at once.
	Peers Peers
	// Migrate tunes live migrations (the agent's settings); Live is set
	// by each step.
	Migrate MigrateOptions
	Logger  *slog.Logger     // default slog.Default()
	Now     func() time.Time // stamps reports and times backoffs; default time.Now
}

// Defaults for the fields of ReconcilerConfig left zero.
const (
	DefaultInterval    = 2 * time.Second
	DefaultStopTimeout = 30 * time.Second
	DefaultWorkers     = 4
	DefaultMinBackoff  = time.Second
	DefaultMaxBackoff  = 30 * time.Second
	DefaultAttempts    = 5
)

const (
	// minPassGap keeps a storm of triggers to about forty passes a second;
	// triggers arriving within the gap join the next pass.
	minPassGap = 25 * time.Millisecond
	// reportTimeout bounds one Report so a partitioned node keeps syncing.
	reportTimeout = 10 * time.Second
	// lastReportTimeout bounds the flush after Run's context ended.
	lastReportTimeout = 2 * time.Second
)

// WithDefaults returns c with its zero fields set to the defaults.
func (c ReconcilerConfig) WithDefaults() ReconcilerConfig {
	if c.Interval <= 0 {
		c.Interval = DefaultInterval
	}
	if c.StopTimeout <= 0 {
		c.StopTimeout = DefaultStopTimeout
	}
	if c.Workers <= 0 {
		c.Workers = DefaultWorkers
	}
	if c.MinBackoff <= 0 {
		c.MinBackoff = DefaultMinBackoff
	}
	if c.MaxBackoff <= 0 {
		c.MaxBackoff = DefaultMaxBackoff
	}
	c.MaxBackoff = max(c.MaxBackoff, c.MinBackoff)
	if c.Attempts <= 0 {
		c.Attempts = DefaultAttempts
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	return c
}

// Reconciler makes this host's hypervisor match the FSM: it carries out the
// instances' tasks, reports what it observes through Raft, and removes
// domains no instance here owns. One per node.
type Reconciler struct {
	cfg   ReconcilerConfig
	st    State
	hv    Hypervisor
	rep   Reporter
	ready Ready
	log   *slog.Logger

	wake    chan struct{} // a worker finished: sync again soon
	workers chan struct{} // one token per running hypervisor operation
	wg      sync.WaitGroup

	mu       sync.Mutex
	inFlight map[string]bool          // instance or domain ID → an operation runs
	pending  map[string]pendingReport // instance ID → not yet committed
	settled  map[string]uint64        // instance ID → ModifyIndex a committed report answered
	retries  map[string]retry         // ID → failures of its current task
	restart  map[string]bool          // instance ID → start it again (after fencing)
	moving   map[string]bool          // instance ID → its migration ties it here (last pass)
	epoch    uint64                   // the fence epoch restarts were planned for
}

// NewReconciler returns a reconciler for cfg.Host. It panics without a host
// or a dependency: that is a wiring bug, not an input error.
func NewReconciler(cfg ReconcilerConfig, st State, hv Hypervisor, rep Reporter, ready Ready) *Reconciler {
	if cfg.Host == "" || st == nil || hv == nil || rep == nil || ready == nil {
		panic(fmt.Sprintf("compute: NewReconciler needs a host, state, hypervisor, reporter and ready (host %q)", cfg.Host))
	}
	cfg = cfg.WithDefaults()
	return &Reconciler{
		cfg: cfg, st: st, hv: hv, rep: rep, ready: ready,
		log:      cfg.Logger.With("component", "reconciler", "host", cfg.Host),
		wake:     make(chan struct{}, 1),
		workers:  make(chan struct{}, cfg.Workers),
		inFlight: map[string]bool{},
		pending:  map[string]pendingReport{},
		settled:  map[string]uint64{},
		retries:  map[string]retry{},
		restart:  map[string]bool{},
		moving:   map[string]bool{},
	}
}

// Run syncs until ctx ends, then waits for the operations it started and
// makes a last attempt to commit what they reported. Call it once.
func (r *Reconciler) Run(ctx context.Context) {
	var events <-chan string
	if n, ok := r.hv.(Notifier); ok {
		events = n.Events()
	}
	tick := time.NewTicker(r.cfg.Interval)
	defer tick.Stop()
	retryTimer := time.NewTimer(time.Hour)
	defer retryTimer.Stop()
	for {
		watch := r.st.WatchCh() // before the pass, so no change slips between
		last := time.Now()
		r.pass(ctx)
		retryTimer.Reset(r.untilRetry())
		if !r.wait(ctx, last, watch, events, tick.C, retryTimer.C) {
			break
		}
	}
	r.wg.Wait()
	fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), lastReportTimeout)
	defer cancel()
	r.flush(fctx)
}

// wait blocks until something may need a pass: a state change, a domain
// event, a finished operation, a due retry or the interval. It then lets
// further triggers gather until minPassGap after the last pass started.
// It returns false when ctx ends.
func (r *Reconciler) wait(ctx context.Context, last time.Time, watch <-chan struct{},
	events <-chan string, tick, retry <-chan time.Time) bool {
	select {
	case <-ctx.Done():
		return false
	case <-watch:
	case <-events:
	case <-r.wake:
	case <-tick:
	case <-retry:
	}
	if gap := minPassGap - time.Since(last); gap > 0 {
		t := time.NewTimer(gap)
		defer t.Stop()
		select {
		case <-ctx.Done():
			return false
		case <-t.C:
		}
	}
	for {
		select {
		case <-events:
		case <-r.wake:
		default:
			return true
		}
	}
}

// pass is one sync, when this replica can be trusted, then one report with
// everything observed so far. Reports are sent even when not ready: they
// describe what the hypervisor did, not what the view said.
func (r *Reconciler) pass(ctx context.Context) {
	if r.ready() {
		r.sync(ctx)
	} else {
		r.log.Debug("replica not caught up; not syncing")
	}
	r.flush(ctx)
}

// signal asks for a pass soon without blocking.
func (r *Reconciler) signal() {
	select {
	case r.wake <- struct{}{}:
	default:
	}
}
