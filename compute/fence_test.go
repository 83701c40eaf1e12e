package compute_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shoal-project/shoal/compute"
	"github.com/shoal-project/shoal/fsm"
	"github.com/shoal-project/shoal/internal/testkit"
)

// lease is a lease the test turns on and off, and a resync it can fail.
type lease struct {
	valid     atomic.Bool
	resyncErr atomic.Pointer[error]
	resyncs   atomic.Int64
}

func (l *lease) Valid() bool { return l.valid.Load() }
func (l *lease) Resync(context.Context) error {
	l.resyncs.Add(1)
	if err := l.resyncErr.Load(); err != nil {
		return *err
	}
	return nil
}

func runFence(t *testing.T, hv compute.Hypervisor, l *lease) *compute.Fence {
	t.Helper()
	f := compute.NewFence(compute.FenceConfig{Valid: l.Valid, Resync: l.Resync, Check: 5 * time.Millisecond,
		Sweep: 20 * time.Millisecond, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}, hv)
	testkit.Start(t, timeout, "the fence's Run", f.Run)
	return f
}

func running(h *harness) int {
	n := 0
	for _, d := range h.hv.Domains() {
		if d.PowerState == fsm.PowerRunning || d.PowerState == fsm.PowerPaused {
			n++
		}
	}
	return n
}

// A host starts fenced, acts once its lease holds and its replica was
// re-read, and when the lease expires stops every domain (disks and
// definitions kept) and starts none until it is back.
func TestFenceLifecycle(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ctx := t.Context()
	for i, id := range []string{vm1, vm2} {
		if err := h.hv.Define(ctx, compute.InstanceSpec{ID: id, Name: fmt.Sprint("d", i), VCPUs: 1, MemoryMiB: 64}); err != nil {
			t.Fatal(err)
		}
		if err := h.hv.Start(ctx, id); err != nil {
			t.Fatal(err)
		}
	}
	if err := h.hv.Pause(ctx, vm2); err != nil {
		t.Fatal(err)
	}
	l := &lease{}
	f := runFence(t, h.hv, l)
	guarded := f.Guard(h.hv)
	if !f.Fenced() || f.Ready() {
		t.Fatal("a fresh fence must start fenced")
	}
	// Fenced from the start with no lease: the sweep stops what runs.
	testkit.WaitFor(t, timeout, "every domain stopped", func() (bool, string) { return running(h) == 0, fmt.Sprintf("%+v", h.hv.Domains()) })
	if len(h.hv.Domains()) != 2 {
		t.Fatalf("fencing removed definitions: %+v", h.hv.Domains())
	}
	if err := guarded.Start(ctx, vm1); !errors.Is(err, compute.ErrFenced) {
		t.Fatalf("Start while fenced = %v, want ErrFenced", err)
	}
	// The lease is back but the replica cannot be re-read: still fenced.
	fail := errors.New("no leader")
	l.resyncErr.Store(&fail)
	l.valid.Store(true)
	testkit.WaitFor(t, timeout, "three resyncs tried", func() bool { return l.resyncs.Load() >= 3 })
	if !f.Fenced() || f.Epoch() != 0 {
		t.Fatalf("unfenced without a re-read replica (epoch %d)", f.Epoch())
	}
	l.resyncErr.Store(nil)
	testkit.WaitFor(t, timeout, "unfenced", f.Ready)
	if f.Epoch() != 1 {
		t.Fatalf("epoch %d after the first unfence, want 1", f.Epoch())
	}
	if err := guarded.Start(ctx, vm1); err != nil {
		t.Fatal(err)
	}
	// Lease lost: fenced again, and a domain started behind its back is
	// stopped by the next sweep.
	l.valid.Store(false)
	testkit.WaitFor(t, timeout, "fenced, nothing running", func() bool { return f.Fenced() && running(h) == 0 })
	if err := h.hv.Start(ctx, vm2); err != nil {
		t.Fatal(err)
	}
	testkit.WaitFor(t, timeout, "the late start swept", func() bool { return running(h) == 0 })
	for _, op := range []func() error{
		func() error { return guarded.Resume(ctx, vm1) },
		func() error { return guarded.Unpause(ctx, vm1) },
		func() error { return guarded.Reboot(ctx, vm1, true) },
	} {
		if err := op(); !errors.Is(err, compute.ErrFenced) {
			t.Fatalf("operation while fenced = %v, want ErrFenced", err)
		}
	}
	l.valid.Store(true)
	testkit.WaitFor(t, timeout, "back at epoch 2", func() bool { return f.Ready() && f.Epoch() == 2 })
}

