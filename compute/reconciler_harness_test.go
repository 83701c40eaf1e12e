package compute_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shoal-project/shoal/compute"
	"github.com/shoal-project/shoal/compute/fake"
	"github.com/shoal-project/shoal/fsm"
	"github.com/shoal-project/shoal/fsm/fsmtest"
	"github.com/shoal-project/shoal/internal/testkit"
)

const (
	host    = "node1"
	imageID = "img-cirros"
	timeout = 5 * time.Second
)

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// harness is one node: a real FSM fed through Encode and Apply as Raft
// would, a fake hypervisor, and a Reporter that applies reports to the FSM.
type harness struct {
	*fsmtest.Applier
	t  *testing.T
	hv *fake.Driver

	reportErr atomic.Pointer[error] // when set, Report fails with it
	// afterCommit, when set, runs once after a report is committed; its error
	// is what Report returns (a commit the caller believes failed).
	afterCommit atomic.Pointer[func() error]
	reports     atomic.Int64 // committed ReportInstances
	ready       atomic.Bool
	readyAsks   atomic.Int64
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	h := &harness{Applier: fsmtest.New(), t: t, hv: fake.New(fake.Config{})}
	h.ready.Store(true)
	h.MustApply(h.t, &fsm.Bootstrap{ClusterID: "c1", Time: t0, Flavors: fsm.DefaultFlavors(), NetworkCIDR: "10.88.0.0/16"})
	h.MustApply(h.t, &fsm.RegisterHost{Name: host, GossipAddress: host + ":7946", RaftAddress: host + ":7000",
		HTTPAddress: host + ":8774", Time: t0})
	h.MustApply(h.t, &fsm.UpdateHostInventory{Name: host, Inventory: fsm.Inventory{VCPUs: 8, MemoryMiB: 16384, DiskGiB: 200,
		Arch: "x86_64", HypervisorType: "fake", HypervisorVersion: "1.0"}, Time: t0})
	h.MustApply(h.t, &fsm.CreateImage{Image: fsm.Image{ID: imageID, Name: "cirros", DiskFormat: "qcow2",
		ContainerFormat: "bare", Size: 1 << 20, Status: "active", Created: t0, Updated: t0}})
	return h
}

// Report is the Reporter: it commits the batch, or fails as told.
func (h *harness) Report(ctx context.Context, r *fsm.ReportInstances) error {
	if err := h.reportErr.Load(); err != nil {
		return *err
	}
	if _, err := h.Apply(ctx, r); err != nil {
		return err
	}
	h.reports.Add(1)
	if hook := h.afterCommit.Swap(nil); hook != nil {
		return (*hook)()
	}
	return nil
}

func (h *harness) failReports(err error) {
	if err == nil {
		h.reportErr.Store(nil)
		return
	}
	h.reportErr.Store(&err)
}

func (h *harness) isReady() bool {
	h.readyAsks.Add(1)
	return h.ready.Load()
}

