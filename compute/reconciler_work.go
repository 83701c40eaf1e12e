package compute

import (
	"context"
	"errors"
	"maps"
	"slices"
	"time"

	"github.com/shoal-project/shoal/fsm"
	"github.com/shoal-project/shoal/internal/backoff"
)

// orphanTask is the retry key of removing an orphan domain; restartTask of
// starting a server again after the host was fenced.
const (
	orphanTask  = "remove-orphan"
	restartTask = "restart-after-fence"
)

// job is one hypervisor operation for one instance (or orphan domain).
type job struct {
	id        string
	task      string         // task_state carried out, or orphanTask
	index     uint64         // the instance's ModifyIndex when the job started
	taskIndex uint64         // the instance's TaskIndex: which task this answers
	known     fsm.PowerState // the power state the FSM shows (restartTask)
	// run carries the job out; on success it returns the power state it
	// left the domain in, which the report gives.
	run func(ctx context.Context) (fsm.PowerState, error)
}

// leaving is a job's run that leaves the domain in power when op succeeds.
func leaving(power fsm.PowerState, op func(ctx context.Context) error) func(ctx context.Context) (fsm.PowerState, error) {
	return func(ctx context.Context) (fsm.PowerState, error) { return power, op(ctx) }
}

// pendingReport is an observation not yet committed, with the ModifyIndex of
// the instance it answers.
type pendingReport struct {
	report fsm.InstanceReport
	index  uint64
}

// retry is how often an ID's current task failed and when to try again.
type retry struct {
	task     string
	failures int
	wait     backoff.Backoff // MinBackoff, doubling up to MaxBackoff
	next     time.Time
}

// dispatchLocked starts j on a worker if one is free; otherwise a later pass
// (woken when a worker finishes) tries again.
func (r *Reconciler) dispatchLocked(ctx context.Context, j job) {
	select {
	case r.workers <- struct{}{}:
	default:
		return
	}
	r.inFlight[j.id] = true
	r.log.Debug("starting", "id", j.id, "task", j.task)
	r.wg.Go(func() {
		power, err := j.run(ctx)
		<-r.workers
		r.finish(ctx, j, power, err)
	})
}

