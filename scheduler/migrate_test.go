package scheduler

import (
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/shoal-project/shoal/fsm"
)

// activeOn creates a server of flavor on host (forced there) and has the
// host report it running.
func (w *world) activeOn(host, flavor string) string {
	w.t.Helper()
	id := w.servers(1, fsm.NewInstance{ForceHost: host, FlavorID: flavor})[0]
	w.MustApply(w.t, &fsm.Plan{Time: t0, RequestID: "req-place", Ratios: fsm.DefaultRatios, MaxAttempts: 3,
		Placements: []fsm.Placement{{InstanceID: id, Host: host}}})
	i := w.instance(id)
	w.MustApply(w.t, &fsm.ReportInstances{Host: host, Time: t0, Reports: []fsm.InstanceReport{
		{ID: id, PowerState: fsm.PowerRunning, Done: i.TaskState, TaskIndex: i.TaskIndex}}})
	if i := w.instance(id); i.Host != host || i.VMState != fsm.VMActive {
		w.t.Fatalf("server %s: host %q vm_state %s", id, i.Host, i.VMState)
	}
	return id
}

func (w *world) migrate(id, kind, flavor string) {
	w.t.Helper()
	w.MustApply(w.t, &fsm.MigrateInstance{ID: id, Kind: kind, FlavorID: flavor, Ratios: fsm.DefaultRatios,
		MigrationUUID: "m-" + id, RequestID: "req-migrate", Admin: true, Time: t0.Add(time.Second)})
}

// A migration waiting for the scheduler is never placed on its source,
// even when the source is by far the best-weighed host, whatever the
// random draws; the commit accepts the placement.
func TestMigrationNeverStays(t *testing.T) {
	for seed := range uint64(20) {
		w := newWorld(t)
		w.hosts(hostSpec{name: "big", vcpus: 64, ram: 262144, disk: 4000},
			hostSpec{name: "small", vcpus: 2, ram: 4096, disk: 100}, hostSpec{name: "mid", vcpus: 4, ram: 8192, disk: 200})
		ids := []string{w.activeOn("big", ""), w.activeOn("big", "")}
		w.migrate(ids[0], fsm.MigrationLive, "")
		w.migrate(ids[1], fsm.MigrationCold, "")
		s, l, _ := newScheduler(t, w, Config{Rand: rand.New(rand.NewPCG(seed, 7))})
		p := planMoves(t, w, s, l)
		if len(p.Failures) != 0 || len(p.Placements) != 2 {
			t.Fatalf("seed %d: plan %+v", seed, p)
		}
		for _, pl := range p.Placements {
			if pl.Host == "big" {
				t.Fatalf("seed %d: %s placed on its source", seed, pl.InstanceID)
			}
		}
		for _, id := range ids {
			m, err := w.FSM.MigrationOf(id)
			if err != nil || m.Dest == "" || m.Dest == "big" {
				t.Fatalf("seed %d: migration of %s %+v, %v", seed, id, m, err)
			}
		}
	}
}

// A resize is placed by its new flavor: a host that takes the old one but
// not the new is not a candidate.
func TestResizePlacedByNewFlavor(t *testing.T) {
	w := newWorld(t)
	w.hosts(hostSpec{name: "src", vcpus: 8, ram: 16384, disk: 200},
		hostSpec{name: "tight", vcpus: 8, ram: 16384, disk: 50}, hostSpec{name: "roomy", vcpus: 8, ram: 16384, disk: 100})
	id := w.activeOn("src", "1")
	w.migrate(id, fsm.MigrationResize, "4") // m1.large: 80 GiB
	s, l, _ := newScheduler(t, w, Config{})
	p := planMoves(t, w, s, l)
	if len(p.Placements) != 1 || p.Placements[0].Host != "roomy" {
		t.Fatalf("plan %+v, want %s on roomy", p, id)
	}
	if i := w.instance(id); i.TaskState != fsm.TaskResizeMigrating {
		t.Fatalf("after the plan: task %s", i.TaskState)
	}
}

// With only the source to go to, the scheduler fails the migration and
// says why; the server stays where and as it was.
func TestMigrationWithNowhereToGo(t *testing.T) {
	w := newWorld(t)
	w.hosts(hostSpec{name: "only", vcpus: 8, ram: 16384, disk: 200})
	id := w.activeOn("only", "")
	w.migrate(id, fsm.MigrationLive, "")
	s, l, _ := newScheduler(t, w, Config{})
	p := planMoves(t, w, s, l)
	if len(p.Failures) != 1 || !strings.Contains(p.Failures[0].Reason, "the source host only is not a candidate") ||
		strings.Contains(p.Failures[0].Reason, "no hosts are registered") {
		t.Fatalf("plan %+v", p)
	}
	if i := w.instance(id); i.Host != "only" || i.VMState != fsm.VMActive || i.TaskState != fsm.TaskNone || i.Fault != nil {
		t.Fatalf("server after the failure: %+v", i)
	}
	if _, err := w.FSM.MigrationOf(id); err == nil {
		t.Fatal("the migration did not end")
	}
}

// An affinity group's only member may move (its group's host is its
// source, not a constraint on where it goes).
func TestMigrationOfLoneAffinityMember(t *testing.T) {
	w := newWorld(t)
	w.hosts(hostSpec{name: "a", vcpus: 8, ram: 16384, disk: 200}, hostSpec{name: "b", vcpus: 8, ram: 16384, disk: 200})
	w.group("g", fsm.PolicyAffinity)
	id := w.servers(1, fsm.NewInstance{ServerGroupID: "g", ForceHost: "a"})[0]
	w.MustApply(t, &fsm.Plan{Time: t0, RequestID: "r", Ratios: fsm.DefaultRatios, MaxAttempts: 3,
		Placements: []fsm.Placement{{InstanceID: id, Host: "a"}}})
	i := w.instance(id)
	w.MustApply(t, &fsm.ReportInstances{Host: "a", Time: t0, Reports: []fsm.InstanceReport{
		{ID: id, PowerState: fsm.PowerRunning, Done: i.TaskState, TaskIndex: i.TaskIndex}}})
	w.migrate(id, fsm.MigrationCold, "")
	s, l, _ := newScheduler(t, w, Config{})
	p := planMoves(t, w, s, l)
	if len(p.Placements) != 1 || p.Placements[0].Host != "b" {
		t.Fatalf("plan %+v, want %s on b", p, id)
	}
}

// planMoves plans everything pending and commits the plan; placements of
// migrations set their destination, not their host.
func planMoves(t testing.TB, w *world, s *Scheduler, l *liveness) *fsm.Plan {
	t.Helper()
	p := s.plan(w.FSM.SchedulingView(s.cfg.BatchSize), l.AliveHosts())
	p.Time, p.RequestID = t0.Add(time.Minute), "req-plan"
	w.MustApply(t, p)
	for _, pl := range p.Placements {
		if m, err := w.FSM.MigrationOf(pl.InstanceID); err != nil || m.Dest != pl.Host {
			t.Errorf("commit rejected placement of %s on %s: %+v, %v", pl.InstanceID, pl.Host, m, err)
		}
	}
	return p
}
