package compute_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/shoal-project/shoal/compute"
	"github.com/shoal-project/shoal/compute/fake"
	"github.com/shoal-project/shoal/fsm"
	"github.com/shoal-project/shoal/internal/testkit"
)

const vm1 = "6a0f3c1e-1111-4000-8000-000000000001"

func TestReconcilerLifecycle(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.start(config(), h.hv)
	h.create(vm1, "web-1")
	inst := h.waitStatus(vm1, "ACTIVE", fsm.PowerRunning)
	if inst.Fault != nil || inst.Actions[0].Result != "success" {
		t.Errorf("spawned instance: fault %+v, actions %+v", inst.Fault, inst.Actions)
	}
	dom, _ := h.domain(vm1)
	if dom.Name != "web-1" || dom.VCPUs != 1 || dom.MemoryMiB != 512 || dom.DiskGiB != 1 || dom.ImageID != imageID ||
		len(dom.Addresses) != 1 || dom.Addresses[0] != inst.Addresses[0] || dom.Metadata["owner"] != "test" {
		t.Errorf("domain %+v does not match instance %+v", dom, inst)
	}

	for _, step := range []struct {
		action string
		hard   bool
		status string
		power  fsm.PowerState
		boots  int // domain boots after the step
	}{
		{fsm.ActionStop, false, "SHUTOFF", fsm.PowerShutdown, 1},
		{fsm.ActionStart, false, "ACTIVE", fsm.PowerRunning, 2},
		{fsm.ActionPause, false, "PAUSED", fsm.PowerPaused, 2},
		{fsm.ActionUnpause, false, "ACTIVE", fsm.PowerRunning, 2},
		{fsm.ActionSuspend, false, "SUSPENDED", fsm.PowerSuspended, 2},
		{fsm.ActionResume, false, "ACTIVE", fsm.PowerRunning, 2},
		{fsm.ActionReboot, false, "ACTIVE", fsm.PowerRunning, 3},
		{fsm.ActionReboot, true, "ACTIVE", fsm.PowerRunning, 4},
		{fsm.ActionStop, false, "SHUTOFF", fsm.PowerShutdown, 4},
		{fsm.ActionReboot, true, "ACTIVE", fsm.PowerRunning, 5}, // hard reboot starts a stopped server
	} {
		h.action(vm1, step.action, step.hard)
		h.waitStatus(vm1, step.status, step.power)
		if dom, _ := h.domain(vm1); dom.PowerState != step.power || dom.Boots != step.boots || dom.Defines != 1 {
			t.Fatalf("after %s (hard %v): domain %+v, want %d boots, defined once", step.action, step.hard, dom, step.boots)
		}
	}

	h.action(vm1, fsm.ActionDelete, false)
	testkit.WaitFor(t, timeout, "vm1 gone from the FSM and the hypervisor", func() (bool, string) {
		_, inFSM := h.instance(vm1)
		_, defined := h.domain(vm1)
		return !inFSM && !defined, fmt.Sprintf("in the FSM %v, domains %+v", inFSM, h.hv.Domains())
	})
	if u := h.FSM.Usage(); len(u) != 0 {
		t.Errorf("claims left after delete: %+v", u)
	}
}

func TestReconcilerSpawnFailure(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	boom := errors.New("image not in cache")
	for range compute.DefaultAttempts {
		h.hv.FailNext(fake.OpDefine, boom)
	}
	h.start(config(), h.hv)
	h.create(vm1, "web-1")
	inst := h.waitStatus(vm1, "ERROR", fsm.PowerNoState)
	if inst.Fault == nil || !strings.Contains(inst.Fault.Message, "image not in cache") ||
		!strings.Contains(inst.Fault.Message, "Build of instance "+vm1+" aborted") {
		t.Fatalf("fault = %+v", inst.Fault)
	}
	if _, ok := h.domain(vm1); ok {
		t.Error("a failed spawn left a domain")
	}
}

func TestReconcilerRetriesTransientFailure(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.hv.FailNext(fake.OpStart, errors.New("libvirt: not connected to libvirtd"))
	hv := &counting{Hypervisor: h.hv}
	h.start(config(), hv)
	h.create(vm1, "web-1")
	inst := h.waitStatus(vm1, "ACTIVE", fsm.PowerRunning)
	if inst.Fault != nil {
		t.Errorf("fault after a successful retry: %+v", inst.Fault)
	}
	if dom, _ := h.domain(vm1); dom.Defines != 1 || dom.Boots != 1 || hv.count("start") != 2 {
		t.Errorf("domain %+v after %d starts; want defined once, booted once, two start calls", dom, hv.count("start"))
	}
}

