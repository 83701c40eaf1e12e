package cluster

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"testing"
	"time"

	"github.com/shoal-project/shoal/fsm"
	"github.com/shoal-project/shoal/fsm/fsmtest"
)

var moveT0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// moveWorld is a replica the mover works on, with a scheduler and hosts
// played by the test: every round each move in progress takes one step.
type moveWorld struct {
	t   *testing.T
	a   *fsmtest.Applier
	now time.Time
	// fail says why a host fails a server's move step ("" for success).
	fail func(id string) string
}

// newMoveWorld is a cluster with hosts of 16 vCPUs, 32 GiB and 400 GiB.
func newMoveWorld(t *testing.T, hosts ...string) *moveWorld {
	w := &moveWorld{t: t, a: fsmtest.New(), now: moveT0, fail: func(string) string { return "" }}
	w.a.MustApply(t, &fsm.Bootstrap{ClusterID: "c1", Time: moveT0, Flavors: fsm.DefaultFlavors(), NetworkCIDR: "10.20.0.0/24"},
		&fsm.CreateImage{Image: fsm.Image{ID: "img", Name: "cirros", DiskFormat: "qcow2", ContainerFormat: "bare",
			Size: 1 << 20, Checksum: fmt.Sprintf("%064x", 1), Status: fsm.ImageActive, Created: moveT0, Updated: moveT0}})
	for _, h := range hosts {
		w.a.MustApply(t, &fsm.RegisterHost{Name: h, Time: moveT0}, &fsm.UpdateHostInventory{Name: h,
			Inventory: fsm.Inventory{VCPUs: 16, MemoryMiB: 32768, DiskGiB: 400, Arch: "x86_64"}, Time: moveT0})
	}
	return w
}

func (w *moveWorld) mover(cfg moverConfig) *mover {
	cfg.Ratios = fsm.DefaultRatios
	return &mover{cfg: cfg, state: w.a.FSM, apply: w.a.Apply, now: func() time.Time { return w.now },
		log: slog.New(slog.NewTextHandler(io.Discard, nil))}
}

func (w *moveWorld) inst(id string) fsm.Instance {
	w.t.Helper()
	return fsmtest.MustRead(w.t, "Instance", w.a.FSM.Instance, id)
}

// server makes server id on host, ACTIVE, or SHUTOFF when stopped.
func (w *moveWorld) server(id, host string, stopped bool) {
	w.t.Helper()
	w.a.MustApply(w.t, &fsm.CreateInstances{RequestID: "req-" + id, Time: moveT0,
		Instances: []fsm.NewInstance{{ID: id, Name: id, FlavorID: "1", ImageID: "img"}}},
		&fsm.Plan{Time: moveT0, Ratios: fsm.DefaultRatios, MaxAttempts: 3, Placements: []fsm.Placement{{InstanceID: id, Host: host}}})
	w.done(host, id, fsm.PowerRunning, "")
	if stopped {
		w.a.MustApply(w.t, &fsm.InstanceAction{ID: id, Action: fsm.ActionStop, RequestID: "req-stop", Time: moveT0})
		w.done(host, id, fsm.PowerShutdown, "")
	}
}

// done has host report id's current task over.
func (w *moveWorld) done(host, id string, power fsm.PowerState, msg string) {
	w.t.Helper()
	i := w.inst(id)
	w.a.MustApply(w.t, &fsm.ReportInstances{Host: host, Time: w.now, Reports: []fsm.InstanceReport{
		{ID: id, PowerState: power, Done: i.TaskState, TaskIndex: i.TaskIndex, Error: msg}}})
}

// round plays the scheduler (pending moves go to dests in turn) and the
// hosts (each move step in progress is carried out), one step each.
func (w *moveWorld) round(dests ...string) {
	w.t.Helper()
	w.now = w.now.Add(time.Second)
	plan := &fsm.Plan{Time: w.now, Ratios: fsm.DefaultRatios, MaxAttempts: 3}
	var steps []fsm.Instance
	for k, i := range w.a.FSM.Instances(nil) {
		switch {
		case i.MigrationPending:
			plan.Placements = append(plan.Placements, fsm.Placement{InstanceID: i.ID, Host: dests[k%len(dests)]})
		case i.TaskState == fsm.TaskMigrating, i.TaskState == fsm.TaskResizeMigrating, i.TaskState == fsm.TaskResizeFinish:
			steps = append(steps, i)
		}
	}
	for _, i := range steps {
		power := fsm.PowerRunning
		if m, _ := w.a.FSM.MigrationOf(i.ID); m.PrevVMState == fsm.VMStopped {
			power = fsm.PowerShutdown
		}
		w.done(i.Host, i.ID, power, w.fail(i.ID))
	}
	if len(plan.Placements) > 0 {
		w.a.MustApply(w.t, plan)
	}
}

// busy counts the migrations under way: in the cluster, and from each host.
func (w *moveWorld) busy() (int, map[string]int) {
	from := map[string]int{}
	all := w.a.FSM.Migrations(func(m *fsm.Migration) bool { return m.Busy() })
	for _, m := range all {
		from[m.Source]++
	}
	return len(all), from
}

func (w *moveWorld) drain(hosts ...string) {
	for _, h := range hosts {
		w.a.MustApply(w.t, &fsm.DrainHost{Name: h, Start: true, Time: w.now})
	}
}

