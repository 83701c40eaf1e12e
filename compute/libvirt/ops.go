package libvirt

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	golibvirt "github.com/digitalocean/go-libvirt"
	"github.com/google/uuid"

	"github.com/shoal-project/shoal/compute"
)

// pollInterval is how often Stop looks whether the guest is down yet.
const pollInterval = 100 * time.Millisecond

var (
	_ compute.Hypervisor = (*Driver)(nil)
	_ compute.Notifier   = (*Driver)(nil)
)

// Define creates the instance's disk, config drive (when it wants one),
// domain (shut off) and DHCP reservations. A domain of this node that
// exists is never redefined: only its reservations are made sure of and
// its config drive rebuilt. What retrying cannot heal (see classify) comes
// back marked compute.ErrPermanent.
func (d *Driver) Define(ctx context.Context, spec compute.InstanceSpec) error {
	return classify(d.define(ctx, spec))
}

func (d *Driver) define(ctx context.Context, spec compute.InstanceSpec) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	l, err := d.hypervisor("define")
	if err != nil {
		return err
	}
	if d.cfg.Images == nil {
		return compute.Permanent(errors.New("libvirt: define needs Config.Images (the image cache); this driver was configured for Fingerprint only"))
	}
	u, err := uuid.Parse(spec.ID)
	if err != nil {
		return compute.Permanent(fmt.Errorf("libvirt: define: instance ID %q is not a UUID", spec.ID))
	}
	dom, err := l.DomainLookupByUUID(golibvirt.UUID(u))
	switch {
	case err == nil:
		m, ok, err := metadata(l, dom)
		if err != nil {
			return mapError(spec.ID, err)
		}
		if !ok || !d.owns(m) {
			return fmt.Errorf("libvirt: define %s: libvirt already has domain %s with this UUID, owned by node %q",
				spec.ID, dom.Name, m.Node)
		}
		d.remember(spec.ID)
		if d.wantsConfigDrive(spec) { // fresh for the domain's next boot
			if _, err := d.writeConfigDrive(ctx, spec.ID); err != nil {
				return err
			}
		}
		return d.reserve(l, spec)
	case !hasCode(err, golibvirt.ErrNoDomain):
		return mapError(spec.ID, err)
	}

	disk, err := d.ensureVolume(ctx, l, spec)
	if err != nil {
		return err
	}
	doc, err := d.hostDomain(ctx, l, spec, disk)
	if err != nil {
		return err
	}
	if _, err := l.DomainDefineXMLFlags(doc, golibvirt.DomainDefineValidate); err != nil {
		return fmt.Errorf("libvirt: define %s: %w", spec.ID, err)
	}
	d.remember(spec.ID)
	d.log.Info("domain defined", "instance", spec.ID, "domain", domainPrefix+spec.ID)
	return d.reserve(l, spec)
}

// hostDomain is the XML of spec's domain as this host defines it, its
// disk at disk: the probed domain type, this node's metadata, this host's
// paths. It writes the config drive when one is wanted and makes sure of
// the network and the console dir.
func (d *Driver) hostDomain(ctx context.Context, l *golibvirt.Libvirt, spec compute.InstanceSpec, disk string) (string, error) {
	domainType, err := d.probeDomainType(l)
	if err != nil {
		return "", err
	}
	opts := domainOpts{DomainType: domainType, Node: d.cfg.Node, ClusterID: d.clusterID(),
		DiskPath: disk, ConsoleLog: d.consolePath(spec.ID)}
	if d.wantsConfigDrive(spec) {
		if opts.ConfigDrive, err = d.writeConfigDrive(ctx, spec.ID); err != nil {
			return "", err
		}
		machine, err := d.defaultMachine(l, domainType)
		if err != nil {
			return "", err
		}
		opts.CDROMBus = cdromBus(machine)
	}
	if len(spec.Addresses) > 0 {
		net, err := d.ensureNetwork(l)
		if err != nil {
			return "", err
		}
		opts.Network = net.Name
	}
	if err := os.MkdirAll(d.cfg.ConsoleDir, 0o750); err != nil {
		return "", fmt.Errorf("libvirt: console dir: %w", err)
	}
	doc, err := domainFor(spec, opts).Marshal()
	if err != nil {
		return "", fmt.Errorf("libvirt: domain XML of %s: %w", spec.ID, err)
	}
	return doc, nil
}

// reserve makes sure the instance's addresses have their DHCP reservations.
func (d *Driver) reserve(l *golibvirt.Libvirt, spec compute.InstanceSpec) error {
	if len(spec.Addresses) == 0 {
		return nil
	}
	net, err := d.ensureNetwork(l)
	if err != nil {
		return err
	}
	return d.addDHCPHosts(l, net, spec)
}