// A spawn failing for a reason retrying cannot heal (the driver marked it
// compute.Permanent: here a data dir QEMU cannot reach) is not retried: the
// server goes to ERROR at once, with the reason as its fault.
func TestReconcilerPermanentSpawnFailure(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		op    string
		power fsm.PowerState // of the domain left behind, as reported
	}{
		{fake.OpDefine, fsm.PowerNoState},
		{fake.OpStart, fsm.PowerShutdown},
	} {
		t.Run(tc.op, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t)
			reason := "Cannot access storage file '/srv/closed/data/instances/disk.qcow2': Permission denied"
			// One injected failure: a retry would succeed and end ACTIVE.
			h.hv.FailNext(tc.op, compute.Permanent(errors.New(reason)))
			hv := &counting{Hypervisor: h.hv}
			h.start(config(), hv)
			h.create(vm1, "web-1")
			inst := h.waitStatus(vm1, "ERROR", tc.power)
			if inst.Fault == nil || !strings.Contains(inst.Fault.Message, reason) ||
				!strings.HasPrefix(inst.Fault.Message, "Build of instance "+vm1+" aborted: ") {
				t.Fatalf("fault = %+v, want the build aborted with %q", inst.Fault, reason)
			}
			if n := hv.count(tc.op); n != 1 {
				t.Errorf("%s tried %d times, want once", tc.op, n)
			}
			var failed int
			for _, a := range inst.Actions {
				if a.Result == "error" {
					failed++
				}
			}
			if failed != 1 {
				t.Errorf("actions %+v: want the failure recorded once", inst.Actions)
			}
		})
	}
}

// A task other than spawning that keeps failing leaves the server as it was,
// with a fault.
func TestReconcilerActionFailure(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.activeOn(h.hv)
	for range compute.DefaultAttempts {
		h.hv.FailNext(fake.OpPause, errors.New("qemu monitor timed out"))
	}
	h.action(vm1, fsm.ActionPause, false)
	testkit.WaitFor(t, timeout, "a fault and no task", func() (bool, string) {
		inst, _ := h.instance(vm1)
		return inst.Fault != nil && inst.TaskState == fsm.TaskNone, fmt.Sprintf("instance %+v", inst)
	})
	inst := h.waitStatus(vm1, "ACTIVE", fsm.PowerRunning)
	if !strings.Contains(inst.Fault.Message, "qemu monitor timed out") {
		t.Errorf("fault = %+v", inst.Fault)
	}
}

// An operation the domain's state forbids is reported at once, not retried.
func TestReconcilerInvalidStateNotRetried(t *testing.T) {
	t.Parallel()
	h, hv := newActive(t)
	if err := h.hv.SetPowerState(vm1, fsm.PowerPaused); err != nil { // paused behind shoal's back
		t.Fatal(err)
	}
	h.waitStatus(vm1, "ACTIVE", fsm.PowerPaused)
	h.action(vm1, fsm.ActionReboot, false)
	testkit.WaitFor(t, timeout, "a fault", func() bool { inst, _ := h.instance(vm1); return inst.Fault != nil })
	if n := hv.count("reboot"); n != 1 {
		t.Errorf("soft reboot of a paused domain tried %d times, want 1", n)
	}
}

func TestReconcilerGuestShutsDown(t *testing.T) {
	t.Parallel()
	for _, power := range []fsm.PowerState{fsm.PowerShutdown, fsm.PowerCrashed} {
		t.Run(fmt.Sprint(power), func(t *testing.T) {
			h, hv := newActive(t)
			if err := h.hv.SetPowerState(vm1, power); err != nil {
				t.Fatal(err)
			}
			inst := h.waitStatus(vm1, "SHUTOFF", power)
			if last := inst.Actions[len(inst.Actions)-1]; !strings.Contains(last.Action, "guest shut down") {
				t.Errorf("last action = %+v", last)
			}
			if hv.count("start") != 1 {
				t.Error("the reconciler restarted a server the guest shut down")
			}
		})
	}
}

