package compute

import (
	"context"
	"time"
)

// Migrator is a Hypervisor that moves domains to another host's libvirtd
// without shared storage: the disk goes with the guest. Every method is
// idempotent and keyed by the instance UUID, as Hypervisor's.
type Migrator interface {
	// PrepareIncoming readies this host for spec's domain arriving from
	// another host: its disk (an empty overlay on the cached base image,
	// of spec's size, which the migration fills), its config drive and its
	// DHCP reservation, without defining the domain. It returns the
	// domain's XML as this host would define it (this node's name in the
	// shoal metadata, this host's paths), for the source to hand to libvirt
	// as the destination XML. A leftover disk of an earlier attempt is
	// replaced by an empty one.
	PrepareIncoming(ctx context.Context, spec InstanceSpec) (string, error)
	// MigrateTo moves domain id to the host to names, its disk copied.
	// Live: the guest runs on while its memory is copied; libvirt switches
	// over (pausing it at most about opt.MaxDowntime) when the rest fits.
	// A shut off domain (a cold migration's) is started paused here and
	// moved paused: it stays paused there, and its disk holds what it held
	// when it stopped. On success the domain runs (or is paused) on the
	// destination, defined persistently from to.DomainXML, and is shut off
	// here but still defined with its disk (Undefine cleans it up). On
	// failure it is here as before (libvirt resumes a live guest).
	MigrateTo(ctx context.Context, id string, to MigrationTarget, opt MigrateOptions) (MigrationStats, error)
	// Resize redefines the shut off domain id with spec's vCPUs and memory
	// and grows its disk to spec.DiskGiB (a disk is never shrunk).
	Resize(ctx context.Context, spec InstanceSpec) error
}

// MigrationTarget is where a migration goes.
type MigrationTarget struct {
	Host string // the destination node's name
	// URI is the destination libvirtd's, which the source's libvirtd
	// dials (peer to peer): the agent's --migration-uri with the
	// destination's cluster address.
	URI string
	// Address is the destination's cluster address: the migration and
	// disk streams go there.
	Address string
	// DomainXML is the destination's PrepareIncoming answer.
	DomainXML string
}

// MigrateOptions tune a live migration (the agent's settings).
type MigrateOptions struct {
	Live bool
	// MaxDowntime is the longest pause libvirt may take to switch over (0:
	// QEMU's default, 300 ms).
	MaxDowntime time.Duration
	// AutoConverge slows the guest's vCPUs down while its memory is
	// written faster than it is copied.
	AutoConverge bool
	// PostCopy switches to post-copy (the guest runs on the destination,
	// fetching the pages it lacks) when pre-copy has not converged after
	// PostCopyAfter.
	PostCopy      bool
	PostCopyAfter time.Duration
	// Timeout aborts a migration that has not completed after it (0: none).
	Timeout time.Duration
}

// MigrationStats is how a migration went, as libvirt reports it.
type MigrationStats struct {
	Total    time.Duration // from start to completion
	Downtime time.Duration // the guest's pause at switch-over
	Memory   uint64        // bytes of memory sent
	Disk     uint64        // bytes of disk sent
}