// withDomain runs fn on this node's domain of id with its libvirt state
// now. A missing domain is ErrNotFound, or nil when missingOK. fn's libvirt
// errors are mapped to compute's sentinels.
func (d *Driver) withDomain(ctx context.Context, op, id string, missingOK bool,
	fn func(l *golibvirt.Libvirt, dom golibvirt.Domain, st golibvirt.DomainState) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	l, err := d.hypervisor(op)
	if err != nil {
		return err
	}
	dm, err := d.lookup(l, id)
	if err != nil {
		if missingOK && errors.Is(err, compute.ErrNotFound) {
			return nil
		}
		return err
	}
	st, _, err := l.DomainGetState(dm.dom, 0)
	if err != nil {
		return mapError(id, err)
	}
	if err := fn(l, dm.dom, golibvirt.DomainState(st)); err != nil {
		if missingOK && hasCode(err, golibvirt.ErrNoDomain) {
			return nil
		}
		if hasCode(err, golibvirt.ErrNoDomain) || hasCode(err, golibvirt.ErrOperationInvalid) {
			return mapError(id, err)
		}
		if errors.Is(err, compute.ErrInvalidState) || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
			return err
		}
		return classify(fmt.Errorf("libvirt: %s %s: %w", op, id, err))
	}
	return nil
}

// Start boots a shut off domain, restoring its managed save if it has one.
func (d *Driver) Start(ctx context.Context, id string) error {
	return d.withDomain(ctx, "start", id, false, func(l *golibvirt.Libvirt, dom golibvirt.Domain, st golibvirt.DomainState) error {
		switch st {
		case golibvirt.DomainRunning, golibvirt.DomainBlocked:
			return nil
		case golibvirt.DomainPaused:
			// Transient while an incoming migration is in flight (shoal's
			// domains are persistent once they have arrived): wait for it.
			if persistent, err := l.DomainIsPersistent(dom); err == nil && persistent == 0 {
				return fmt.Errorf("libvirt: %s is arriving by migration; start it once it has arrived", id)
			}
			return invalid("start", id, "paused")
		case golibvirt.DomainPmsuspended:
			return l.DomainPmWakeup(dom, 0)
		case golibvirt.DomainShutdown:
			return fmt.Errorf("libvirt: %s is shutting down; start it once it is off", id)
		}
		return create(l, dom, 0)
	})
}

// create starts an inactive domain; one that got started meanwhile is fine.
func create(l *golibvirt.Libvirt, dom golibvirt.Domain, flags golibvirt.DomainCreateFlags) error {
	_, err := l.DomainCreateWithFlags(dom, uint32(flags))
	if hasCode(err, golibvirt.ErrOperationInvalid) {
		if active, aerr := l.DomainIsActive(dom); aerr == nil && active == 1 {
			return nil
		}
	}
	return err
}

// Stop presses the ACPI power button, waits up to timeout for the guest to
// power off, then pulls the plug. A paused guest cannot react: it is
// powered off at once. A suspended domain loses its saved memory.
func (d *Driver) Stop(ctx context.Context, id string, timeout time.Duration) error {
	return d.withDomain(ctx, "stop", id, false, func(l *golibvirt.Libvirt, dom golibvirt.Domain, st golibvirt.DomainState) error {
		switch st {
		case golibvirt.DomainShutoff:
			saved, err := l.DomainHasManagedSaveImage(dom, 0)
			if err != nil || saved == 0 {
				return err
			}
			return l.DomainManagedSaveRemove(dom, 0)
		case golibvirt.DomainRunning, golibvirt.DomainBlocked, golibvirt.DomainShutdown:
			if err := l.DomainShutdown(dom); err != nil && !hasCode(err, golibvirt.ErrOperationInvalid) {
				return err
			}
			if down, err := waitInactive(ctx, l, dom, timeout); err != nil || down {
				return err
			}
			d.log.Info("guest ignored ACPI shutdown; powering off", "instance", id, "timeout", timeout)
		}
		return destroy(l, dom)
	})
}

// waitInactive polls until the domain is off, timeout passes or ctx ends.
func waitInactive(ctx context.Context, l *golibvirt.Libvirt, dom golibvirt.Domain, timeout time.Duration) (bool, error) {
	deadline := time.Now().Add(timeout)
	t := time.NewTicker(pollInterval)
	defer t.Stop()
	for {
		active, err := l.DomainIsActive(dom)
		if err != nil || active == 0 {
			return err == nil, err
		}
		if time.Now().After(deadline) {
			return false, nil
		}
		select {
		case <-ctx.Done():
			return false, ctx.Err()
		case <-t.C:
		}
	}
}

// destroy powers an active domain off; off already is fine.
func destroy(l *golibvirt.Libvirt, dom golibvirt.Domain) error {
	err := l.DomainDestroy(dom)
	if hasCode(err, golibvirt.ErrOperationInvalid) { // not running
		return nil
	}
	return err
}

