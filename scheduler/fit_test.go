package scheduler

import (
	"fmt"
	"strings"
	"testing"

	"github.com/shoal-project/shoal/fsm"
)

// capacityResource is the resource each capacity filter stands for.
var capacityResource = map[filterID]fsm.Resource{
	ramFilter:  fsm.ResourceMemory,
	coreFilter: fsm.ResourceVCPUs,
	diskFilter: fsm.ResourceDisk,
}

// TestCapacityFiltersAgreeWithCommit puts one request on one host with
// claims on it, and asks both the scheduler's filters and fsm's plan
// applier: they must accept the same requests and, when they reject, blame
// the same resource.
func TestCapacityFiltersAgreeWithCommit(t *testing.T) {
	type amount struct{ vcpus, ram, disk int }
	lavish := fsm.Ratios{CPU: 1000, RAM: 1000, Disk: 1000} // only to commit the claims
	one := fsm.Ratios{CPU: 1, RAM: 1, Disk: 1}
	for _, tc := range []struct {
		name     string
		host     amount // reported capacity
		claimed  amount // placed on the host before the request; zero for none
		request  amount // the flavor asked for
		ratios   fsm.Ratios
		wantFits string // "" when it fits, else the resource short
	}{
		{"empty host", amount{8, 8192, 100}, amount{}, amount{1, 512, 10}, fsm.DefaultRatios, ""},
		{"exact fit", amount{8, 8192, 100}, amount{6, 7680, 90}, amount{2, 512, 10}, one, ""},
		{"one MiB over", amount{8, 8192, 100}, amount{6, 7681, 90}, amount{2, 512, 10}, one, "RAM"},
		{"one vCPU over", amount{8, 8192, 100}, amount{7, 512, 10}, amount{2, 512, 10}, one, "vCPUs"},
		{"one GiB over", amount{8, 8192, 100}, amount{1, 512, 91}, amount{2, 512, 10}, one, "disk"},
		{"cpu over-commit", amount{2, 8192, 100}, amount{30, 512, 0}, amount{2, 512, 10}, fsm.DefaultRatios, ""},
		{"cpu over-commit, full", amount{2, 8192, 100}, amount{31, 512, 0}, amount{2, 512, 10}, fsm.DefaultRatios, "vCPUs"},
		{"ram ratio truncates", amount{8, 683, 100}, amount{}, amount{1, 1024, 0}, fsm.DefaultRatios, ""},
		{"ram ratio truncates, one over", amount{8, 683, 100}, amount{1, 1, 0}, amount{1, 1024, 0}, fsm.DefaultRatios, "RAM"},
		{"disk ratio under 1", amount{8, 8192, 7}, amount{1, 1, 2}, amount{1, 1, 1}, fsm.Ratios{CPU: 1, RAM: 1, Disk: 0.5}, ""},
		{"disk ratio under 1, full", amount{8, 8192, 7}, amount{1, 1, 3}, amount{1, 1, 1}, fsm.Ratios{CPU: 1, RAM: 1, Disk: 0.5}, "disk"},
		{"claims past the limit", amount{8, 1000, 100}, amount{1, 1600, 0}, amount{1, 1, 0}, fsm.DefaultRatios, "RAM"},
		{"no inventory", amount{}, amount{}, amount{1, 1, 0}, fsm.DefaultRatios, "RAM"},
		{"no disk, diskless flavor", amount{8, 8192, 0}, amount{}, amount{1, 512, 0}, fsm.DefaultRatios, "disk"},
		{"no vCPUs", amount{0, 8192, 100}, amount{}, amount{1, 512, 0}, fsm.DefaultRatios, "vCPUs"},
		{"all short", amount{1, 1, 1}, amount{1, 1, 1}, amount{1, 1, 1}, one, "RAM"},
		{"vCPUs and disk short", amount{1, 2, 1}, amount{1, 1, 1}, amount{1, 1, 1}, one, "vCPUs"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(t)
			w.MustApply(t, &fsm.CreateFlavor{Flavor: fsm.Flavor{ID: "req", Name: "req", VCPUs: tc.request.vcpus,
				RAM: tc.request.ram, Disk: tc.request.disk, Created: t0}})
			w.hosts(hostSpec{name: "h1", vcpus: tc.host.vcpus, ram: tc.host.ram, disk: tc.host.disk,
				noInventory: tc.host == amount{}})
			if tc.claimed != (amount{}) {
				w.MustApply(t, &fsm.CreateFlavor{Flavor: fsm.Flavor{ID: "claim", Name: "claim", VCPUs: tc.claimed.vcpus,
					RAM: tc.claimed.ram, Disk: tc.claimed.disk, Created: t0}})
				claim := w.servers(1, fsm.NewInstance{FlavorID: "claim"})[0]
				w.commit(&fsm.Plan{Ratios: lavish, MaxAttempts: 1, Placements: []fsm.Placement{{InstanceID: claim, Host: "h1"}}})
			}
			id := w.servers(1, fsm.NewInstance{FlavorID: "req"})[0]

			// The scheduler's verdict: the capacity filters on the view.
			v := w.FSM.SchedulingView(0)
			var b batch
			b.reset(v, map[string]bool{"h1": true}, tc.ratios)
			host, ok := b.find("h1")
			if !ok || len(v.Pending) != 1 || v.Pending[0].ID != id {
				t.Fatalf("view has hosts %v and pending %v", v.Hosts, v.Pending)
			}
			r := b.request(&v.Pending[0], v.Images)
			f, rejected := firstRejection(b.state(host), &b.hosts[host], &r, []filterID{ramFilter, coreFilter, diskFilter})
			scheduler := ""
			if rejected {
				scheduler = capacityResource[f].String()
			}

			// The plan applier's verdict: the commit re-check of that placement.
			w.MustApply(t, &fsm.Plan{Time: t0, RequestID: "check", Ratios: tc.ratios, MaxAttempts: 1,
				Placements: []fsm.Placement{{InstanceID: id, Host: "h1"}}})
			commit := ""
			if inst := w.instance(id); inst.Host != "h1" {
				commit = fmt.Sprintf("rejected for no capacity reason (fault %+v)", inst.Fault)
				for _, res := range capacityResource {
					if inst.Fault != nil && strings.HasSuffix(inst.Fault.Message, "not enough "+res.String()+" on h1") {
						commit = res.String()
					}
				}
			}

			if scheduler != commit {
				t.Errorf("scheduler says %q, commit says %q", scheduler, commit)
			}
			if scheduler != tc.wantFits {
				t.Errorf("short of %q, want %q", scheduler, tc.wantFits)
			}
		})
	}
}
