package compute

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/shoal-project/shoal/fsm"
)

// task carries out one task_state on the hypervisor. Every task is safe to
// repeat: the hypervisor's operations are idempotent.
type task func(ctx context.Context, hv Hypervisor, inst fsm.Instance, stopTimeout time.Duration) error

// tasks are the task_states a host acts on, and the power state each leaves
// the domain in when it succeeds.
var tasks = map[string]struct {
	run   task
	power fsm.PowerState
}{
	fsm.TaskSpawning:      {spawn, fsm.PowerRunning},
	fsm.TaskPoweringOff:   {stop, fsm.PowerShutdown},
	fsm.TaskPoweringOn:    {byID(Hypervisor.Start), fsm.PowerRunning},
	fsm.TaskRebooting:     {reboot(false), fsm.PowerRunning},
	fsm.TaskRebootingHard: {reboot(true), fsm.PowerRunning},
	fsm.TaskPausing:       {byID(Hypervisor.Pause), fsm.PowerPaused},
	fsm.TaskUnpausing:     {byID(Hypervisor.Unpause), fsm.PowerRunning},
	fsm.TaskSuspending:    {byID(Hypervisor.Suspend), fsm.PowerSuspended},
	fsm.TaskResuming:      {byID(Hypervisor.Resume), fsm.PowerRunning},
	fsm.TaskDeleting:      {remove, fsm.PowerNoState},
	// Evacuated here: built afresh from the image (the old disk stayed on
	// the dead host), started unless the server was stopped.
	fsm.TaskRebuildSpawning: {rebuild, fsm.PowerRunning},
	// Rebuilt in place (Nova's rebuild): the old domain and its disk go,
	// then as an evacuation, from the image the server now names.
	fsm.TaskRebuilding: {rebuildInPlace, fsm.PowerRunning},
}

// rebuildInPlace replaces the domain and its disk. Repeated (the agent
// restarted before its report was committed), it builds the fresh disk
// once more, which holds nothing of the guest's yet.
func rebuildInPlace(ctx context.Context, hv Hypervisor, inst fsm.Instance, timeout time.Duration) error {
	if err := removeDomain(ctx, hv, inst.ID); err != nil {
		return err
	}
	return rebuild(ctx, hv, inst, timeout)
}

// errIncoming is a rebuild waiting for a domain that is still arriving.
// It is transient: the reconciler tries again later.
var errIncoming = errors.New("the domain is paused: an incoming migration is still in flight")

// rebuild builds an evacuated server here. A domain that exists is adopted
// (Define changes nothing, Start of a running one is nil): a live
// migration whose source went down may have finished moving it here. One
// that does not may have left the disk of an incoming migration that never
// completed: Undefine removes it, so Define builds a fresh one from the
// image. A paused domain of a server that should run is a migration still
// arriving: it is waited for, never started or destroyed.
func rebuild(ctx context.Context, hv Hypervisor, inst fsm.Instance, _ time.Duration) error {
	d, err := hv.Inspect(ctx, inst.ID)
	exists := err == nil
	switch {
	case errors.Is(err, ErrNotFound):
		if err := hv.Undefine(ctx, inst.ID); err != nil {
			return fmtOp("undefine", err)
		}
	case err != nil:
		return fmtOp("inspect", err)
	case d.PowerState == fsm.PowerPaused && inst.VMState != fsm.VMStopped:
		return fmt.Errorf("rebuild of %s: %w", inst.ID, errIncoming)
	}
	if err := hv.Define(ctx, SpecOf(inst)); err != nil {
		return fmtOp("define", err)
	}
	if inst.VMState == fsm.VMStopped {
		if exists && (d.PowerState == fsm.PowerRunning || d.PowerState == fsm.PowerPaused) {
			return fmtOp("destroy", hv.Destroy(ctx, inst.ID)) // a stopped server's copy does not run
		}
		return nil
	}
	return fmtOp("start", hv.Start(ctx, inst.ID))
}

// spawn defines and boots the instance. A domain that exists already (the
// agent restarted after creating it) is adopted: Define leaves it alone and
// Start does nothing to a running one.
func spawn(ctx context.Context, hv Hypervisor, inst fsm.Instance, _ time.Duration) error {
	if err := hv.Define(ctx, SpecOf(inst)); err != nil {
		return fmtOp("define", err)
	}
	return fmtOp("start", hv.Start(ctx, inst.ID))
}

