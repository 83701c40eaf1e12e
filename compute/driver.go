package compute

import (
	"context"
	"errors"
)

// ErrClosed is returned by a Driver used after Close.
var ErrClosed = errors.New("compute: driver closed")

// Fingerprint is what a host offers, as its driver sees it.
type Fingerprint struct {
	VCPUs             int
	VCPUsFree         int // VCPUs minus vCPUs of running instances
	MemoryMiB         int64
	MemoryFreeMiB     int64
	DiskGiB           int64 // of the filesystem holding the data dir
	DiskFreeGiB       int64
	Arch              string // x86_64, aarch64
	HypervisorType    string // "QEMU" for libvirt (as Nova reports for kvm and qemu), "fake"
	HypervisorVersion string // e.g. "7.2.0"
	DomainType        string // "kvm" when usable, else "qemu" (TCG); "fake" for fake
	Instances         int    // shoal instances on this host
}

// Driver runs instances on one host.
type Driver interface {
	// Fingerprint reports the host's capacity and hypervisor as they are now.
	Fingerprint(ctx context.Context) (Fingerprint, error)
	// Close releases the driver's connections and goroutines.
	Close() error
}
