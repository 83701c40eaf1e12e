package scheduler

import (
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/shoal-project/shoal/fsm"
)

// TestPlacement places a batch per case, commits it to a real FSM (which
// must accept every placement) and checks how the instances spread.
func TestPlacement(t *testing.T) {
	cases := []struct {
		name  string
		cfg   Config
		setup func(w *world) // hosts, groups
		dead  []string
		n     int
		proto fsm.NewInstance
		// wantPerHost is the expected count of placed instances per host;
		// wantCounts, the counts of the hosts used in ascending order, is
		// checked instead when which host takes how many is not fixed.
		wantPerHost  map[string]int
		wantCounts   []int
		wantFailures int
	}{
		{
			name:        "spread: 12 equal instances over 3 equal hosts",
			setup:       func(w *world) { w.equalHosts(3, 16, 65536, 1000) },
			n:           12,
			wantPerHost: map[string]int{"h1": 4, "h2": 4, "h3": 4},
		},
		{
			name:       "pack: negative RAM and CPU weights fill one host",
			cfg:        Config{RAMWeight: -1, CPUWeight: -1},
			setup:      func(w *world) { w.equalHosts(3, 16, 65536, 1000) },
			n:          12,
			wantCounts: []int{12}, // all on one host
		},
		{
			name:       "pack by RAM outweighs spread by CPU",
			cfg:        Config{RAMWeight: -3},
			setup:      func(w *world) { w.equalHosts(3, 16, 65536, 1000) },
			n:          12,
			wantCounts: []int{12}, // all on one host
		},
		{
			name: "pack overflows to the next host when one is full",
			cfg:  Config{RAMWeight: -1, CPUWeight: -1},
			// 8 units fit on each host (5462 MiB × 1.5 = 8193).
			setup:      func(w *world) { w.equalHosts(3, 16, 5462, 1000) },
			n:          12,
			wantCounts: []int{4, 8}, // one full host (8) and the rest (4) on another
		},
		{
			name: "anti-affinity: 3 members on 3 hosts, the 4th fails",
			setup: func(w *world) {
				w.equalHosts(3, 16, 65536, 1000)
				w.group("g", fsm.PolicyAntiAffinity)
			},
			n:            4,
			proto:        fsm.NewInstance{ServerGroupID: "g"},
			wantPerHost:  map[string]int{"h1": 1, "h2": 1, "h3": 1},
			wantFailures: 1,
		},
		{
			name: "anti-affinity with max_server_per_host 2: 6 members on 3 hosts, the 7th fails",
			setup: func(w *world) {
				w.equalHosts(3, 16, 65536, 1000)
				w.MustApply(w.t, &fsm.CreateServerGroup{Group: fsm.ServerGroup{ID: "g", Name: "g",
					Policy: fsm.PolicyAntiAffinity, MaxServerPerHost: 2, Created: t0}})
			},
			n:            7,
			proto:        fsm.NewInstance{ServerGroupID: "g"},
			wantPerHost:  map[string]int{"h1": 2, "h2": 2, "h3": 2},
			wantFailures: 1,
		},
		{
			name: "affinity: all members on one host",
			setup: func(w *world) {
				w.equalHosts(5, 16, 65536, 1000)
				w.group("g", fsm.PolicyAffinity)
			},
			n:          10,
			proto:      fsm.NewInstance{ServerGroupID: "g"},
			wantCounts: []int{10}, // all on one host
		},
		{
			name: "affinity: members that no longer fit fail",
			setup: func(w *world) {
				w.equalHosts(3, 16, 2731, 1000) // 4 units per host
				w.group("g", fsm.PolicyAffinity)
			},
			n:            6,
			proto:        fsm.NewInstance{ServerGroupID: "g"},
			wantFailures: 2,
			wantCounts:   []int{4}, // on one host
		},
		{
			name: "soft affinity prefers one host and overflows without failing",
			cfg:  Config{SoftAffinityWeight: 10},
			setup: func(w *world) {
				w.equalHosts(3, 16, 2731, 1000) // 4 units per host
				w.group("g", fsm.PolicySoftAffinity)
			},
			n:          6,
			proto:      fsm.NewInstance{ServerGroupID: "g"},
			wantCounts: []int{2, 4}, // 4 together and 2 together
		},
		{
			name: "soft anti-affinity spreads even when packing, and does not fail",
			cfg:  Config{RAMWeight: -1, CPUWeight: -1, SoftAntiAffinityWeight: 10},
			setup: func(w *world) {
				w.equalHosts(3, 16, 65536, 1000)
				w.group("g", fsm.PolicySoftAntiAffinity)
			},
			n:          4,
			proto:      fsm.NewInstance{ServerGroupID: "g"},
			wantCounts: []int{1, 1, 2},
		},
		{
			name: "instance weight prefers busy hosts",
			cfg:  Config{RAMWeight: 1e-9, CPUWeight: 1e-9, InstanceWeight: 1},
			setup: func(w *world) {
				w.equalHosts(3, 64, 262144, 4000)
			},
			n:          10,
			wantCounts: []int{10}, // all on one host
		},
		{
			name: "disabled host is never chosen",
			setup: func(w *world) {
				w.equalHosts(2, 16, 65536, 1000)
				w.hosts(hostSpec{name: "h3", vcpus: 64, ram: 262144, disk: 4000, disabled: true})
			},
			n:           10,
			wantPerHost: map[string]int{"h1": 5, "h2": 5},
		},
		{
			name: "dead host is never chosen",
			setup: func(w *world) {
				w.equalHosts(2, 16, 65536, 1000)
				w.hosts(hostSpec{name: "h3", vcpus: 64, ram: 262144, disk: 4000})
			},
			dead:        []string{"h3"},
			n:           10,
			wantPerHost: map[string]int{"h1": 5, "h2": 5},
		},
		{
			// Each host takes one m1.medium (4096 MiB) but not two: a batch
			// that forgot its own claims would put both on the emptier-looking host.
			name: "batch accounting: two that fit only one at a time",
			setup: func(w *world) {
				w.hosts(hostSpec{name: "h1", vcpus: 16, ram: 4096, disk: 1000},
					hostSpec{name: "h2", vcpus: 16, ram: 4000, disk: 1000})
			},
			cfg:         Config{Ratios: fsm.Ratios{CPU: 16, RAM: 1.0, Disk: 1}},
			n:           3,
			proto:       fsm.NewInstance{FlavorID: "3"}, // m1.medium
			wantPerHost: map[string]int{"h1": 1},
			// h2 is too small for even one; the second and third fail.
			wantFailures: 2,
		},
		{
			name: "batch accounting: one per host when each fits one",
			setup: func(w *world) {
				w.equalHosts(4, 16, 4096, 1000)
			},
			cfg:         Config{Ratios: fsm.Ratios{CPU: 16, RAM: 1.0, Disk: 1}},
			n:           4,
			proto:       fsm.NewInstance{FlavorID: "3"},
			wantPerHost: map[string]int{"h1": 1, "h2": 1, "h3": 1, "h4": 1},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			for seed := range uint64(5) { // distributions must not depend on luck
				t.Run(fmt.Sprintf("seed=%d", seed), func(t *testing.T) {
					w := newWorld(t)
					tc.setup(w)
					cfg := tc.cfg
					cfg.Rand = rand.New(rand.NewPCG(seed, 42))
					s, l, _ := newScheduler(t, w, cfg, tc.dead...)
					w.servers(tc.n, tc.proto)
					p := planOnce(t, w, s, l)
					perHost := w.perHost()
					if len(p.Failures) != tc.wantFailures {
						t.Errorf("%d failures (%+v), want %d", len(p.Failures), p.Failures, tc.wantFailures)
					}
					for _, f := range p.Failures {
						if !strings.HasPrefix(f.Reason, fsm.NoValidHost) {
							t.Errorf("failure reason %q does not start with %q", f.Reason, fsm.NoValidHost)
						}
					}
					if tc.wantPerHost != nil && !maps.Equal(perHost, tc.wantPerHost) {
						t.Errorf("per host %v, want %v", perHost, tc.wantPerHost)
					}
					if counts := slices.Sorted(maps.Values(perHost)); tc.wantCounts != nil && !slices.Equal(counts, tc.wantCounts) {
						t.Errorf("per host %v, want counts %v", perHost, tc.wantCounts)
					}
				})
			}
		})
	}
}

