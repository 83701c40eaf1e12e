package fake

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"runtime"
	"slices"
	"sync"
	"time"

	"github.com/shoal-project/shoal/compute"
	"github.com/shoal-project/shoal/fsm"
)

// Config is the capacity the fake host reports, and where its domains live.
type Config struct {
	VCPUs     int
	MemoryMiB int64
	DiskGiB   int64
	// StateFile, when set, keeps the domains across restarts of the agent, as
	// a real hypervisor would: every change is written to it atomically and
	// New loads it. Empty: the domains live in memory only.
	StateFile string
}

// Defaults for the fields of Config left zero.
const (
	DefaultVCPUs     = 8
	DefaultMemoryMiB = 16384
	DefaultDiskGiB   = 200
)

// eventBuffer is how many state changes Events holds for a slow reader.
const eventBuffer = 256

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

// Validate reports every capacity field that is not positive.
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

// FakeDomain is one domain of the fake hypervisor, as tests inspect it.
type FakeDomain struct {
	ID         string            `json:"id"`
	Name       string            `json:"name"`
	VCPUs      int               `json:"vcpus"`
	MemoryMiB  int               `json:"memory_mib"`
	DiskGiB    int               `json:"disk_gib"`
	ImageID    string            `json:"image_id"`
	Addresses  []fsm.Address     `json:"addresses,omitempty"`
	Metadata   map[string]string `json:"metadata,omitempty"`
	PowerState fsm.PowerState    `json:"power_state"`
	// Defines counts how many times Define created a domain with this ID
	// (also across Undefine), so tests can prove nothing was recreated.
	Defines int `json:"defines"`
	// Boots counts guest boots: Start from shut off, Reboot. Restoring a
	// suspended domain is not a boot.
	Boots   int      `json:"boots"`
	Console []string `json:"console,omitempty"`
}

func (d *FakeDomain) clone() FakeDomain {
	c := *d
	c.Addresses = slices.Clone(d.Addresses)
	c.Metadata = maps.Clone(d.Metadata)
	c.Console = slices.Clone(d.Console)
	return c
}

// active reports whether the domain holds vCPUs and memory (its QEMU runs).
func (d *FakeDomain) active() bool {
	return d.PowerState == fsm.PowerRunning || d.PowerState == fsm.PowerPaused
}

// Driver is a compute.Hypervisor that runs nothing: its domains are records
// that follow libvirt's state rules, kept in memory and, optionally, in a file.
type Driver struct {
	mu      sync.Mutex
	cfg     Config
	closed  bool
	domains map[string]*FakeDomain
	defines map[string]int // creations per ID, kept across Undefine
	latency time.Duration
	faults  map[string][]error // op → errors for its next calls
	events  chan string
	// Migrations (migrate.go): the World the driver is a host of, its
	// name there, and the domains it prepared for.
	world    *World
	node     string
	incoming map[string]incoming
}

var (
	_ compute.Hypervisor = (*Driver)(nil)
	_ compute.Notifier   = (*Driver)(nil)
)

// New returns a fake driver; zero fields of cfg take the defaults. It panics
// when cfg is still invalid, or when its StateFile exists but cannot be read:
// callers taking user input run Validate first, or use Open.
func New(cfg Config) *Driver {
	d, err := Open(cfg)
	if err != nil {
		panic(err)
	}
	return d
}

// Open is New returning an error instead of panicking.
func Open(cfg Config) (*Driver, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	d := &Driver{
		cfg:     cfg,
		domains: map[string]*FakeDomain{},
		defines: map[string]int{},
		faults:  map[string][]error{},
		events:  make(chan string, eventBuffer),
	}
	if err := d.load(); err != nil {
		return nil, err
	}
	return d, nil
}

// SetCapacity replaces the capacity the host reports. Unlike New it fills in
// no defaults: an invalid cfg is rejected and the capacity stays as it was.
// The state file stays the one the driver was opened with.
func (d *Driver) SetCapacity(cfg Config) error {
	if err := cfg.Validate(); err != nil {
		return err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	cfg.StateFile = d.cfg.StateFile
	d.cfg = cfg
	return nil
}

// Fingerprint reports the configured capacity minus what active (running or
// paused) domains hold. Free vCPUs go negative when overcommitted, as with
// libvirt; free memory stops at zero, as the kernel's does.
func (d *Driver) Fingerprint(ctx context.Context) (fsm.Inventory, error) {
	if err := d.begin(ctx, OpFingerprint); err != nil {
		return fsm.Inventory{}, err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	f := fsm.Inventory{
		VCPUs:             d.cfg.VCPUs,
		VCPUsFree:         d.cfg.VCPUs,
		MemoryMiB:         d.cfg.MemoryMiB,
		MemoryFreeMiB:     d.cfg.MemoryMiB,
		DiskGiB:           d.cfg.DiskGiB,
		DiskFreeGiB:       d.cfg.DiskGiB,
		Arch:              fsm.CanonicalArch(runtime.GOARCH),
		HypervisorType:    "fake",
		HypervisorVersion: "1.0",
		Instances:         len(d.domains),
	}
	for _, dom := range d.domains {
		if dom.active() {
			f.VCPUsFree -= dom.VCPUs
			f.MemoryFreeMiB -= int64(dom.MemoryMiB)
		}
	}
	f.MemoryFreeMiB = max(f.MemoryFreeMiB, 0)
	return f, nil
}

// Close marks the driver closed; later calls fail with compute.ErrClosed.
// The domains stay in the state file for the next driver.
func (d *Driver) Close() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.closed = true
	return nil
}

// Domains returns copies of every domain, ordered by ID.
func (d *Driver) Domains() []FakeDomain {
	d.mu.Lock()
	defer d.mu.Unlock()
	out := make([]FakeDomain, 0, len(d.domains))
	for _, dom := range d.domains {
		out = append(out, dom.clone())
	}
	slices.SortFunc(out, func(a, b FakeDomain) int { return cmp.Compare(a.ID, b.ID) })
	return out
}
