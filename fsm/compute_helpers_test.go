package fsm_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"testing"

	"github.com/shoal-project/shoal/fsm"
	"github.com/shoal-project/shoal/fsm/fsmtest"
)

// Helpers for the compute commands (instances, network, plans, reports).
// Everything goes through Encode→Apply at consecutive log indexes.

const (
	testImage = "img-cirros"
	testCIDR  = "10.20.0.0/24"
)

func activeImage(id string) fsm.Image {
	return fsm.Image{ID: id, Name: "cirros-" + id, DiskFormat: "qcow2", ContainerFormat: "bare",
		Size: 1 << 20, Checksum: sumA, Status: "active", MinRAM: 0, MinDisk: 1,
		Properties: map[string]string{"os_distro": "cirros"}, Created: t0, Updated: t0}
}

func inventory(name string, vcpus, ram, disk int) *fsm.UpdateHostInventory {
	return &fsm.UpdateHostInventory{Name: name, Inventory: fsm.Inventory{VCPUs: vcpus, MemoryMiB: int64(ram), DiskGiB: int64(disk),
		Arch: "x86_64", HypervisorType: "QEMU", HypervisorVersion: "8.2.0", Zone: "nova"}, Time: t0}
}

// world is an FSM driven through Encode→Apply at consecutive indexes.
type world struct {
	t    testing.TB
	f    *fsm.FSM
	next uint64
}

// newWorld is a bootstrapped cluster with a network of cidr, the default
// flavors, one active image and hosts h1..h3 (8 vCPUs, 16 GiB, 100 GiB each).
func newWorld(t testing.TB, cidr string) *world {
	t.Helper()
	w := &world{t: t, f: fsm.New(), next: 1}
	w.must(
		&fsm.Bootstrap{ClusterID: "c1", Time: t0, Flavors: fsm.DefaultFlavors(), NetworkCIDR: cidr},
		&fsm.CreateImage{Image: activeImage(testImage)},
	)
	for _, h := range []string{"h1", "h2", "h3"} {
		w.must(registerHost(h, t0), inventory(h, 8, 16384, 100))
	}
	return w
}

// apply applies c at the next index and returns its business error.
func (w *world) apply(c fsm.Command) error {
	w.t.Helper()
	w.answerCurrentTasks(c)
	err := applyErr(w.t, w.f, w.next, c)
	w.next++
	return err
}

// must applies cmds, each of which must succeed.
func (w *world) must(cmds ...fsm.Command) {
	w.t.Helper()
	for _, c := range cmds {
		w.answerCurrentTasks(c)
		w.next = mustApply(w.t, w.f, w.next, c)
	}
}

// answerCurrentTasks fills in the TaskIndex of reports that carry a Done but
// no TaskIndex, as a host would: the report answers the task running now.
// Tests of stale reports set TaskIndex themselves.
func (w *world) answerCurrentTasks(c fsm.Command) {
	rep, ok := c.(*fsm.ReportInstances)
	if !ok {
		return
	}
	for k, r := range rep.Reports {
		if r.Done == "" || r.TaskIndex != 0 {
			continue
		}
		if i, err := w.f.Instance(r.ID); err == nil {
			rep.Reports[k].TaskIndex = i.TaskIndex
		}
	}
}

// refuse applies c, checks that it fails with want (and no other sentinel)
// and changes nothing but the index, and returns the error.
func (w *world) refuse(c fsm.Command, want error) error {
	w.t.Helper()
	before := snapshotBytes(w.t, w.f)
	index := w.next
	err := w.apply(c)
	assertBusinessError(w.t, err, want)
	assertOnlyIndexChanged(w.t, before, snapshotBytes(w.t, w.f), index)
	return err
}

// noop applies c, which must succeed and change nothing but the index.
func (w *world) noop(c fsm.Command) {
	w.t.Helper()
	before := snapshotBytes(w.t, w.f)
	index := w.next
	if err := w.apply(c); err != nil {
		w.t.Fatalf("apply %s: %v", c.Type(), err)
	}
	assertOnlyIndexChanged(w.t, before, snapshotBytes(w.t, w.f), index)
}

func server(id string) fsm.NewInstance {
	return fsm.NewInstance{ID: id, Name: "vm-" + id, FlavorID: "1", ImageID: testImage}
}

func createCmd(ids ...string) *fsm.CreateInstances {
	c := &fsm.CreateInstances{RequestID: "req-create", Time: t0}
	for _, id := range ids {
		c.Instances = append(c.Instances, server(id))
	}
	return c
}

// create creates servers with flavor m1.tiny, one command for all.
func (w *world) create(ids ...string) {
	w.t.Helper()
	w.must(createCmd(ids...))
}

