package fsm_test

import (
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/shoal-project/shoal/fsm"
)

func TestPlanPlaces(t *testing.T) {
	w := newWorld(t, testCIDR)
	w.create("a", "b", "c", "d")
	index := w.next
	w.must(planCmd(
		fsm.Placement{InstanceID: "a", Host: "h1"},
		fsm.Placement{InstanceID: "b", Host: "h1"},
		fsm.Placement{InstanceID: "c", Host: "h2"},
	))
	for id, host := range map[string]string{"a": "h1", "b": "h1", "c": "h2"} {
		i := w.inst(id)
		if i.Host != host || i.VMState != fsm.VMBuilding || i.TaskState != fsm.TaskSpawning || i.Status() != "BUILD" {
			t.Errorf("%s after placement: %s", id, describe(i))
		}
		if i.Pending() || i.Updated != t1 || i.ModifyIndex != index || i.Attempts != 0 {
			t.Errorf("%s: pending %v updated %v modify %d attempts %d", id, i.Pending(), i.Updated, i.ModifyIndex, i.Attempts)
		}
		if a := lastAction(t, i); a.Action != "create" || a.Result != "" {
			t.Errorf("%s: create action %+v should still be running", id, a)
		}
	}
	if d := w.inst("d"); d.ModifyIndex == index || !d.Pending() {
		t.Errorf("d was not in the plan but changed: %+v", d)
	}
	want := map[string]fsm.Usage{
		"h1": {VCPUs: 2, RAM: 1024, Disk: 2, Instances: 2},
		"h2": {VCPUs: 1, RAM: 512, Disk: 1, Instances: 1},
	}
	if got := w.f.Usage(); !reflect.DeepEqual(got, want) {
		t.Errorf("Usage() = %+v, want %+v", got, want)
	}
	if got := ids(w.f.SchedulingView(0).Pending); len(got) != 1 || got[0] != "d" {
		t.Errorf("pending = %v, want [d]", got)
	}
	if got := ids(w.f.InstancesOnHost("h1")); len(got) != 2 || got[0] != "a" || got[1] != "b" {
		t.Errorf("InstancesOnHost(h1) = %v", got)
	}
	checkDerived(t, w.f)
}

