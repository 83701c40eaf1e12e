package compute_test

import (
	"testing"

	"github.com/shoal-project/shoal/compute"
	"github.com/shoal-project/shoal/fsm"
)

func TestReservedApply(t *testing.T) {
	host := fsm.Inventory{VCPUs: 8, VCPUsFree: 6, MemoryMiB: 24104, MemoryFreeMiB: 20000,
		DiskGiB: 100, DiskFreeGiB: 80, Arch: "x86_64", HypervisorType: "QEMU", Instances: 2}
	with := func(vcpus, vcpusFree int, mem, memFree int64) fsm.Inventory {
		f := host
		f.VCPUs, f.VCPUsFree, f.MemoryMiB, f.MemoryFreeMiB = vcpus, vcpusFree, mem, memFree
		return f
	}
	for _, tc := range []struct {
		name     string
		reserved compute.Reserved
		in, want fsm.Inventory
	}{
		{"nothing reserved", compute.Reserved{}, host, host},
		{"Nova's defaults", compute.Reserved{MemoryMiB: compute.DefaultReservedMemoryMiB, VCPUs: compute.DefaultReservedVCPUs},
			host, with(8, 6, 23592, 19488)},
		{"vCPUs and memory", compute.Reserved{MemoryMiB: 4096, VCPUs: 2}, host, with(6, 4, 20008, 15904)},
		{"free runs out first", compute.Reserved{MemoryMiB: 512, VCPUs: 2}, with(8, 1, 24104, 100), with(6, 0, 23592, 0)},
		{"more than the host has", compute.Reserved{MemoryMiB: 1 << 20, VCPUs: 64}, host, with(0, 0, 0, 0)},
		{"overcommitted vCPUs stay as reported", compute.Reserved{VCPUs: 2}, with(8, -4, 24104, 20000), with(6, -4, 24104, 20000)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.reserved.Apply(tc.in); got != tc.want {
				t.Errorf("Apply(%+v)\n = %+v\nwant %+v", tc.in, got, tc.want)
			}
		})
	}
}

func TestReservedValidate(t *testing.T) {
	for _, tc := range []struct {
		r  compute.Reserved
		ok bool
	}{
		{compute.Reserved{}, true},
		{compute.Reserved{MemoryMiB: 512, VCPUs: 1}, true},
		{compute.Reserved{MemoryMiB: -1}, false},
		{compute.Reserved{VCPUs: -1}, false},
	} {
		if err := tc.r.Validate(); (err == nil) != tc.ok {
			t.Errorf("Validate(%+v) = %v, want ok=%v", tc.r, err, tc.ok)
		}
	}
}
