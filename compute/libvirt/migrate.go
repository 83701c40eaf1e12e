package libvirt

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	golibvirt "github.com/digitalocean/go-libvirt"
	"github.com/google/uuid"

	"github.com/shoal-project/shoal/compute"
)

var _ compute.Migrator = (*Driver)(nil)

// migrateDisk is the one disk a migration copies: the instance's overlay.
// The config drive (read-only) is built afresh by PrepareIncoming; the base
// image is in both hosts' caches.
const migrateDisk = "vda"

// monitorInterval is how often a running migration is looked at (max
// downtime, post-copy switch, timeout).
const monitorInterval = 100 * time.Millisecond

// PrepareIncoming makes spec's disk here as Define would, but empty (a
// volume left by an earlier attempt is deleted and made anew: the
// migration fills it), its config drive and DHCP reservations, and returns
// the domain XML this host would define, without defining it. A domain of
// this node that is active here is not prepared over (its disk is in use).
func (d *Driver) PrepareIncoming(ctx context.Context, spec compute.InstanceSpec) (string, error) {
	doc, err := d.prepareIncoming(ctx, spec)
	return doc, classify(err)
}

func (d *Driver) prepareIncoming(ctx context.Context, spec compute.InstanceSpec) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", err
	}
	l, err := d.hypervisor("prepare-incoming")
	if err != nil {
		return "", err
	}
	if d.cfg.Images == nil {
		return "", compute.Permanent(errors.New("libvirt: prepare-incoming needs Config.Images (the image cache)"))
	}
	u, err := uuid.Parse(spec.ID)
	if err != nil {
		return "", compute.Permanent(fmt.Errorf("libvirt: prepare-incoming: instance ID %q is not a UUID", spec.ID))
	}
	dom, err := l.DomainLookupByUUID(golibvirt.UUID(u))
	switch {
	case err == nil:
		m, ok, err := metadata(l, dom)
		if err != nil {
			return "", mapError(spec.ID, err)
		}
		if !ok || !d.owns(m) {
			return "", fmt.Errorf("libvirt: prepare-incoming %s: libvirt already has domain %s with this UUID, owned by node %q",
				spec.ID, dom.Name, m.Node)
		}
		active, err := l.DomainIsActive(dom)
		if err != nil {
			return "", mapError(spec.ID, err)
		}
		if active == 1 { // it runs here, or an incoming migration is in flight
			return "", fmt.Errorf("%w: prepare-incoming %s: the domain is active on this host", compute.ErrInvalidState, spec.ID)
		}
	case !hasCode(err, golibvirt.ErrNoDomain):
		return "", mapError(spec.ID, err)
	}
	if err := d.deleteVolume(l, spec.ID); err != nil {
		return "", err
	}
	disk, err := d.ensureVolume(ctx, l, spec)
	if err != nil {
		return "", err
	}
	doc, err := d.hostDomain(ctx, l, spec, disk)
	if err != nil {
		return "", err
	}
	if err := d.reserve(l, spec); err != nil {
		return "", err
	}
	d.remember(spec.ID) // its events count once it arrives
	d.log.Info("prepared for incoming migration", "instance", spec.ID, "disk", disk)
	return doc, nil
}

// MigrateTo moves domain id to the destination's libvirtd, peer to peer,
// its disk's top overlay copied (the base is on both hosts). A running
// domain moves live when opt.Live; a shut off one is started paused and
// moved paused (and destroyed here again if that fails). The source's
// definition stays, shut off (reason migrated), until Undefine. A domain
// already shut off by a migration is not moved twice: that is a repeat of
// a MigrateTo that succeeded.
func (d *Driver) MigrateTo(ctx context.Context, id string, to compute.MigrationTarget, opt compute.MigrateOptions) (compute.MigrationStats, error) {
	var stats compute.MigrationStats
	err := d.withDomain(ctx, "migrate", id, false, func(l *golibvirt.Libvirt, dom golibvirt.Domain, st golibvirt.DomainState) error {
		var err error
		stats, err = d.migrate(ctx, l, dom, id, st, to, opt)
		return err
	})
	return stats, err
}

