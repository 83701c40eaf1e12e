package libvirt

import (
	"strings"

	golibvirt "github.com/digitalocean/go-libvirt"
	"github.com/google/uuid"
)

// eventBuffer is how many domain changes Events holds for a slow reader.
const eventBuffer = 256

// Events returns the instance IDs of this node's domains whose state
// changed (lifecycle events, and guest resets). Sends never block: when the
// buffer is full an event is dropped, as a reader that fell behind re-lists
// anyway.
func (d *Driver) Events() <-chan string {
	return d.events
}

// subscribe streams l's domain lifecycle and reboot events to Events until
// l drops or the driver has closed it. libvirt allows one subscription per event
// type per connection: called once for each new connection.
func (d *Driver) subscribe(l *golibvirt.Libvirt) {
	lifecycle, err := l.LifecycleEvents(d.evCtx)
	if err != nil {
		d.log.Warn("cannot subscribe to libvirt lifecycle events; relying on periodic syncs", "err", err)
		return
	}
	var reboots <-chan any
	if ch, err := l.SubscribeEvents(d.evCtx, golibvirt.DomainEventIDReboot, golibvirt.OptDomain{}); err != nil {
		d.log.Warn("cannot subscribe to libvirt reboot events", "err", err)
	} else {
		reboots = ch
	}
	d.evWG.Go(func() {
		for lifecycle != nil || reboots != nil {
			select {
			case ev, ok := <-lifecycle:
				if !ok {
					lifecycle = nil
					continue
				}
				d.onEvent(l, ev.Dom, false)
			case ev, ok := <-reboots:
				if !ok {
					reboots = nil
					continue
				}
				if msg, ok := ev.(*golibvirt.DomainEventCallbackRebootMsg); ok {
					d.onEvent(l, msg.Msg.Dom, true)
				}
			}
		}
	})
}

// onEvent publishes the instance ID of dom when dom is this node's.
func (d *Driver) onEvent(l *golibvirt.Libvirt, dom golibvirt.Domain, reboot bool) {
	if !strings.HasPrefix(dom.Name, domainPrefix) {
		return
	}
	id := uuid.UUID(dom.UUID).String()
	if !d.known(id) {
		// Not seen yet (defined by an earlier agent, or just now): ask.
		m, ok, err := metadata(l, dom)
		if err != nil || !ok || !d.owns(m) {
			return
		}
		d.remember(id)
	}
	if reboot {
		d.rebooted(id)
	}
	select {
	case d.events <- id:
	default:
	}
}

// remember notes that id is one of this node's domains, so its events
// (even the one of its undefinition, when its metadata is gone) are passed on.
func (d *Driver) remember(id string) {
	d.evMu.Lock()
	defer d.evMu.Unlock()
	d.owned[id] = true
}

func (d *Driver) known(id string) bool {
	d.evMu.Lock()
	defer d.evMu.Unlock()
	return d.owned[id]
}

// awaitReboot returns a channel closed at the next reset of id's guest, and
// a function that stops waiting.
func (d *Driver) awaitReboot(id string) (<-chan struct{}, func()) {
	ch := make(chan struct{})
	d.evMu.Lock()
	defer d.evMu.Unlock()
	d.reboots[id] = append(d.reboots[id], ch)
	return ch, func() {
		d.evMu.Lock()
		defer d.evMu.Unlock()
		waiting := d.reboots[id]
		for i, c := range waiting {
			if c == ch {
				waiting = append(waiting[:i], waiting[i+1:]...)
				break
			}
		}
		if len(waiting) == 0 {
			delete(d.reboots, id)
		} else {
			d.reboots[id] = waiting
		}
	}
}

// rebooted wakes everyone waiting for id's reset.
func (d *Driver) rebooted(id string) {
	d.evMu.Lock()
	defer d.evMu.Unlock()
	for _, ch := range d.reboots[id] {
		close(ch)
	}
	delete(d.reboots, id)
}
