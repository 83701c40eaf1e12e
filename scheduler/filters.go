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
	availabilityZoneFilter:        {"AvailabilityZoneFilter", func(_ *hostState, host *fsm.Host, r *request) bool { return host.InZone() == r.zone }},
	ramFilter:                     {"RamFilter", fitsIn(fsm.ResourceMemory)},
	coreFilter:                    {"CoreFilter", fitsIn(fsm.ResourceVCPUs)},
	diskFilter:                    {"DiskFilter", fitsIn(fsm.ResourceDisk)},
	imagePropertiesFilter:         {"ImagePropertiesFilter", imageFits},
	serverGroupAffinityFilter:     {"ServerGroupAffinityFilter", affinityFits},
	serverGroupAntiAffinityFilter: {"ServerGroupAntiAffinityFilter", antiAffinityFits},
}

func (f filterID) String() string { return filters[f].name }

// fitsIn is the capacity filter for one resource: fsm's fit rule, the one
// the plan applier re-checks each placement with at commit, applied to the
// claims including this batch's. The filters run in fsm.Fit's order, so a
// host short of several resources is counted against the filter of the
// resource the commit re-check would name.
func fitsIn(res fsm.Resource) func(h *hostState, host *fsm.Host, r *request) bool {
	return func(h *hostState, _ *fsm.Host, r *request) bool {
		return fsm.FitsIn(res, h.capacity, h.used.Resources(), r.flavor.Resources(), r.ratios)
	}
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
// anywhere. A moving member does not count itself: alone on its source it
// binds nothing (the commit re-check skips it too; Nova excludes it).
func affinityFits(_ *hostState, host *fsm.Host, r *request) bool {
	g := r.group
	if r.source != "" && g.hosts[r.source] == 1 {
		others := len(g.hosts) - 1
		return others == 0 || others == 1 && g.hosts[host.Name] > 0 && host.Name != r.source
	}
	return len(g.hosts) == 0 || (len(g.hosts) == 1 && g.hosts[host.Name] > 0)
}

// antiAffinityFits holds while the host has fewer members of the group
// than the group's max_server_per_host (1 by default), fsm's rule.
func antiAffinityFits(_ *hostState, host *fsm.Host, r *request) bool {
	return r.group.hosts[host.Name] < r.group.perHost
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
