package libvirt

import "testing"

func TestFormatVersion(t *testing.T) {
	for _, tc := range []struct {
		in   uint64
		want string
	}{
		{7002000, "7.2.0"},
		{7002022, "7.2.22"},
		{9000000, "9.0.0"},
		{10010001, "10.10.1"},
		{0, "0.0.0"},
	} {
		if got := formatVersion(tc.in); got != tc.want {
			t.Errorf("formatVersion(%d) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestCString(t *testing.T) {
	var model [32]int8
	for i, c := range "x86_64" {
		model[i] = int8(c)
	}
	for _, tc := range []struct {
		in   []int8
		want string
	}{
		{model[:], "x86_64"},
		{[]int8{'a', 'a', 'r', 'c', 'h', '6', '4'}, "aarch64"}, // no NUL
		{nil, ""},
	} {
		if got := cString(tc.in); got != tc.want {
			t.Errorf("cString(%v) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestChooseDomainType(t *testing.T) {
	for _, tc := range []struct {
		device, cpu, caps bool
		want              string
	}{
		{true, true, true, "kvm"},
		{true, false, true, "qemu"}, // these machines: /dev/kvm and kvm caps, no vmx/svm
		{false, true, true, "qemu"},
		{true, true, false, "qemu"},
		{false, false, false, "qemu"},
	} {
		if got := chooseDomainType(tc.device, tc.cpu, tc.caps); got != tc.want {
			t.Errorf("chooseDomainType(device=%v, cpu=%v, caps=%v) = %q, want %q",
				tc.device, tc.cpu, tc.caps, got, tc.want)
		}
	}
}

func TestCPUHasVirtExtensions(t *testing.T) {
	for _, tc := range []struct {
		name, cpuinfo string
		want          bool
	}{
		{"intel", "processor\t: 0\nflags\t\t: fpu vme de pse vmx ept\n", true},
		{"amd", "processor\t: 0\nflags\t\t: fpu svm npt\n\nprocessor\t: 1\nflags\t\t: fpu svm npt\n", true},
		{"no extensions", "processor\t: 0\nflags\t\t: fpu vme hypervisor lahf_lm\n", false},
		{"only in another field", "model name\t: vmx svm CPU\nflags\t\t: fpu\n", false},
		{"flag as prefix", "flags\t\t: vmxe svmlock\n", false},
		{"vmx flags line", "vmx flags\t: vnmi ept\nflags\t\t: fpu\n", false},
		{"empty", "", false},
	} {
		if got := cpuHasVirtExtensions(tc.cpuinfo); got != tc.want {
			t.Errorf("%s: cpuHasVirtExtensions = %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestDiskUsage(t *testing.T) {
	total, free, err := diskUsage(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if total <= 0 || free < 0 || free > total {
		t.Errorf("diskUsage = %d GiB total, %d GiB free", total, free)
	}
	if _, _, err := diskUsage("/nonexistent/shoal"); err == nil {
		t.Error("diskUsage of a missing dir succeeded")
	}
}

// A libvirt under-reporting memory: NodeGetInfo and NodeGetFreeMemory count
// one NUMA cell while the host has more (measured on the CI machines:
// 3.8 GiB or 6.1 GiB of 24 GiB); the host's real memory must win.
func TestHostMemory(t *testing.T) {
	const (
		cellKiB      = 4024056    // NodeGetInfo: one cell
		cellFreeByte = 3385 << 20 // NodeGetFreeMemory: that cell's free memory
	)
	host := map[string]uint64{"total": 24683584, "free": 23732708, "buffers": 14832, "cached": 650352}
	for _, tc := range []struct {
		name              string
		infoKiB, freeByte uint64
		stats             map[string]uint64
		wantTotal         int64 // MiB
		wantFree          int64 // MiB
	}{
		{"cells sum to less than the host", cellKiB, cellFreeByte, host, 24105, 23826},
		{"no stats: NodeGetInfo stands", cellKiB, cellFreeByte, nil, 3929, 3385},
		{"both agree", 24683584, 23732708 << 10, host, 24105, 23826},
		{"stats say less: the larger wins", 24683584, 23732708 << 10,
			map[string]uint64{"total": cellKiB, "free": 1 << 20}, 24105, 23176},
		{"free never above total", 1 << 20, 4 << 30, nil, 1024, 1024},
		{"stats without free fields", cellKiB, cellFreeByte, map[string]uint64{"total": 24683584}, 24105, 3385},
	} {
		t.Run(tc.name, func(t *testing.T) {
			total, free := hostMemory(tc.infoKiB, tc.freeByte, tc.stats)
			if total != tc.wantTotal || free != tc.wantFree {
				t.Errorf("hostMemory = %d MiB total, %d MiB free; want %d, %d", total, free, tc.wantTotal, tc.wantFree)
			}
		})
	}
}
