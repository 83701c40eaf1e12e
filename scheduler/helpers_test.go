package scheduler

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/shoal-project/shoal/fsm"
	"github.com/shoal-project/shoal/fsm/fsmtest"
)

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// world is a real FSM fed through the path Raft uses (Encode, then Apply of
// a log entry), so the scheduler reads real SchedulingViews and its plans
// meet the real commit-time re-check.
type world struct {
	*fsmtest.Applier
	t   testing.TB
	seq int
}

func newWorld(t testing.TB) *world {
	w := &world{Applier: fsmtest.New(), t: t}
	w.MustApply(t, &fsm.Bootstrap{ClusterID: "test", Time: t0, Flavors: append(fsm.DefaultFlavors(),
		fsm.Flavor{ID: "unit", Name: "unit", VCPUs: 1, RAM: 1024, Disk: 10},
		fsm.Flavor{ID: "nodisk", Name: "nodisk", VCPUs: 1, RAM: 512, Disk: 0}),
		NetworkCIDR: "10.88.0.0/16"})
	w.MustApply(t, &fsm.CreateImage{Image: fsm.Image{ID: "cirros", Name: "cirros", DiskFormat: "qcow2",
		ContainerFormat: "bare", Status: "active", Created: t0, Updated: t0}})
	return w
}

// hostSpec is a host to register with the capacity given; noInventory
// registers it without any inventory report.
type hostSpec struct {
	name                  string
	vcpus, ram, disk      int
	zone, arch, hypervsor string
	disabled              bool
	noInventory           bool
}

func (w *world) hosts(specs ...hostSpec) {
	w.t.Helper()
	for _, h := range specs {
		w.MustApply(w.t, &fsm.RegisterHost{Name: h.name, GossipAddress: h.name + ":7946", RaftAddress: h.name + ":7947",
			HTTPAddress: h.name + ":8774", Time: t0})
		if !h.noInventory {
			w.MustApply(w.t, &fsm.UpdateHostInventory{Name: h.name, Inventory: fsm.Inventory{VCPUs: h.vcpus, MemoryMiB: int64(h.ram), DiskGiB: int64(h.disk),
				Arch: or(h.arch, "x86_64"), HypervisorType: or(h.hypervsor, "QEMU"), HypervisorVersion: "7.2.0",
				Zone: or(h.zone, "nova")}, Time: t0})
		}
		if h.disabled {
			w.MustApply(w.t, &fsm.SetHostEnabled{Name: h.name, Enabled: false, Reason: "maintenance", Time: t0})
		}
	}
}

// equalHosts registers n hosts called h1..hn with the same capacity.
func (w *world) equalHosts(n, vcpus, ram, disk int) {
	w.t.Helper()
	for i := 1; i <= n; i++ {
		w.hosts(hostSpec{name: fmt.Sprintf("h%d", i), vcpus: vcpus, ram: ram, disk: disk})
	}
}

func (w *world) image(id string, props map[string]string) {
	w.t.Helper()
	w.MustApply(w.t, &fsm.CreateImage{Image: fsm.Image{ID: id, Name: id, DiskFormat: "qcow2", ContainerFormat: "bare",
		Status: "active", Properties: props, Created: t0, Updated: t0}})
}

func (w *world) group(id, policy string) {
	w.t.Helper()
	w.MustApply(w.t, &fsm.CreateServerGroup{Group: fsm.ServerGroup{ID: id, Name: id, Policy: policy, Created: t0}})
}

// servers creates n instances like proto (IDs s1, s2, ... across calls) and
// returns their IDs.
func (w *world) servers(n int, proto fsm.NewInstance) []string {
	w.t.Helper()
	cmd := &fsm.CreateInstances{RequestID: "req-test", Time: t0}
	var ids []string
	for range n {
		w.seq++
		in := proto
		in.ID = fmt.Sprintf("s%03d", w.seq)
		in.Name = in.ID
		in.FlavorID = or(in.FlavorID, "unit")
		in.ImageID = or(in.ImageID, "cirros")
		cmd.Instances = append(cmd.Instances, in)
		ids = append(ids, in.ID)
	}
	w.MustApply(w.t, cmd)
	return ids
}