// After fencing, the reconciler starts again what the FSM still gives this
// host and wants running, and removes (never starts) what moved away.
func TestReconcilerRestartsAfterFence(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.MustApply(t, &fsm.RegisterHost{Name: "node2", GossipAddress: "node2:7946", RaftAddress: "node2:7000",
		HTTPAddress: "node2:8774", Time: t0})
	h.MustApply(t, &fsm.UpdateHostInventory{Name: "node2", Inventory: fsm.Inventory{VCPUs: 8, MemoryMiB: 16384, DiskGiB: 200,
		Arch: "x86_64", HypervisorType: "fake", HypervisorVersion: "1.0"}, Time: t0})
	l := &lease{}
	l.valid.Store(true)
	f := runFence(t, h.hv, l)
	cfg := config()
	cfg.Epoch = f.Epoch
	hv := f.Guard(h.hv)
	r := compute.NewReconciler(cfg, h.FSM, hv, h, func() bool { return f.Ready() && h.isReady() })
	testkit.Start(t, timeout, "the reconciler's Run", r.Run)

	h.create(vm1, "web-1")
	h.create(vm2, "web-2")
	h.waitStatus(vm1, "ACTIVE", fsm.PowerRunning)
	h.waitStatus(vm2, "ACTIVE", fsm.PowerRunning)

	// Fenced and back with nothing changed: both start again, still ACTIVE.
	l.valid.Store(false)
	testkit.WaitFor(t, timeout, "fenced, nothing running", func() bool { return f.Fenced() && running(h) == 0 })
	l.valid.Store(true)
	testkit.WaitFor(t, timeout, "both domains running", func() (bool, string) { return running(h) == 2, fmt.Sprintf("%+v", h.hv.Domains()) })
	for _, id := range []string{vm1, vm2} {
		if i := h.waitStatus(id, "ACTIVE", fsm.PowerRunning); i.Host != host {
			t.Fatalf("%s: %s on %s", id, i.Status(), i.Host)
		}
	}

	// Fenced; meanwhile the cluster declares this host down, vm2 is rebuilt
	// on node2 and vm1 still waits for a host. Back: neither starts here,
	// both domains go; then vm1 is placed here again and rebuilt.
	l.valid.Store(false)
	testkit.WaitFor(t, timeout, "fenced, nothing running", func() bool { return f.Fenced() && running(h) == 0 })
	h.MustApply(t, &fsm.MarkHostDown{Name: host, LastSeen: t0, Reason: "test", Time: t0})
	h.MustApply(t, &fsm.Plan{Time: t0, Ratios: fsm.DefaultRatios, MaxAttempts: 3,
		Placements: []fsm.Placement{{InstanceID: vm2, Host: "node2"}}})
	h.MustApply(t, &fsm.ReportInstances{Host: "node2", Time: t0, Reports: []fsm.InstanceReport{
		{ID: vm2, PowerState: fsm.PowerRunning, Done: fsm.TaskRebuildSpawning, TaskIndex: mustInstance(t, h, vm2).TaskIndex}}})
	h.MustApply(t, &fsm.MarkHostUp{Name: host, Time: t0})
	l.valid.Store(true)
	testkit.WaitFor(t, timeout, "the moved servers removed", func() (bool, string) {
		return len(h.hv.Domains()) == 0, fmt.Sprintf("%+v", h.hv.Domains())
	})
	if running(h) != 0 {
		t.Fatalf("a moved server runs here: %+v", h.hv.Domains())
	}
	h.MustApply(t, &fsm.Plan{Time: t0, Ratios: fsm.DefaultRatios, MaxAttempts: 3,
		Placements: []fsm.Placement{{InstanceID: vm1, Host: host}}})
	if i := h.waitStatus(vm1, "ACTIVE", fsm.PowerRunning); i.Host != host {
		t.Fatalf("vm1 rebuilt on %s", i.Host)
	}
	if i := mustInstance(t, h, vm2); i.Host != "node2" || i.Status() != "ACTIVE" {
		t.Fatalf("vm2: %s on %s", i.Status(), i.Host)
	}
}

const vm2 = "6a0f3c1e-4444-4000-8000-000000000002"

func mustInstance(t *testing.T, h *harness, id string) fsm.Instance {
	t.Helper()
	i, ok := h.instance(id)
	if !ok {
		t.Fatalf("instance %s missing", id)
	}
	return i
}