// config is fast enough for tests: short interval and backoffs.
func config() compute.ReconcilerConfig {
	return compute.ReconcilerConfig{Host: host, Interval: 50 * time.Millisecond, StopTimeout: time.Second,
		MinBackoff: 10 * time.Millisecond, MaxBackoff: 40 * time.Millisecond,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
}

// start runs a reconciler over hv until the returned stop is called (or the
// test ends).
func (h *harness) start(cfg compute.ReconcilerConfig, hv compute.Hypervisor) (stop func()) {
	r := compute.NewReconciler(cfg, h.FSM, hv, h, h.isReady)
	return testkit.Start(h.t, timeout, "the reconciler's Run", r.Run)
}

// create creates one m1.tiny server and places it on host.
func (h *harness) create(id, name string) {
	h.t.Helper()
	h.createOn(id, name, host)
}

// createOn creates one m1.tiny server and places it on node.
func (h *harness) createOn(id, name, node string) {
	h.t.Helper()
	h.MustApply(h.t, &fsm.CreateInstances{RequestID: "req-" + id, Time: t0, Instances: []fsm.NewInstance{
		{ID: id, Name: name, FlavorID: "1", ImageID: imageID, Metadata: map[string]string{"owner": "test"}}}})
	h.MustApply(h.t, &fsm.Plan{Time: t0, RequestID: "plan-" + id, Ratios: fsm.DefaultRatios, MaxAttempts: 3,
		Placements: []fsm.Placement{{InstanceID: id, Host: node}}})
}

// activeOn runs a reconciler over hv and waits until vm1 ("web-1"),
// created and placed, is ACTIVE.
func (h *harness) activeOn(hv compute.Hypervisor) {
	h.t.Helper()
	h.start(config(), hv)
	h.create(vm1, "web-1")
	h.waitStatus(vm1, "ACTIVE", fsm.PowerRunning)
}

// newActive is a harness with vm1 ACTIVE through a counting hypervisor.
func newActive(t *testing.T) (*harness, *counting) {
	t.Helper()
	h := newHarness(t)
	hv := &counting{Hypervisor: h.hv}
	h.activeOn(hv)
	return h, hv
}

func (h *harness) action(id, action string, hard bool) {
	h.t.Helper()
	h.MustApply(h.t, &fsm.InstanceAction{ID: id, Action: action, Hard: hard, RequestID: "req-" + action, Time: t0})
}

func (h *harness) instance(id string) (fsm.Instance, bool) {
	inst, err := h.FSM.Instance(id)
	if errors.Is(err, fsm.ErrNotFound) {
		return inst, false
	}
	if err != nil {
		h.t.Fatal(err)
	}
	return inst, true
}

func (h *harness) domain(id string) (fake.FakeDomain, bool) {
	for _, d := range h.hv.Domains() {
		if d.ID == id {
			return d, true
		}
	}
	return fake.FakeDomain{}, false
}

// waitStatus waits until the instance shows status and power, with no task.
func (h *harness) waitStatus(id, status string, power fsm.PowerState) fsm.Instance {
	h.t.Helper()
	var inst fsm.Instance
	testkit.WaitFor(h.t, timeout, fmt.Sprintf("%s %s power %d, no task", id, status, power), func() (bool, string) {
		inst, _ = h.instance(id)
		return inst.Status() == status && inst.PowerState == power && inst.TaskState == fsm.TaskNone,
			fmt.Sprintf("%s/%s power %d; domains %+v", inst.VMState, inst.TaskState, inst.PowerState, h.hv.Domains())
	})
	return inst
}

// counting wraps a hypervisor to count calls and the most run at once.
type counting struct {
	compute.Hypervisor
	mu          sync.Mutex
	calls       map[string]int
	order       []string // the operations, in the order they were called
	running, hi int
}

func (c *counting) track(op string) func() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.calls == nil {
		c.calls = map[string]int{}
	}
	c.calls[op]++
	c.order = append(c.order, op)
	c.running++
	c.hi = max(c.hi, c.running)
	return func() {
		c.mu.Lock()
		defer c.mu.Unlock()
		c.running--
	}
}

func (c *counting) count(op string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.calls[op]
}

func (c *counting) Define(ctx context.Context, s compute.InstanceSpec) error {
	defer c.track("define")()
	return c.Hypervisor.Define(ctx, s)
}

func (c *counting) Start(ctx context.Context, id string) error {
	defer c.track("start")()
	return c.Hypervisor.Start(ctx, id)
}

func (c *counting) Reboot(ctx context.Context, id string, hard bool) error {
	defer c.track("reboot")()
	return c.Hypervisor.Reboot(ctx, id, hard)
}

func (c *counting) Destroy(ctx context.Context, id string) error {
	defer c.track("destroy")()
	return c.Hypervisor.Destroy(ctx, id)
}

func (c *counting) Undefine(ctx context.Context, id string) error {
	defer c.track("undefine")()
	return c.Hypervisor.Undefine(ctx, id)
}

func (c *counting) ops() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.order...)
}
