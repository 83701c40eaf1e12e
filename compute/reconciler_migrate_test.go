package compute_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shoal-project/shoal/compute"
	"github.com/shoal-project/shoal/compute/fake"
	"github.com/shoal-project/shoal/fsm"
	"github.com/shoal-project/shoal/internal/testkit"
)

const host2 = "node2"

// peers is the agents' Peers between the harness's fake hosts: the
// destination's PrepareIncoming of the server as it moves (its old
// flavor), as the internal endpoint answers.
type peers struct {
	hosts map[string]*fake.Driver
	calls atomic.Int64
	mu    sync.Mutex
	fail  []error       // the next calls fail with these
	gate  chan struct{} // when set, calls wait until it is closed
}

func (p *peers) PrepareMigration(ctx context.Context, inst fsm.Instance, m fsm.Migration) (compute.MigrationTarget, error) {
	p.calls.Add(1)
	p.mu.Lock()
	gate := p.gate
	var err error
	if len(p.fail) > 0 {
		err, p.fail = p.fail[0], p.fail[1:]
	}
	p.mu.Unlock()
	if gate != nil {
		select {
		case <-gate:
		case <-ctx.Done():
			return compute.MigrationTarget{}, ctx.Err()
		}
	}
	if err != nil {
		return compute.MigrationTarget{}, err
	}
	inst.Flavor = m.OldFlavor
	xml, err := p.hosts[m.Dest].PrepareIncoming(ctx, compute.SpecOf(inst))
	if errors.Is(err, compute.ErrInvalidState) { // as the destination answers
		return compute.MigrationTarget{}, fmt.Errorf("%s: %w", m.Dest, compute.ErrArrived)
	}
	return compute.MigrationTarget{Host: m.Dest, URI: "fake://" + m.Dest, Address: m.Dest, DomainXML: xml}, err
}

// twoHosts is a harness whose node1 and node2 share a fake world, each
// with its reconciler (edit changes both configs), and vm1 ACTIVE on node1.
func twoHosts(t *testing.T, edit ...func(*compute.ReconcilerConfig)) (*harness, *fake.Driver, *peers) {
	t.Helper()
	h := newHarness(t)
	hv2 := h.addHost(host2)
	p := &peers{hosts: map[string]*fake.Driver{host: h.hv, host2: hv2}}
	for _, hc := range []struct {
		name string
		hv   *fake.Driver
	}{{host, h.hv}, {host2, hv2}} {
		cfg := config()
		cfg.Host, cfg.Peers = hc.name, p
		cfg.Migrate = compute.MigrateOptions{MaxDowntime: 300 * time.Millisecond, AutoConverge: true}
		for _, e := range edit {
			e(&cfg)
		}
		h.start(cfg, hc.hv)
	}
	h.create(vm1, "web-1")
	h.waitStatus(vm1, "ACTIVE", fsm.PowerRunning)
	return h, hv2, p
}

// addHost registers another host with room, and its fake driver in the
// same world as node1's.
func (h *harness) addHost(name string) *fake.Driver {
	h.t.Helper()
	h.MustApply(h.t, &fsm.RegisterHost{Name: name, GossipAddress: name + ":7946", RaftAddress: name + ":7000",
		HTTPAddress: name + ":8774", Time: t0})
	h.MustApply(h.t, &fsm.UpdateHostInventory{Name: name, Inventory: fsm.Inventory{VCPUs: 8, MemoryMiB: 16384, DiskGiB: 200,
		Arch: "x86_64", HypervisorType: "fake", HypervisorVersion: "1.0"}, Time: t0})
	w := fake.NewWorld()
	w.Add(host, h.hv)
	hv := fake.New(fake.Config{})
	w.Add(name, hv)
	return hv
}

func (h *harness) migrate(kind, dest, flavor string) {
	h.t.Helper()
	h.MustApply(h.t, &fsm.MigrateInstance{ID: vm1, Kind: kind, Host: dest, FlavorID: flavor, Ratios: fsm.DefaultRatios,
		MigrationUUID: "mig-" + kind, RequestID: "req-" + kind, Admin: true, Time: t0})
}