func (d *Driver) migrate(ctx context.Context, l *golibvirt.Libvirt, dom golibvirt.Domain, id string,
	st golibvirt.DomainState, to compute.MigrationTarget, opt compute.MigrateOptions) (compute.MigrationStats, error) {
	if to.URI == "" || to.Address == "" || to.DomainXML == "" {
		return compute.MigrationStats{}, compute.Permanent(fmt.Errorf("libvirt: migrate %s: the target needs URI, Address and DomainXML", id))
	}
	params, err := migrateParams(to)
	if err != nil {
		return compute.MigrationStats{}, err
	}
	cold := false
	switch st {
	case golibvirt.DomainRunning, golibvirt.DomainBlocked, golibvirt.DomainPaused:
	case golibvirt.DomainShutoff:
		_, reason, err := l.DomainGetState(dom, 0)
		if err != nil {
			return compute.MigrationStats{}, err
		}
		if golibvirt.DomainShutoffReason(reason) == golibvirt.DomainShutoffMigrated {
			d.log.Info("domain already migrated away", "instance", id, "to", to.Host)
			return compute.MigrationStats{}, nil
		}
		if _, err := l.DomainCreateWithFlags(dom, uint32(golibvirt.DomainStartPaused)); err != nil {
			return compute.MigrationStats{}, fmt.Errorf("start paused for migration: %w", err)
		}
		cold = true
	default:
		return compute.MigrationStats{}, invalid("migrate", id, stateName(st))
	}
	flags := migrateFlags(opt, cold || st == golibvirt.DomainPaused)
	if _, refused := d.noPostcopy.Load(to.Host); refused {
		flags &^= golibvirt.MigratePostcopy
	}
	timedOut, err := d.perform(ctx, l, dom, id, to, params, flags, opt)
	if err != nil && flags&golibvirt.MigratePostcopy != 0 && !timedOut && ctx.Err() == nil && postcopyRefused(err) {
		// QEMU cannot use userfaultfd on one of the hosts: pre-copy only,
		// to that host from now on. Nothing was copied yet.
		d.noPostcopy.Store(to.Host, true)
		d.log.Warn("post-copy migration refused: migrating with pre-copy only", "instance", id, "to", to.Host, "err", err)
		flags &^= golibvirt.MigratePostcopy
		timedOut, err = d.perform(ctx, l, dom, id, to, params, flags, opt)
	}
	if err != nil {
		if cold { // back to shut off, as it was
			if derr := destroy(l, dom); derr != nil {
				d.log.Warn("destroying the paused source after a failed migration", "instance", id, "err", derr)
			}
		}
		if cerr := ctx.Err(); cerr != nil {
			return compute.MigrationStats{}, fmt.Errorf("%w (%v)", cerr, err)
		}
		if timedOut {
			err = fmt.Errorf("aborted after the migration timeout (%v): %w", opt.Timeout, err)
		}
		return compute.MigrationStats{}, migrateError(err)
	}
	stats := d.completedStats(l, dom, id)
	d.log.Info("migrated", "instance", id, "to", to.Host, "total", stats.Total, "downtime", stats.Downtime,
		"memory_bytes", stats.Memory, "disk_bytes", stats.Disk)
	return stats, nil
}

// perform runs one migration attempt with its monitor; timedOut: the
// monitor aborted it after opt.Timeout.
func (d *Driver) perform(ctx context.Context, l *golibvirt.Libvirt, dom golibvirt.Domain, id string, to compute.MigrationTarget,
	params []golibvirt.TypedParam, flags golibvirt.DomainMigrateFlags, opt compute.MigrateOptions) (timedOut bool, err error) {
	d.log.Info("migrating", "instance", id, "to", to.Host, "uri", to.URI, "address", to.Address,
		"live", flags&golibvirt.MigrateLive != 0, "paused", flags&golibvirt.MigratePaused != 0,
		"post_copy", flags&golibvirt.MigratePostcopy != 0)
	done, monitored := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(monitored)
		timedOut = d.monitorMigration(ctx, done, l, dom, id, flags, opt)
	}()
	_, err = l.DomainMigratePerform3Params(dom, golibvirt.OptString{to.URI}, params, nil, flags)
	close(done)
	<-monitored
	return timedOut, err
}

// postcopyRefused reports whether a migration failed because post-copy
// cannot run between the hosts: QEMU refuses the capability when it
// cannot use userfaultfd (libvirt 9.0 does not hand /dev/userfaultfd to
// QEMU; unprivileged userfaultfd is off by default).
func postcopyRefused(err error) bool {
	msg := strings.ToLower(err.Error())
	return (strings.Contains(msg, "postcopy") || strings.Contains(msg, "post-copy")) && strings.Contains(msg, "not supported")
}