func planCmd(placements ...fsm.Placement) *fsm.Plan {
	return &fsm.Plan{Time: t1, RequestID: "req-plan", Ratios: fsm.DefaultRatios, MaxAttempts: 3, Placements: placements}
}

// place puts a pending server on host; the placement must be accepted.
func (w *world) place(id, host string) {
	w.t.Helper()
	w.must(planCmd(fsm.Placement{InstanceID: id, Host: host}))
	if i := w.inst(id); i.Host != host || i.TaskState != fsm.TaskSpawning {
		w.t.Fatalf("placing %s on %s: host %q task %q", id, host, i.Host, i.TaskState)
	}
}

// powerAfter is the power state a host reports after finishing a task.
var powerAfter = map[string]fsm.PowerState{
	fsm.TaskSpawning:      fsm.PowerRunning,
	fsm.TaskPoweringOff:   fsm.PowerShutdown,
	fsm.TaskPoweringOn:    fsm.PowerRunning,
	fsm.TaskRebooting:     fsm.PowerRunning,
	fsm.TaskRebootingHard: fsm.PowerRunning,
	fsm.TaskPausing:       fsm.PowerPaused,
	fsm.TaskUnpausing:     fsm.PowerRunning,
	fsm.TaskSuspending:    fsm.PowerSuspended,
	fsm.TaskResuming:      fsm.PowerRunning,
	fsm.TaskDeleting:      fsm.PowerNoState,
}

func reportCmd(host string, reports ...fsm.InstanceReport) *fsm.ReportInstances {
	return &fsm.ReportInstances{Host: host, Time: t2, Reports: reports}
}

// finish has the server's host report its current task done.
func (w *world) finish(id string) {
	w.t.Helper()
	i := w.inst(id)
	if i.TaskState == fsm.TaskNone || i.Host == "" {
		w.t.Fatalf("finish %s: no task on a host (host %q task %q)", id, i.Host, i.TaskState)
	}
	w.must(reportCmd(i.Host, fsm.InstanceReport{ID: id, PowerState: powerAfter[i.TaskState], Done: i.TaskState}))
}

func actionCmd(id, action string) *fsm.InstanceAction {
	return &fsm.InstanceAction{ID: id, Action: action, RequestID: "req-" + action, Time: t1}
}

func hardReboot(id string) *fsm.InstanceAction {
	c := actionCmd(id, fsm.ActionReboot)
	c.Hard = true
	return c
}

func resetState(id, state string) *fsm.InstanceAction {
	c := actionCmd(id, fsm.ActionResetState)
	c.State = state
	return c
}

// act applies an instance action that must succeed.
func (w *world) act(id, action string) {
	w.t.Helper()
	w.must(actionCmd(id, action))
}

func (w *world) inst(id string) fsm.Instance {
	w.t.Helper()
	return fsmtest.MustRead(w.t, "Instance", w.f.Instance, id)
}

func (w *world) gone(id string) {
	w.t.Helper()
	if i, err := w.f.Instance(id); !errors.Is(err, fsm.ErrNotFound) {
		w.t.Fatalf("Instance(%q) = %+v, %v; want ErrNotFound", id, i, err)
	}
}

func (w *world) ip(id string) string {
	w.t.Helper()
	i := w.inst(id)
	if len(i.Addresses) != 1 {
		w.t.Fatalf("server %s has addresses %+v, want one", id, i.Addresses)
	}
	return i.Addresses[0].IP
}

// state is the FSM's state as a snapshot carries it.
func stateOf(t testing.TB, f *fsm.FSM) fsm.State {
	t.Helper()
	var s fsm.State
	if err := json.Unmarshal(snapshotBytes(t, f), &s); err != nil {
		t.Fatalf("decode snapshot: %v", err)
	}
	return s
}