// A domain that vanished is reported as no state, once; nothing recreates it.
func TestReconcilerMissingDomain(t *testing.T) {
	t.Parallel()
	h, hv := newActive(t)
	reports := h.reports.Load()
	ctx := t.Context()
	if err := h.hv.Destroy(ctx, vm1); err != nil {
		t.Fatal(err)
	}
	if err := h.hv.Undefine(ctx, vm1); err != nil {
		t.Fatal(err)
	}
	h.waitStatus(vm1, "ACTIVE", fsm.PowerNoState)
	readyAsks := h.readyAsks.Load()
	testkit.WaitFor(t, timeout, "five more passes", func() bool { return h.readyAsks.Load() >= readyAsks+5 })
	if got := h.reports.Load() - reports; got != 1 {
		t.Errorf("%d reports after the domain vanished, want 1", got)
	}
	if _, ok := h.domain(vm1); ok || hv.count("define") != 1 {
		t.Error("the reconciler recreated a vanished domain")
	}
}

// A restarted agent adopts the domains it finds: a spawn whose report was
// lost is reported, not redone.
func TestReconcilerAdoptsAfterRestart(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.failReports(errors.New("no leader"))
	stop := h.start(config(), h.hv)
	h.create(vm1, "web-1")
	testkit.WaitFor(t, timeout, "the domain running", func() bool { d, ok := h.domain(vm1); return ok && d.PowerState == fsm.PowerRunning })
	stop()
	if inst, _ := h.instance(vm1); inst.TaskState != fsm.TaskSpawning {
		t.Fatalf("instance is %s/%s, want still spawning (its report failed)", inst.VMState, inst.TaskState)
	}

	h.failReports(nil)
	hv := &counting{Hypervisor: h.hv}
	h.start(config(), hv)
	h.waitStatus(vm1, "ACTIVE", fsm.PowerRunning)
	if dom, _ := h.domain(vm1); dom.Defines != 1 || dom.Boots != 1 {
		t.Errorf("after restart: domain %+v, want defined and booted once", dom)
	}
}

// A report that cannot be committed is kept and sent later, and the task is
// not run again meanwhile.
func TestReconcilerKeepsReportsUntilCommitted(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.activeOn(h.hv)
	h.failReports(errors.New("no leader"))
	h.action(vm1, fsm.ActionReboot, true)
	testkit.WaitFor(t, timeout, "a reboot", func() bool { d, _ := h.domain(vm1); return d.Boots == 2 })
	readyAsks := h.readyAsks.Load()
	testkit.WaitFor(t, timeout, "five more passes", func() bool { return h.readyAsks.Load() >= readyAsks+5 })
	if d, _ := h.domain(vm1); d.Boots != 2 {
		t.Fatalf("rebooted %d times while the report was pending, want once", d.Boots-1)
	}
	h.failReports(nil)
	h.waitStatus(vm1, "ACTIVE", fsm.PowerRunning)
	if d, _ := h.domain(vm1); d.Boots != 2 {
		t.Errorf("rebooted %d times, want once", d.Boots-1)
	}
}

// A report whose commit looked failed but succeeded is not sent again: the
// copy would finish the next reboot before it ran.
func TestReconcilerAmbiguousCommit(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.activeOn(h.hv)
	again := func() error {
		h.action(vm1, fsm.ActionReboot, false) // the user reboots again at once
		return errors.New("timed out waiting for the commit")
	}
	h.afterCommit.Store(&again)
	h.action(vm1, fsm.ActionReboot, false)
	testkit.WaitFor(t, timeout, "three finished actions and three boots", func() (bool, string) {
		inst, _ := h.instance(vm1)
		d, _ := h.domain(vm1)
		return inst.TaskState == fsm.TaskNone && len(inst.Actions) == 3 && inst.Actions[2].Result != "" && d.Boots >= 3,
			fmt.Sprintf("actions %+v", inst.Actions)
	})
	if d, _ := h.domain(vm1); d.Boots != 3 {
		t.Errorf("domain booted %d times, want 3 (spawn and two reboots)", d.Boots)
	}
}

func TestReconcilerRemovesOrphans(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ctx := t.Context()
	orphan := "0rphan00-0000-4000-8000-000000000009"
	if err := h.hv.Define(ctx, compute.InstanceSpec{ID: orphan, Name: "deleted-elsewhere", VCPUs: 1, MemoryMiB: 512}); err != nil {
		t.Fatal(err)
	}
	if err := h.hv.Start(ctx, orphan); err != nil {
		t.Fatal(err)
	}
	h.hv.FailNext(fake.OpDestroy, errors.New("transient")) // retried with backoff
	h.start(config(), h.hv)
	h.create(vm1, "web-1")
	h.waitStatus(vm1, "ACTIVE", fsm.PowerRunning)
	testkit.WaitFor(t, timeout, "the orphan removed", func() (bool, string) {
		_, ok := h.domain(orphan)
		return !ok, fmt.Sprintf("%+v", h.hv.Domains())
	})
	if _, ok := h.domain(vm1); !ok {
		t.Error("the instance's own domain was removed")
	}
}

