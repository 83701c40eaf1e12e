package scheduler

import (
	"strings"

	"github.com/shoal-project/shoal/fsm"
)

// filterID names a filter; the order of the constants is the order filters
// run in (cheapest and most selective first), and the order a NoValidHost
// message lists them in. A host is counted against the first filter that
// rejects it, as Nova's sequential filter chain would.
type filterID uint8

const (
	computeFilter filterID = iota
	availabilityZoneFilter
	ramFilter
	coreFilter
	diskFilter
	imagePropertiesFilter
	serverGroupAffinityFilter
	serverGroupAntiAffinityFilter
	numFilters
)

// filters is the filter table: Nova's names and the test each applies.
var filters = [numFilters]struct {
	name string
	pass func(h *hostState, host *fsm.Host, r *request) bool
}{
	computeFilter: {"ComputeFilter", func(h *hostState, host *fsm.Host, _ *request) bool {
		return h.alive && host.Enabled && !host.Down && !host.ForcedDown
	}},
	availabilityZoneFilter:        {"AvailabilityZoneFilter", func(_ *hostState, host *fsm.Host, r *request) bool { return host.Zone == r.zone }},
	ramFilter:                     {"RamFilter", ramFits},
	coreFilter:                    {"CoreFilter", coreFits},
	diskFilter:                    {"DiskFilter", diskFits},
	imagePropertiesFilter:         {"ImagePropertiesFilter", imageFits},
	serverGroupAffinityFilter:     {"ServerGroupAffinityFilter", affinityFits},
	serverGroupAntiAffinityFilter: {"ServerGroupAntiAffinityFilter", antiAffinityFits},
}

func (f filterID) String() string { return filters[f].name }

// limit is fsm's commit-time arithmetic, repeated here on purpose: capacity ×
// ratio in one float64 multiplication, truncated. Any other formula would let
// the scheduler propose what the commit re-check then rejects.
func limit(total int, ratio float64) int {
	return int(float64(total) * ratio)
}

// The three capacity filters compare claims (including this batch's) plus the
// flavor with capacity × ratio, exactly as fsm's placementProblem. A host
// that reports no capacity in a dimension (no inventory yet) fits nothing,
// even a flavor that asks for none of it.
func ramFits(h *hostState, host *fsm.Host, r *request) bool {
	return host.MemoryMiB > 0 && h.used.RAM+r.flavor.RAM <= h.limitRAM
}

func coreFits(h *hostState, host *fsm.Host, r *request) bool {
	return host.VCPUs > 0 && h.used.VCPUs+r.flavor.VCPUs <= h.limitCPU
}

func diskFits(h *hostState, host *fsm.Host, r *request) bool {
	return host.DiskGiB > 0 && h.used.Disk+r.flavor.Disk <= h.limitDisk
}

// imageFits is Nova's ImagePropertiesFilter for the two properties hosts
// report: architecture (canonical names, so amd64 matches x86_64) and
// hypervisor type (case-insensitive, so qemu matches QEMU).
func imageFits(_ *hostState, host *fsm.Host, r *request) bool {
	if r.arch != "" && fsm.CanonicalArch(host.Arch) != r.arch {
		return false
	}
	return r.hypervisorType == "" || strings.EqualFold(host.HypervisorType, r.hypervisorType)
}

// affinityFits holds when every placed member of the group is on this host,
// the rule the commit re-check applies; a group with no placed member fits
// anywhere.
func affinityFits(_ *hostState, host *fsm.Host, r *request) bool {
	g := r.group
	return len(g.hosts) == 0 || (len(g.hosts) == 1 && g.hosts[host.Name] > 0)
}

func antiAffinityFits(_ *hostState, host *fsm.Host, r *request) bool {
	return r.group.hosts[host.Name] == 0
}

// activeFilters lists the filters that can reject anything for r; the rest
// are skipped, which keeps the per-host cost of a plain request at four
// comparisons. forced drops the availability zone, as a forced host bypasses
// it.
func activeFilters(dst []filterID, r *request, forced bool) []filterID {
	dst = append(dst[:0], computeFilter)
	if r.zone != "" && !forced {
		dst = append(dst, availabilityZoneFilter)
	}
	dst = append(dst, ramFilter, coreFilter, diskFilter)
	if r.arch != "" || r.hypervisorType != "" {
		dst = append(dst, imagePropertiesFilter)
	}
	if r.group != nil {
		switch r.group.policy {
		case fsm.PolicyAffinity:
			dst = append(dst, serverGroupAffinityFilter)
		case fsm.PolicyAntiAffinity:
			dst = append(dst, serverGroupAntiAffinityFilter)
		}
	}
	return dst
}

// firstRejection runs r's filters on a host and returns the first that rejects it.
func firstRejection(h *hostState, host *fsm.Host, r *request, active []filterID) (filterID, bool) {
	for _, f := range active {
		if !filters[f].pass(h, host, r) {
			return f, true
		}
	}
	return 0, false
}

// Image property keys: Nova's current names and the legacy ones.
var (
	archKeys           = []string{"hw_architecture", "architecture"}
	hypervisorTypeKeys = []string{"img_hv_type", "hypervisor_type"}
)

func imageProperty(img fsm.Image, keys []string) string {
	for _, k := range keys {
		if v := strings.TrimSpace(img.Properties[k]); v != "" {
			return v
		}
	}
	return ""
}