func (w *world) instance(id string) fsm.Instance {
	w.t.Helper()
	return fsmtest.MustRead(w.t, "Instance", w.FSM.Instance, id)
}

// commit applies a plan and checks that the commit re-check accepted every
// placement: the scheduler's arithmetic must agree with fsm's.
func (w *world) commit(p *fsm.Plan) {
	w.t.Helper()
	p.Time = t0.Add(time.Minute)
	p.RequestID = "req-plan"
	w.MustApply(w.t, p)
	for _, pl := range p.Placements {
		if i := w.instance(pl.InstanceID); i.Host != pl.Host {
			w.t.Errorf("commit rejected placement of %s on %s (fault %+v, attempts %d)", pl.InstanceID, pl.Host, i.Fault, i.Attempts)
		}
	}
}

// perHost counts placed instances per host.
func (w *world) perHost() map[string]int {
	out := map[string]int{}
	for _, i := range w.FSM.Instances(nil) {
		if i.Host != "" {
			out[i.Host]++
		}
	}
	return out
}

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// liveness is a fake Liveness: every host alive except those marked dead.
type liveness struct {
	mu   sync.Mutex
	w    *world
	dead map[string]bool
}

func (l *liveness) AliveHosts() map[string]bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := map[string]bool{}
	for _, h := range l.w.FSM.Hosts() {
		if !l.dead[h.Name] {
			out[h.Name] = true
		}
	}
	return out
}

// planner is a fake Planner that records plans and applies them to the
// world's FSM; the first failFirst submits fail.
type planner struct {
	mu        sync.Mutex
	w         *world
	failFirst int
	// before, if set, runs before a plan is applied: a competing write
	// that the commit re-check must catch.
	before  func(p *fsm.Plan)
	plans   []*fsm.Plan
	submits int
}

var errNoLeader = errors.New("no leader")

func (p *planner) SubmitPlan(ctx context.Context, pl *fsm.Plan) (uint64, error) {
	p.mu.Lock()
	p.submits++
	if p.submits <= p.failFirst {
		p.mu.Unlock()
		return 0, errNoLeader
	}
	p.plans = append(p.plans, pl)
	before := p.before
	p.mu.Unlock()
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	if before != nil {
		before(pl)
	}
	idx, err := p.w.Apply(ctx, pl)
	if err != nil {
		return 0, fmt.Errorf("apply plan: %w", err)
	}
	return idx, nil
}

func (p *planner) recorded() []*fsm.Plan {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]*fsm.Plan(nil), p.plans...)
}

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// newScheduler builds a scheduler over the world with a seeded random source.
func newScheduler(t testing.TB, w *world, cfg Config, dead ...string) (*Scheduler, *liveness, *planner) {
	t.Helper()
	l := &liveness{w: w, dead: map[string]bool{}}
	for _, d := range dead {
		l.dead[d] = true
	}
	p := &planner{w: w}
	if cfg.Logger == nil {
		cfg.Logger = quiet
	}
	if cfg.Rand == nil {
		cfg.Rand = rand.New(rand.NewPCG(1, 2))
	}
	return New(cfg, w.FSM, l, p), l, p
}

// planOnce plans everything pending and commits the plan.
func planOnce(t testing.TB, w *world, s *Scheduler, l *liveness) *fsm.Plan {
	t.Helper()
	p := s.plan(w.FSM.SchedulingView(s.cfg.BatchSize), l.AliveHosts())
	w.commit(p)
	return p
}

// staticState is a State that always returns the same view and never moves.
type staticState struct{ v fsm.SchedulingView }

func (s staticState) SchedulingView(int) fsm.SchedulingView { return s.v }
func (staticState) WatchCh() <-chan struct{}                { return nil }

type staticLiveness map[string]bool

func (l staticLiveness) AliveHosts() map[string]bool { return l }

// nopPlanner accepts plans without applying them.
type nopPlanner struct {
	mu    sync.Mutex
	plans []*fsm.Plan
}

func (p *nopPlanner) SubmitPlan(_ context.Context, pl *fsm.Plan) (uint64, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.plans = append(p.plans, pl)
	return uint64(len(p.plans)), nil
}
