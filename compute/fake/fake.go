package fake

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"

	"github.com/shoal-project/shoal/compute"
)

// Config is the capacity the fake host reports.
type Config struct {
	VCPUs     int
	MemoryMiB int64
	DiskGiB   int64
}

// Defaults for the fields of Config left zero.
const (
	DefaultVCPUs     = 8
	DefaultMemoryMiB = 16384
	DefaultDiskGiB   = 200
)

// WithDefaults returns c with its zero fields set to the defaults.
func (c Config) WithDefaults() Config {
	if c.VCPUs == 0 {
		c.VCPUs = DefaultVCPUs
	}
	if c.MemoryMiB == 0 {
		c.MemoryMiB = DefaultMemoryMiB
	}
	if c.DiskGiB == 0 {
		c.DiskGiB = DefaultDiskGiB
	}
	return c
}

// Validate reports every field that is not positive.
func (c Config) Validate() error {
	var errs []error
	if c.VCPUs <= 0 {
		errs = append(errs, fmt.Errorf("fake: vCPUs must be positive, got %d", c.VCPUs))
	}
	if c.MemoryMiB <= 0 {
		errs = append(errs, fmt.Errorf("fake: memory must be positive, got %d MiB", c.MemoryMiB))
	}
	if c.DiskGiB <= 0 {
		errs = append(errs, fmt.Errorf("fake: disk must be positive, got %d GiB", c.DiskGiB))
	}
	return errors.Join(errs...)
}

// Driver is a compute.Driver whose host has a fixed, settable capacity.
type Driver struct {
	mu     sync.Mutex
	cfg    Config
	closed bool
}

var _ compute.Driver = (*Driver)(nil)

// New returns a fake driver; zero fields of cfg take the defaults. It panics
// when cfg is still invalid: callers taking user input run Validate first.
func New(cfg Config) *Driver {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		panic(err)
	}
	return &Driver{cfg: cfg}
}

// SetCapacity replaces the capacity the host reports. Unlike New it fills in
// no defaults: an invalid cfg is rejected and the capacity stays as it was.
func (d *Driver) SetCapacity(cfg Config) error {
	if err := cfg.Validate(); err != nil {
		return err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	d.cfg = cfg
	return nil
}

// Fingerprint reports the configured capacity, all of it free: the fake runs
// no instances.
func (d *Driver) Fingerprint(ctx context.Context) (compute.Fingerprint, error) {
	if err := ctx.Err(); err != nil {
		return compute.Fingerprint{}, err
	}
	d.mu.Lock()
	cfg, closed := d.cfg, d.closed
	d.mu.Unlock()
	if closed {
		return compute.Fingerprint{}, compute.ErrClosed
	}
	return compute.Fingerprint{
		VCPUs:             cfg.VCPUs,
		VCPUsFree:         cfg.VCPUs,
		MemoryMiB:         cfg.MemoryMiB,
		MemoryFreeMiB:     cfg.MemoryMiB,
		DiskGiB:           cfg.DiskGiB,
		DiskFreeGiB:       cfg.DiskGiB,
		Arch:              compute.CanonicalArch(runtime.GOARCH),
		HypervisorType:    "fake",
		HypervisorVersion: "1.0",
		DomainType:        "fake",
	}, nil
}

// Close marks the driver closed; later Fingerprint calls fail with
// compute.ErrClosed.
func (d *Driver) Close() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.closed = true
	return nil
}
