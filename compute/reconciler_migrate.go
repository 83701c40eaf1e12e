package compute

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/shoal-project/shoal/fsm"
)

// moveStep carries out one step of a migration on this host and returns
// the power state it leaves the server in, where it ends.
type moveStep func(r *Reconciler, ctx context.Context, inst fsm.Instance, m fsm.Migration) (fsm.PowerState, error)

// moveSteps are the migration tasks a host carries out: the server's Host
// acts, which is the source until the step that passes it on.
var moveSteps = map[string]moveStep{
	fsm.TaskMigrating:          (*Reconciler).migrateLive,
	fsm.TaskResizeMigrating:    (*Reconciler).migrateCold,
	fsm.TaskResizeFinish:       (*Reconciler).finishResize,
	fsm.TaskResizeReverting:    (*Reconciler).revertResize,
	fsm.TaskResizeRevertFinish: (*Reconciler).finishRevert,
}

// prepareTimeout bounds the destination's preparation, which may first
// fetch the server's image from a peer.
const prepareTimeout = 10 * time.Minute

// errNoMigrator fails a migration step on a host whose driver cannot
// migrate, or an agent that did not wire Peers.
var errNoMigrator = Permanent(errors.New("this host cannot migrate servers"))

// moveLocked starts inst's migration step, and reports whether inst has
// one: a migration task that waits for the scheduler (MigrationPending)
// is nobody's here, and no other rule applies to it either.
func (r *Reconciler) moveLocked(ctx context.Context, inst fsm.Instance) bool {
	step, ok := moveSteps[inst.TaskState]
	if !ok {
		return false
	}
	if inst.MigrationPending || !r.dueLocked(inst.ID, inst.TaskState) {
		return true
	}
	m, err := r.st.MigrationOf(inst.ID)
	if err != nil {
		// The FSM keeps the task and its migration together: a view
		// without one is not worth acting on.
		r.log.Warn("migration task without a migration", "instance", inst.ID, "task", inst.TaskState, "err", err)
		return true
	}
	r.dispatchLocked(ctx, job{id: inst.ID, task: inst.TaskState, index: inst.ModifyIndex, taskIndex: inst.TaskIndex,
		run: func(ctx context.Context) (fsm.PowerState, error) { return step(r, ctx, inst, m) }})
	return true
}

// migrator is the hypervisor as a Migrator (the fence's guard keeps a
// driver's).
func (r *Reconciler) migrator() (Migrator, error) {
	mig, ok := r.hv.(Migrator)
	if !ok {
		return nil, errNoMigrator
	}
	return mig, nil
}

// migrateLive moves a running (or paused) guest to m's destination: the
// destination prepares, libvirt copies memory and disk, and the guest runs
// on there as it ran here. A failed migration is not retried: libvirt
// left the guest here, and the migration ends failed.
func (r *Reconciler) migrateLive(ctx context.Context, inst fsm.Instance, m fsm.Migration) (fsm.PowerState, error) {
	mig, err := r.migrator()
	if err != nil {
		return fsm.PowerNoState, err
	}
	d, err := r.hv.Inspect(ctx, inst.ID)
	if err != nil {
		return fsm.PowerNoState, fmtOp("inspect", err)
	}
	arrived := fsm.PowerRunning
	if inst.VMState == fsm.VMPaused {
		arrived = fsm.PowerPaused
	}
	to, err := r.prepare(ctx, inst, m)
	if d.PowerState != fsm.PowerRunning && d.PowerState != fsm.PowerPaused {
		// Not running here: either libvirt completed the migration before
		// the agent restarted (its Done was never committed) and the
		// destination runs the guest, or the guest stopped here. It is
		// never started paused and moved: that would send a stale copy.
		if errors.Is(err, ErrArrived) {
			r.log.Info("the migration completed before this agent restarted", "instance", inst.ID, "dest", m.Dest)
			return arrived, nil
		}
		if err != nil {
			return fsm.PowerNoState, err
		}
		return fsm.PowerNoState, fmt.Errorf("%w: cannot live-migrate %s: its domain is not running here", ErrInvalidState, inst.ID)
	}
	if err != nil {
		return fsm.PowerNoState, err
	}
	opt := r.cfg.Migrate
	opt.Live = true
	if err := r.send(ctx, mig, inst, m, to, opt); err != nil {
		return fsm.PowerNoState, err
	}
	return arrived, nil
}

