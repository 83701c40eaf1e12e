//go:build libvirt

package libvirt

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shoal-project/shoal/compute"
	"github.com/shoal-project/shoal/fsm"
	"github.com/shoal-project/shoal/fsm/fsmtest"
	"github.com/shoal-project/shoal/internal/testkit"
)

// cluster is one node's view of a cluster: a real FSM fed through Encode
// and Apply as Raft would, and a Reporter that commits to it.
type cluster struct {
	*fsmtest.Applier
	t *testing.T
}

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func newCluster(t *testing.T, e *env, host string) *cluster {
	c := &cluster{Applier: fsmtest.New(), t: t}
	c.MustApply(t, &fsm.Bootstrap{ClusterID: "cluster-" + e.suffix, Time: t0, Flavors: fsm.DefaultFlavors(), NetworkCIDR: e.network.CIDR},
		&fsm.RegisterHost{Name: host, GossipAddress: host + ":7946", RaftAddress: host + ":7947",
			HTTPAddress: host + ":8774", Time: t0},
		&fsm.UpdateHostInventory{Name: host, Inventory: fsm.Inventory{VCPUs: 8, MemoryMiB: 16384, DiskGiB: 200,
			Arch: "x86_64", HypervisorType: "QEMU", HypervisorVersion: "7.2.0"}, Time: t0},
		&fsm.CreateImage{Image: fsm.Image{ID: testImage, Name: "blank", DiskFormat: "qcow2",
			ContainerFormat: "bare", Size: 1 << 20, Status: "active", Created: t0, Updated: t0}})
	return c
}

func (c *cluster) Report(ctx context.Context, r *fsm.ReportInstances) error {
	_, err := c.Apply(ctx, r)
	return err
}

// runReconciler runs a reconciler over d, always ready and logging nowhere,
// for the rest of the test.
func (c *cluster) runReconciler(cfg compute.ReconcilerConfig, d compute.Hypervisor) {
	c.t.Helper()
	cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	r := compute.NewReconciler(cfg, c.FSM, d, c, func() bool { return true })
	testkit.Start(c.t, time.Minute, "the reconciler's Run", r.Run)
}

// createOn creates one m1.tiny server of testImage and places it on host.
func (c *cluster) createOn(id, name, host string) {
	c.t.Helper()
	c.MustApply(c.t, &fsm.CreateInstances{RequestID: "req-create", Time: t0, Instances: []fsm.NewInstance{
		{ID: id, Name: name, FlavorID: "1", ImageID: testImage}}})
	c.MustApply(c.t, &fsm.Plan{Time: t0, RequestID: "plan-1", Ratios: fsm.DefaultRatios, MaxAttempts: 3,
		Placements: []fsm.Placement{{InstanceID: id, Host: host}}})
}

// waitStatus waits until the instance shows status and power, with no task.
func (c *cluster) waitStatus(id, status string, power fsm.PowerState) {
	c.t.Helper()
	testkit.WaitFor(c.t, 30*time.Second, fmt.Sprintf("%s %s power %d, no task", id, status, power), func() (bool, string) {
		inst, err := c.FSM.Instance(id)
		return err == nil && inst.Status() == status && inst.PowerState == power && inst.TaskState == fsm.TaskNone,
			fmt.Sprintf("%s/%s power %d (fault %+v, err %v)", inst.VMState, inst.TaskState, inst.PowerState, inst.Fault, err)
	})
}

