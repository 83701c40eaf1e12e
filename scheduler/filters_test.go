package scheduler

import (
	"strings"
	"testing"

	"github.com/shoal-project/shoal/fsm"
)

const nvh = "No valid host was found. There are not enough hosts available. "

// TestFilters places one instance per case and checks either the host it
// lands on or the exact fault message, with its per-filter counts.
func TestFilters(t *testing.T) {
	big := func(name string) hostSpec { return hostSpec{name: name, vcpus: 8, ram: 32768, disk: 500} }
	withZone := func(h hostSpec, zone string) hostSpec { h.zone = zone; return h }
	withArch := func(h hostSpec, arch string) hostSpec { h.arch = arch; return h }

	cases := []struct {
		name       string
		cfg        Config
		hosts      []hostSpec
		dead       []string
		setup      func(t *testing.T, w *world, s *Scheduler, l *liveness)
		server     fsm.NewInstance
		wantHost   string
		wantReason string
	}{
		{
			name:       "compute filter rejects dead and disabled hosts",
			hosts:      []hostSpec{big("h1"), {name: "h2", vcpus: 8, ram: 32768, disk: 500, disabled: true}},
			dead:       []string{"h1"},
			wantReason: nvh + "ComputeFilter rejected 2.",
		},
		{
			name:       "ram filter counts after compute filter",
			hosts:      []hostSpec{big("h1"), {name: "h2", vcpus: 8, ram: 512, disk: 500}, {name: "h3", vcpus: 8, ram: 682, disk: 500}},
			dead:       []string{"h1"},
			wantReason: nvh + "ComputeFilter rejected 1, RamFilter rejected 2.",
		},
		{
			// 683 MiB × 1.5 = 1024.5, truncated to 1024: exactly one unit fits.
			name:     "ram filter uses fsm's truncating arithmetic",
			hosts:    []hostSpec{{name: "h1", vcpus: 8, ram: 683, disk: 500}},
			wantHost: "h1",
		},
		{
			name:       "core filter with a cpu ratio of 1",
			cfg:        Config{Ratios: fsm.Ratios{CPU: 1, RAM: 1.5, Disk: 1}},
			hosts:      []hostSpec{{name: "h1", vcpus: 4, ram: 32768, disk: 500}},
			server:     fsm.NewInstance{FlavorID: "5"}, // m1.xlarge, 8 vCPUs
			wantReason: nvh + "CoreFilter rejected 1.",
		},
		{
			name:       "disk filter",
			hosts:      []hostSpec{{name: "h1", vcpus: 4, ram: 32768, disk: 10}, big("h2")},
			server:     fsm.NewInstance{FlavorID: "2"}, // m1.small, 20 GiB
			wantHost:   "h2",
			wantReason: "",
		},
		{
			name:       "disk filter rejects all",
			hosts:      []hostSpec{{name: "h1", vcpus: 4, ram: 32768, disk: 10}, {name: "h2", vcpus: 4, ram: 32768, disk: 19}},
			server:     fsm.NewInstance{FlavorID: "2"},
			wantReason: nvh + "DiskFilter rejected 2.",
		},
		{
			name:       "a host without inventory fits nothing",
			hosts:      []hostSpec{{name: "h1", noInventory: true}},
			wantReason: nvh + "RamFilter rejected 1.",
		},
		{
			name:       "a host without disk fits nothing, even a diskless flavor",
			hosts:      []hostSpec{{name: "h1", vcpus: 4, ram: 4096, disk: 0}},
			server:     fsm.NewInstance{FlavorID: "nodisk"},
			wantReason: nvh + "DiskFilter rejected 1.",
		},
		{
			name:       "availability zone rejects other zones",
			hosts:      []hostSpec{withZone(big("h1"), "az1"), withZone(big("h2"), "az2")},
			dead:       []string{"h2"},
			server:     fsm.NewInstance{AvailabilityZone: "az2"},
			wantReason: nvh + "ComputeFilter rejected 1, AvailabilityZoneFilter rejected 1.",
		},
		{
			name:     "availability zone picks its zone",
			hosts:    []hostSpec{withZone(big("h1"), "az1"), withZone(big("h2"), "az2"), withZone(big("h3"), "az1")},
			server:   fsm.NewInstance{AvailabilityZone: "az2"},
			wantHost: "h2",
		},
		{
			name:  "image architecture rejects other architectures",
			hosts: []hostSpec{big("h1"), big("h2")},
			setup: func(t *testing.T, w *world, _ *Scheduler, _ *liveness) {
				w.image("arm", map[string]string{"architecture": "aarch64"})
			},
			server:     fsm.NewInstance{ImageID: "arm"},
			wantReason: nvh + "ImagePropertiesFilter rejected 2.",
		},
		{
			name:  "image architecture is compared canonically",
			hosts: []hostSpec{withArch(big("h1"), "aarch64"), big("h2")},
			setup: func(t *testing.T, w *world, _ *Scheduler, _ *liveness) {
				w.image("amd", map[string]string{"hw_architecture": "AMD64"})
			},
			server:   fsm.NewInstance{ImageID: "amd"},
			wantHost: "h2",
		},
		{
			name:  "hypervisor type qemu matches QEMU",
			hosts: []hostSpec{{name: "h1", vcpus: 8, ram: 32768, disk: 500, hypervsor: "fake"}, big("h2")},
			setup: func(t *testing.T, w *world, _ *Scheduler, _ *liveness) {
				w.image("q", map[string]string{"hypervisor_type": "qemu", "architecture": "x86_64"})
			},
			server:   fsm.NewInstance{ImageID: "q"},
			wantHost: "h2",
		},
		{
			name:  "hypervisor type rejects other hypervisors",
			hosts: []hostSpec{big("h1")},
			setup: func(t *testing.T, w *world, _ *Scheduler, _ *liveness) {
				w.image("x", map[string]string{"img_hv_type": "xen"})
			},
			server:     fsm.NewInstance{ImageID: "x"},
			wantReason: nvh + "ImagePropertiesFilter rejected 1.",
		},
		{
			name:  "anti-affinity rejects hosts with members",
			hosts: []hostSpec{big("h1"), big("h2"), big("h3")},
			dead:  []string{"h3"},
			setup: func(t *testing.T, w *world, s *Scheduler, l *liveness) {
				w.group("g", fsm.PolicyAntiAffinity)
				w.servers(2, fsm.NewInstance{ServerGroupID: "g"})
				planOnce(t, w, s, l)
			},
			server:     fsm.NewInstance{ServerGroupID: "g"},
			wantReason: nvh + "ComputeFilter rejected 1, ServerGroupAntiAffinityFilter rejected 2.",
		},
		{
			name: "affinity rejects hosts without members, and a full member host",
			// h1 takes exactly one unit, so the member's host is full.
			hosts: []hostSpec{{name: "h1", vcpus: 8, ram: 683, disk: 500}},
			setup: func(t *testing.T, w *world, s *Scheduler, l *liveness) {
				w.group("g", fsm.PolicyAffinity)
				w.servers(1, fsm.NewInstance{ServerGroupID: "g"})
				planOnce(t, w, s, l)
				w.hosts(big("h2"), big("h3"))
			},
			server:     fsm.NewInstance{ServerGroupID: "g"},
			wantReason: nvh + "RamFilter rejected 1, ServerGroupAffinityFilter rejected 2.",
		},
		{
			name:     "forced host bypasses the availability zone",
			hosts:    []hostSpec{withZone(big("h1"), "az1"), withZone(big("h2"), "az2")},
			server:   fsm.NewInstance{ForceHost: "h1", AvailabilityZone: "az2"},
			wantHost: "h1",
		},
		{
			name:       "forced host keeps the capacity filters",
			hosts:      []hostSpec{{name: "h1", vcpus: 8, ram: 512, disk: 500}, big("h2")},
			server:     fsm.NewInstance{ForceHost: "h1"},
			wantReason: nvh + "RamFilter rejected 1 (forced host h1).",
		},
		{
			name:       "forced host keeps the compute filter",
			hosts:      []hostSpec{big("h1"), big("h2")},
			dead:       []string{"h1"},
			server:     fsm.NewInstance{ForceHost: "h1"},
			wantReason: nvh + "ComputeFilter rejected 1 (forced host h1).",
		},
		{
			name:       "forced host must exist",
			hosts:      []hostSpec{big("h1")},
			server:     fsm.NewInstance{ForceHost: "nowhere"},
			wantReason: "No valid host was found. Forced host nowhere is not a registered host.",
		},
		{
			name:       "no hosts at all",
			wantReason: nvh + "no hosts are registered.",
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(t)
			w.hosts(tc.hosts...)
			s, l, _ := newScheduler(t, w, tc.cfg, tc.dead...)
			if tc.setup != nil {
				tc.setup(t, w, s, l)
			}
			id := w.servers(1, tc.server)[0]
			p := planOnce(t, w, s, l)
			got := w.instance(id)
			if tc.wantReason != "" {
				if len(p.Failures) != 1 || p.Failures[0].InstanceID != id || p.Failures[0].Reason != tc.wantReason {
					t.Fatalf("failures = %+v, want %s: %q", p.Failures, id, tc.wantReason)
				}
				if !strings.HasPrefix(tc.wantReason, fsm.NoValidHost) {
					t.Fatalf("reason %q does not start with %q", tc.wantReason, fsm.NoValidHost)
				}
				if got.VMState != fsm.VMError || got.Fault == nil || got.Fault.Message != tc.wantReason {
					t.Fatalf("instance after commit: vm_state %s fault %+v, want error with the reason", got.VMState, got.Fault)
				}
				return
			}
			if len(p.Failures) != 0 {
				t.Fatalf("unexpected failures: %+v", p.Failures)
			}
			if got.Host != tc.wantHost {
				t.Fatalf("placed on %q, want %q", got.Host, tc.wantHost)
			}
		})
	}
}

func TestCanonicalArch(t *testing.T) {
	for in, want := range map[string]string{"amd64": "x86_64", "X86_64": "x86_64", " arm64 ": "aarch64",
		"i386": "i686", "ppc64le": "ppc64le", "": ""} {
		if got := fsm.CanonicalArch(in); got != want {
			t.Errorf("fsm.CanonicalArch(%q) = %q, want %q", in, got, want)
		}
	}
}