func stop(ctx context.Context, hv Hypervisor, inst fsm.Instance, timeout time.Duration) error {
	return fmtOp("stop", hv.Stop(ctx, inst.ID, timeout))
}

// reboot restarts the guest. A hard reboot first defines the domain, so it
// also repairs an instance whose domain went missing, as Nova's does.
func reboot(hard bool) task {
	return func(ctx context.Context, hv Hypervisor, inst fsm.Instance, _ time.Duration) error {
		if hard {
			if err := hv.Define(ctx, SpecOf(inst)); err != nil {
				return fmtOp("define", err)
			}
		}
		return fmtOp("reboot", hv.Reboot(ctx, inst.ID, hard))
	}
}

// remove powers the domain off and deletes it with its disks.
func remove(ctx context.Context, hv Hypervisor, inst fsm.Instance, _ time.Duration) error {
	return removeDomain(ctx, hv, inst.ID)
}

func removeDomain(ctx context.Context, hv Hypervisor, id string) error {
	if err := hv.Destroy(ctx, id); err != nil {
		return fmtOp("destroy", err)
	}
	return fmtOp("undefine", hv.Undefine(ctx, id))
}

func byID(op func(Hypervisor, context.Context, string) error) task {
	return func(ctx context.Context, hv Hypervisor, inst fsm.Instance, _ time.Duration) error {
		return op(hv, ctx, inst.ID)
	}
}

// fmtOp names the step that failed; the hypervisor's error says why.
func fmtOp(op string, err error) error {
	if err == nil {
		return nil
	}
	return &opError{op: op, err: err}
}

type opError struct {
	op  string
	err error
}

func (e *opError) Error() string { return e.op + ": " + e.err.Error() }
func (e *opError) Unwrap() error { return e.err }

// sync compares the instances the FSM gives this host with the domains the
// hypervisor has, and starts what closes the gap.
func (r *Reconciler) sync(ctx context.Context) {
	// A server moving to or from here has its domain here, or is getting
	// it: no orphan, and no task of this host's (the other end acts).
	// Read before and after the instances: a step that passes a server
	// between this host's instances and its moving ones in between is
	// seen on one side or the other, never on neither.
	moving := r.movingHere(nil)
	desired := r.st.InstancesOnHost(r.cfg.Host)
	domains, err := r.hv.List(ctx)
	if err != nil {
		if ctx.Err() == nil {
			r.log.Warn("cannot list domains; will retry", "err", err)
		}
		return
	}
	actual := make(map[string]Domain, len(domains))
	for _, d := range domains {
		actual[d.ID] = d
	}
	r.planRestarts(desired, actual)
	wanted := make(map[string]bool, len(desired))
	for _, inst := range desired {
		wanted[inst.ID] = true
		dom, ok := actual[inst.ID]
		r.reconcile(ctx, inst, dom, ok)
	}
	moving = r.movingHere(moving)
	r.noticeArrivals(actual)
	for _, d := range domains {
		if !wanted[d.ID] && !moving[d.ID] {
			r.removeOrphan(ctx, d)
		}
	}
	r.cleanIncoming(ctx, wanted, moving, actual)
	r.forget(wanted, actual)
}

// reconcile decides about one instance: carry out its task, or report a
// power state the FSM does not know yet.
func (r *Reconciler) reconcile(ctx context.Context, inst fsm.Instance, dom Domain, exists bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.busyLocked(inst) {
		return
	}
	if inst.TaskState == fsm.TaskNone && r.restart[inst.ID] {
		r.restartLocked(ctx, inst, dom, exists)
		return
	}
	delete(r.restart, inst.ID) // a task the user asked for wins
	if inst.TaskState == fsm.TaskNone {
		r.observeLocked(inst, dom, exists)
		return
	}
	if r.moveLocked(ctx, inst) {
		return
	}
	t, ok := tasks[inst.TaskState]
	if !ok || !r.dueLocked(inst.ID, inst.TaskState) {
		return
	}
	power := t.power
	if (inst.TaskState == fsm.TaskRebuildSpawning || inst.TaskState == fsm.TaskRebuilding) && inst.VMState == fsm.VMStopped {
		power = fsm.PowerShutdown
	}
	j := job{id: inst.ID, task: inst.TaskState, index: inst.ModifyIndex, taskIndex: inst.TaskIndex,
		run: leaving(power, func(ctx context.Context) error { return t.run(ctx, r.hv, inst, r.cfg.StopTimeout) })}
	r.dispatchLocked(ctx, j)
}