// migrateFlags are the flags of a migration: peer to peer, persistent on
// the destination, the disk's top overlay copied (NON_SHARED_INC), the
// source's definition kept (no UNDEFINE_SOURCE). A paused (cold) domain
// moves paused; otherwise live when asked, with auto-converge and
// post-copy as asked (both are live-only).
func migrateFlags(opt compute.MigrateOptions, paused bool) golibvirt.DomainMigrateFlags {
	f := golibvirt.MigratePeer2peer | golibvirt.MigratePersistDest | golibvirt.MigrateNonSharedInc
	switch {
	case paused:
		f |= golibvirt.MigratePaused
	case opt.Live:
		f |= golibvirt.MigrateLive
		if opt.AutoConverge {
			f |= golibvirt.MigrateAutoConverge
		}
		if opt.PostCopy {
			f |= golibvirt.MigratePostcopy
		}
	}
	return f
}

// migrateParams are the typed parameters of a migration to to: its
// domain XML (live and persistent), the migration stream and the disk's
// NBD stream to the destination's cluster address, and only the
// instance's disk copied.
func migrateParams(to compute.MigrationTarget) ([]golibvirt.TypedParam, error) {
	host := strings.TrimSpace(to.Address)
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h // an address with a port: the host part
	}
	host = strings.Trim(host, "[]")
	if host == "" {
		return nil, compute.Permanent(fmt.Errorf("libvirt: migration target %q has no address", to.Host))
	}
	if strings.Contains(host, ":") {
		host = "[" + host + "]" // IPv6 in a URI
	}
	str := func(field, v string) golibvirt.TypedParam {
		return golibvirt.TypedParam{Field: field, Value: *golibvirt.NewTypedParamValueString(v)}
	}
	return []golibvirt.TypedParam{
		str(golibvirt.MigrateParamDestXML, to.DomainXML),
		str(golibvirt.MigrateParamPersistXML, to.DomainXML),
		str(golibvirt.MigrateParamURI, "tcp://"+host),
		str(golibvirt.MigrateParamMigrateDisks, migrateDisk),
		str(golibvirt.MigrateParamDisksURI, "tcp://"+host),
	}, nil
}

// monitorMigration runs beside a migration until done is closed (it
// finished): it sets the max downtime once the job runs, switches to
// post-copy after opt.PostCopyAfter when the flags allow it, and aborts
// the job when opt.Timeout passes (true) or ctx ends.
func (d *Driver) monitorMigration(ctx context.Context, done <-chan struct{}, l *golibvirt.Libvirt, dom golibvirt.Domain,
	id string, flags golibvirt.DomainMigrateFlags, opt compute.MigrateOptions) (timedOut bool) {
	start := time.Now()
	downtimeSet := opt.MaxDowntime <= 0
	postcopy := flags&golibvirt.MigratePostcopy != 0
	postcopyTried := false
	t := time.NewTicker(monitorInterval)
	defer t.Stop()
	for {
		select {
		case <-done:
			return false
		case <-ctx.Done():
			d.log.Warn("migration canceled: aborting it", "instance", id, "err", ctx.Err())
			if err := l.DomainAbortJob(dom); err != nil {
				d.log.Warn("aborting migration", "instance", id, "err", err)
			}
			<-done
			return false
		case <-t.C:
		}
		elapsed := time.Since(start)
		running := false
		if !downtimeSet || postcopy {
			typ, _, _, _, _, _, _, _, _, _, _, _, err := l.DomainGetJobInfo(dom)
			running = err == nil && golibvirt.DomainJobType(typ) == golibvirt.DomainJobUnbounded
		}
		if !downtimeSet && running {
			ms := uint64(max(opt.MaxDowntime.Milliseconds(), 1))
			if err := l.DomainMigrateSetMaxDowntime(dom, ms, 0); err != nil {
				d.log.Warn("setting migration max downtime", "instance", id, "ms", ms, "err", err)
			} else if got, err := l.DomainMigrateGetMaxDowntime(dom, 0); err == nil {
				d.log.Info("migration max downtime set", "instance", id, "ms", got)
			}
			downtimeSet = true
		}
		if postcopy && running && elapsed >= opt.PostCopyAfter {
			// Refused while the disk is still being mirrored: again at the
			// next look.
			if err := l.DomainMigrateStartPostCopy(dom, 0); err != nil {
				if !postcopyTried {
					d.log.Info("cannot switch the migration to post-copy yet", "instance", id, "err", err)
				}
			} else {
				postcopy = false
				d.log.Info("migration not converged: switched to post-copy", "instance", id, "after", elapsed.Round(time.Millisecond))
			}
			postcopyTried = true
		}
		if opt.Timeout > 0 && elapsed >= opt.Timeout {
			d.log.Warn("migration timed out: aborting it", "instance", id, "timeout", opt.Timeout)
			if err := l.DomainAbortJob(dom); err != nil {
				d.log.Warn("aborting migration", "instance", id, "err", err)
			}
			<-done
			return true
		}
	}
}