// reach brings a new server id on h1 into vm_state vm with task_state task,
// through the commands a user and a host would send. Error with no task has
// a host (reset-state); errorNoHost is a server no host was found for.
func (w *world) reach(id, vm, task string) {
	w.t.Helper()
	type step func()
	act := func(a string) step { return func() { w.act(id, a) } }
	fin := func() { w.finish(id) }
	path := map[[2]string][]step{
		{fsm.VMBuilding, fsm.TaskScheduling}: {},
		{fsm.VMBuilding, fsm.TaskSpawning}:   {func() { w.place(id, "h1") }},
	}
	active := append(path[[2]string{fsm.VMBuilding, fsm.TaskSpawning}], fin)
	with := func(base []step, more ...step) []step { return append(slices.Clone(base), more...) }
	path[[2]string{fsm.VMActive, fsm.TaskNone}] = active
	path[[2]string{fsm.VMActive, fsm.TaskRebooting}] = with(active, act(fsm.ActionReboot))
	path[[2]string{fsm.VMActive, fsm.TaskRebootingHard}] = with(active, func() { w.must(hardReboot(id)) })
	path[[2]string{fsm.VMActive, fsm.TaskPoweringOff}] = with(active, act(fsm.ActionStop))
	path[[2]string{fsm.VMActive, fsm.TaskPausing}] = with(active, act(fsm.ActionPause))
	path[[2]string{fsm.VMActive, fsm.TaskSuspending}] = with(active, act(fsm.ActionSuspend))
	path[[2]string{fsm.VMActive, fsm.TaskDeleting}] = with(active, act(fsm.ActionDelete))
	stopped := with(active, act(fsm.ActionStop), fin)
	path[[2]string{fsm.VMStopped, fsm.TaskNone}] = stopped
	path[[2]string{fsm.VMStopped, fsm.TaskPoweringOn}] = with(stopped, act(fsm.ActionStart))
	paused := with(active, act(fsm.ActionPause), fin)
	path[[2]string{fsm.VMPaused, fsm.TaskNone}] = paused
	path[[2]string{fsm.VMPaused, fsm.TaskUnpausing}] = with(paused, act(fsm.ActionUnpause))
	suspended := with(active, act(fsm.ActionSuspend), fin)
	path[[2]string{fsm.VMSuspended, fsm.TaskNone}] = suspended
	path[[2]string{fsm.VMSuspended, fsm.TaskResuming}] = with(suspended, act(fsm.ActionResume))
	errored := with(active, func() { w.must(resetState(id, "error")) })
	path[[2]string{fsm.VMError, fsm.TaskNone}] = errored
	path[[2]string{fsm.VMError, fsm.TaskPoweringOff}] = with(errored, act(fsm.ActionStop))
	path[[2]string{fsm.VMError, fsm.TaskRebootingHard}] = with(errored, func() { w.must(hardReboot(id)) })

	steps, ok := path[[2]string{vm, task}]
	if !ok {
		w.t.Fatalf("reach: no path to vm_state %q task_state %q", vm, task)
	}
	w.create(id)
	for _, s := range steps {
		s()
	}
	if i := w.inst(id); i.VMState != vm || i.TaskState != task {
		w.t.Fatalf("reach %s: got vm_state %q task_state %q, want %q %q", id, i.VMState, i.TaskState, vm, task)
	}
}

// errorNoHost creates a server and fails its scheduling: ERROR, no host.
func (w *world) errorNoHost(id string) {
	w.t.Helper()
	w.create(id)
	p := planCmd()
	p.Failures = []fsm.PlanFailure{{InstanceID: id, Reason: fsm.NoValidHost + ": no host has enough RAM"}}
	w.must(p)
	if i := w.inst(id); i.VMState != fsm.VMError || i.Host != "" {
		w.t.Fatalf("errorNoHost %s: vm_state %q host %q", id, i.VMState, i.Host)
	}
}

func lastAction(t testing.TB, i fsm.Instance) fsm.Action {
	t.Helper()
	if len(i.Actions) == 0 {
		t.Fatalf("server %s has no actions", i.ID)
	}
	return i.Actions[len(i.Actions)-1]
}

// recomputeUsage is what the claims must be, from the instances alone.
func recomputeUsage(insts []fsm.Instance) map[string]fsm.Usage {
	out := map[string]fsm.Usage{}
	for _, i := range insts {
		if i.Host == "" || i.VMState == fsm.VMDeleted {
			continue
		}
		u := out[i.Host]
		u.VCPUs += i.Flavor.VCPUs
		u.RAM += i.Flavor.RAM
		u.Disk += i.Flavor.Disk
		u.Instances++
		out[i.Host] = u
	}
	return out
}

func pendingIDs(insts []fsm.Instance) []string {
	var out []string
	for _, i := range insts {
		if i.Pending() {
			out = append(out, i.ID)
		}
	}
	return out
}

func ids(insts []fsm.Instance) []string {
	var out []string
	for _, i := range insts {
		out = append(out, i.ID)
	}
	return out
}