func (h *harness) migration() fsm.Migration {
	h.t.Helper()
	ms := h.FSM.Migrations(nil)
	if len(ms) == 0 {
		h.t.Fatal("no migration recorded")
	}
	return ms[0]
}

func domainOn(hv *fake.Driver, id string) (fake.FakeDomain, bool) {
	for _, d := range hv.Domains() {
		if d.ID == id {
			return d, true
		}
	}
	return fake.FakeDomain{}, false
}

func TestReconcilerLiveMigration(t *testing.T) {
	t.Parallel()
	for _, paused := range []bool{false, true} {
		t.Run(fmt.Sprint("paused=", paused), func(t *testing.T) {
			t.Parallel()
			h, hv2, p := twoHosts(t)
			status, power := "ACTIVE", fsm.PowerRunning
			if paused {
				h.action(vm1, fsm.ActionPause, false)
				status, power = "PAUSED", fsm.PowerPaused
				h.waitStatus(vm1, status, power)
			}
			h.migrate(fsm.MigrationLive, host2, "")
			inst := h.waitStatus(vm1, status, power)
			if inst.Host != host2 {
				t.Fatalf("on %s after the live migration", inst.Host)
			}
			if m := h.migration(); m.Status != fsm.MigrationCompleted || m.Source != host || m.Dest != host2 {
				t.Errorf("migration %+v", m)
			}
			if d, _ := domainOn(hv2, vm1); d.PowerState != power || d.Boots != 1 {
				t.Errorf("destination domain %+v, want %v and never booted again", d, power)
			}
			// The source's copy is an orphan once the server is gone.
			testkit.WaitFor(t, timeout, "the source's domain removed", func() (bool, string) {
				_, ok := h.domain(vm1)
				return !ok, fmt.Sprintf("%+v", h.hv.Domains())
			})
			if n := p.calls.Load(); n != 1 {
				t.Errorf("the destination was prepared %d times", n)
			}
		})
	}
}

// A failed live migration is reported at once (not retried): the server
// stays where it was, running, and the migration is failed with libvirt's
// reason.
func TestReconcilerLiveMigrationFails(t *testing.T) {
	t.Parallel()
	h, hv2, p := twoHosts(t)
	h.hv.FailNext(fake.OpMigrateTo, errors.New("migration did not converge"))
	h.migrate(fsm.MigrationLive, host2, "")
	testkit.WaitFor(t, timeout, "the migration failed", func() (bool, string) {
		m := h.migration()
		return m.Status == fsm.MigrationFailed, m.Status
	})
	inst := h.waitStatus(vm1, "ACTIVE", fsm.PowerRunning)
	if m := h.migration(); inst.Host != host || !strings.Contains(m.Message, "migration did not converge") {
		t.Errorf("server on %s, migration message %q", inst.Host, m.Message)
	}
	if n := p.calls.Load(); n != 1 {
		t.Errorf("prepared %d times: a failed migration was retried", n)
	}
	if _, ok := domainOn(hv2, vm1); ok {
		t.Errorf("the destination has a domain: %+v", hv2.Domains())
	}
	// What the destination prepared (the disk) goes once the migration
	// is over.
	testkit.WaitFor(t, timeout, "the destination's preparation undone", func() bool { return !hv2.Incoming(vm1) })
}

// A destination that cannot prepare yet (unreachable, or its replica
// behind) is asked again; one that never can ends the migration failed.
func TestReconcilerMigrationPrepareRetried(t *testing.T) {
	t.Parallel()
	h, _, p := twoHosts(t)
	p.mu.Lock()
	p.fail = []error{errors.New("connection refused"), errors.New("409 not the destination yet")}
	p.mu.Unlock()
	h.migrate(fsm.MigrationLive, host2, "")
	if inst := h.waitStatus(vm1, "ACTIVE", fsm.PowerRunning); inst.Host != host2 {
		t.Fatalf("on %s", inst.Host)
	}
	if n := p.calls.Load(); n != 3 {
		t.Errorf("prepared %d times, want 3", n)
	}
}