// The commit-time re-check admits a placement while used+flavor <= total ×
// ratio rounded down, per resource, counting placements earlier in the same
// plan; the first one past the limit is rejected.
func TestPlanCapacityBoundary(t *testing.T) {
	for _, tc := range []struct {
		name            string
		vcpus, ram, dsk int // host inventory
		ratios          fsm.Ratios
		flavor          fsm.Flavor
		fit             int
		reason          string
	}{
		{"vcpus 3 × 1.5 = 4", 3, 1 << 20, 1 << 20, fsm.Ratios{CPU: 1.5, RAM: 1, Disk: 1},
			fsm.Flavor{VCPUs: 1, RAM: 1}, 4, "not enough vCPUs on h1"},
		{"vcpus 2 × 16 = 32", 2, 1 << 20, 1 << 20, fsm.DefaultRatios,
			fsm.Flavor{VCPUs: 1, RAM: 1}, 32, "not enough vCPUs on h1"},
		{"vcpus 5 × 0.5 = 2", 5, 1 << 20, 1 << 20, fsm.Ratios{CPU: 0.5, RAM: 1, Disk: 1},
			fsm.Flavor{VCPUs: 1, RAM: 1}, 2, "not enough vCPUs on h1"},
		{"vcpus 8 × 1 exactly, 2 each", 8, 1 << 20, 1 << 20, fsm.Ratios{CPU: 1, RAM: 1, Disk: 1},
			fsm.Flavor{VCPUs: 2, RAM: 1}, 4, "not enough vCPUs on h1"},
		{"ram 1000 × 1.5 = 1500, 500 each", 64, 1000, 1 << 20, fsm.Ratios{CPU: 16, RAM: 1.5, Disk: 1},
			fsm.Flavor{VCPUs: 1, RAM: 500}, 3, "not enough RAM on h1"},
		{"ram 1000 × 1.5 = 1500, 501 each", 64, 1000, 1 << 20, fsm.Ratios{CPU: 16, RAM: 1.5, Disk: 1},
			fsm.Flavor{VCPUs: 1, RAM: 501}, 2, "not enough RAM on h1"},
		{"ram 3 × 1.5 = 4", 64, 3, 1 << 20, fsm.Ratios{CPU: 16, RAM: 1.5, Disk: 1},
			fsm.Flavor{VCPUs: 1, RAM: 1}, 4, "not enough RAM on h1"},
		{"disk 7 × 0.5 = 3", 64, 1 << 20, 7, fsm.Ratios{CPU: 16, RAM: 1.5, Disk: 0.5},
			fsm.Flavor{VCPUs: 1, RAM: 1, Disk: 1}, 3, "not enough disk on h1"},
		{"disk 100 × 1 = 100, 20 each", 64, 1 << 20, 100, fsm.DefaultRatios,
			fsm.Flavor{VCPUs: 1, RAM: 1, Disk: 20}, 5, "not enough disk on h1"},
		{"diskless flavor on a host with disk", 4, 4096, 1, fsm.DefaultRatios,
			fsm.Flavor{VCPUs: 1, RAM: 512, Disk: 0}, 12, "not enough RAM on h1"},
		// A host reporting 0 of a resource fits nothing (see fsm.FitsIn).
		{"diskless flavor on a host without disk", 4, 4096, 0, fsm.DefaultRatios,
			fsm.Flavor{VCPUs: 1, RAM: 512, Disk: 0}, 0, "not enough disk on h1"},
		{"empty inventory", 0, 0, 0, fsm.DefaultRatios,
			fsm.Flavor{VCPUs: 1, RAM: 1}, 0, "not enough RAM on h1"},
		{"ram checked before cpu", 1, 1, 1, fsm.Ratios{CPU: 1, RAM: 1, Disk: 1},
			fsm.Flavor{VCPUs: 1, RAM: 1}, 1, "not enough RAM on h1"},
		{"cpu checked before disk", 1, 2, 1, fsm.Ratios{CPU: 1, RAM: 1, Disk: 1},
			fsm.Flavor{VCPUs: 1, RAM: 1, Disk: 1}, 1, "not enough vCPUs on h1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(t, testCIDR)
			fl := tc.flavor
			fl.ID, fl.Name = "fx", "fx"
			w.must(&fsm.CreateFlavor{Flavor: fl}, inventory("h1", tc.vcpus, tc.ram, tc.dsk))
			c := &fsm.CreateInstances{RequestID: "r", Time: t0}
			var placements []fsm.Placement
			for k := range tc.fit + 1 {
				id := fmt.Sprintf("i%02d", k)
				c.Instances = append(c.Instances, fsm.NewInstance{ID: id, Name: id, FlavorID: "fx", ImageID: testImage})
				placements = append(placements, fsm.Placement{InstanceID: id, Host: "h1"})
			}
			w.must(c)
			p := planCmd(placements...)
			p.Ratios = tc.ratios
			w.must(p)

			for k, pl := range placements {
				i := w.inst(pl.InstanceID)
				if k < tc.fit && (i.Host != "h1" || i.Attempts != 0) {
					t.Errorf("%s (%d of %d that fit) rejected: %s", i.ID, k+1, tc.fit, describe(i))
				}
				if k == tc.fit && (!i.Pending() || i.Attempts != 1) {
					t.Errorf("%s past the limit: %s attempts %d, want pending with 1", i.ID, describe(i), i.Attempts)
				}
			}
			wantUsage := map[string]fsm.Usage{}
			if tc.fit > 0 {
				wantUsage["h1"] = fsm.Usage{VCPUs: tc.fit * fl.VCPUs, RAM: tc.fit * fl.RAM, Disk: tc.fit * fl.Disk, Instances: tc.fit}
			}
			if got := w.f.Usage(); !reflect.DeepEqual(got, wantUsage) {
				t.Errorf("Usage() = %+v, want %+v", got, wantUsage)
			}

			// Once more, with one attempt left: ERROR, saying why.
			last := placements[tc.fit]
			p = planCmd(last)
			p.Ratios, p.MaxAttempts = tc.ratios, 2
			w.must(p)
			i := w.inst(last.InstanceID)
			if i.VMState != fsm.VMError || i.Fault == nil || !strings.HasPrefix(i.Fault.Message, fsm.NoValidHost) ||
				!strings.Contains(i.Fault.Message, tc.reason) {
				t.Errorf("after the last attempt: %s fault %+v, want ERROR with %q", describe(i), i.Fault, tc.reason)
			}
			checkDerived(t, w.f)
		})
	}
}

