package fake

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/shoal-project/shoal/compute"
	"github.com/shoal-project/shoal/fsm"
)

// Operations, as FailNext names them.
const (
	OpFingerprint = "fingerprint"
	OpDefine      = "define"
	OpStart       = "start"
	OpStop        = "stop"
	OpDestroy     = "destroy"
	OpUndefine    = "undefine"
	OpReboot      = "reboot"
	OpPause       = "pause"
	OpUnpause     = "unpause"
	OpSuspend     = "suspend"
	OpResume      = "resume"
	OpInspect     = "inspect"
	OpList        = "list"
	OpConsoleLog  = "console-log"
	OpInjectNMI   = "inject-nmi"
)

var ops = []string{OpFingerprint, OpDefine, OpStart, OpStop, OpDestroy, OpUndefine, OpReboot,
	OpPause, OpUnpause, OpSuspend, OpResume, OpInspect, OpList, OpConsoleLog, OpInjectNMI,
	OpPrepareIncoming, OpMigrateTo, OpResize}

// FailNext makes the next call of op fail with err, changing nothing. Calls
// queue up: FailNext twice fails the next two calls. err is returned as it
// is, so compute.Permanent(err) injects a failure retrying cannot heal (a
// host set up wrong), anything else a transient one. An unknown op panics,
// so a typo in a test cannot pass silently.
func (d *Driver) FailNext(op string, err error) {
	if !slices.Contains(ops, op) {
		panic(fmt.Sprintf("fake: FailNext: unknown operation %q", op))
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	d.faults[op] = append(d.faults[op], err)
}

// SetLatency makes every operation take at least l; a context ending first
// aborts the operation before it changes anything.
func (d *Driver) SetLatency(l time.Duration) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.latency = l
}

// Events returns the IDs of domains whose state changed, in order. Sends
// never block: when the buffer is full, changes are dropped, as a reader
// that fell behind must re-list anyway.
func (d *Driver) Events() <-chan string {
	return d.events
}

// SetPowerState changes a domain's power state behind shoal's back, as a
// guest that shuts itself down or crashes would. It is a test hook: no rule
// is checked.
func (d *Driver) SetPowerState(id string, p fsm.PowerState) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	dom, ok := d.domains[id]
	if !ok {
		return fmt.Errorf("%w: %s", compute.ErrNotFound, id)
	}
	before := dom.clone()
	dom.PowerState = p
	dom.log("power state set to " + powerName(p))
	return d.commit(id, func() { *dom = before })
}

// begin is how every operation starts: the latency (honoring ctx), then an
// injected failure, then the closed check.
func (d *Driver) begin(ctx context.Context, op string) error {
	d.mu.Lock()
	l := d.latency
	d.mu.Unlock()
	if l > 0 {
		t := time.NewTimer(l)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		}
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return compute.ErrClosed
	}
	if q := d.faults[op]; len(q) > 0 {
		d.faults[op] = q[1:]
		return q[0]
	}
	return nil
}

// emit tells Events readers that id changed, without ever blocking.
func (d *Driver) emit(id string) {
	select {
	case d.events <- id:
	default:
	}
}