// busyLocked reports whether the instance must wait: an operation on it
// runs, its report is not committed yet, or the FSM has not yet applied the
// report that answered the state it shows (acting again would repeat a
// reboot, or report twice).
func (r *Reconciler) busyLocked(inst fsm.Instance) bool {
	if r.inFlight[inst.ID] {
		return true
	}
	if _, ok := r.pending[inst.ID]; ok {
		return true
	}
	if idx, ok := r.settled[inst.ID]; ok {
		if idx == inst.ModifyIndex {
			return true
		}
		delete(r.settled, inst.ID)
	}
	return false
}

// observeLocked reports a power state that differs from the FSM's: a guest
// that shut down or crashed on its own, or a domain that vanished (no
// state). It never starts or stops anything: what the user asked for is in
// the task, and there is none.
func (r *Reconciler) observeLocked(inst fsm.Instance, dom Domain, exists bool) {
	power := fsm.PowerNoState
	if exists {
		power = dom.PowerState
	}
	if power == inst.PowerState {
		return
	}
	r.log.Info("power state changed outside shoal", "instance", inst.ID,
		"was", inst.PowerState, "now", power, "vm_state", inst.VMState)
	r.pending[inst.ID] = pendingReport{fsm.InstanceReport{ID: inst.ID, PowerState: power}, inst.ModifyIndex}
}

// removeOrphan destroys a domain no instance on this host owns: its
// instance was deleted, or placed elsewhere. Only called on a view that has
// caught up (sync runs only when ready).
func (r *Reconciler) removeOrphan(ctx context.Context, d Domain) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.inFlight[d.ID] || !r.dueLocked(d.ID, orphanTask) {
		return
	}
	r.log.Info("removing orphan domain", "domain", d.ID, "name", d.Name, "power_state", d.PowerState)
	r.dispatchLocked(ctx, job{id: d.ID, task: orphanTask,
		run: leaving(fsm.PowerNoState, func(ctx context.Context) error { return removeDomain(ctx, r.hv, d.ID) })})
}

// forget drops bookkeeping about IDs that are neither instances here nor
// domains any more.
func (r *Reconciler) forget(wanted map[string]bool, actual map[string]Domain) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for id := range r.settled {
		if !wanted[id] {
			delete(r.settled, id)
		}
	}
	for id := range r.retries {
		if _, ok := actual[id]; !ok && !wanted[id] && !r.inFlight[id] {
			delete(r.retries, id)
		}
	}
}

// permanent reports whether retrying err cannot help: the domain's state
// forbids the operation, the domain is missing, or the driver marked the
// failure permanent (a host set up wrong, a request it cannot run).
func permanent(err error) bool {
	return errors.Is(err, ErrInvalidState) || errors.Is(err, ErrNotFound) || errors.Is(err, ErrPermanent)
}

// planRestarts, once per fence epoch, marks the servers the FSM wants
// running here whose domain does not run: the fence, or a power failure,
// stopped them behind shoal's back.
func (r *Reconciler) planRestarts(desired []fsm.Instance, actual map[string]Domain) {
	if r.cfg.Epoch == nil {
		return
	}
	e := r.cfg.Epoch()
	r.mu.Lock()
	defer r.mu.Unlock()
	if e == r.epoch {
		return
	}
	r.epoch = e
	for _, inst := range desired {
		if d, ok := actual[inst.ID]; inst.VMState == fsm.VMActive && inst.TaskState == fsm.TaskNone &&
			(!ok || d.PowerState != fsm.PowerRunning) {
			r.restart[inst.ID] = true
		}
	}
	if len(r.restart) > 0 {
		r.log.Info("starting again the servers stopped while this host was fenced or down", "servers", len(r.restart))
	}
}

// restartLocked starts a server stopped by fencing again, if the FSM still
// wants it running here.
func (r *Reconciler) restartLocked(ctx context.Context, inst fsm.Instance, dom Domain, exists bool) {
	if inst.VMState != fsm.VMActive || exists && dom.PowerState == fsm.PowerRunning {
		delete(r.restart, inst.ID)
		r.observeLocked(inst, dom, exists)
		return
	}
	if !r.dueLocked(inst.ID, restartTask) {
		return
	}
	r.dispatchLocked(ctx, job{id: inst.ID, task: restartTask, index: inst.ModifyIndex, known: inst.PowerState,
		run: leaving(fsm.PowerRunning, func(ctx context.Context) error { return spawn(ctx, r.hv, inst, 0) })})
}