// migrateCold moves a stopped guest (a cold migration or a resize): the
// destination prepares, the guest stops, libvirt moves it (paused, with
// its disk); the destination finishes. On failure the guest starts again
// here if it ran.
func (r *Reconciler) migrateCold(ctx context.Context, inst fsm.Instance, m fsm.Migration) (fsm.PowerState, error) {
	mig, err := r.migrator()
	if err != nil {
		return fsm.PowerNoState, err
	}
	// Prepared first: a destination that cannot answer costs the guest
	// no downtime, and the retry does not stop and start it again.
	to, err := r.prepare(ctx, inst, m)
	if err != nil {
		return fsm.PowerNoState, err
	}
	if err := r.hv.Stop(ctx, inst.ID, r.cfg.StopTimeout); err != nil {
		return fsm.PowerNoState, fmtOp("stop", err)
	}
	opt := r.cfg.Migrate
	opt.Live = false
	if err := r.send(ctx, mig, inst, m, to, opt); err != nil {
		if m.PrevVMState == fsm.VMActive && ctx.Err() == nil {
			if serr := r.hv.Start(ctx, inst.ID); serr != nil {
				r.log.Warn("cannot start the guest again after a failed migration", "instance", inst.ID, "err", serr)
			}
		}
		return fsm.PowerNoState, err
	}
	return fsm.PowerShutdown, nil
}

// prepare asks the destination to get ready. Its failure (the peer is
// unreachable, or its replica has not seen the migration yet) is retried.
func (r *Reconciler) prepare(ctx context.Context, inst fsm.Instance, m fsm.Migration) (MigrationTarget, error) {
	if r.cfg.Peers == nil {
		return MigrationTarget{}, errNoMigrator
	}
	pctx, cancel := context.WithTimeout(ctx, prepareTimeout)
	defer cancel()
	to, err := r.cfg.Peers.PrepareMigration(pctx, inst, m)
	if err != nil {
		return MigrationTarget{}, fmtOp("prepare "+m.Dest, err)
	}
	return to, nil
}

// send runs the migration and logs how it went. Its failure is final
// (marked permanent): libvirt gave up and left the guest here, and
// trying again would repeat what did not converge.
func (r *Reconciler) send(ctx context.Context, mig Migrator, inst fsm.Instance, m fsm.Migration, to MigrationTarget, opt MigrateOptions) error {
	r.log.Info("migrating", "instance", inst.ID, "kind", m.Kind, "migration", m.ID, "dest", m.Dest, "uri", to.URI, "live", opt.Live)
	stats, err := mig.MigrateTo(ctx, inst.ID, to, opt)
	if err != nil {
		if ctx.Err() != nil || errors.Is(err, ErrClosed) || errors.Is(err, ErrFenced) {
			return err // not failed: stopped; the step is carried out again
		}
		return Permanent(fmtOp("migrate to "+m.Dest, err))
	}
	r.log.Info("migrated", "instance", inst.ID, "kind", m.Kind, "migration", m.ID, "dest", m.Dest,
		"time", stats.Total, "downtime", stats.Downtime, "memory_bytes", stats.Memory, "disk_bytes", stats.Disk)
	return nil
}

// finishResize, on the destination, turns the paused copy that arrived
// into the server: powered off, given the new flavor, started if it ran
// before.
func (r *Reconciler) finishResize(ctx context.Context, inst fsm.Instance, m fsm.Migration) (fsm.PowerState, error) {
	mig, err := r.migrator()
	if err != nil {
		return fsm.PowerNoState, err
	}
	if err := r.hv.Destroy(ctx, inst.ID); err != nil {
		return fsm.PowerNoState, fmtOp("destroy", err)
	}
	if err := mig.Resize(ctx, SpecOf(inst)); err != nil { // inst has the new flavor now
		return fsm.PowerNoState, fmtOp("resize", err)
	}
	return r.startIfActive(ctx, inst.ID, m)
}

// revertResize, on the destination, removes its copy: the source still
// has the old one.
func (r *Reconciler) revertResize(ctx context.Context, inst fsm.Instance, _ fsm.Migration) (fsm.PowerState, error) {
	return fsm.PowerNoState, removeDomain(ctx, r.hv, inst.ID)
}