// The real reconciler drives this driver through a server's life, with the
// FSM's network and addresses.
func TestReconcilerWithLibvirt(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	host := e.node("n1")
	c := newCluster(t, e, host)
	d := e.driver(host, func(cfg *Config) {
		cfg.ClusterID = func() string { return "cluster-" + e.suffix }
		cfg.Network = func() (fsm.NetworkInfo, bool) {
			n, ok := c.FSM.Network()
			n.Name = e.network.Name // the FSM's "default", made unique to this test
			return n, ok
		}
	})
	// The interval is long: only FSM changes and domain events drive passes.
	c.runReconciler(compute.ReconcilerConfig{Host: host, Interval: time.Minute,
		StopTimeout: time.Second, MinBackoff: 100 * time.Millisecond, MaxBackoff: time.Second}, d)

	id := "6a0f3c1e-2222-4000-8000-" + e.suffix + "0000"
	c.createOn(id, "web-1", host)
	start := time.Now()
	c.waitStatus(id, "ACTIVE", fsm.PowerRunning)
	t.Logf("spawn to ACTIVE took %v", time.Since(start).Round(time.Millisecond))
	if got := domstate(t, id); got != "running" {
		t.Errorf("virsh domstate = %q after spawn", got)
	}
	inst, _ := c.FSM.Instance(id)
	if hosts := e.dhcpHostsOf(); !strings.Contains(hosts, inst.Addresses[0].MAC) || !strings.Contains(hosts, inst.Addresses[0].IP) {
		t.Errorf("no reservation for %+v:\n%s", inst.Addresses[0], hosts)
	}

	for _, step := range []struct {
		action, status string
		power          fsm.PowerState
		virsh          string
	}{
		{fsm.ActionStop, "SHUTOFF", fsm.PowerShutdown, "shut off"},
		{fsm.ActionStart, "ACTIVE", fsm.PowerRunning, "running"},
		{fsm.ActionPause, "PAUSED", fsm.PowerPaused, "paused"},
		{fsm.ActionUnpause, "ACTIVE", fsm.PowerRunning, "running"},
	} {
		start := time.Now()
		c.MustApply(t, &fsm.InstanceAction{ID: id, Action: step.action, RequestID: "req-" + step.action, Time: t0})
		c.waitStatus(id, step.status, step.power)
		t.Logf("%s to %s took %v", step.action, step.status, time.Since(start).Round(time.Millisecond))
		if got := domstate(t, id); got != step.virsh {
			t.Errorf("after %s: virsh domstate = %q, want %q", step.action, got, step.virsh)
		}
	}

	// A guest that powers off on its own is noticed through its event, long
	// before the interval (a second when idle; slack for a loaded host).
	virsh(t, "destroy", domainPrefix+id)
	start = time.Now()
	c.waitStatus(id, "SHUTOFF", fsm.PowerShutdown)
	if took := time.Since(start); took > 10*time.Second {
		t.Errorf("guest powered off outside shoal: SHUTOFF only after %v", took)
	}
	t.Logf("guest powered off outside shoal: SHUTOFF %v after virsh destroy returned", time.Since(start).Round(time.Millisecond))

	start = time.Now()
	c.MustApply(t, &fsm.InstanceAction{ID: id, Action: fsm.ActionDelete, RequestID: "req-delete", Time: t0})
	testkit.WaitFor(t, 30*time.Second, "the instance and its domain gone", func() (bool, string) {
		_, ierr := c.FSM.Instance(id)
		list, lerr := d.List(bg)
		return errors.Is(ierr, fsm.ErrNotFound) && lerr == nil && len(list) == 0,
			fmt.Sprintf("instance %v, domains %+v (%v)", ierr, list, lerr)
	})
	t.Logf("delete took %v", time.Since(start).Round(time.Millisecond))
	if _, err := os.Stat(filepath.Join(d.cfg.InstancesDir, id+".qcow2")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("disk after delete: %v", err)
	}
	if hosts := e.dhcpHostsOf(); strings.Contains(hosts, inst.Addresses[0].MAC) {
		t.Errorf("reservation left after delete:\n%s", hosts)
	}
}

// startCounter counts Start calls on the driver it wraps.
type startCounter struct {
	*Driver
	mu     sync.Mutex
	starts int
}

func (s *startCounter) Start(ctx context.Context, id string) error {
	s.mu.Lock()
	s.starts++
	s.mu.Unlock()
	return s.Driver.Start(ctx, id)
}

// A data dir under a parent QEMU cannot enter (0700, as t.TempDir's parents
// are) makes every boot fail with "Permission denied". Retrying cannot heal
// that: the spawn is tried once and the server goes to ERROR with libvirt's
// reason as its fault. The backoff is a minute, so a retry would miss the
// wait below.
func TestReconcilerPermanentFailureWithLibvirt(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	host := e.node("p1")
	c := newCluster(t, e, host)
	closed := filepath.Join(e.dataDir, "closed")
	if err := os.Mkdir(closed, 0o700); err != nil {
		t.Fatal(err)
	}
	d := &startCounter{Driver: e.driver(host, func(cfg *Config) { cfg.DataDir = filepath.Join(closed, host) })}
	c.runReconciler(compute.ReconcilerConfig{Host: host, Interval: time.Minute,
		MinBackoff: time.Minute, MaxBackoff: time.Minute}, d)

	id := "6a0f3c1e-3333-4000-8000-" + e.suffix + "0000"
	c.createOn(id, "closed-1", host)
	c.waitStatus(id, "ERROR", fsm.PowerShutdown)
	inst, err := c.FSM.Instance(id)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("fault: %s", inst.Fault.Message)
	if !strings.HasPrefix(inst.Fault.Message, "Build of instance "+id+" aborted: ") ||
		!strings.Contains(inst.Fault.Message, "Permission denied") {
		t.Errorf("fault %q: want the build aborted with libvirt's Permission denied", inst.Fault.Message)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.starts != 1 {
		t.Errorf("Start called %d times, want once", d.starts)
	}
}