// run steps m and the world until no host drains (at most rounds), and
// returns the most moves seen under way at once, in the cluster and from
// one host, failing t when a bound is passed.
func (w *moveWorld) run(m *mover, rounds int, dests ...string) (maxAll, maxHost int) {
	w.t.Helper()
	for range rounds {
		m.step(context.Background())
		all, from := w.busy()
		maxAll = max(maxAll, all)
		for h, n := range from {
			maxHost = max(maxHost, n)
			if n > m.cfg.PerHost {
				w.t.Fatalf("%d moves under way from %s, over the bound of %d", n, h, m.cfg.PerHost)
			}
		}
		if all > m.cfg.PerCluster {
			w.t.Fatalf("%d moves under way in the cluster, over the bound of %d", all, m.cfg.PerCluster)
		}
		if !slices.ContainsFunc(w.a.FSM.Hosts(), func(h fsm.Host) bool { return h.Draining }) {
			return maxAll, maxHost
		}
		w.round(dests...)
	}
	w.t.Fatalf("the drains did not end in %d rounds", rounds)
	return
}

func TestDrainMovesBoundedAndEnds(t *testing.T) {
	w := newMoveWorld(t, "h1", "h2", "h3", "h4")
	var stopped []string
	for _, h := range []string{"h1", "h2"} {
		for k := range 5 {
			id := fmt.Sprintf("%s-%d", h, k)
			w.server(id, h, k >= 3)
			if k >= 3 {
				stopped = append(stopped, id)
			}
		}
	}
	w.drain("h1", "h2")
	maxAll, maxHost := w.run(w.mover(moverConfig{PerHost: 2, PerCluster: 3}), 100, "h3", "h4")
	if maxAll != 3 || maxHost != 2 {
		t.Errorf("at most %d moves at once (%d from one host), want the bounds 3 and 2 reached", maxAll, maxHost)
	}
	for _, h := range []string{"h1", "h2"} {
		host := fsmtest.MustRead(t, "Host", w.a.FSM.Host, h)
		if host.Draining || host.DrainResult != fsm.DrainDone || host.Enabled {
			t.Errorf("%s after its drain: %+v", h, host)
		}
		if on := w.a.FSM.InstancesOnHost(h); len(on) != 0 {
			t.Errorf("%d servers left on %s", len(on), h)
		}
	}
	for _, id := range stopped {
		i := w.inst(id)
		if i.VMState != fsm.VMStopped || i.MigrationID != 0 {
			t.Errorf("stopped server %s after the drain: vm_state %s migration %d", id, i.VMState, i.MigrationID)
		}
	}
	for _, m := range w.a.FSM.Migrations(nil) {
		want := map[bool]string{true: fsm.MigrationConfirmed, false: fsm.MigrationCompleted}[m.Kind == fsm.MigrationCold]
		if m.Status != want || m.Kind != map[bool]string{true: fsm.MigrationCold, false: fsm.MigrationLive}[slices.Contains(stopped, m.InstanceID)] {
			t.Errorf("migration %d of %s: %s %s", m.ID, m.InstanceID, m.Kind, m.Status)
		}
	}
}

func TestDrainLeavesWhatItCannotMove(t *testing.T) {
	w := newMoveWorld(t, "h1", "h2")
	w.server("broken", "h1", false)
	w.server("stuck", "h1", false)
	w.server("fine", "h1", true)
	w.a.MustApply(t, &fsm.InstanceAction{ID: "broken", Action: fsm.ActionResetState, State: "error", Admin: true,
		RequestID: "req-reset", Time: moveT0})
	w.fail = func(id string) string {
		if id == "stuck" {
			return "libvirt: migration job failed"
		}
		return ""
	}
	w.drain("h1")
	w.run(w.mover(moverConfig{PerHost: 2, PerCluster: 5}), 50, "h2")
	v, err := w.a.FSM.Drain("h1")
	if err != nil {
		t.Fatal(err)
	}
	if v.Progress.State != fsm.DrainFailed || v.Progress.Moved != 1 || v.Progress.Remaining != 2 || len(v.Progress.Failed) != 2 {
		t.Errorf("drain = %+v, want failed with broken and stuck left", v.Progress)
	}
	tries := w.a.FSM.Migrations(func(m *fsm.Migration) bool { return m.InstanceID == "stuck" })
	if len(tries) != fsm.MaxDrainAttempts {
		t.Errorf("stuck was tried %d times, want %d", len(tries), fsm.MaxDrainAttempts)
	}
	if i := w.inst("fine"); i.Host != "h2" || i.VMState != fsm.VMStopped {
		t.Errorf("fine: host %s vm_state %s", i.Host, i.VMState)
	}
}

// A drain cancelled halfway starts nothing more; the moves under way end
// as they would.
func TestDrainCancelStopsNewMoves(t *testing.T) {
	w := newMoveWorld(t, "h1", "h2")
	for k := range 4 {
		w.server(fmt.Sprintf("s%d", k), "h1", false)
	}
	w.drain("h1")
	m := w.mover(moverConfig{PerHost: 1, PerCluster: 5})
	m.step(context.Background())
	w.a.MustApply(t, &fsm.DrainHost{Name: "h1", Time: w.now})
	for range 5 {
		w.round("h2")
		m.step(context.Background())
	}
	if n := len(w.a.FSM.Migrations(nil)); n != 1 {
		t.Errorf("%d migrations after the cancel, want the 1 started before it", n)
	}
	if h := fsmtest.MustRead(t, "Host", w.a.FSM.Host, "h1"); h.DrainResult != fsm.DrainCancelled {
		t.Errorf("h1's drain ended %q, want cancelled", h.DrainResult)
	}
}