// While the scheduler chooses (MigrationPending), the source does nothing;
// once placed, it migrates.
func TestReconcilerMigrationWaitsForScheduler(t *testing.T) {
	t.Parallel()
	h, _, p := twoHosts(t)
	h.migrate(fsm.MigrationLive, "", "")
	time.Sleep(200 * time.Millisecond) // a few passes
	if inst, _ := h.instance(vm1); !inst.MigrationPending || inst.TaskState != fsm.TaskMigrating || p.calls.Load() != 0 {
		t.Fatalf("pending migration acted on: %+v, %d prepares", inst, p.calls.Load())
	}
	h.MustApply(t, &fsm.Plan{Time: t0, Ratios: fsm.DefaultRatios, MaxAttempts: 3,
		Placements: []fsm.Placement{{InstanceID: vm1, Host: host2}}})
	if inst := h.waitStatus(vm1, "ACTIVE", fsm.PowerRunning); inst.Host != host2 {
		t.Fatalf("on %s", inst.Host)
	}
}

// A domain of a server that is moving to this host is not an orphan
// there; once the migration has failed, it is.
func TestReconcilerMovingNotOrphan(t *testing.T) {
	t.Parallel()
	h, hv2, p := twoHosts(t)
	gate := make(chan struct{})
	p.mu.Lock()
	p.gate, p.fail = gate, []error{compute.Permanent(errors.New("the destination refused"))}
	p.mu.Unlock()
	h.migrate(fsm.MigrationLive, host2, "")
	testkit.WaitFor(t, timeout, "the source preparing", func() bool { return p.calls.Load() == 1 })
	// The copy arriving on node2 while the source works.
	inst, _ := h.instance(vm1)
	if err := hv2.Define(context.Background(), compute.SpecOf(inst)); err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond) // node2's reconciler passes
	if _, ok := domainOn(hv2, vm1); !ok {
		t.Fatal("node2 removed the domain of a server moving to it")
	}
	close(gate)
	testkit.WaitFor(t, timeout, "the migration failed and node2's copy removed", func() (bool, string) {
		_, ok := domainOn(hv2, vm1)
		return h.migration().Status == fsm.MigrationFailed && !ok, fmt.Sprintf("%s, %+v", h.migration().Status, hv2.Domains())
	})
	if inst := h.waitStatus(vm1, "ACTIVE", fsm.PowerRunning); inst.Host != host {
		t.Errorf("on %s", inst.Host)
	}
}

// A resize moves the stopped guest to node2, which gives it the new flavor
// and starts it (VERIFY_RESIZE); node1 keeps its old domain until the
// resize is confirmed.
func TestReconcilerResizeConfirm(t *testing.T) {
	t.Parallel()
	h, hv2, _ := twoHosts(t)
	h.migrate(fsm.MigrationResize, host2, "2")
	inst := h.waitStatus(vm1, "VERIFY_RESIZE", fsm.PowerRunning)
	if inst.Host != host2 || inst.Flavor.ID != "2" {
		t.Fatalf("on %s with flavor %s", inst.Host, inst.Flavor.ID)
	}
	if d, _ := domainOn(hv2, vm1); d.PowerState != fsm.PowerRunning || d.MemoryMiB != 2048 || d.DiskGiB != 20 {
		t.Errorf("destination domain %+v, want running with m1.small", d)
	}
	time.Sleep(200 * time.Millisecond) // node1's passes
	if d, ok := h.domain(vm1); !ok || d.PowerState != fsm.PowerShutdown || d.MemoryMiB != 512 {
		t.Fatalf("source domain %+v (defined %v), want the old one kept shut off", d, ok)
	}
	if m := h.migration(); m.Status != fsm.MigrationFinished {
		t.Errorf("migration %s", m.Status)
	}

	h.MustApply(t, &fsm.ResizeDecision{ID: vm1, RequestID: "req-confirm", Admin: true, Time: t0})
	testkit.WaitFor(t, timeout, "the source's old domain removed", func() (bool, string) {
		_, ok := h.domain(vm1)
		return !ok, fmt.Sprintf("%+v", h.hv.Domains())
	})
	if inst := h.waitStatus(vm1, "ACTIVE", fsm.PowerRunning); inst.Host != host2 {
		t.Errorf("on %s", inst.Host)
	}
}