// completedStats reads the finished migration job's statistics; what
// libvirt does not report stays zero.
func (d *Driver) completedStats(l *golibvirt.Libvirt, dom golibvirt.Domain, id string) compute.MigrationStats {
	_, params, err := l.DomainGetJobStats(dom, golibvirt.DomainJobStatsCompleted)
	if err != nil {
		d.log.Warn("reading the completed migration's statistics", "instance", id, "err", err)
		return compute.MigrationStats{}
	}
	return jobStats(params)
}

// jobStats maps a job's typed parameters to MigrationStats.
func jobStats(params []golibvirt.TypedParam) compute.MigrationStats {
	var s compute.MigrationStats
	for _, p := range params {
		v, ok := p.Value.I.(uint64)
		if !ok {
			continue
		}
		switch p.Field {
		case golibvirt.DomainJobTimeElapsed:
			s.Total = time.Duration(v) * time.Millisecond
		case golibvirt.DomainJobDowntime:
			s.Downtime = time.Duration(v) * time.Millisecond
		case golibvirt.DomainJobMemoryProcessed:
			s.Memory = v
		case golibvirt.DomainJobDiskProcessed:
			s.Disk = v
		}
	}
	return s
}

// migrateError classifies a failed migration: besides what classify marks,
// a migration libvirt calls unsafe or a CPU the destination cannot offer
// stay so.
func migrateError(err error) error {
	if hasCode(err, golibvirt.ErrMigrateUnsafe) || hasCode(err, golibvirt.ErrCPUIncompatible) {
		return compute.Permanent(err)
	}
	return err
}

// Resize redefines the shut off domain with spec's vCPUs and memory (the
// one place a domain is redefined: same UUID, MAC and disk, this host's
// paths) and grows its volume to spec.DiskGiB; a disk is never shrunk.
func (d *Driver) Resize(ctx context.Context, spec compute.InstanceSpec) error {
	return d.withDomain(ctx, "resize", spec.ID, false, func(l *golibvirt.Libvirt, dom golibvirt.Domain, st golibvirt.DomainState) error {
		if st != golibvirt.DomainShutoff {
			return invalid("resize", spec.ID, stateName(st))
		}
		pool, err := d.ensurePool(l)
		if err != nil {
			return err
		}
		vol, err := l.StorageVolLookupByName(pool, volumeName(spec.ID))
		if err != nil {
			return fmt.Errorf("disk: %w", err)
		}
		disk, err := l.StorageVolGetPath(vol)
		if err != nil {
			return fmt.Errorf("disk: %w", err)
		}
		doc, err := d.hostDomain(ctx, l, spec, disk)
		if err != nil {
			return err
		}
		if _, err := l.DomainDefineXMLFlags(doc, golibvirt.DomainDefineValidate); err != nil {
			return fmt.Errorf("redefine: %w", err)
		}
		if err := growVolume(l, vol, uint64(spec.DiskGiB)*gib); err != nil {
			return err
		}
		d.log.Info("domain resized", "instance", spec.ID, "vcpus", spec.VCPUs, "memory_mib", spec.MemoryMiB, "disk_gib", spec.DiskGiB)
		return d.reserve(l, spec)
	})
}

// growVolume grows vol to capacity bytes; one as large or larger is left.
func growVolume(l *golibvirt.Libvirt, vol golibvirt.StorageVol, capacity uint64) error {
	_, current, _, err := l.StorageVolGetInfo(vol)
	if err != nil {
		return fmt.Errorf("disk: %w", err)
	}
	if capacity <= current {
		return nil
	}
	if err := l.StorageVolResize(vol, capacity, 0); err != nil {
		return fmt.Errorf("grow disk to %d bytes: %w", capacity, err)
	}
	return nil
}
