package fsm_test

import (
	"maps"
	"reflect"
	"slices"
	"testing"

	"github.com/shoal-project/shoal/fsm"
	"github.com/shoal-project/shoal/fsm/fsmtest"
)

// Helpers for external networks, floating IPs and security groups.

const extCIDR = "10.66.0.0/24"

// netWorld is newWorld with identity (projects p1 and p2, created at t0)
// and the external network "ext" (10.66.0.0/24, gateway .1, pools
// .10-.11 and .20, given out of order).
func netWorld(t testing.TB) *world {
	t.Helper()
	w := &world{t: t, f: fsm.New(), next: 1}
	boot := bootstrapIdentity()
	boot.NetworkCIDR = testCIDR
	w.must(boot, &fsm.CreateImage{Image: activeImage(testImage)})
	for _, h := range []string{"h1", "h2"} {
		w.must(registerHost(h, t0), inventory(h, 8, 16384, 100))
	}
	w.must(
		&fsm.CreateProject{Project: fsm.Project{ID: "p1", Name: "web", Enabled: true, Created: t0}},
		&fsm.CreateProject{Project: fsm.Project{ID: "p2", Name: "db", Enabled: true, Created: t0}},
		extNet("ext", extCIDR, fsm.IPRange{Start: "10.66.0.20", End: "10.66.0.20"}, fsm.IPRange{Start: "10.66.0.10", End: "10.66.0.11"}),
	)
	return w
}

func extNet(id, cidr string, pools ...fsm.IPRange) *fsm.CreateNetwork {
	return &fsm.CreateNetwork{ID: id, Name: "public-" + id, CIDR: cidr, Gateway: "", External: true,
		AllocationPools: pools, ProjectID: "p-admin", Time: t1}
}

func allocFIP(id, network, project string) *fsm.AllocateFloatingIP {
	return &fsm.AllocateFloatingIP{ID: id, NetworkID: network, ProjectID: project, UserID: "u-" + project, Time: t1}
}

// groupedCreate creates servers of project p, in the given groups (none:
// the default group).
func groupedCreate(p string, groups []string, ids ...string) *fsm.CreateInstances {
	c := ownedCreate(p, "1", ids...)
	c.Time = t1
	for k := range c.Instances {
		c.Instances[k].SecurityGroups = slices.Clone(groups)
	}
	return c
}

func (w *world) fip(id string) fsm.FloatingIP {
	w.t.Helper()
	return fsmtest.MustRead(w.t, "FloatingIP", w.f.FloatingIP, id)
}

func (w *world) secGroup(id string) fsm.SecurityGroup {
	w.t.Helper()
	return fsmtest.MustRead(w.t, "SecurityGroup", w.f.SecurityGroup, id)
}

func rule(id, group, direction, protocol string, min, max *int) fsm.SecurityGroupRule {
	return fsm.SecurityGroupRule{ID: id, GroupID: group, Direction: direction, Protocol: protocol,
		PortMin: min, PortMax: max, ProjectID: "p1", Created: t2}
}

func secGroupCmd(id, project, name string, rules ...fsm.SecurityGroupRule) *fsm.CreateSecurityGroup {
	return &fsm.CreateSecurityGroup{Group: fsm.SecurityGroup{ID: id, Name: name, Description: "d", ProjectID: project,
		UserID: "u-" + project, Rules: rules, Created: t1}}
}

// checkNetworking checks the networking objects against each other and the
// servers: each external network's allocation table is exactly its
// floating IPs, with no free pool address below its cursor; an associated
// floating IP names a server that holds its fixed IP, one per fixed IP;
// every group a server is in is stored and of its project; rule IDs are
// unique and remote groups stored.
func checkNetworking(t testing.TB, s fsm.State) {
	t.Helper()
	fromFIPs := map[string]map[string]string{}
	onFixed := map[string]string{}
	for id, f := range s.FloatingIPs {
		if f.ID != id {
			t.Fatalf("floating IP %s stored under %s", f.ID, id)
		}
		if fromFIPs[f.NetworkID] == nil {
			fromFIPs[f.NetworkID] = map[string]string{}
		}
		fromFIPs[f.NetworkID][f.IP] = id
		if f.InstanceID == "" {
			if f.FixedIP != "" {
				t.Fatalf("floating IP %s not associated but has fixed IP %s", id, f.FixedIP)
			}
			continue
		}
		inst, ok := s.Instances[f.InstanceID]
		if !ok || !slices.ContainsFunc(inst.Addresses, func(a fsm.Address) bool { return a.IP == f.FixedIP }) {
			t.Fatalf("floating IP %s on server %s fixed IP %s, which it does not hold", id, f.InstanceID, f.FixedIP)
		}
		if other, dup := onFixed[f.FixedIP]; dup {
			t.Fatalf("floating IPs %s and %s both on fixed IP %s", other, id, f.FixedIP)
		}
		onFixed[f.FixedIP] = id
	}
	for id, n := range s.Networks {
		if len(n.Allocated) == 0 && len(fromFIPs[id]) == 0 {
			continue
		}
		if !reflect.DeepEqual(n.Allocated, fromFIPs[id]) {
			t.Fatalf("network %s allocation table %v, floating IPs hold %v", id, n.Allocated, fromFIPs[id])
		}
		for _, pool := range n.AllocationPools {
			for off := offset(t, n.CIDR, pool.Start); off <= offset(t, n.CIDR, pool.End) && off < n.Cursor; off++ {
				if _, taken := n.Allocated[addrAt(n.CIDR, off)]; !taken {
					t.Fatalf("network %s: %s is free but below the cursor %d", id, addrAt(n.CIDR, off), n.Cursor)
				}
			}
		}
	}
	for net := range fromFIPs {
		if _, ok := s.Networks[net]; !ok {
			t.Fatalf("floating IPs on unknown network %s", net)
		}
	}
	rules := map[string]string{}
	for _, gid := range slices.Sorted(maps.Keys(s.SecurityGroups)) {
		g := s.SecurityGroups[gid]
		for _, r := range g.Rules {
			if other, dup := rules[r.ID]; dup {
				t.Fatalf("rule %s in groups %s and %s", r.ID, other, gid)
			}
			rules[r.ID] = gid
			if r.GroupID != gid || r.ProjectID != g.ProjectID {
				t.Fatalf("rule %s of group %s names group %s project %s", r.ID, gid, r.GroupID, r.ProjectID)
			}
			if _, ok := s.SecurityGroups[r.RemoteGroupID]; r.RemoteGroupID != "" && !ok {
				t.Fatalf("rule %s names remote group %s, which is not stored", r.ID, r.RemoteGroupID)
			}
		}
	}
	for id, i := range s.Instances {
		for _, gid := range i.SecurityGroups {
			g, ok := s.SecurityGroups[gid]
			if !ok || g.ProjectID != i.ProjectID {
				t.Fatalf("server %s (project %q) in group %s: stored %v", id, i.ProjectID, gid, ok)
			}
		}
	}
}