// finish records how a job ended: a report to send, or a retry to schedule.
func (r *Reconciler) finish(ctx context.Context, j job, power fsm.PowerState, err error) {
	if err != nil && ctx.Err() == nil && !errors.Is(err, ErrClosed) && j.task != orphanTask {
		power = r.powerOf(ctx, j.id)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	defer r.signal()
	delete(r.inFlight, j.id)
	switch {
	case err == nil:
		// Recorded even when stopping: Run's last flush still sends it.
		delete(r.retries, j.id)
		if j.task == restartTask {
			delete(r.restart, j.id)
			r.log.Info("started again after fencing", "instance", j.id)
			if power != j.known { // a report that changes nothing would never settle
				r.pending[j.id] = pendingReport{fsm.InstanceReport{ID: j.id, PowerState: power}, j.index}
			}
			return
		}
		if j.task != orphanTask {
			r.log.Info("task done", "instance", j.id, "task", j.task)
			r.pending[j.id] = pendingReport{fsm.InstanceReport{ID: j.id, PowerState: power, Done: j.task, TaskIndex: j.taskIndex}, j.index}
		}
		return
	case ctx.Err() != nil || errors.Is(err, ErrClosed) || errors.Is(err, ErrFenced):
		return // aborted by shutdown or fencing, not failed: it is redone later
	}
	rt := r.failedLocked(j.id, j.task)
	if j.task == restartTask && (permanent(err) || rt.failures >= r.cfg.Attempts) {
		r.log.Warn("cannot start again after fencing; reporting what it is", "instance", j.id, "err", err)
		delete(r.restart, j.id)
		delete(r.retries, j.id)
		return
	}
	if j.task == orphanTask || !permanent(err) && rt.failures < r.cfg.Attempts {
		r.log.Warn("operation failed; will retry", "id", j.id, "task", j.task, "failures", rt.failures,
			"retry_in", rt.next.Sub(r.cfg.Now()).Round(time.Millisecond), "err", err)
		return
	}
	r.log.Warn("task failed", "instance", j.id, "task", j.task, "failures", rt.failures, "err", err)
	delete(r.retries, j.id)
	r.pending[j.id] = pendingReport{fsm.InstanceReport{ID: j.id, PowerState: power, Done: j.task, TaskIndex: j.taskIndex,
		Error: err.Error()}, j.index}
}

// powerOf is the domain's power state now, for reporting a failure; no
// state when it is missing or cannot be inspected.
func (r *Reconciler) powerOf(ctx context.Context, id string) fsm.PowerState {
	d, err := r.hv.Inspect(ctx, id)
	if err != nil {
		if !errors.Is(err, ErrNotFound) {
			r.log.Warn("cannot inspect domain", "instance", id, "err", err)
		}
		return fsm.PowerNoState
	}
	return d.PowerState
}

// failedLocked counts a failure of id's task and schedules the next try,
// doubling the wait from MinBackoff up to MaxBackoff.
func (r *Reconciler) failedLocked(id, task string) retry {
	rt, ok := r.retries[id]
	if !ok || rt.task != task {
		rt = retry{task: task, wait: backoff.Backoff{Min: r.cfg.MinBackoff, Max: r.cfg.MaxBackoff}}
	}
	rt.failures++
	rt.next = r.cfg.Now().Add(rt.wait.Next())
	r.retries[id] = rt
	return rt
}

// dueLocked reports whether task may run on id now: it has not failed, or
// its backoff is over. A different task starts afresh.
func (r *Reconciler) dueLocked(id, task string) bool {
	rt, ok := r.retries[id]
	if !ok {
		return true
	}
	if rt.task != task {
		delete(r.retries, id)
		return true
	}
	return !r.cfg.Now().Before(rt.next)
}

// untilRetry is how long until the next backoff ends (an hour when none
// waits: the interval covers the rest).
func (r *Reconciler) untilRetry() time.Duration {
	r.mu.Lock()
	defer r.mu.Unlock()
	now, wait := r.cfg.Now(), time.Hour
	for _, rt := range r.retries {
		if d := rt.next.Sub(now); d > 0 && d < wait {
			wait = d
		}
	}
	return wait
}

// batch takes the pending reports that still answer the instance as the FSM
// shows it, and drops the rest. A report is stale once the instance changed
// since it was observed: a failed Report may have committed after all (the
// change is then that report), or the instance was deleted or reset
// meanwhile. Sending it again could finish a task started after it, such
// as a second reboot.
func (r *Reconciler) batch() map[string]pendingReport {
	r.mu.Lock()
	empty := len(r.pending) == 0
	r.mu.Unlock()
	if empty {
		return nil
	}
	current := map[string]fsm.Instance{}
	for _, inst := range r.st.InstancesOnHost(r.cfg.Host) {
		current[inst.ID] = inst
	}
	for _, mv := range r.st.MovingWith(r.cfg.Host) {
		current[mv.Instance.ID] = mv.Instance // a live migration's arrival (noticeArrivals)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for id, p := range r.pending {
		inst, ok := current[id]
		switch {
		case ok && inst.ModifyIndex == p.index:
		case ok && stillMoving(inst, p.report):
			p.index = inst.ModifyIndex
			r.pending[id] = p
		default:
			r.log.Debug("dropping stale report", "instance", id, "done", p.report.Done)
			delete(r.pending, id)
		}
	}
	return maps.Clone(r.pending)
}

// flush commits every pending report in one ReportInstances. On failure the
// reports stay pending for the next pass: a Done must never be lost.
func (r *Reconciler) flush(ctx context.Context) {
	batch := r.batch()
	if len(batch) == 0 {
		return
	}
	cmd := &fsm.ReportInstances{Host: r.cfg.Host, Time: r.cfg.Now().UTC()}
	for _, id := range slices.Sorted(maps.Keys(batch)) {
		cmd.Reports = append(cmd.Reports, batch[id].report)
	}
	rctx, cancel := context.WithTimeout(ctx, reportTimeout)
	err := r.rep.Report(rctx, cmd)
	cancel()
	if err != nil {
		r.log.Warn("cannot report instances; will retry", "reports", len(cmd.Reports), "err", err)
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for id, p := range batch {
		if r.pending[id] == p {
			delete(r.pending, id)
			r.settled[id] = p.index
		}
	}
}
