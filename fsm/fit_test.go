package fsm_test

import (
	"testing"

	"github.com/shoal-project/shoal/fsm"
)

func TestFit(t *testing.T) {
	one := fsm.Ratios{CPU: 1, RAM: 1, Disk: 1}
	res := func(vcpus, mem, disk int) fsm.Resources {
		return fsm.Resources{VCPUs: vcpus, MemoryMiB: mem, DiskGiB: disk}
	}
	const fits = "fits"
	for _, tc := range []struct {
		name                       string
		capacity, claimed, request fsm.Resources
		ratios                     fsm.Ratios
		want                       string // "fits", or the resource that is short
	}{
		{"empty host, no claims", res(8, 8192, 100), res(0, 0, 0), res(1, 512, 10), one, fits},
		{"exact fit", res(8, 8192, 100), res(6, 7680, 90), res(2, 512, 10), one, fits},
		{"one MiB over", res(8, 8192, 100), res(6, 7681, 90), res(2, 512, 10), one, "RAM"},
		{"one vCPU over", res(8, 8192, 100), res(7, 0, 0), res(2, 512, 10), one, "vCPUs"},
		{"one GiB over", res(8, 8192, 100), res(0, 0, 91), res(2, 512, 10), one, "disk"},

		// Ratios: capacity × ratio, truncated.
		{"cpu over-commit 16", res(2, 8192, 100), res(30, 0, 0), res(2, 512, 10), fsm.DefaultRatios, fits},
		{"cpu over-commit 16, full", res(2, 8192, 100), res(31, 0, 0), res(2, 512, 10), fsm.DefaultRatios, "vCPUs"},
		{"ram 683 × 1.5 = 1024.5 → 1024", res(8, 683, 100), res(0, 0, 0), res(1, 1024, 0), fsm.DefaultRatios, fits},
		{"ram 683 × 1.5 = 1024.5 → 1024, one over", res(8, 683, 100), res(0, 1, 0), res(1, 1024, 0), fsm.DefaultRatios, "RAM"},
		{"disk under-commit 7 × 0.5 = 3", res(8, 8192, 7), res(0, 0, 2), res(1, 1, 1), fsm.Ratios{CPU: 1, RAM: 1, Disk: 0.5}, fits},
		{"disk under-commit 7 × 0.5 = 3, full", res(8, 8192, 7), res(0, 0, 3), res(1, 1, 1), fsm.Ratios{CPU: 1, RAM: 1, Disk: 0.5}, "disk"},
		{"ratio just under a whole number", res(8, 1000, 100), res(0, 0, 0), res(1, 1000, 0), fsm.Ratios{CPU: 1, RAM: 0.9999999, Disk: 1}, "RAM"},
		{"claims already past the limit", res(8, 1000, 100), res(1, 1600, 0), res(1, 1, 0), fsm.DefaultRatios, "RAM"},

		// A host reporting 0 of a resource fits nothing, not even a request
		// for none of it.
		{"no inventory", res(0, 0, 0), res(0, 0, 0), res(1, 1, 0), fsm.DefaultRatios, "RAM"},
		{"no disk, diskless request", res(8, 8192, 0), res(0, 0, 0), res(1, 512, 0), fsm.DefaultRatios, "disk"},
		{"no vCPUs", res(0, 8192, 100), res(0, 0, 0), res(1, 512, 0), fsm.DefaultRatios, "vCPUs"},
		{"disk, diskless request", res(8, 8192, 1), res(0, 0, 1), res(1, 512, 0), one, fits},

		// Several short: memory is named first, then vCPUs, then disk.
		{"all short", res(1, 1, 1), res(1, 1, 1), res(1, 1, 1), one, "RAM"},
		{"vCPUs and disk short", res(1, 2, 1), res(1, 1, 1), res(1, 1, 1), one, "vCPUs"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			short, ok := fsm.Fit(tc.capacity, tc.claimed, tc.request, tc.ratios)
			got := fits
			if !ok {
				got = short.String()
			}
			if got != tc.want {
				t.Errorf("Fit = %s, want %s", got, tc.want)
			}
			// Fit is FitsIn over the resources, in order.
			first := fits
			for _, r := range []fsm.Resource{fsm.ResourceMemory, fsm.ResourceVCPUs, fsm.ResourceDisk} {
				if !fsm.FitsIn(r, tc.capacity, tc.claimed, tc.request, tc.ratios) && first == fits {
					first = r.String()
				}
			}
			if first != got {
				t.Errorf("first FitsIn failure = %s, Fit = %s", first, got)
			}
		})
	}
}

func TestLimit(t *testing.T) {
	for _, tc := range []struct {
		capacity int
		ratio    float64
		want     int
	}{
		{0, 16, 0},
		{1, 0.5, 0},
		{2, 16, 32},
		{3, 1.5, 4},
		{683, 1.5, 1024},
		{1000, 0.9999999, 999},
		{7, 0.5, 3},
	} {
		if got := fsm.Limit(tc.capacity, tc.ratio); got != tc.want {
			t.Errorf("Limit(%d, %v) = %d, want %d", tc.capacity, tc.ratio, got, tc.want)
		}
	}
}