// createGroup creates server group "g" (named "g") with the policy, then its
// members ids.
func createGroup(w *world, policy string, ids ...string) {
	w.t.Helper()
	w.must(&fsm.CreateServerGroup{Group: fsm.ServerGroup{ID: "g", Name: "g", Policy: policy}})
	createInGroup(w, "g", ids...)
}

func createInGroup(w *world, group string, ids ...string) {
	w.t.Helper()
	c := createCmd(ids...)
	for k := range c.Instances {
		c.Instances[k].ServerGroupID = group
	}
	w.must(c)
}

// A placement the re-check rejects leaves the server pending with one more
// attempt; at MaxAttempts it goes to ERROR with Nova's "No valid host" fault.
func TestPlanRejects(t *testing.T) {
	for _, tc := range []struct {
		name   string
		setup  func(w *world) // creates x, which the test places on h1
		reason string
	}{
		{"unknown host", func(w *world) {
			w.must(&fsm.DeregisterHost{Name: "h1"})
			w.create("x")
		}, "host h1 is not registered"},
		{"disabled host", func(w *world) {
			w.must(&fsm.SetHostEnabled{Name: "h1", Enabled: false, Reason: "maintenance", Time: t0})
			w.create("x")
		}, "host h1 is disabled"},
		{"strict anti-affinity", func(w *world) {
			createGroup(w, fsm.PolicyAntiAffinity, "peer", "x")
			w.place("peer", "h1")
		}, "anti-affinity: group member peer is on h1"},
		{"anti-affinity with max_server_per_host 2", func(w *world) {
			w.must(&fsm.CreateServerGroup{Group: fsm.ServerGroup{ID: "g", Name: "g", Policy: fsm.PolicyAntiAffinity, MaxServerPerHost: 2}})
			createInGroup(w, "g", "p1", "p2", "x")
			w.place("p1", "h1")
			w.place("p2", "h1") // the second member on h1 is allowed
		}, "anti-affinity: group member p2 is on h1"},
		{"strict anti-affinity, peer ERROR on the host", func(w *world) {
			createGroup(w, fsm.PolicyAntiAffinity, "peer", "x")
			w.place("peer", "h1")
			w.must(reportCmd("h1", fsm.InstanceReport{ID: "peer", Done: fsm.TaskSpawning, Error: "disk full"}))
		}, "anti-affinity: group member peer is on h1"},
		{"strict affinity", func(w *world) {
			createGroup(w, fsm.PolicyAffinity, "peer", "x")
			w.place("peer", "h2")
			w.finish("peer")
		}, "affinity: group members are on h2"},
		{"capacity", func(w *world) {
			w.must(inventory("h1", 1, 16384, 100))
			w.create("peer", "x")
			p := planCmd(fsm.Placement{InstanceID: "peer", Host: "h1"})
			p.Ratios.CPU = 1
			w.must(p)
		}, "not enough vCPUs on h1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(t, testCIDR)
			tc.setup(w)
			plan := func(maxAttempts int) *fsm.Plan {
				p := planCmd(fsm.Placement{InstanceID: "x", Host: "h1"})
				p.Ratios.CPU = 1
				p.MaxAttempts = maxAttempts
				p.Time = t2
				return p
			}
			usage := w.f.Usage()

			index := w.next
			w.must(plan(3))
			x := w.inst("x")
			if !x.Pending() || x.Attempts != 1 || x.Fault != nil || x.ModifyIndex != index || x.Updated != t2 {
				t.Fatalf("after one rejection: %s attempts %d fault %+v modify %d", describe(x), x.Attempts, x.Fault, x.ModifyIndex)
			}
			if got := ids(w.f.SchedulingView(0).Pending); len(got) == 0 || got[len(got)-1] != "x" {
				t.Errorf("pending %v, want x still waiting", got)
			}
			w.must(plan(3))
			if x := w.inst("x"); !x.Pending() || x.Attempts != 2 {
				t.Fatalf("after two rejections: %s attempts %d", describe(x), x.Attempts)
			}
			w.must(plan(3))
			x = w.inst("x")
			if x.VMState != fsm.VMError || x.TaskState != fsm.TaskNone || x.Host != "" || x.Pending() || x.Attempts != 3 {
				t.Fatalf("after MaxAttempts rejections: %s attempts %d", describe(x), x.Attempts)
			}
			if x.Fault == nil || x.Fault.Code != 500 || x.Fault.Created != t2 ||
				!strings.HasPrefix(x.Fault.Message, fsm.NoValidHost) ||
				!strings.Contains(x.Fault.Message, "3 attempts") || !strings.HasSuffix(x.Fault.Message, tc.reason) {
				t.Errorf("fault %+v, want %q ... 3 attempts ... %q", x.Fault, fsm.NoValidHost, tc.reason)
			}
			if a := lastAction(t, x); a.Action != "create" || a.Result != "error" || a.Message != x.Fault.Message || a.Finish != t2 {
				t.Errorf("create action %+v, want finished with error", a)
			}
			if x.Status() != "ERROR" {
				t.Errorf("Status = %s", x.Status())
			}
			if got := w.f.Usage(); !reflect.DeepEqual(got, usage) {
				t.Errorf("rejected placements changed claims: %+v → %+v", usage, got)
			}
			// An ERROR server with no host is deleted at once.
			w.act("x", fsm.ActionDelete)
			w.gone("x")
			checkDerived(t, w.f)
		})
	}
}

