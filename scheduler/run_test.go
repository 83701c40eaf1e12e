package scheduler

import (
	"context"
	"fmt"
	"math"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shoal-project/shoal/fsm"
	"github.com/shoal-project/shoal/internal/testkit"
)

// start runs s.Run in a goroutine; the returned stop cancels it and fails
// the test if Run does not return promptly. It also runs at cleanup.
func start(t *testing.T, s *Scheduler) (stop func()) {
	t.Helper()
	return testkit.Start(t, 2*time.Second, "Run", s.Run)
}

// settled reports whether no instance waits for the scheduler.
func settled(w *world) bool { return len(w.FSM.SchedulingView(1).Pending) == 0 }

func TestRun(t *testing.T) {
	cases := []struct {
		name      string
		cfg       Config
		hosts     int
		failFirst int
		servers   int
		// later are created while Run is already running.
		later int
	}{
		{name: "one batch", hosts: 3, servers: 30},
		{name: "many batches", cfg: Config{BatchSize: 16}, hosts: 10, servers: 200, later: 50},
		{name: "submit errors are retried", cfg: Config{BatchSize: 8}, hosts: 3, servers: 20, failFirst: 3},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(t)
			w.equalHosts(tc.hosts, 64, 262144, 4000)
			tc.cfg.Interval = time.Hour // progress must come from watches, not polling
			s, _, p := newScheduler(t, w, tc.cfg)
			p.failFirst = tc.failFirst
			ids := w.servers(tc.servers, fsm.NewInstance{})
			stop := start(t, s)
			testkit.WaitFor(t, 5*time.Second, "every instance placed", func() bool { return settled(w) })
			if tc.later > 0 {
				ids = append(ids, w.servers(tc.later, fsm.NewInstance{})...)
				testkit.WaitFor(t, 5*time.Second, "instances created later placed", func() bool { return settled(w) })
			}
			stop()
			for _, id := range ids {
				if i := w.instance(id); i.Host == "" || i.TaskState != fsm.TaskSpawning || i.Attempts != 0 {
					t.Errorf("%s: host %q task %q attempts %d, want placed at first attempt", id, i.Host, i.TaskState, i.Attempts)
				}
			}
			// Each instance was placed by exactly one plan: Run waited for its
			// own plan's effect before planning the next batch.
			placements := 0
			for _, pl := range p.recorded() {
				placements += len(pl.Placements)
				if pl.RequestID == "" || pl.Time.IsZero() {
					t.Errorf("plan without request ID or time: %+v", pl)
				}
			}
			if placements != len(ids) {
				t.Errorf("%d placements submitted for %d instances", placements, len(ids))
			}
		})
	}
}

// TestRunRetriesRejectedPlacements: a competing write (the chosen host is
// disabled between planning and commit) makes the commit re-check reject a
// placement; the instance stays pending and the next round places it
// elsewhere. When every attempt is rejected, fsm fails it after MaxAttempts.
func TestRunRetriesRejectedPlacements(t *testing.T) {
	cases := []struct {
		name        string
		rejectEvery bool
		wantState   string
		wantTries   int
	}{
		{name: "first attempt rejected", wantState: fsm.VMBuilding, wantTries: 1},
		{name: "every attempt rejected", rejectEvery: true, wantState: fsm.VMError, wantTries: 3},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(t)
			w.equalHosts(4, 64, 262144, 4000)
			s, _, p := newScheduler(t, w, Config{Interval: time.Hour})
			var mu sync.Mutex
			disabled := map[string]bool{}
			p.before = func(pl *fsm.Plan) {
				mu.Lock()
				defer mu.Unlock()
				if len(disabled) > 0 && !tc.rejectEvery {
					return
				}
				for _, x := range pl.Placements {
					if _, err := w.Apply(context.Background(), &fsm.SetHostEnabled{Name: x.Host, Enabled: false, Time: t0}); err != nil {
						t.Errorf("disable %s: %v", x.Host, err)
					}
					disabled[x.Host] = true
				}
			}
			id := w.servers(1, fsm.NewInstance{})[0]
			start(t, s)
			testkit.WaitFor(t, 5*time.Second, "the instance settled", func() bool { return settled(w) })
			got := w.instance(id)
			if got.VMState != tc.wantState || got.Attempts != tc.wantTries {
				t.Fatalf("vm_state %s attempts %d fault %+v, want %s after %d attempts", got.VMState, got.Attempts, got.Fault, tc.wantState, tc.wantTries)
			}
			mu.Lock()
			defer mu.Unlock()
			if got.Host != "" && disabled[got.Host] {
				t.Errorf("placed on disabled host %s", got.Host)
			}
			if tc.rejectEvery && (got.Fault == nil || !strings.HasPrefix(got.Fault.Message, fsm.NoValidHost)) {
				t.Errorf("fault %+v, want %q", got.Fault, fsm.NoValidHost)
			}
		})
	}
}

// TestRunFailsWhatNoHostTakes: an unplaceable instance goes to ERROR once,
// and the loop goes on placing the others.
func TestRunFailsWhatNoHostTakes(t *testing.T) {
	w := newWorld(t)
	w.equalHosts(2, 4, 8192, 100)
	s, _, p := newScheduler(t, w, Config{Interval: time.Hour})
	huge := w.servers(1, fsm.NewInstance{FlavorID: "5"}) // m1.xlarge: 160 GiB disk
	small := w.servers(5, fsm.NewInstance{})
	start(t, s)
	testkit.WaitFor(t, 5*time.Second, "all settled", func() bool { return settled(w) })
	if i := w.instance(huge[0]); i.VMState != fsm.VMError || i.Fault == nil {
		t.Errorf("xlarge: vm_state %s fault %+v, want error", i.VMState, i.Fault)
	}
	for _, id := range small {
		if w.instance(id).Host == "" {
			t.Errorf("%s not placed", id)
		}
	}
	if n := len(p.recorded()); n != 1 {
		t.Errorf("%d plans, want 1", n)
	}
}