// Until the replica has caught up, nothing is defined, started or removed.
func TestReconcilerNotReady(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.ready.Store(false)
	ctx := t.Context()
	orphan := "0rphan00-0000-4000-8000-000000000009"
	if err := h.hv.Define(ctx, compute.InstanceSpec{ID: orphan, Name: "unknown-yet"}); err != nil {
		t.Fatal(err)
	}
	h.create(vm1, "web-1")
	hv := &counting{Hypervisor: h.hv}
	h.start(config(), hv)
	testkit.WaitFor(t, timeout, "five passes", func() bool { return h.readyAsks.Load() >= 5 })
	if doms := h.hv.Domains(); len(doms) != 1 || doms[0].ID != orphan {
		t.Fatalf("domains = %+v, want only the untouched orphan", doms)
	}
	if inst, _ := h.instance(vm1); inst.TaskState != fsm.TaskSpawning || h.reports.Load() != 0 {
		t.Fatalf("instance %s/%s after %d reports, want spawning and none", inst.VMState, inst.TaskState, h.reports.Load())
	}
	h.ready.Store(true)
	h.waitStatus(vm1, "ACTIVE", fsm.PowerRunning)
	testkit.WaitFor(t, timeout, "the orphan removed", func() bool { _, ok := h.domain(orphan); return !ok })
}

// Many instances spawn in parallel, never more at once than Workers.
func TestReconcilerWorkers(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.hv.SetLatency(20 * time.Millisecond)
	hv := &counting{Hypervisor: h.hv}
	cfg := config()
	cfg.Workers = 2
	h.start(cfg, hv)
	const n = 8
	for i := range n {
		h.create(fmt.Sprintf("6a0f3c1e-2222-4000-8000-00000000000%d", i), fmt.Sprintf("web-%d", i))
	}
	for i := range n {
		h.waitStatus(fmt.Sprintf("6a0f3c1e-2222-4000-8000-00000000000%d", i), "ACTIVE", fsm.PowerRunning)
	}
	hv.mu.Lock()
	hi := hv.hi
	hv.mu.Unlock()
	if hi > cfg.Workers {
		t.Errorf("%d operations ran at once, want at most %d", hi, cfg.Workers)
	}
	if hv.count("define") != n {
		t.Errorf("%d defines for %d instances", hv.count("define"), n)
	}
}

// Results that arrive while a report is being committed travel together in
// the next one. The first commit is held until every spawn has finished, so
// this holds whatever the machine's speed.
func TestReconcilerBatchesReports(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	const n = 8
	id := func(i int) string { return fmt.Sprintf("6a0f3c1e-3333-4000-8000-00000000000%d", i) }
	for i := range n {
		h.create(id(i), fmt.Sprintf("web-%d", i))
	}
	hold := func() error {
		testkit.WaitFor(t, timeout, "every domain running", func() (bool, string) {
			running := 0
			for _, d := range h.hv.Domains() {
				if d.PowerState == fsm.PowerRunning {
					running++
				}
			}
			return running == n, fmt.Sprintf("domains: %+v", h.hv.Domains())
		})
		return nil
	}
	h.afterCommit.Store(&hold)
	cfg := config()
	cfg.Workers = n
	h.start(cfg, h.hv)
	for i := range n {
		h.waitStatus(id(i), "ACTIVE", fsm.PowerRunning)
	}
	if got := h.reports.Load(); got > 3 {
		t.Errorf("%d reports for %d spawns, want at most 3", got, n)
	}
}

func TestReconcilerConfigDefaults(t *testing.T) {
	t.Parallel()
	got := compute.ReconcilerConfig{Host: host}.WithDefaults()
	if got.Interval != 2*time.Second || got.StopTimeout != 30*time.Second || got.Workers != 4 ||
		got.MinBackoff != time.Second || got.MaxBackoff != 30*time.Second || got.Attempts != 5 ||
		got.Logger == nil || got.Now == nil {
		t.Errorf("defaults = %+v", got)
	}
	// A minimum above the default maximum raises the maximum with it.
	if got := (compute.ReconcilerConfig{MinBackoff: time.Minute}).WithDefaults(); got.MaxBackoff != time.Minute {
		t.Errorf("MaxBackoff = %v, want 1m", got.MaxBackoff)
	}
}
