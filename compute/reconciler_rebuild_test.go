package compute_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/shoal-project/shoal/compute"
	"github.com/shoal-project/shoal/fsm"
)

// A rebuild replaces the domain and its disk with ones built from the new
// image, on the same host, and leaves the server as it was: running, or
// stopped.
func TestReconcilerRebuild(t *testing.T) {
	t.Parallel()
	h, _ := newActive(t)
	h.MustApply(h.t, &fsm.CreateImage{Image: fsm.Image{ID: "img-debian", Name: "debian", DiskFormat: "qcow2",
		ContainerFormat: "bare", Size: 1 << 20, Status: "active", Created: t0, Updated: t0}})
	rebuild := func(name string) {
		t.Helper()
		h.MustApply(h.t, &fsm.RebuildInstance{ID: vm1, ImageID: "img-debian", Name: &name, RequestID: "req-rebuild", Time: t0})
	}

	rebuild("web-1b")
	inst := h.waitStatus(vm1, "ACTIVE", fsm.PowerRunning)
	dom, _ := h.domain(vm1)
	if dom.ImageID != "img-debian" || dom.Name != "web-1b" || dom.PowerState != fsm.PowerRunning || dom.Defines != 2 || dom.Boots != 1 {
		t.Errorf("rebuilt domain %+v, want a second one, from img-debian, booted once", dom)
	}
	if a := inst.Actions[len(inst.Actions)-1]; a.Action != fsm.ActionRebuild || a.Result != "success" || a.Message != "" {
		t.Errorf("last action %+v", a)
	}

	// A stopped server is rebuilt stopped.
	h.action(vm1, fsm.ActionStop, false)
	h.waitStatus(vm1, "SHUTOFF", fsm.PowerShutdown)
	rebuild("web-1c")
	h.waitStatus(vm1, "SHUTOFF", fsm.PowerShutdown)
	if dom, _ := h.domain(vm1); dom.Name != "web-1c" || dom.PowerState != fsm.PowerShutdown || dom.Defines != 3 || dom.Boots != 0 {
		t.Errorf("rebuilt stopped domain %+v, want defined and never booted", dom)
	}
}

// evacuateHere puts vm1, built on node2, on node1 to be rebuilt there
// (rebuild_spawning), as after node2 went down; shape makes node1's
// domain what it is before (a live migration's copy, or none).
func evacuateHere(t *testing.T, shape func(h *harness)) (*harness, *counting) {
	t.Helper()
	h := newHarness(t)
	h.addHost(host2)
	h.createOn(vm1, "web-1", host2)
	h.MustApply(t, &fsm.ReportInstances{Host: host2, Time: t0, Reports: []fsm.InstanceReport{
		{ID: vm1, PowerState: fsm.PowerRunning, Done: fsm.TaskSpawning, TaskIndex: mustInstance(t, h, vm1).TaskIndex}}})
	shape(h)
	h.MustApply(t, &fsm.MarkHostDown{Name: host2, LastSeen: t0, Reason: "test", Time: t0})
	h.MustApply(t, &fsm.Plan{Time: t0, Ratios: fsm.DefaultRatios, MaxAttempts: 3,
		Placements: []fsm.Placement{{InstanceID: vm1, Host: host}}})
	if inst, _ := h.instance(vm1); inst.Host != host || inst.TaskState != fsm.TaskRebuildSpawning {
		t.Fatalf("vm1 %s/%s on %s, want rebuild_spawning here", inst.VMState, inst.TaskState, inst.Host)
	}
	hv := &counting{Hypervisor: h.hv}
	cfg := config()
	cfg.Attempts = 1000 // a paused domain is waited for, not given up on
	h.start(cfg, hv)
	return h, hv
}

// Without a domain, a leftover disk (of a migration that never arrived)
// is undefined before the server is built afresh.
func TestReconcilerRebuildUndefinesLeftover(t *testing.T) {
	t.Parallel()
	h, hv := evacuateHere(t, func(*harness) {})
	h.waitStatus(vm1, "ACTIVE", fsm.PowerRunning)
	if ops := strings.Join(hv.ops(), " "); !strings.HasPrefix(ops, "undefine define start") {
		t.Errorf("operations %q, want undefine, define, start", ops)
	}
}

// A domain that arrived (a live migration finished moving it) is adopted:
// not defined again, not rebooted.
func TestReconcilerRebuildAdopts(t *testing.T) {
	t.Parallel()
	h, hv := evacuateHere(t, func(h *harness) {
		inst, _ := h.instance(vm1)
		must(t, h.hv.Define(context.Background(), compute.SpecOf(inst)))
		must(t, h.hv.Start(context.Background(), vm1))
	})
	h.waitStatus(vm1, "ACTIVE", fsm.PowerRunning)
	if d, _ := h.domain(vm1); d.Defines != 1 || d.Boots != 1 || hv.count("undefine") != 0 {
		t.Errorf("domain %+v, %d undefines: want it adopted as it was", d, hv.count("undefine"))
	}
}

// A paused domain of a server that should run is a migration still
// arriving: waited for (never started nor destroyed), then adopted.
func TestReconcilerRebuildWaitsForIncoming(t *testing.T) {
	t.Parallel()
	h, hv := evacuateHere(t, func(h *harness) {
		inst, _ := h.instance(vm1)
		must(t, h.hv.Define(context.Background(), compute.SpecOf(inst)))
		must(t, h.hv.Start(context.Background(), vm1))
		must(t, h.hv.Pause(context.Background(), vm1))
	})
	time.Sleep(200 * time.Millisecond) // passes and retries
	inst, _ := h.instance(vm1)
	if d, _ := h.domain(vm1); inst.TaskState != fsm.TaskRebuildSpawning || d.PowerState != fsm.PowerPaused || hv.count("define") != 0 {
		t.Fatalf("server %s/%s, domain %+v, %d defines: want it waiting", inst.VMState, inst.TaskState, d, hv.count("define"))
	}
	must(t, h.hv.Unpause(context.Background(), vm1)) // the migration completes
	h.waitStatus(vm1, "ACTIVE", fsm.PowerRunning)
	if d, _ := h.domain(vm1); d.Boots != 1 || hv.count("destroy") != 0 {
		t.Errorf("domain %+v: want the arrived one, never destroyed", d)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