// checkDerived checks that the FSM's derived indexes (claims, pending set,
// MACs) and the allocation table agree with its instances.
func checkDerived(t testing.TB, f *fsm.FSM) {
	t.Helper()
	insts := f.Instances(nil)
	want := recomputeUsage(insts)
	addMoveClaims(t, f, insts, want)
	if got := f.Usage(); !reflect.DeepEqual(got, want) {
		t.Fatalf("Usage() = %+v, recomputed from the instances %+v", got, want)
	}
	v := f.SchedulingView(0)
	if !reflect.DeepEqual(v.Usage, want) {
		t.Fatalf("SchedulingView.Usage = %+v, recomputed %+v", v.Usage, want)
	}
	// The pending queue is exactly the instances waiting for the scheduler,
	// each once, oldest first: by (CreateIndex, ID), the order Instances()
	// lists them and a restored replica rebuilds.
	if got, want := ids(v.Pending), pendingIDs(insts); !slices.Equal(got, want) {
		t.Fatalf("SchedulingView.Pending = %v, want %v", got, want)
	}
	for k := 1; k <= len(v.Pending); k++ {
		if got := ids(f.SchedulingView(k).Pending); !slices.Equal(got, ids(v.Pending)[:k]) {
			t.Fatalf("SchedulingView(%d).Pending = %v, want the first %d of %v", k, got, k, ids(v.Pending))
		}
	}
	if v.Index != f.Index() {
		t.Fatalf("SchedulingView.Index = %d, want %d", v.Index, f.Index())
	}
	st := stateOf(t, f)
	checkAddresses(t, st)
	checkNetworking(t, st)

	groups := map[string]fsm.ServerGroup{}
	for _, g := range f.ServerGroups() {
		groups[g.ID] = g
		for _, m := range g.Members {
			i, err := f.Instance(m)
			if err != nil || i.ServerGroupID != g.ID {
				t.Fatalf("group %s lists member %s (%v, group %q)", g.ID, m, err, i.ServerGroupID)
			}
		}
	}
	for _, i := range insts {
		if i.ServerGroupID == "" {
			continue
		}
		if g, ok := groups[i.ServerGroupID]; !ok || !slices.Contains(g.Members, i.ID) {
			t.Fatalf("server %s is in group %s, which does not list it", i.ID, i.ServerGroupID)
		}
	}
}

// checkAddresses checks the network's allocation table against the instances:
// one IP per instance, no IP shared, every allocated IP held by the instance the
// table names, all IPs usable addresses of the CIDR, MACs distinct, and no free
// address below the cursor.
func checkAddresses(t testing.TB, s fsm.State) {
	t.Helper()
	if s.Network == nil {
		if len(s.Instances) != 0 {
			t.Fatalf("%d instances and no network", len(s.Instances))
		}
		return
	}
	n := s.Network
	fromInstances := map[string]string{}
	macs := map[string]string{}
	for id, i := range s.Instances {
		if len(i.Addresses) != 1 {
			t.Fatalf("server %s has %d addresses, want 1", id, len(i.Addresses))
		}
		a := i.Addresses[0]
		if a.Network != n.Name {
			t.Fatalf("server %s address on network %q, want %q", id, a.Network, n.Name)
		}
		if other, dup := fromInstances[a.IP]; dup {
			t.Fatalf("servers %s and %s share IP %s", other, id, a.IP)
		}
		fromInstances[a.IP] = id
		if other, dup := macs[a.MAC]; dup {
			t.Fatalf("servers %s and %s share MAC %s", other, id, a.MAC)
		}
		macs[a.MAC] = id
	}
	if !reflect.DeepEqual(n.Allocated, fromInstances) {
		t.Fatalf("allocation table %v, instances hold %v", n.Allocated, fromInstances)
	}
	offs := map[uint32]bool{}
	for ip := range n.Allocated {
		off, ok := offsetIn(n.CIDR, ip)
		if !ok || off < 2 || off >= sizeOf(n.CIDR)-1 {
			t.Fatalf("allocated IP %s is not a usable address of %s", ip, n.CIDR)
		}
		offs[off] = true
	}
	for off := uint32(2); off < n.Cursor && off < sizeOf(n.CIDR)-1; off++ {
		if !offs[off] {
			t.Fatalf("offset %d is free but below the cursor %d", off, n.Cursor)
		}
	}
}

func (w *world) group(id string) fsm.ServerGroup {
	w.t.Helper()
	return fsmtest.MustRead(w.t, "ServerGroup", w.f.ServerGroup, id)
}

// offset is ip's offset in cidr; the test fails if ip is not in it.
func offset(t testing.TB, cidr, ip string) uint32 {
	t.Helper()
	off, ok := offsetIn(cidr, ip)
	if !ok {
		t.Fatalf("%s is not in %s", ip, cidr)
	}
	return off
}

func describe(i fsm.Instance) string {
	return fmt.Sprintf("%s[%s/%s host=%q]", i.ID, i.VMState, i.TaskState, i.Host)
}