// A rejected server can be placed elsewhere by a later plan; MaxAttempts
// counts rejections, not plans.
func TestPlanRejectedThenPlaced(t *testing.T) {
	w := newWorld(t, testCIDR)
	w.must(&fsm.SetHostEnabled{Name: "h1", Enabled: false, Time: t0})
	w.create("x")
	p := planCmd(fsm.Placement{InstanceID: "x", Host: "h1"})
	p.MaxAttempts = 2
	w.must(p)
	if x := w.inst("x"); x.Attempts != 1 || !x.Pending() {
		t.Fatalf("%s attempts %d", describe(x), x.Attempts)
	}
	w.place("x", "h2")
	if x := w.inst("x"); x.Attempts != 1 {
		t.Errorf("attempts %d after placement, want 1 kept", x.Attempts)
	}
	checkDerived(t, w.f)
}

// Within one plan, each placement sees the ones before it.
func TestPlanGroupsWithinOnePlan(t *testing.T) {
	for _, tc := range []struct {
		policy   string
		hosts    [3]string // a, b, c go there
		rejected []string
	}{
		{fsm.PolicyAntiAffinity, [3]string{"h1", "h1", "h2"}, []string{"b"}},
		{fsm.PolicyAntiAffinity, [3]string{"h1", "h2", "h3"}, nil},
		{fsm.PolicyAntiAffinity, [3]string{"h1", "h2", "h1"}, []string{"c"}},
		{fsm.PolicyAffinity, [3]string{"h1", "h2", "h1"}, []string{"b"}},
		{fsm.PolicyAffinity, [3]string{"h2", "h2", "h2"}, nil},
		{fsm.PolicySoftAntiAffinity, [3]string{"h1", "h1", "h1"}, nil}, // soft policies are the scheduler's preference only
		{fsm.PolicySoftAffinity, [3]string{"h1", "h2", "h3"}, nil},
	} {
		t.Run(fmt.Sprint(tc.policy, tc.hosts), func(t *testing.T) {
			w := newWorld(t, testCIDR)
			createGroup(w, tc.policy, "a", "b", "c")
			w.create("free") // not in the group: never constrained
			w.must(planCmd(
				fsm.Placement{InstanceID: "a", Host: tc.hosts[0]},
				fsm.Placement{InstanceID: "b", Host: tc.hosts[1]},
				fsm.Placement{InstanceID: "c", Host: tc.hosts[2]},
				fsm.Placement{InstanceID: "free", Host: tc.hosts[0]},
			))
			for k, id := range []string{"a", "b", "c", "free"} {
				i := w.inst(id)
				rejected := false
				for _, r := range tc.rejected {
					rejected = rejected || r == id
				}
				if rejected && (i.Host != "" || i.Attempts != 1) {
					t.Errorf("%s should be rejected: %s", id, describe(i))
				}
				if !rejected && id != "free" && i.Host != tc.hosts[k] {
					t.Errorf("%s should be on %s: %s", id, tc.hosts[k], describe(i))
				}
			}
			if i := w.inst("free"); i.Host != tc.hosts[0] {
				t.Errorf("ungrouped server rejected: %s", describe(i))
			}
			checkDerived(t, w.f)
		})
	}
}