// TestAntiAffinityFailureReason checks the 4th member's fault names the filter.
func TestAntiAffinityFailureReason(t *testing.T) {
	w := newWorld(t)
	w.equalHosts(3, 16, 65536, 1000)
	w.group("g", fsm.PolicyAntiAffinity)
	s, l, _ := newScheduler(t, w, Config{})
	ids := w.servers(4, fsm.NewInstance{ServerGroupID: "g"})
	planOnce(t, w, s, l)
	got := w.instance(ids[3])
	want := nvh + "ServerGroupAntiAffinityFilter rejected 3."
	if got.VMState != fsm.VMError || got.Fault == nil || got.Fault.Message != want {
		t.Fatalf("4th member: vm_state %s fault %+v, want error %q", got.VMState, got.Fault, want)
	}
}

// TestForceHostIgnoresWeighers: a forced host is used even if it is the
// worst-weighed one, and soft policies do not move it.
func TestForceHost(t *testing.T) {
	w := newWorld(t)
	w.hosts(hostSpec{name: "small", vcpus: 2, ram: 2048, disk: 100},
		hostSpec{name: "large", vcpus: 64, ram: 262144, disk: 4000})
	s, l, _ := newScheduler(t, w, Config{})
	ids := w.servers(2, fsm.NewInstance{ForceHost: "small"})
	p := planOnce(t, w, s, l)
	if len(p.Failures) != 0 {
		t.Fatalf("failures: %+v", p.Failures)
	}
	for _, id := range ids {
		if h := w.instance(id).Host; h != "small" {
			t.Errorf("%s on %q, want small", id, h)
		}
	}
}

