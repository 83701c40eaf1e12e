package compute

import (
	"errors"
	"fmt"

	"github.com/shoal-project/shoal/fsm"
)

// Reserved is what a host keeps for itself, out of reach of servers: Nova's
// reserved_host_memory_mb and reserved_host_cpus. It is taken off what the
// driver reports, whatever the driver, before the host's inventory leaves
// the node, so the scheduler never promises it.
type Reserved struct {
	MemoryMiB int64
	VCPUs     int
}

// Nova's defaults: 512 MiB for the host's own processes, no vCPUs.
const (
	DefaultReservedMemoryMiB = 512
	DefaultReservedVCPUs     = 0
)

// Validate rejects negative reservations: a host cannot offer more than it has.
func (r Reserved) Validate() error {
	var errs []error
	if r.MemoryMiB < 0 {
		errs = append(errs, fmt.Errorf("compute: reserved host memory must be 0 or more MiB, got %d", r.MemoryMiB))
	}
	if r.VCPUs < 0 {
		errs = append(errs, fmt.Errorf("compute: reserved host vCPUs must be 0 or more, got %d", r.VCPUs))
	}
	return errors.Join(errs...)
}

// Apply returns f less the reservation, in the totals and in what is free.
// The reservation never takes a figure below zero (a host reserving more
// than it has offers nothing); a free figure the driver already reports
// negative (vCPUs overcommitted) is left as it is.
func (r Reserved) Apply(f fsm.Inventory) fsm.Inventory {
	f.VCPUs = reserve(f.VCPUs, r.VCPUs)
	f.VCPUsFree = reserve(f.VCPUsFree, r.VCPUs)
	f.MemoryMiB = reserve(f.MemoryMiB, r.MemoryMiB)
	f.MemoryFreeMiB = reserve(f.MemoryFreeMiB, r.MemoryMiB)
	return f
}

// reserve is have less reserved, stopping at zero.
func reserve[T int | int64](have, reserved T) T {
	return max(have-reserved, min(have, 0))
}
