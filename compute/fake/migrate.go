package fake

import (
	"context"
	"errors"
	"fmt"
	"html"
	"sync"

	"github.com/shoal-project/shoal/compute"
	"github.com/shoal-project/shoal/fsm"
)

// Operations of compute.Migrator, as FailNext names them.
const (
	OpPrepareIncoming = "prepare-incoming"
	OpMigrateTo       = "migrate-to"
	OpResize          = "resize"
)

var _ compute.Migrator = (*Driver)(nil)

// World is what the fake hosts of one process share: a domain migrates
// between drivers added to the same World, found by node name (the
// MigrationTarget's Host). A driver in no World cannot migrate.
type World struct {
	mu    sync.Mutex
	hosts map[string]*Driver
}

// NewWorld is a world without hosts.
func NewWorld() *World { return &World{hosts: map[string]*Driver{}} }

// Add makes d the host named node in w (replacing an earlier one of that
// name: an agent restarted), and w the world d migrates in.
func (w *World) Add(node string, d *Driver) {
	w.mu.Lock()
	w.hosts[node] = d
	w.mu.Unlock()
	d.mu.Lock()
	d.world, d.node = w, node
	d.mu.Unlock()
}

func (w *World) host(node string) (*Driver, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	d, ok := w.hosts[node]
	return d, ok
}

// incoming is a domain a host prepared for: its spec and the XML it gave.
type incoming struct {
	spec compute.InstanceSpec
	xml  string
}

// PrepareIncoming records that spec's domain may arrive here and returns
// its "XML": a line naming the domain and this node, which MigrateTo
// checks it is handed back.
func (d *Driver) PrepareIncoming(ctx context.Context, spec compute.InstanceSpec) (string, error) {
	if err := d.begin(ctx, OpPrepareIncoming); err != nil {
		return "", err
	}
	if spec.ID == "" {
		return "", fmt.Errorf("fake: prepare: the instance has no ID")
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if dom, ok := d.domains[spec.ID]; ok && dom.active() {
		return "", fmt.Errorf("%w: %s runs here already", compute.ErrInvalidState, spec.ID)
	}
	xml := fmt.Sprintf("<domain type='fake'><uuid>%s</uuid><title>%s</title><node>%s</node><vcpus>%d</vcpus><memory>%d</memory></domain>",
		html.EscapeString(spec.ID), html.EscapeString(spec.Name), html.EscapeString(d.node), spec.VCPUs, spec.MemoryMiB)
	if d.incoming == nil {
		d.incoming = map[string]incoming{}
	}
	d.incoming[spec.ID] = incoming{spec: spec, xml: xml}
	return xml, nil
}

// MigrateTo moves domain id to the host to.Host of the same World. A
// running or paused domain moves live (it stays so there); a shut off one
// needs !opt.Live and arrives paused. Here it is left shut off, still
// defined; the destination must have prepared for it with to.DomainXML.
func (d *Driver) MigrateTo(ctx context.Context, id string, to compute.MigrationTarget, opt compute.MigrateOptions) (compute.MigrationStats, error) {
	if err := d.begin(ctx, OpMigrateTo); err != nil {
		return compute.MigrationStats{}, err
	}
	d.mu.Lock()
	dom, ok := d.domains[id]
	world, self := d.world, d.node
	var moving FakeDomain
	if ok {
		moving = dom.clone()
	}
	d.mu.Unlock()
	switch {
	case !ok:
		return compute.MigrationStats{}, notFound(id)
	case world == nil:
		return compute.MigrationStats{}, compute.Permanent(errors.New("fake: this host is in no World: it cannot migrate"))
	case to.Host == self:
		return compute.MigrationStats{}, fmt.Errorf("%w: cannot migrate %s to its own host", compute.ErrInvalidState, id)
	case opt.Live && !moving.active():
		return compute.MigrationStats{}, invalid("live-migrate", &moving)
	case !opt.Live && moving.PowerState != fsm.PowerShutdown:
		return compute.MigrationStats{}, invalid("migrate (cold)", &moving)
	}
	dest, ok := world.host(to.Host)
	if !ok {
		return compute.MigrationStats{}, fmt.Errorf("fake: no host %q to migrate to", to.Host)
	}
	if !opt.Live {
		moving.PowerState = fsm.PowerPaused // started paused here, moved paused
	}
	if err := dest.receive(moving, to.DomainXML); err != nil {
		return compute.MigrationStats{}, err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if dom, ok := d.domains[id]; ok {
		before := dom.clone()
		dom.PowerState = fsm.PowerShutdown
		dom.log("migrated to " + to.Host)
		if err := d.commit(id, func() { *dom = before }); err != nil {
			return compute.MigrationStats{}, err
		}
	}
	return compute.MigrationStats{Total: d.latency, Disk: uint64(moving.DiskGiB) << 30}, nil
}

// receive defines the domain arriving from another host, as prepared.
func (d *Driver) receive(dom FakeDomain, xml string) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return compute.ErrClosed
	}
	in, ok := d.incoming[dom.ID]
	switch {
	case !ok:
		return fmt.Errorf("fake: %s: the destination did not prepare for %s", d.node, dom.ID)
	case in.xml != xml:
		return compute.Permanent(fmt.Errorf("fake: %s: the destination XML of %s is not the one it prepared", d.node, dom.ID))
	}
	if old, ok := d.domains[dom.ID]; ok && old.active() {
		return fmt.Errorf("%w: %s runs on %s already", compute.ErrInvalidState, dom.ID, d.node)
	}
	before, existed := d.domains[dom.ID]
	delete(d.incoming, dom.ID)
	d.defines[dom.ID]++
	dom.Defines = d.defines[dom.ID]
	dom.log("arrived on " + d.node)
	d.domains[dom.ID] = &dom
	return d.commit(dom.ID, func() {
		d.incoming[dom.ID] = in
		if d.defines[dom.ID]--; d.defines[dom.ID] == 0 {
			delete(d.defines, dom.ID)
		}
		delete(d.domains, dom.ID)
		if existed {
			d.domains[dom.ID] = before
		}
	})
}

// Resize gives the shut off domain spec's vCPUs and memory and grows its
// disk to spec's (never shrinks it).
func (d *Driver) Resize(ctx context.Context, spec compute.InstanceSpec) error {
	return d.change(ctx, OpResize, spec.ID, false, func(dom *FakeDomain) (bool, error) {
		if dom.PowerState != fsm.PowerShutdown {
			return false, invalid("resize", dom)
		}
		dom.VCPUs, dom.MemoryMiB = spec.VCPUs, spec.MemoryMiB
		dom.DiskGiB = max(dom.DiskGiB, spec.DiskGiB)
		dom.log(fmt.Sprintf("resized to %d vCPUs, %d MiB", spec.VCPUs, spec.MemoryMiB))
		return true, nil
	})
}

// Incoming reports whether the driver prepared for domain id and has not
// received it yet (a test hook).
func (d *Driver) Incoming(id string) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	_, ok := d.incoming[id]
	return ok
}