// TestSampling checks the power-of-k-choices bound both ways: with plenty of
// feasible hosts a placement looks at about SampleSize of them; with few it
// keeps walking until it has seen every host.
func TestSampling(t *testing.T) {
	t.Run("few feasible hosts are all found", func(t *testing.T) {
		w := newWorld(t)
		for i := range 200 {
			ram := 512 // too small for a unit
			if i == 137 {
				ram = 65536
			}
			w.hosts(hostSpec{name: fmt.Sprintf("h%03d", i), vcpus: 16, ram: ram, disk: 1000})
		}
		for seed := range uint64(10) {
			s, l, _ := newScheduler(t, w, Config{SampleSize: 4, Rand: rand.New(rand.NewPCG(seed, 7))})
			id := w.servers(1, fsm.NewInstance{})[0]
			planOnce(t, w, s, l)
			if h := w.instance(id).Host; h != "h137" {
				t.Fatalf("seed %d: placed on %q, want the only feasible host h137", seed, h)
			}
		}
	})
	t.Run("plentiful feasible hosts are sampled", func(t *testing.T) {
		w := newWorld(t)
		for i := range 1000 {
			w.hosts(hostSpec{name: fmt.Sprintf("h%04d", i), vcpus: 64, ram: 262144, disk: 4000})
		}
		s, l, _ := newScheduler(t, w, Config{SampleSize: 8})
		w.servers(100, fsm.NewInstance{})
		p := planOnce(t, w, s, l)
		if len(p.Placements) != 100 {
			t.Fatalf("%d placements, want 100", len(p.Placements))
		}
		if got, want := s.batch.visited, 100*8; got != want {
			t.Errorf("visited %d hosts for 100 placements, want %d (SampleSize each)", got, want)
		}
		if n := len(w.perHost()); n < 90 {
			t.Errorf("100 placements landed on only %d hosts; sampling should spread them", n)
		}
	})
	t.Run("zones clustered by name do not lengthen the walk", func(t *testing.T) {
		w := newWorld(t)
		for i := range 1000 {
			w.hosts(hostSpec{name: fmt.Sprintf("h%04d", i), vcpus: 64, ram: 262144, disk: 4000,
				zone: fmt.Sprintf("az%d", i/250)})
		}
		s, l, _ := newScheduler(t, w, Config{SampleSize: 8})
		w.servers(100, fsm.NewInstance{AvailabilityZone: "az2"})
		p := planOnce(t, w, s, l)
		if len(p.Placements) != 100 {
			t.Fatalf("%d placements, want 100", len(p.Placements))
		}
		// One host in four is in az2: about 4 × 8 visits per placement.
		if got := s.batch.visited; got > 100*8*4*2 {
			t.Errorf("visited %d hosts for 100 placements; the walk is not random", got)
		}
	})
}

// TestPlanIsDeterministic: the same view and random source give the same plan.
func TestPlanIsDeterministic(t *testing.T) {
	w := newWorld(t)
	w.equalHosts(20, 16, 65536, 1000)
	w.servers(50, fsm.NewInstance{})
	v := w.FSM.SchedulingView(512)
	alive := (&liveness{w: w}).AliveHosts()
	plans := make([]*fsm.Plan, 2)
	for k := range plans {
		s, _, _ := newScheduler(t, w, Config{Rand: rand.New(rand.NewPCG(9, 9))})
		plans[k] = s.plan(v, alive)
	}
	if !slices.Equal(plans[0].Placements, plans[1].Placements) {
		t.Fatalf("plans differ:\n%v\n%v", plans[0].Placements, plans[1].Placements)
	}
}

