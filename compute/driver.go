package compute

import (
	"context"
	"errors"
	"time"

	"github.com/shoal-project/shoal/fsm"
)

var (
	// ErrClosed is returned by a Driver used after Close.
	ErrClosed = errors.New("compute: driver closed")
	// ErrNotFound means the hypervisor has no domain for that instance.
	ErrNotFound = errors.New("compute: no such domain")
	// ErrInvalidState means the domain's power state does not allow the
	// operation (pausing a domain that is shut off); retrying cannot help.
	ErrInvalidState = errors.New("compute: operation not valid in the domain's state")
	// ErrPermanent marks a failure that retrying cannot heal: the host's
	// setup or the request is wrong (permission denied on a disk or
	// directory, invalid domain XML, an unsupported image or feature).
	// Drivers mark such errors with Permanent.
	ErrPermanent = errors.New("compute: permanent failure")
)

// Permanent marks err as one that retrying cannot heal: errors.Is(err,
// ErrPermanent) holds and errors.Is/As still find everything err wraps, while
// the message stays err's own, so the reason reaches the fault as the
// hypervisor gave it. Permanent(nil) is nil.
func Permanent(err error) error {
	if err == nil || errors.Is(err, ErrPermanent) {
		return err
	}
	return permanentError{err}
}

type permanentError struct{ err error }

func (e permanentError) Error() string   { return e.err.Error() }
func (e permanentError) Unwrap() []error { return []error{e.err, ErrPermanent} }

// Driver is what every compute driver offers: the host's inventory.
type Driver interface {
	// Fingerprint reports the host's capacity and hypervisor as they are
	// now: everything in fsm.Inventory but the zone and the agent's
	// version, which the node adds.
	Fingerprint(ctx context.Context) (fsm.Inventory, error)
	// Close releases the driver's connections and goroutines.
	Close() error
}

// Hypervisor runs instances; every method is idempotent and keyed by the
// instance UUID, so the reconciler can repeat any step after a crash or a
// lost report without harm. A domain shoal did not define is never listed,
// inspected or touched.
type Hypervisor interface {
	Driver
	// Define creates the domain (shut off) and its disks. A domain that
	// exists already is left as it is, never recreated: nil.
	Define(ctx context.Context, spec InstanceSpec) error
	// Start boots a shut off domain or restores a suspended one; running
	// already: nil.
	Start(ctx context.Context, id string) error
	// Stop asks the guest to shut down (ACPI) and powers it off hard after
	// timeout; off already: nil.
	Stop(ctx context.Context, id string, timeout time.Duration) error
	// Destroy powers the domain off at once; off or missing: nil.
	Destroy(ctx context.Context, id string) error
	// Undefine removes the domain's definition and disks; missing: nil.
	Undefine(ctx context.Context, id string) error
	// Reboot restarts the guest: soft asks the guest (running only), hard
	// resets it from any state and leaves it running.
	Reboot(ctx context.Context, id string, hard bool) error
	// Pause freezes the vCPUs of a running domain; paused already: nil.
	Pause(ctx context.Context, id string) error
	// Unpause thaws a paused domain; running already: nil.
	Unpause(ctx context.Context, id string) error
	// Suspend saves the guest's memory to disk and stops it (managed save);
	// suspended already: nil.
	Suspend(ctx context.Context, id string) error
	// Resume restores a suspended domain; running already: nil.
	Resume(ctx context.Context, id string) error
	// Inspect returns one domain; ErrNotFound when it is missing.
	Inspect(ctx context.Context, id string) (Domain, error)
	// List returns this host's shoal domains, ordered by ID.
	List(ctx context.Context) ([]Domain, error)
	// ConsoleLog returns the last lines of the serial console (all when
	// lines <= 0).
	ConsoleLog(ctx context.Context, id string, lines int) (string, error)
	// InjectNMI sends a non-maskable interrupt to a running or paused
	// domain (Nova's trigger_crash_dump: a guest set up for it dumps its
	// kernel and reboots); any other state is ErrInvalidState.
	InjectNMI(ctx context.Context, id string) error
}

// Notifier is implemented by a Hypervisor that reports domain lifecycle
// changes: the ID of each domain whose state changed, dropped when nobody
// reads fast enough. The reconciler re-syncs on them instead of waiting for
// its interval.
type Notifier interface {
	Events() <-chan string
}

// InstanceSpec is what a domain is built from: the instance as the FSM holds it.
type InstanceSpec struct {
	ID        string // instance UUID, also the domain UUID
	Name      string // user input: never used unescaped
	VCPUs     int
	MemoryMiB int
	DiskGiB   int
	ImageID   string
	Addresses []fsm.Address
	Metadata  map[string]string
	// ConfigDrive: the user asked for a config drive (Nova's config_drive);
	// a host may attach one to every instance regardless.
	ConfigDrive bool
}

// SpecOf builds the spec of an instance from its flavor, image and addresses.
func SpecOf(inst fsm.Instance) InstanceSpec {
	return InstanceSpec{
		ID: inst.ID, Name: inst.Name,
		VCPUs: inst.Flavor.VCPUs, MemoryMiB: inst.Flavor.RAM, DiskGiB: inst.Flavor.Disk,
		ImageID: inst.ImageID, Addresses: inst.Addresses, Metadata: inst.Metadata,
		ConfigDrive: inst.ConfigDrive,
	}
}

// Domain is a shoal domain as the hypervisor sees it now.
type Domain struct {
	ID         string
	Name       string
	PowerState fsm.PowerState
}