// Members that left the group, or were destroyed, no longer constrain it.
func TestPlanGroupMembersGone(t *testing.T) {
	w := newWorld(t, testCIDR)
	createGroup(w, fsm.PolicyAntiAffinity, "a", "b", "c")
	w.place("a", "h1")
	w.finish("a")
	w.act("a", fsm.ActionDelete)
	w.finish("a") // destroyed: gone from the group
	w.gone("a")
	if g := w.group("g"); len(g.Members) != 2 {
		t.Errorf("members %v after a was destroyed", g.Members)
	}
	w.place("b", "h1")

	// Deleting the group frees its members from the policy.
	w.must(&fsm.DeleteServerGroup{ID: "g"})
	if c := w.inst("c"); c.ServerGroupID != "" {
		t.Errorf("c still in group %q", c.ServerGroupID)
	}
	w.place("c", "h1")
	checkDerived(t, w.f)
}

func TestPlanFailures(t *testing.T) {
	w := newWorld(t, testCIDR)
	w.create("a", "b", "c")
	w.place("b", "h1")
	p := planCmd(fsm.Placement{InstanceID: "c", Host: "h2"})
	p.Time = t2
	p.Failures = []fsm.PlanFailure{
		{InstanceID: "a", Reason: "No valid host was found. There are not enough hosts available."},
		{InstanceID: "b", Reason: "ignored: b is placed"},
		{InstanceID: "c", Reason: "ignored: c was placed earlier in this plan"},
		{InstanceID: "zz", Reason: "ignored: unknown"},
	}
	index := w.next
	w.must(p)
	a := w.inst("a")
	wantFault := &fsm.Fault{Code: 500, Message: p.Failures[0].Reason, Created: t2}
	if a.VMState != fsm.VMError || a.TaskState != fsm.TaskNone || a.Host != "" || a.ModifyIndex != index || !reflect.DeepEqual(a.Fault, wantFault) {
		t.Errorf("a: %s fault %+v modify %d", describe(a), a.Fault, a.ModifyIndex)
	}
	if act := lastAction(t, a); act.Result != "error" || act.Message != p.Failures[0].Reason || act.Finish != t2 {
		t.Errorf("a's create action %+v", act)
	}
	if b := w.inst("b"); b.TaskState != fsm.TaskSpawning || b.Fault != nil {
		t.Errorf("b changed by a failure: %s", describe(b))
	}
	if c := w.inst("c"); c.Host != "h2" || c.Fault != nil {
		t.Errorf("c: %s", describe(c))
	}
	checkDerived(t, w.f)
}

// Placements for servers that are no longer pending are stale and ignored.
func TestPlanIgnoresNonPending(t *testing.T) {
	w := newWorld(t, testCIDR)
	w.reach("placed", fsm.VMBuilding, fsm.TaskSpawning)
	w.reach("active", fsm.VMActive, fsm.TaskNone)
	w.errorNoHost("failed")
	w.create("reset")
	w.must(resetState("reset", "error"))
	w.create("deleted")
	w.act("deleted", fsm.ActionDelete)
	for _, id := range []string{"placed", "active", "failed", "reset", "deleted", "never"} {
		p := planCmd(fsm.Placement{InstanceID: id, Host: "h2"})
		p.Failures = []fsm.PlanFailure{{InstanceID: id, Reason: "x"}}
		w.noop(p)
	}
	w.noop(planCmd())
	checkDerived(t, w.f)
}

func TestPlanInvalid(t *testing.T) {
	for _, tc := range []struct {
		name  string
		tweak func(p *fsm.Plan)
	}{
		{"zero cpu ratio", func(p *fsm.Plan) { p.Ratios.CPU = 0 }},
		{"negative ram ratio", func(p *fsm.Plan) { p.Ratios.RAM = -1.5 }},
		{"zero disk ratio", func(p *fsm.Plan) { p.Ratios.Disk = 0 }},
		{"no ratios", func(p *fsm.Plan) { p.Ratios = fsm.Ratios{} }},
		{"zero attempts", func(p *fsm.Plan) { p.MaxAttempts = 0 }},
		{"negative attempts", func(p *fsm.Plan) { p.MaxAttempts = -3 }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(t, testCIDR)
			w.create("a", "b")
			p := planCmd(fsm.Placement{InstanceID: "a", Host: "h1"})
			p.Failures = []fsm.PlanFailure{{InstanceID: "b", Reason: "x"}}
			tc.tweak(p)
			err := w.refuse(p, fsm.ErrInvalid)
			if !strings.Contains(err.Error(), "ratios") {
				t.Errorf("error %q", err)
			}
		})
	}
}