// TestRunWaitsForTheState: a plan the state never shows (the planner does
// not apply it) is not re-planned in a tight loop; Run waits for a change.
func TestRunWaitsForTheState(t *testing.T) {
	v := fsm.SchedulingView{
		Index: 1,
		Hosts: []fsm.Host{{Name: "a", Enabled: true, Inventory: fsm.Inventory{VCPUs: 4, MemoryMiB: 4096, DiskGiB: 100}}},
		Pending: []fsm.Instance{{ID: "i", VMState: fsm.VMBuilding, TaskState: fsm.TaskScheduling,
			Flavor: fsm.FlavorSpec{VCPUs: 1, RAM: 512, Disk: 1}}},
	}
	p := &nopPlanner{}
	s := New(Config{Interval: time.Hour, Logger: quiet}, staticState{v}, staticLiveness{"a": true}, p)
	stop := start(t, s)
	time.Sleep(100 * time.Millisecond)
	stop()
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.plans) != 1 {
		t.Fatalf("%d plans submitted while the state did not move, want 1", len(p.plans))
	}
}

// TestRunStopsWhileBlocked: cancel ends Run whether it idles or is inside
// a submit that respects ctx.
func TestRunStopsWhileBlocked(t *testing.T) {
	t.Run("idle", func(t *testing.T) {
		w := newWorld(t)
		s, _, _ := newScheduler(t, w, Config{Interval: time.Hour})
		stop := start(t, s)
		time.Sleep(20 * time.Millisecond)
		stop()
	})
	t.Run("in submit", func(t *testing.T) {
		w := newWorld(t)
		w.equalHosts(1, 4, 8192, 100)
		w.servers(1, fsm.NewInstance{})
		entered := make(chan struct{})
		bp := blockingPlanner{entered: entered}
		s := New(Config{Interval: time.Hour, Logger: quiet}, w.FSM, staticLiveness{"h1": true}, bp)
		stop := start(t, s)
		select {
		case <-entered:
		case <-time.After(2 * time.Second):
			t.Fatal("SubmitPlan never called")
		}
		stop()
	})
}

type blockingPlanner struct{ entered chan struct{} }

func (b blockingPlanner) SubmitPlan(ctx context.Context, _ *fsm.Plan) (uint64, error) {
	close(b.entered)
	<-ctx.Done()
	return 0, fmt.Errorf("submit: %w", ctx.Err())
}

func TestConfig(t *testing.T) {
	cases := []struct {
		name    string
		cfg     Config
		wantErr bool
	}{
		{name: "zero value takes defaults", cfg: Config{}},
		{name: "packing weights", cfg: Config{RAMWeight: -1, CPUWeight: -1, InstanceWeight: 2}},
		{name: "negative ratio", cfg: Config{Ratios: fsm.Ratios{CPU: -1}}, wantErr: true},
		{name: "negative attempts", cfg: Config{MaxAttempts: -1}, wantErr: true},
		{name: "negative batch", cfg: Config{BatchSize: -5}, wantErr: true},
		{name: "negative sample", cfg: Config{SampleSize: -1}, wantErr: true},
		{name: "NaN weight", cfg: Config{CPUWeight: math.NaN()}, wantErr: true},
		{name: "infinite ratio", cfg: Config{Ratios: fsm.Ratios{RAM: math.Inf(1)}}, wantErr: true},
		{name: "negative interval", cfg: Config{Interval: -time.Second}, wantErr: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.cfg.Validate(); (err != nil) != tc.wantErr {
				t.Fatalf("Validate() = %v, want error %v", err, tc.wantErr)
			}
		})
	}
	d := Config{}.withDefaults()
	if d.Ratios != fsm.DefaultRatios || d.MaxAttempts != 3 || d.BatchSize != 512 || d.SampleSize != 32 ||
		d.RAMWeight != 1 || d.CPUWeight != 1 || d.InstanceWeight != 0 || d.SoftAffinityWeight != 1 ||
		d.SoftAntiAffinityWeight != 1 || d.Interval != time.Second || d.Logger == nil || d.Rand == nil {
		t.Errorf("defaults: %+v", d)
	}
}

func TestStartupGraceHoldsFailures(t *testing.T) {
	w := newWorld(t)
	w.equalHosts(2, 4, 8192, 100)
	const grace = 300 * time.Millisecond
	s, _, _ := newScheduler(t, w, Config{Interval: 20 * time.Millisecond, StartupGrace: grace})
	huge := w.servers(1, fsm.NewInstance{FlavorID: "5"})
	small := w.servers(2, fsm.NewInstance{})
	began := time.Now()
	start(t, s)
	testkit.WaitFor(t, 5*time.Second, "the small servers placed", func() bool {
		return w.instance(small[0]).Host != "" && w.instance(small[1]).Host != ""
	})
	testkit.WaitFor(t, 5*time.Second, "the xlarge server to fail", func() bool { return w.instance(huge[0]).VMState == fsm.VMError })
	if held := time.Since(began); held < grace {
		t.Fatalf("the failure was committed %v after start, inside the %v grace", held, grace)
	}
}
