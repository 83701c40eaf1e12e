package fsm

// This file holds the capacity fit rule. The scheduler's RAM, core and disk
// filters and the plan applier's commit-time re-check both call it, so the
// scheduler never proposes what the commit then rejects, nor the other way
// round (as Nomad shares one fit function between scheduler and plan applier).

// Ratios are allocation ratios: how far a host's vCPUs, RAM and disk may be
// overcommitted (Nova's cpu/ram/disk_allocation_ratio).
type Ratios struct {
	CPU  float64 `json:"cpu"`
	RAM  float64 `json:"ram"`
	Disk float64 `json:"disk"`
}

// DefaultRatios are Nova's defaults.
var DefaultRatios = Ratios{CPU: 16.0, RAM: 1.5, Disk: 1.0}

// Resources is an amount of the resources a server takes on a host: a
// host's capacity, the claims on it, or what a flavor asks for.
type Resources struct {
	VCPUs     int
	MemoryMiB int
	DiskGiB   int
}

// Resource names one of Resources' fields. The constants are in the order Fit
// checks them, which is the order of the scheduler's capacity filters
// (RamFilter, CoreFilter, DiskFilter): memory first, as it runs out first
// under Nova's default ratios.
type Resource uint8

const (
	ResourceMemory Resource = iota
	ResourceVCPUs
	ResourceDisk
	numResources
)

// String is the resource as a fault message names it ("not enough RAM").
func (r Resource) String() string {
	switch r {
	case ResourceMemory:
		return "RAM"
	case ResourceVCPUs:
		return "vCPUs"
	case ResourceDisk:
		return "disk"
	}
	return "unknown resource"
}

func (x Resources) of(r Resource) int { return pick(r, x.MemoryMiB, x.VCPUs, x.DiskGiB) }

func (x Ratios) of(r Resource) float64 { return pick(r, x.RAM, x.CPU, x.Disk) }

// pick is whichever of memory, vcpus and disk r names (zero for none), so
// Resources and Ratios map a Resource to their fields the same way.
func pick[T any](r Resource, memory, vcpus, disk T) T {
	switch r {
	case ResourceMemory:
		return memory
	case ResourceVCPUs:
		return vcpus
	case ResourceDisk:
		return disk
	}
	var zero T
	return zero
}

// Capacity is what the host offers, as its driver last reported it.
func (h *Host) Capacity() Resources {
	return Resources{VCPUs: h.VCPUs, MemoryMiB: int(h.MemoryMiB), DiskGiB: int(h.DiskGiB)}
}

// Resources is what the flavor asks of a host.
func (f FlavorSpec) Resources() Resources {
	return Resources{VCPUs: f.VCPUs, MemoryMiB: f.RAM, DiskGiB: f.Disk}
}

// Resources is what the claims on a host add up to.
func (u Usage) Resources() Resources {
	return Resources{VCPUs: u.VCPUs, MemoryMiB: u.RAM, DiskGiB: u.Disk}
}

// Limit is how much of a resource a host with capacity of it may promise
// under ratio: capacity × ratio in one float64 multiplication, truncated.
// One explicit formula, so every replica, and the scheduler, compute the
// same value.
func Limit(capacity int, ratio float64) int {
	return int(float64(capacity) * ratio)
}

// FitsIn reports whether request fits in resource r on a host with capacity
// and claimed already promised: claimed + request ≤ Limit(capacity, ratio).
//
// A host that reports 0 of a resource fits nothing, not even a request for
// none of it. Zero is what a host has before its first inventory report, or
// when its driver measured less than one unit (a data directory under 1 GiB),
// so it means "unknown", not "empty"; and a flavor with 0 GiB of disk still
// takes disk (its overlay is sized by the image). Flavors ask for at least one
// vCPU and 1 MiB, so this only decides diskless flavors on hosts reporting no
// disk, which the scheduler has always refused.
func FitsIn(r Resource, capacity, claimed, request Resources, ratios Ratios) bool {
	c := capacity.of(r)
	return c > 0 && claimed.of(r)+request.of(r) <= Limit(c, ratios.of(r))
}

// Fit reports whether request fits on a host with capacity and claimed
// already promised, under ratios. When it does not, short is the first
// resource (in Resource order) in which it does not fit; see FitsIn for the
// rule.
func Fit(capacity, claimed, request Resources, ratios Ratios) (short Resource, ok bool) {
	for r := range numResources {
		if !FitsIn(r, capacity, claimed, request, ratios) {
			return r, false
		}
	}
	return 0, true
}