// finishRevert, on the source, brings the old domain (kept shut off
// since the migration) back as it was.
func (r *Reconciler) finishRevert(ctx context.Context, inst fsm.Instance, m fsm.Migration) (fsm.PowerState, error) {
	return r.startIfActive(ctx, inst.ID, m)
}

// startIfActive starts the domain when the server ran before the
// migration, and otherwise leaves it shut off.
func (r *Reconciler) startIfActive(ctx context.Context, id string, m fsm.Migration) (fsm.PowerState, error) {
	if m.PrevVMState != fsm.VMActive {
		d, err := r.hv.Inspect(ctx, id)
		if err != nil {
			return fsm.PowerNoState, fmtOp("inspect", err)
		}
		return d.PowerState, nil
	}
	return fsm.PowerRunning, fmtOp("start", r.hv.Start(ctx, id))
}

// stillMoving reports whether report, the Done of a migration step, still
// answers inst although inst changed since the step began. A step runs for
// minutes, during which a server may change without its task changing (a
// tag, its metadata): the guest has moved all the same, and its report
// must not be dropped as stale. It cannot finish another step: the FSM
// takes a Done only for the task and TaskIndex it names, and one that
// committed already ended that task.
func stillMoving(inst fsm.Instance, report fsm.InstanceReport) bool {
	_, move := moveSteps[report.Done]
	return move && inst.TaskState == report.Done && inst.TaskIndex == report.TaskIndex
}

// cleanIncoming removes what a migration that was coming here and is over
// left without a domain: the disk and config drive PrepareIncoming made
// (Undefine of a missing domain removes them). A server that landed here
// is wanted; a domain that arrived all the same is an orphan like any.
func (r *Reconciler) cleanIncoming(ctx context.Context, wanted, moving map[string]bool, actual map[string]Domain) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for id := range r.moving {
		if _, exists := actual[id]; moving[id] || wanted[id] || exists || r.inFlight[id] {
			continue
		}
		r.log.Info("removing what a migration that did not come left", "instance", id)
		r.dispatchLocked(ctx, job{id: id, task: orphanTask,
			run: leaving(fsm.PowerNoState, func(ctx context.Context) error { return removeDomain(ctx, r.hv, id) })})
		if !r.inFlight[id] {
			moving[id] = true // no worker free: the next pass tries again
		}
	}
	r.moving = moving
}

// movingHere adds to ids (a new set when nil) the servers a migration
// ties to this host although their Host is the other end.
func (r *Reconciler) movingHere(ids map[string]bool) map[string]bool {
	if ids == nil {
		ids = map[string]bool{}
	}
	for _, mv := range r.st.MovingWith(r.cfg.Host) {
		ids[mv.Instance.ID] = true
	}
	return ids
}

// noticeArrivals reports, on a live migration's destination, a running
// server's guest that runs here: libvirt resumed it, so the migration is
// complete (fsm.State.arrivedAt), and the FSM passes the server here
// without waiting for the source's libvirt call to return. The network
// follows the FSM, so this is what ends the guest's downtime as seen
// from elsewhere. A paused server's guest arrives paused, which an
// incoming migration looks like too: its source's Done alone moves it.
func (r *Reconciler) noticeArrivals(actual map[string]Domain) {
	for _, mv := range r.st.MovingWith(r.cfg.Host) {
		inst, m := mv.Instance, mv.Migration
		d, ok := actual[inst.ID]
		if !ok || d.PowerState != fsm.PowerRunning || m.Kind != fsm.MigrationLive || m.Dest != r.cfg.Host ||
			inst.TaskState != fsm.TaskMigrating || inst.MigrationPending || inst.VMState != fsm.VMActive {
			continue
		}
		r.mu.Lock()
		if !r.busyLocked(inst) {
			r.log.Info("a live migration's guest runs here", "instance", inst.ID, "source", m.Source, "migration", m.ID)
			r.pending[inst.ID] = pendingReport{fsm.InstanceReport{ID: inst.ID, PowerState: fsm.PowerRunning,
				Done: fsm.TaskMigrating, TaskIndex: inst.TaskIndex}, inst.ModifyIndex}
		}
		r.mu.Unlock()
	}
}
