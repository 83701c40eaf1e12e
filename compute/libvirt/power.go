package libvirt

import (
	"context"
	"fmt"

	golibvirt "github.com/digitalocean/go-libvirt"

	"github.com/shoal-project/shoal/compute"
)

// Pause freezes the vCPUs of a running domain.
func (d *Driver) Pause(ctx context.Context, id string) error {
	return d.withDomain(ctx, "pause", id, false, func(l *golibvirt.Libvirt, dom golibvirt.Domain, st golibvirt.DomainState) error {
		switch st {
		case golibvirt.DomainPaused:
			return nil
		case golibvirt.DomainRunning, golibvirt.DomainBlocked:
			return l.DomainSuspend(dom)
		}
		return invalid("pause", id, stateName(st))
	})
}

// Unpause thaws a paused domain.
func (d *Driver) Unpause(ctx context.Context, id string) error {
	return d.withDomain(ctx, "unpause", id, false, func(l *golibvirt.Libvirt, dom golibvirt.Domain, st golibvirt.DomainState) error {
		switch st {
		case golibvirt.DomainRunning, golibvirt.DomainBlocked:
			return nil
		case golibvirt.DomainPaused:
			return l.DomainResume(dom)
		}
		return invalid("unpause", id, stateName(st))
	})
}

// Suspend saves a running or paused domain's memory (managed save) and
// stops it; it comes back running.
func (d *Driver) Suspend(ctx context.Context, id string) error {
	return d.withDomain(ctx, "suspend", id, false, func(l *golibvirt.Libvirt, dom golibvirt.Domain, st golibvirt.DomainState) error {
		switch st {
		case golibvirt.DomainRunning, golibvirt.DomainBlocked, golibvirt.DomainPaused:
			return l.DomainManagedSave(dom, uint32(golibvirt.DomainSaveRunning))
		case golibvirt.DomainShutoff:
			if saved, err := l.DomainHasManagedSaveImage(dom, 0); err != nil || saved == 1 {
				return err
			}
		}
		return invalid("suspend", id, stateName(st))
	})
}

// Resume restores a suspended domain.
func (d *Driver) Resume(ctx context.Context, id string) error {
	return d.withDomain(ctx, "resume", id, false, func(l *golibvirt.Libvirt, dom golibvirt.Domain, st golibvirt.DomainState) error {
		switch st {
		case golibvirt.DomainRunning, golibvirt.DomainBlocked:
			return nil
		case golibvirt.DomainPmsuspended:
			return l.DomainPmWakeup(dom, 0)
		case golibvirt.DomainShutoff:
			saved, err := l.DomainHasManagedSaveImage(dom, 0)
			if err != nil {
				return err
			}
			if saved == 1 {
				return create(l, dom, 0)
			}
		}
		return invalid("resume", id, stateName(st))
	})
}

// InjectNMI sends a non-maskable interrupt to a running or paused domain
// (virsh inject-nmi); QEMU delivers it to a paused guest when it resumes.
func (d *Driver) InjectNMI(ctx context.Context, id string) error {
	return d.withDomain(ctx, "inject-nmi", id, false, func(l *golibvirt.Libvirt, dom golibvirt.Domain, st golibvirt.DomainState) error {
		switch st {
		case golibvirt.DomainRunning, golibvirt.DomainBlocked, golibvirt.DomainPaused:
			return l.DomainInjectNmi(dom, 0)
		}
		return invalid("inject an NMI into", id, stateName(st))
	})
}

func invalid(op, id, state string) error {
	return fmt.Errorf("%w: cannot %s %s while it is %s", compute.ErrInvalidState, op, id, state)
}

// stateName is the state as virsh prints it.
func stateName(st golibvirt.DomainState) string {
	switch st {
	case golibvirt.DomainRunning:
		return "running"
	case golibvirt.DomainBlocked:
		return "idle"
	case golibvirt.DomainPaused:
		return "paused"
	case golibvirt.DomainShutdown:
		return "in shutdown"
	case golibvirt.DomainShutoff:
		return "shut off"
	case golibvirt.DomainCrashed:
		return "crashed"
	case golibvirt.DomainPmsuspended:
		return "pmsuspended"
	}
	return "in no state"
}