// Destroy powers the domain off at once; off or missing: nil. A suspended
// domain keeps its saved memory.
func (d *Driver) Destroy(ctx context.Context, id string) error {
	return d.withDomain(ctx, "destroy", id, true, func(l *golibvirt.Libvirt, dom golibvirt.Domain, st golibvirt.DomainState) error {
		if st == golibvirt.DomainShutoff {
			return nil
		}
		return destroy(l, dom)
	})
}

// Undefine powers the domain off if needed and removes it with its DHCP
// reservations, disk, config drive, managed save and console log. The
// domain goes last, so an Undefine cut short is finished by the next one;
// leftovers of a domain that is gone (disk, config drive, console log) are
// removed too.
func (d *Driver) Undefine(ctx context.Context, id string) error {
	err := d.withDomain(ctx, "undefine", id, false, func(l *golibvirt.Libvirt, dom golibvirt.Domain, st golibvirt.DomainState) error {
		if st != golibvirt.DomainShutoff {
			if err := destroy(l, dom); err != nil {
				return err
			}
		}
		if err := d.unreserve(l, dom); err != nil {
			return err
		}
		if err := d.removeFiles(l, id); err != nil {
			return err
		}
		err := l.DomainUndefineFlags(dom, golibvirt.DomainUndefineManagedSave|golibvirt.DomainUndefineNvram)
		if err == nil {
			d.log.Info("domain undefined", "instance", id, "domain", dom.Name)
		}
		return err
	})
	if !errors.Is(err, compute.ErrNotFound) {
		return err
	}
	l, cerr := d.hypervisor("undefine")
	if cerr != nil {
		return cerr
	}
	return classify(d.removeFiles(l, id))
}

// unreserve removes the DHCP reservations of the domain's NICs.
func (d *Driver) unreserve(l *golibvirt.Libvirt, dom golibvirt.Domain) error {
	doc, err := l.DomainGetXMLDesc(dom, golibvirt.DomainXMLInactive)
	if err != nil {
		return err
	}
	nics, err := interfaces(doc)
	if err != nil {
		return err
	}
	for network, macs := range nics {
		if err := d.removeDHCPHosts(l, network, macs); err != nil {
			return err
		}
	}
	return nil
}

// removeFiles deletes instance id's disk, config drive and console log;
// missing is fine.
func (d *Driver) removeFiles(l *golibvirt.Libvirt, id string) error {
	if err := d.deleteVolume(l, id); err != nil {
		return err
	}
	if err := d.removeConfigDrive(id); err != nil {
		return err
	}
	if err := os.Remove(d.consolePath(id)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("libvirt: console log of %s: %w", id, err)
	}
	return nil
}

// Reboot restarts the guest. Hard: a running guest is reset, any other
// domain powered off if active and booted afresh (a suspended domain's
// saved memory is discarded), so it ends up running from any state. Soft:
// the guest is asked (ACPI) and given SoftRebootTimeout to reset; a guest
// without ACPI support does nothing, so it is then reset.
func (d *Driver) Reboot(ctx context.Context, id string, hard bool) error {
	return d.withDomain(ctx, "reboot", id, false, func(l *golibvirt.Libvirt, dom golibvirt.Domain, st golibvirt.DomainState) error {
		running := st == golibvirt.DomainRunning || st == golibvirt.DomainBlocked
		switch {
		case !hard && !running:
			return invalid("reboot", id, stateName(st))
		case !hard:
			rebooted, err := d.softReboot(ctx, l, dom, id)
			if err != nil || rebooted {
				return err
			}
			d.log.Info("guest did not reboot on ACPI request; resetting it", "instance", id,
				"timeout", d.cfg.SoftRebootTimeout)
			return l.DomainReset(dom, 0)
		case running:
			return l.DomainReset(dom, 0)
		}
		if err := destroy(l, dom); err != nil {
			return err
		}
		return create(l, dom, golibvirt.DomainStartForceBoot)
	})
}

// softReboot asks the guest to reboot and waits for its reset.
func (d *Driver) softReboot(ctx context.Context, l *golibvirt.Libvirt, dom golibvirt.Domain, id string) (bool, error) {
	reset, cancel := d.awaitReboot(id)
	defer cancel()
	if err := l.DomainReboot(dom, golibvirt.DomainRebootDefault); err != nil {
		if hasCode(err, golibvirt.ErrNoDomain) {
			return false, err
		}
		d.log.Info("ACPI reboot refused", "instance", id, "err", err)
		return false, nil
	}
	t := time.NewTimer(d.cfg.SoftRebootTimeout)
	defer t.Stop()
	select {
	case <-reset:
		return true, nil
	case <-t.C:
		return false, nil
	case <-ctx.Done():
		return false, ctx.Err()
	}
}
