package fake

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/shoal-project/shoal/compute"
	"github.com/shoal-project/shoal/fsm"
)

// maxConsole bounds each domain's console log; the oldest lines go first.
const maxConsole = 200

// Define creates a shut off domain; one that exists is left untouched.
func (d *Driver) Define(ctx context.Context, spec compute.InstanceSpec) error {
	if err := d.begin(ctx, OpDefine); err != nil {
		return err
	}
	if spec.ID == "" {
		return fmt.Errorf("fake: define: the instance has no ID")
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if _, ok := d.domains[spec.ID]; ok {
		return nil
	}
	d.defines[spec.ID]++
	dom := &FakeDomain{
		ID: spec.ID, Name: spec.Name, VCPUs: spec.VCPUs, MemoryMiB: spec.MemoryMiB, DiskGiB: spec.DiskGiB,
		ImageID: spec.ImageID, Addresses: slices.Clone(spec.Addresses), Metadata: maps.Clone(spec.Metadata),
		PowerState: fsm.PowerShutdown, Defines: d.defines[spec.ID],
	}
	dom.log("defined from image " + spec.ImageID)
	d.domains[spec.ID] = dom
	return d.commit(spec.ID, func() {
		delete(d.domains, spec.ID)
		if d.defines[spec.ID]--; d.defines[spec.ID] == 0 {
			delete(d.defines, spec.ID)
		}
	})
}

// Start boots a shut off or crashed domain and restores a suspended one.
func (d *Driver) Start(ctx context.Context, id string) error {
	return d.change(ctx, OpStart, id, false, func(dom *FakeDomain) (bool, error) {
		switch dom.PowerState {
		case fsm.PowerRunning:
			return false, nil
		case fsm.PowerPaused:
			return false, invalid("start", dom)
		case fsm.PowerSuspended:
			dom.PowerState = fsm.PowerRunning
			dom.log("restored from managed save")
			return true, nil
		}
		dom.boot()
		return true, nil
	})
}

// Stop shuts the domain down. The fake guest always honors ACPI at once, so
// timeout never runs out; a suspended domain loses its saved memory.
func (d *Driver) Stop(ctx context.Context, id string, timeout time.Duration) error {
	return d.change(ctx, OpStop, id, false, func(dom *FakeDomain) (bool, error) {
		switch dom.PowerState {
		case fsm.PowerShutdown:
			return false, nil
		case fsm.PowerSuspended:
			dom.log("managed save discarded")
		default:
			dom.log("reached target: power-off")
		}
		dom.PowerState = fsm.PowerShutdown
		return true, nil
	})
}

// Destroy pulls the plug of an active (or crashed) domain.
func (d *Driver) Destroy(ctx context.Context, id string) error {
	return d.change(ctx, OpDestroy, id, true, func(dom *FakeDomain) (bool, error) {
		switch dom.PowerState {
		case fsm.PowerShutdown, fsm.PowerSuspended:
			return false, nil
		}
		dom.PowerState = fsm.PowerShutdown
		dom.log("destroyed")
		return true, nil
	})
}

// Undefine removes an inactive domain and its disks; an active one must be
// destroyed first, as libvirt would otherwise leave it running, transient.
func (d *Driver) Undefine(ctx context.Context, id string) error {
	if err := d.begin(ctx, OpUndefine); err != nil {
		return err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	dom, ok := d.domains[id]
	if !ok {
		delete(d.incoming, id) // the disk a migration that never came left
		return nil
	}
	if dom.active() {
		return fmt.Errorf("%w: cannot undefine %s while it is %s; destroy it first",
			compute.ErrInvalidState, id, powerName(dom.PowerState))
	}
	delete(d.incoming, id)
	delete(d.domains, id)
	return d.commit(id, func() { d.domains[id] = dom })
}

// Reboot restarts a running guest (soft), or resets a domain in any state
// and leaves it running (hard, as Nova's hard reboot).
func (d *Driver) Reboot(ctx context.Context, id string, hard bool) error {
	return d.change(ctx, OpReboot, id, false, func(dom *FakeDomain) (bool, error) {
		switch {
		case hard:
			dom.log("hard reset")
		case dom.PowerState == fsm.PowerRunning:
			dom.log("rebooting")
		default:
			return false, invalid("reboot", dom)
		}
		dom.boot()
		return true, nil
	})
}

// Pause freezes a running domain.
func (d *Driver) Pause(ctx context.Context, id string) error {
	return d.move(ctx, OpPause, id, fsm.PowerPaused, "paused", fsm.PowerRunning)
}

// Unpause thaws a paused domain.
func (d *Driver) Unpause(ctx context.Context, id string) error {
	return d.move(ctx, OpUnpause, id, fsm.PowerRunning, "unpaused", fsm.PowerPaused)
}

// Suspend saves a running or paused domain's memory and stops it.
func (d *Driver) Suspend(ctx context.Context, id string) error {
	return d.move(ctx, OpSuspend, id, fsm.PowerSuspended, "saved (managed save)", fsm.PowerRunning, fsm.PowerPaused)
}

// Resume restores a suspended domain.
func (d *Driver) Resume(ctx context.Context, id string) error {
	return d.move(ctx, OpResume, id, fsm.PowerRunning, "restored from managed save", fsm.PowerSuspended)
}

// Inspect returns one domain.
func (d *Driver) Inspect(ctx context.Context, id string) (compute.Domain, error) {
	if err := d.begin(ctx, OpInspect); err != nil {
		return compute.Domain{}, err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	dom, ok := d.domains[id]
	if !ok {
		return compute.Domain{}, notFound(id)
	}
	return compute.Domain{ID: dom.ID, Name: dom.Name, PowerState: dom.PowerState}, nil
}

// List returns every domain, ordered by ID.
func (d *Driver) List(ctx context.Context) ([]compute.Domain, error) {
	if err := d.begin(ctx, OpList); err != nil {
		return nil, err
	}
	out := []compute.Domain{}
	for _, dom := range d.Domains() {
		out = append(out, compute.Domain{ID: dom.ID, Name: dom.Name, PowerState: dom.PowerState})
	}
	return out, nil
}

// ConsoleLog returns the last lines of the domain's synthetic console.
func (d *Driver) ConsoleLog(ctx context.Context, id string, lines int) (string, error) {
	if err := d.begin(ctx, OpConsoleLog); err != nil {
		return "", err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	dom, ok := d.domains[id]
	if !ok {
		return "", notFound(id)
	}
	out := dom.Console
	if lines > 0 && len(out) > lines {
		out = out[len(out)-lines:]
	}
	if len(out) == 0 {
		return "", nil
	}
	return strings.Join(out, "\n") + "\n", nil
}

// InjectNMI records a non-maskable interrupt in the console of a running
// or paused domain, as a guest's kernel would print it.
func (d *Driver) InjectNMI(ctx context.Context, id string) error {
	if err := d.begin(ctx, OpInjectNMI); err != nil {
		return err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	dom, ok := d.domains[id]
	switch {
	case !ok:
		return notFound(id)
	case !dom.active():
		return invalid("inject an NMI into", dom)
	}
	before := dom.clone()
	dom.log("NMI received")
	return d.commit(id, func() { *dom = before })
}

// move is the common shape of pause, unpause, suspend and resume: from one
// of the states in from to state to; already there is nil.
func (d *Driver) move(ctx context.Context, op, id string, to fsm.PowerState, what string, from ...fsm.PowerState) error {
	return d.change(ctx, op, id, false, func(dom *FakeDomain) (bool, error) {
		switch {
		case dom.PowerState == to:
			return false, nil
		case !slices.Contains(from, dom.PowerState):
			return false, invalid(op, dom)
		}
		dom.PowerState = to
		dom.log(what)
		return true, nil
	})
}

// change runs fn on an existing domain under the lock. fn reports whether it
// changed the domain; when it fails it must have changed nothing. A missing
// domain is ErrNotFound, or nil when missingOK.
func (d *Driver) change(ctx context.Context, op, id string, missingOK bool, fn func(*FakeDomain) (bool, error)) error {
	if err := d.begin(ctx, op); err != nil {
		return err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	dom, ok := d.domains[id]
	switch {
	case !ok && missingOK:
		return nil
	case !ok:
		return notFound(id)
	}
	before := dom.clone()
	changed, err := fn(dom)
	if err != nil || !changed {
		return err
	}
	return d.commit(id, func() { *dom = before })
}

func (dom *FakeDomain) boot() {
	dom.PowerState = fsm.PowerRunning
	dom.Boots++
	dom.log("booted")
}

func (dom *FakeDomain) log(what string) {
	dom.Console = append(dom.Console, "shoal fake console: "+dom.Name+" "+what)
	if len(dom.Console) > maxConsole {
		dom.Console = slices.Clone(dom.Console[len(dom.Console)-maxConsole:])
	}
}

func notFound(id string) error {
	return fmt.Errorf("%w: %s", compute.ErrNotFound, id)
}

func invalid(op string, dom *FakeDomain) error {
	return fmt.Errorf("%w: cannot %s %s while it is %s", compute.ErrInvalidState, op, dom.ID, powerName(dom.PowerState))
}

// powerName is the state as virsh prints it.
func powerName(p fsm.PowerState) string {
	switch p {
	case fsm.PowerRunning:
		return "running"
	case fsm.PowerPaused:
		return "paused"
	case fsm.PowerShutdown:
		return "shut off"
	case fsm.PowerCrashed:
		return "crashed"
	case fsm.PowerSuspended:
		return "suspended (managed save)"
	}
	return "in no state"
}