// A revert removes node2's copy and starts the old domain on node1 again.
func TestReconcilerResizeRevert(t *testing.T) {
	t.Parallel()
	h, hv2, _ := twoHosts(t)
	h.migrate(fsm.MigrationResize, host2, "2")
	h.waitStatus(vm1, "VERIFY_RESIZE", fsm.PowerRunning)
	h.MustApply(t, &fsm.ResizeDecision{ID: vm1, Revert: true, RequestID: "req-revert", Admin: true, Time: t0})
	inst := h.waitStatus(vm1, "ACTIVE", fsm.PowerRunning)
	if inst.Host != host || inst.Flavor.ID != "1" {
		t.Fatalf("on %s with flavor %s", inst.Host, inst.Flavor.ID)
	}
	if d, _ := h.domain(vm1); d.PowerState != fsm.PowerRunning || d.MemoryMiB != 512 {
		t.Errorf("source domain %+v", d)
	}
	if _, ok := domainOn(hv2, vm1); ok {
		t.Errorf("node2 kept its copy: %+v", hv2.Domains())
	}
	if m := h.migration(); m.Status != fsm.MigrationReverted {
		t.Errorf("migration %s", m.Status)
	}
}

// A cold migration of a stopped server arrives stopped.
func TestReconcilerColdMigrationStopped(t *testing.T) {
	t.Parallel()
	h, hv2, _ := twoHosts(t)
	h.action(vm1, fsm.ActionStop, false)
	h.waitStatus(vm1, "SHUTOFF", fsm.PowerShutdown)
	h.migrate(fsm.MigrationCold, host2, "")
	inst := h.waitStatus(vm1, "VERIFY_RESIZE", fsm.PowerShutdown)
	if d, _ := domainOn(hv2, vm1); inst.Host != host2 || d.PowerState != fsm.PowerShutdown {
		t.Errorf("on %s, destination domain %+v", inst.Host, d)
	}
	h.MustApply(t, &fsm.ResizeDecision{ID: vm1, RequestID: "req-confirm", Admin: true, Time: t0})
	h.waitStatus(vm1, "SHUTOFF", fsm.PowerShutdown)
}

// A cold migration that fails starts the guest again where it was and
// ends the migration in error.
func TestReconcilerColdMigrationFails(t *testing.T) {
	t.Parallel()
	h, _, _ := twoHosts(t)
	h.hv.FailNext(fake.OpMigrateTo, errors.New("disk copy broke"))
	h.migrate(fsm.MigrationCold, host2, "")
	testkit.WaitFor(t, timeout, "the migration in error", func() (bool, string) {
		return h.migration().Status == fsm.MigrationError, h.migration().Status
	})
	inst := h.waitStatus(vm1, "ACTIVE", fsm.PowerRunning)
	if d, _ := h.domain(vm1); inst.Host != host || d.PowerState != fsm.PowerRunning || d.Boots != 2 {
		t.Errorf("on %s, domain %+v: want it booted again on node1", inst.Host, d)
	}
}

// A host whose driver cannot migrate fails the migration with the reason.
func TestReconcilerMigrationWithoutMigrator(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.addHost(host2)
	h.start(config(), &counting{Hypervisor: h.hv}) // a Hypervisor only
	h.create(vm1, "web-1")
	h.waitStatus(vm1, "ACTIVE", fsm.PowerRunning)
	h.migrate(fsm.MigrationLive, host2, "")
	testkit.WaitFor(t, timeout, "the migration failed", func() (bool, string) {
		m := h.migration()
		return m.Status == fsm.MigrationFailed && strings.Contains(m.Message, "cannot migrate"), m.Status + " " + m.Message
	})
}

// A server that changes while it moves (a tag) still gets its move's
// report: the guest has moved.
func TestReconcilerMigrationReportSurvivesChange(t *testing.T) {
	t.Parallel()
	h, _, p := twoHosts(t)
	gate := make(chan struct{})
	p.mu.Lock()
	p.gate = gate
	p.mu.Unlock()
	h.migrate(fsm.MigrationLive, host2, "")
	testkit.WaitFor(t, timeout, "the source preparing", func() bool { return p.calls.Load() == 1 })
	h.MustApply(t, &fsm.AddInstanceTag{ID: vm1, Tag: "moving", Time: t0})
	close(gate)
	if inst := h.waitStatus(vm1, "ACTIVE", fsm.PowerRunning); inst.Host != host2 {
		t.Fatalf("on %s: the report was dropped", inst.Host)
	}
}