// TestPlanOnAViewBuiltByHand covers views that fsm would not build: unsorted
// hosts and pending instances, a usage for an unknown host, a missing group.
func TestPlanOnAViewBuiltByHand(t *testing.T) {
	v := fsm.SchedulingView{
		Index: 7,
		Hosts: []fsm.Host{
			{Name: "b", Enabled: true, Inventory: fsm.Inventory{VCPUs: 4, MemoryMiB: 4096, DiskGiB: 100}},
			{Name: "a", Enabled: true, Inventory: fsm.Inventory{VCPUs: 4, MemoryMiB: 4096, DiskGiB: 100}},
		},
		Usage: map[string]fsm.Usage{"b": {VCPUs: 4, RAM: 6144, Disk: 0, Instances: 2}, "ghost": {VCPUs: 1}},
		Pending: []fsm.Instance{
			{ID: "late", VMState: fsm.VMBuilding, TaskState: fsm.TaskScheduling, ServerGroupID: "gone",
				Flavor: fsm.FlavorSpec{VCPUs: 1, RAM: 4096, Disk: 10}, Indexes: fsm.Indexes{CreateIndex: 5}},
			{ID: "early", VMState: fsm.VMBuilding, TaskState: fsm.TaskScheduling, ForceHost: "a",
				Flavor: fsm.FlavorSpec{VCPUs: 1, RAM: 4096, Disk: 10}, Indexes: fsm.Indexes{CreateIndex: 3}},
		},
	}
	before := fmt.Sprintf("%+v", v)
	s := New(Config{Logger: quiet, Rand: rand.New(rand.NewPCG(1, 1))}, staticState{v}, staticLiveness{"a": true, "b": true}, &nopPlanner{})
	p := s.plan(v, map[string]bool{"a": true, "b": true})
	// "early" is placed first (oldest), on its forced host; a then has room
	// for no second 4096 MiB, and b is full: "late" fails on RAM.
	if want := []fsm.Placement{{InstanceID: "early", Host: "a"}}; !slices.Equal(p.Placements, want) {
		t.Errorf("placements %+v, want %+v", p.Placements, want)
	}
	if want := []fsm.PlanFailure{{InstanceID: "late", Reason: nvh + "RamFilter rejected 2."}}; !slices.Equal(p.Failures, want) {
		t.Errorf("failures %+v, want %+v", p.Failures, want)
	}
	if p.Ratios != fsm.DefaultRatios || p.MaxAttempts != 3 {
		t.Errorf("plan ratios %+v attempts %d, want the defaults", p.Ratios, p.MaxAttempts)
	}
	if after := fmt.Sprintf("%+v", v); after != before {
		t.Errorf("plan changed its view:\nbefore %s\nafter  %s", before, after)
	}
}

// TestPlansPassTheCommitCheck: whatever the ratios, capacities, flavors and
// group policies, fsm's commit re-check accepts every placement the
// scheduler proposes (w.commit fails the test otherwise). Ratios with long
// fractions put limits just below whole numbers, where any arithmetic other
// than fsm's would disagree.
func TestPlansPassTheCommitCheck(t *testing.T) {
	for seed := range uint64(20) {
		t.Run(fmt.Sprintf("seed=%d", seed), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(seed, 99))
			w := newWorld(t)
			ratios := fsm.Ratios{CPU: 0.5 + 4*rng.Float64(), RAM: 0.9996 + rng.Float64(), Disk: 0.7 + rng.Float64()}
			for i := range 12 {
				w.hosts(hostSpec{name: fmt.Sprintf("h%02d", i), vcpus: rng.IntN(16), ram: 1024 * rng.IntN(20),
					disk: rng.IntN(400), zone: fmt.Sprintf("az%d", i%2)})
			}
			for _, pol := range []string{fsm.PolicyAffinity, fsm.PolicyAntiAffinity, fsm.PolicySoftAffinity, fsm.PolicySoftAntiAffinity} {
				w.group(pol, pol)
			}
			s, l, _ := newScheduler(t, w, Config{Ratios: ratios, BatchSize: 16, Rand: rand.New(rand.NewPCG(seed, 1))})
			groups := []string{"", "", fsm.PolicyAffinity, fsm.PolicyAntiAffinity, fsm.PolicySoftAffinity, fsm.PolicySoftAntiAffinity}
			zones := []string{"", "", "az0", "az1"}
			for range 60 {
				w.servers(1, fsm.NewInstance{FlavorID: fmt.Sprint(1 + rng.IntN(5)),
					ServerGroupID: groups[rng.IntN(len(groups))], AvailabilityZone: zones[rng.IntN(len(zones))]})
			}
			for round := 0; !settled(w); round++ {
				if round > 10 {
					t.Fatal("instances still pending after 10 rounds")
				}
				planOnce(t, w, s, l)
			}
		})
	}
}
