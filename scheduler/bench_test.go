package scheduler

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/shoal-project/shoal/fsm"
)

// syntheticView builds a scheduling view by hand (fsm would take minutes to
// register 100,000 hosts): equal 64 vCPU / 256 GiB / 2 TiB hosts in four
// zones, each filled to 30–70% of its RAM, and a batch of pending instances
// with Nova's m1 flavors in a realistic mix; some ask for a zone, some for an
// architecture, some are in anti-affinity groups.
func syntheticView(hosts, pending int, rng *rand.Rand) (fsm.SchedulingView, map[string]bool) {
	v := fsm.SchedulingView{
		Index:  1,
		Hosts:  make([]fsm.Host, hosts),
		Usage:  make(map[string]fsm.Usage, hosts),
		Groups: map[string]fsm.GroupPlacement{},
		Images: map[string]fsm.Image{
			"plain": {ID: "plain", Status: "active"},
			"amd64": {ID: "amd64", Status: "active", Properties: map[string]string{"architecture": "x86_64", "hypervisor_type": "qemu"}},
		},
	}
	alive := make(map[string]bool, hosts)
	for i := range v.Hosts {
		name := fmt.Sprintf("host-%06d", i)
		v.Hosts[i] = fsm.Host{Name: name, Enabled: true, Inventory: fsm.Inventory{VCPUs: 64, MemoryMiB: 262144, DiskGiB: 2048,
			Arch: "x86_64", HypervisorType: "QEMU", Zone: fmt.Sprintf("az%d", i*4/hosts)}}
		fill := 0.3 + 0.4*rng.Float64()
		ram := int(fill * 262144)
		v.Usage[name] = fsm.Usage{RAM: ram, VCPUs: ram / 2048, Disk: ram / 512, Instances: ram / 4096}
		alive[name] = true
	}
	flavors := fsm.DefaultFlavors()
	// Per 20 instances: 4 tiny, 7 small, 5 medium, 3 large, 1 xlarge.
	mix := []int{0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 3, 3, 3, 4}
	for g := range 8 {
		v.Groups[fmt.Sprintf("g%d", g)] = fsm.GroupPlacement{Policy: fsm.PolicyAntiAffinity, Hosts: map[string]int{}}
	}
	for k := range pending {
		f := flavors[mix[rng.IntN(len(mix))]]
		inst := fsm.Instance{ID: fmt.Sprintf("i%06d", k), VMState: fsm.VMBuilding, TaskState: fsm.TaskScheduling,
			ImageID: "plain", Flavor: fsm.FlavorSpec{ID: f.ID, Name: f.Name, VCPUs: f.VCPUs, RAM: f.RAM, Disk: f.Disk},
			Indexes: fsm.Indexes{CreateIndex: uint64(k + 2)}}
		switch r := rng.IntN(20); {
		case r < 2:
			inst.AvailabilityZone = fmt.Sprintf("az%d", rng.IntN(4))
		case r < 3:
			inst.ImageID = "amd64"
		case r < 4:
			inst.ServerGroupID = fmt.Sprintf("g%d", rng.IntN(8))
		}
		v.Pending = append(v.Pending, inst)
	}
	return v, alive
}

// BenchmarkSelect measures placement decisions per second through plan, in
// batches of the default BatchSize, including each batch's setup.
func BenchmarkSelect(b *testing.B) {
	for _, n := range []int{1000, 10000, 100000} {
		b.Run(fmt.Sprintf("hosts=%d", n), func(b *testing.B) {
			cfg := Config{Logger: quiet, Rand: rand.New(rand.NewPCG(1, 2))}.withDefaults()
			v, alive := syntheticView(n, cfg.BatchSize, rand.New(rand.NewPCG(3, 4)))
			s := New(cfg, staticState{v}, staticLiveness(alive), &nopPlanner{})
			decisions, failures, visited := 0, 0, 0
			for b.Loop() {
				p := s.plan(v, alive)
				decisions += len(p.Placements) + len(p.Failures)
				failures += len(p.Failures)
				visited += s.batch.visited
			}
			if failures > 0 {
				b.Fatalf("%d of %d decisions were failures; the synthetic cluster should fit them all", failures, decisions)
			}
			b.ReportMetric(float64(decisions)/b.Elapsed().Seconds(), "placements/s")
			b.ReportMetric(float64(visited)/float64(decisions), "hosts-visited/placement")
		})
	}
}