// An agent that restarts after libvirt completed a live migration, before
// its Done was committed, finds its domain shut off: the destination runs
// the guest (it says it arrived), so the migration completed. The
// destination's copy is never removed meanwhile.
func TestReconcilerLiveMigrationCompletedBeforeRestart(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	hv2 := h.addHost(host2)
	p := &peers{hosts: map[string]*fake.Driver{host: h.hv, host2: hv2}}
	cfg1, cfg2 := config(), config()
	cfg1.Peers = p
	cfg2.Host, cfg2.Peers = host2, p
	h.start(cfg2, hv2)
	stop := h.start(cfg1, h.hv)
	h.create(vm1, "web-1")
	h.waitStatus(vm1, "ACTIVE", fsm.PowerRunning)

	h.failReports(errors.New("no leader"))
	h.migrate(fsm.MigrationLive, host2, "")
	testkit.WaitFor(t, timeout, "the guest moved to node2", func() (bool, string) {
		d, _ := domainOn(hv2, vm1)
		return d.PowerState == fsm.PowerRunning, fmt.Sprintf("%+v", hv2.Domains())
	})
	stop() // the agent dies before its Done is committed
	time.Sleep(200 * time.Millisecond)
	if d, ok := domainOn(hv2, vm1); !ok || d.PowerState != fsm.PowerRunning {
		t.Fatalf("node2's copy %+v (defined %v), want it left running", d, ok)
	}
	h.failReports(nil)
	h.start(cfg1, h.hv) // the agent again
	if inst := h.waitStatus(vm1, "ACTIVE", fsm.PowerRunning); inst.Host != host2 {
		t.Fatalf("on %s", inst.Host)
	}
	if m := h.migration(); m.Status != fsm.MigrationCompleted {
		t.Errorf("migration %s %q", m.Status, m.Message)
	}
	if d, _ := domainOn(hv2, vm1); d.PowerState != fsm.PowerRunning || d.Boots != 1 {
		t.Errorf("node2's domain %+v", d)
	}
}

// The destination reports a live migration's guest running there (libvirt
// resumed it) before the source's call returns: the server passes to it at
// once, the source's late word changes nothing, and the source's copy goes
// as an orphan.
func TestReconcilerLiveMigrationArrival(t *testing.T) {
	t.Parallel()
	h, hv2, p := twoHosts(t)
	gate := make(chan struct{})
	p.mu.Lock()
	p.gate, p.fail = gate, []error{compute.Permanent(errors.New("the source's call ended badly"))}
	p.mu.Unlock()
	h.migrate(fsm.MigrationLive, host2, "")
	testkit.WaitFor(t, timeout, "the source preparing", func() bool { return p.calls.Load() == 1 })
	inst, _ := h.instance(vm1)
	if err := hv2.Define(context.Background(), compute.SpecOf(inst)); err != nil {
		t.Fatal(err)
	}
	if err := hv2.Start(context.Background(), vm1); err != nil {
		t.Fatal(err)
	}
	testkit.WaitFor(t, timeout, "node2 to take the server", func() (bool, string) {
		i, _ := h.instance(vm1)
		return i.Host == host2 && h.migration().Status == fsm.MigrationCompleted, fmt.Sprintf("%s on %s, %s", i.Status(), i.Host, h.migration().Status)
	})
	close(gate)
	testkit.WaitFor(t, timeout, "node1's copy removed", func() bool { _, ok := h.domain(vm1); return !ok })
	if i := h.waitStatus(vm1, "ACTIVE", fsm.PowerRunning); i.Host != host2 || h.migration().Status != fsm.MigrationCompleted {
		t.Fatalf("on %s, migration %s", i.Host, h.migration().Status)
	}
	if d, ok := domainOn(hv2, vm1); !ok || d.PowerState != fsm.PowerRunning {
		t.Fatalf("node2's domain %+v (%v)", d, ok)
	}
}
