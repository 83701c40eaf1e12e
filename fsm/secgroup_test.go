package fsm_test

import (
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/shoal-project/shoal/fsm"
)

// stripped is a group without what its storing adds (times, indexes), to
// compare a synthesized default group with a stored one.
func stripped(g fsm.SecurityGroup) fsm.SecurityGroup {
	g.Created, g.Indexes = time.Time{}, fsm.Indexes{}
	g.Rules = slices.Clone(g.Rules)
	for k := range g.Rules {
		g.Rules[k].Created = time.Time{}
	}
	return g
}

// Reads show a project's default group before anything stored it, so a
// GET stays a read; it has Neutron's rules (IPv4 only).
func TestDefaultSecurityGroupSynthesized(t *testing.T) {
	w := netWorld(t)
	id := fsm.DefaultSecurityGroupID("p1")
	if id == fsm.DefaultSecurityGroupID("p2") || len(id) != 36 || id != fsm.DefaultSecurityGroupID("p1") {
		t.Fatalf("DefaultSecurityGroupID(p1) = %q", id)
	}
	groups := w.f.SecurityGroupsOf("p1")
	if len(groups) != 1 {
		t.Fatalf("SecurityGroupsOf(p1) = %+v, want the default group", groups)
	}
	g := groups[0]
	if g.ID != id || g.Name != "default" || g.ProjectID != "p1" || !g.Created.Equal(t0) || len(g.Rules) != 2 {
		t.Fatalf("default group = %+v", g)
	}
	in, out := g.Rules[0], g.Rules[1]
	if in.Direction != fsm.DirectionIngress || in.RemoteGroupID != id || in.Ethertype != fsm.EthertypeIPv4 || in.Protocol != "" ||
		out.Direction != fsm.DirectionEgress || out.RemoteGroupID != "" || out.RemoteIPPrefix != "" || out.GroupID != id {
		t.Errorf("default rules = %+v", g.Rules)
	}
	if got := w.secGroup(id); !reflect.DeepEqual(got, g) {
		t.Errorf("SecurityGroup(default of p1) = %+v, want %+v", got, g)
	}
	if r, err := w.f.SecurityGroupRule(in.ID); err != nil || !reflect.DeepEqual(r, in) {
		t.Errorf("SecurityGroupRule(%s) = %+v, %v", in.ID, r, err)
	}
	if _, err := w.f.SecurityGroup(fsm.DefaultSecurityGroupID("no-such-project")); !errors.Is(err, fsm.ErrNotFound) {
		t.Errorf("default group of an unknown project: %v, want ErrNotFound", err)
	}
	if got := w.f.AllSecurityGroups(); len(got) != 0 {
		t.Errorf("AllSecurityGroups() = %+v, want none stored", got)
	}
	if st := stateOf(t, w.f); len(st.SecurityGroups) != 0 {
		t.Errorf("a read stored groups: %+v", st.SecurityGroups)
	}
}

// The first use of a default group stores it (from the command's time,
// exactly as reads showed it otherwise); later uses leave it as it is.
func TestDefaultSecurityGroupMaterialized(t *testing.T) {
	def := fsm.DefaultSecurityGroupID("p1")
	in, _ := func() (string, string) {
		w := netWorld(t)
		g := w.secGroup(def)
		return g.Rules[0].ID, g.Rules[1].ID
	}()
	tcp := rule("r-ssh", def, fsm.DirectionIngress, fsm.ProtocolTCP, ptr(22), ptr(22))
	for _, tc := range []struct {
		name  string
		setup []fsm.Command
		use   fsm.Command
		rules int // the default group's rules after the use
	}{
		{"server create without groups", nil, groupedCreate("p1", nil, "a"), 2},
		{"server create naming it", nil, groupedCreate("p1", []string{def}, "a"), 2},
		{"rule create on it", nil, &fsm.CreateSecurityGroupRule{Rule: tcp}, 3},
		{"rule delete on it", nil, &fsm.DeleteSecurityGroupRule{ID: in, ProjectID: "p1", Time: t2}, 1},
		{"rule naming it as remote group", []fsm.Command{secGroupCmd("sg-web", "p1", "web")},
			&fsm.CreateSecurityGroupRule{Rule: func() fsm.SecurityGroupRule {
				r := rule("r-from-default", "sg-web", fsm.DirectionIngress, "", nil, nil)
				r.RemoteGroupID = def
				return r
			}()}, 2},
		{"group create with a rule naming it", nil, secGroupCmd("sg-web", "p1", "web", func() fsm.SecurityGroupRule {
			r := rule("r-from-default", "", fsm.DirectionIngress, "", nil, nil)
			r.RemoteGroupID = def
			return r
		}()), 2},
		{"add-security-group", []fsm.Command{secGroupCmd("sg-web", "p1", "web"), groupedCreate("p1", []string{"sg-web"}, "a")},
			&fsm.AddInstanceSecurityGroup{InstanceID: "a", GroupID: def, Time: t2}, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := netWorld(t)
			w.must(tc.setup...)
			shown := w.secGroup(def)
			if st := stateOf(t, w.f); st.SecurityGroups[def] != nil {
				t.Fatalf("setup stored the default group already: %+v", st.SecurityGroups[def])
			}
			index := w.next
			w.must(tc.use)
			g := w.secGroup(def)
			if g.CreateIndex != index || len(g.Rules) != tc.rules {
				t.Fatalf("default group after %s = %+v, want stored at %d with %d rules", tc.name, g, index, tc.rules)
			}
			if g.Created.Equal(shown.Created) {
				t.Errorf("stored default group created at %v, want the command's time", g.Created)
			}
			if tc.rules == 2 && !reflect.DeepEqual(stripped(g), stripped(shown)) {
				t.Errorf("stored default group\n%+v\ndiffers from the shown one\n%+v", g, shown)
			}
			// Idempotent: a later use changes nothing of it.
			w.must(groupedCreate("p1", nil, "later"))
			if again := w.secGroup(def); !reflect.DeepEqual(again, g) {
				t.Errorf("a second use changed the default group:\n%+v\n%+v", again, g)
			}
			if got := w.f.SecurityGroupsOf("p1"); !containsGroup(got, def) || countNamed(got, "default") != 1 {
				t.Errorf("SecurityGroupsOf(p1) = %+v", got)
			}
			checkDerived(t, w.f)
		})
	}
}

func containsGroup(gs []fsm.SecurityGroup, id string) bool {
	for _, g := range gs {
		if g.ID == id {
			return true
		}
	}
	return false
}

func countNamed(gs []fsm.SecurityGroup, name string) int {
	n := 0
	for _, g := range gs {
		if g.Name == name {
			n++
		}
	}
	return n
}

func TestCreateSecurityGroup(t *testing.T) {
	w := netWorld(t)
	index := w.next
	w.must(secGroupCmd("sg-web", "p1", "web", rule("r1", "", fsm.DirectionIngress, fsm.ProtocolTCP, ptr(80), ptr(80))))
	want := fsm.SecurityGroup{ID: "sg-web", Name: "web", Description: "d", ProjectID: "p1", UserID: "u-p1", Created: t1,
		Rules: []fsm.SecurityGroupRule{{ID: "r1", GroupID: "sg-web", Direction: "ingress", Ethertype: "IPv4", Protocol: "tcp",
			PortMin: ptr(80), PortMax: ptr(80), ProjectID: "p1", Created: t2}},
		Indexes: fsm.Indexes{CreateIndex: index, ModifyIndex: index}}
	if got := w.secGroup("sg-web"); !reflect.DeepEqual(got, want) {
		t.Errorf("SecurityGroup(sg-web) =\n%+v\nwant\n%+v", got, want)
	}
	got := w.f.SecurityGroupsOf("p1")
	if len(got) != 2 || got[0].Name != "default" || got[1].ID != "sg-web" {
		t.Errorf("SecurityGroupsOf(p1) = %+v", got)
	}
	// Readers get copies, down to the port numbers.
	got[1].Rules[0].Protocol = "udp"
	*got[1].Rules[0].PortMin = 1
	if again := w.secGroup("sg-web"); !reflect.DeepEqual(again, want) {
		t.Errorf("a reader's change leaked into the state: %+v", again)
	}

	w.must(secGroupCmd("sg-web-2", "p2", "web")) // names are per project
	for _, tc := range []struct {
		name string
		cmd  *fsm.CreateSecurityGroup
		want error
	}{
		{"name taken in the project", secGroupCmd("sg-x", "p1", "web"), fsm.ErrConflict},
		{"named default", secGroupCmd("sg-x", "p1", "default"), fsm.ErrConflict},
		{"ID taken", secGroupCmd("sg-web", "p1", "other"), fsm.ErrConflict},
		{"the default group's ID", secGroupCmd(fsm.DefaultSecurityGroupID("p1"), "p1", "other"), fsm.ErrConflict},
		{"no ID", secGroupCmd("", "p1", "other"), fsm.ErrInvalid},
		{"no name", secGroupCmd("sg-x", "p1", ""), fsm.ErrInvalid},
		{"long description", func() *fsm.CreateSecurityGroup {
			c := secGroupCmd("sg-x", "p1", "other")
			c.Group.Description = strings.Repeat("d", 256)
			return c
		}(), fsm.ErrInvalid},
		{"a bad rule", secGroupCmd("sg-x", "p1", "other", rule("r2", "", "sideways", "", nil, nil)), fsm.ErrInvalid},
		{"a rule of another group", secGroupCmd("sg-x", "p1", "other", rule("r2", "sg-web", fsm.DirectionIngress, "", nil, nil)), fsm.ErrInvalid},
		{"a rule ID taken", secGroupCmd("sg-x", "p1", "other", rule("r1", "", fsm.DirectionIngress, "", nil, nil)), fsm.ErrConflict},
		{"a rule ID twice", secGroupCmd("sg-x", "p1", "other", rule("r2", "", fsm.DirectionIngress, "", nil, nil),
			rule("r2", "", fsm.DirectionEgress, "", nil, nil)), fsm.ErrConflict},
		{"a rule twice", secGroupCmd("sg-x", "p1", "other", rule("r2", "", fsm.DirectionIngress, "", nil, nil),
			rule("r3", "", fsm.DirectionIngress, "", nil, nil)), fsm.ErrConflict},
		{"an unknown remote group", secGroupCmd("sg-x", "p1", "other", func() fsm.SecurityGroupRule {
			r := rule("r2", "", fsm.DirectionIngress, "", nil, nil)
			r.RemoteGroupID = "nope"
			return r
		}()), fsm.ErrNotFound},
	} {
		t.Run(tc.name, func(t *testing.T) { w.refuse(tc.cmd, tc.want) })
	}
	// A rule may name its own new group.
	self := rule("r-self", "", fsm.DirectionIngress, "", nil, nil)
	self.RemoteGroupID = "sg-self"
	w.must(secGroupCmd("sg-self", "p1", "self", self))
	checkDerived(t, w.f)
}

// Every bad rule Neutron refuses is refused, by Normalize (the API's
// pre-check) and in Apply, changing nothing.
func TestSecurityGroupRuleRefused(t *testing.T) {
	w := netWorld(t)
	w.must(secGroupCmd("sg-web", "p1", "web", rule("r-http", "", fsm.DirectionIngress, fsm.ProtocolTCP, ptr(80), ptr(80))))
	for _, tc := range []struct {
		name string
		edit func(r *fsm.SecurityGroupRule)
		want error
	}{
		{"no ID", func(r *fsm.SecurityGroupRule) { r.ID = "" }, fsm.ErrInvalid},
		{"no direction", func(r *fsm.SecurityGroupRule) { r.Direction = "" }, fsm.ErrInvalid},
		{"unknown direction", func(r *fsm.SecurityGroupRule) { r.Direction = "Ingress" }, fsm.ErrInvalid},
		{"IPv6", func(r *fsm.SecurityGroupRule) { r.Ethertype = "IPv6" }, fsm.ErrInvalid},
		{"unknown ethertype", func(r *fsm.SecurityGroupRule) { r.Ethertype = "ipv4" }, fsm.ErrInvalid},
		{"unknown protocol", func(r *fsm.SecurityGroupRule) { r.Protocol = "sctp" }, fsm.ErrInvalid},
		{"ports without protocol", func(r *fsm.SecurityGroupRule) { r.Protocol = "" }, fsm.ErrInvalid},
		{"port min without protocol", func(r *fsm.SecurityGroupRule) { r.Protocol, r.PortMax = "", nil }, fsm.ErrInvalid},
		{"tcp port 0", func(r *fsm.SecurityGroupRule) { r.PortMin = ptr(0) }, fsm.ErrInvalid},
		{"udp port 65536", func(r *fsm.SecurityGroupRule) { r.Protocol, r.PortMax = fsm.ProtocolUDP, ptr(65536) }, fsm.ErrInvalid},
		{"negative port", func(r *fsm.SecurityGroupRule) { r.PortMin = ptr(-1) }, fsm.ErrInvalid},
		{"min above max", func(r *fsm.SecurityGroupRule) { r.PortMin, r.PortMax = ptr(444), ptr(443) }, fsm.ErrInvalid},
		{"tcp min only", func(r *fsm.SecurityGroupRule) { r.PortMax = nil }, fsm.ErrInvalid},
		{"tcp max only", func(r *fsm.SecurityGroupRule) { r.PortMin = nil }, fsm.ErrInvalid},
		{"icmp type 256", func(r *fsm.SecurityGroupRule) { r.Protocol, r.PortMin, r.PortMax = fsm.ProtocolICMP, ptr(256), nil }, fsm.ErrInvalid},
		{"icmp code -1", func(r *fsm.SecurityGroupRule) { r.Protocol, r.PortMin, r.PortMax = fsm.ProtocolICMP, ptr(8), ptr(-1) }, fsm.ErrInvalid},
		{"icmp code without type", func(r *fsm.SecurityGroupRule) { r.Protocol, r.PortMin = fsm.ProtocolICMP, nil }, fsm.ErrInvalid},
		{"prefix and remote group", func(r *fsm.SecurityGroupRule) { r.RemoteIPPrefix, r.RemoteGroupID = "10.0.0.0/8", "sg-web" }, fsm.ErrInvalid},
		{"bad prefix", func(r *fsm.SecurityGroupRule) { r.RemoteIPPrefix = "10.0.0.0/33" }, fsm.ErrInvalid},
		{"address without length", func(r *fsm.SecurityGroupRule) { r.RemoteIPPrefix = "10.0.0.1" }, fsm.ErrInvalid},
		{"IPv6 prefix", func(r *fsm.SecurityGroupRule) { r.RemoteIPPrefix = "fd00::/8" }, fsm.ErrInvalid},
		{"unknown group", func(r *fsm.SecurityGroupRule) { r.GroupID = "nope" }, fsm.ErrNotFound},
		{"another project's default group", func(r *fsm.SecurityGroupRule) { r.GroupID = fsm.DefaultSecurityGroupID("p2") }, fsm.ErrNotFound},
		{"unknown remote group", func(r *fsm.SecurityGroupRule) { r.RemoteGroupID = "nope" }, fsm.ErrNotFound},
		{"duplicate rule", func(r *fsm.SecurityGroupRule) { r.PortMin, r.PortMax = ptr(80), ptr(80) }, fsm.ErrConflict},
		{"duplicate rule ID", func(r *fsm.SecurityGroupRule) { r.ID = "r-http" }, fsm.ErrConflict},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := rule("r-new", "sg-web", fsm.DirectionIngress, fsm.ProtocolTCP, ptr(8000), ptr(8080))
			tc.edit(&r)
			if tc.want == fsm.ErrInvalid {
				check := r
				if err := check.Normalize(); !errors.Is(err, fsm.ErrInvalid) {
					t.Errorf("Normalize() = %v, want ErrInvalid", err)
				}
			}
			w.refuse(&fsm.CreateSecurityGroupRule{Rule: r}, tc.want)
		})
	}

	// What passes, in canonical form: IPv4 by default, the prefix as sent.
	for _, r := range []fsm.SecurityGroupRule{
		rule("ok-any", "sg-web", fsm.DirectionEgress, "", nil, nil),
		rule("ok-icmp-any", "sg-web", fsm.DirectionIngress, fsm.ProtocolICMP, nil, nil),
		rule("ok-icmp-type", "sg-web", fsm.DirectionIngress, fsm.ProtocolICMP, ptr(8), nil),
		rule("ok-icmp-code", "sg-web", fsm.DirectionIngress, fsm.ProtocolICMP, ptr(3), ptr(255)),
		rule("ok-udp-range", "sg-web", fsm.DirectionIngress, fsm.ProtocolUDP, ptr(1), ptr(65535)),
		rule("ok-tcp-any", "sg-web", fsm.DirectionIngress, fsm.ProtocolTCP, nil, nil),
		func() fsm.SecurityGroupRule {
			r := rule("ok-prefix", "sg-web", fsm.DirectionIngress, fsm.ProtocolTCP, ptr(22), ptr(22))
			r.RemoteIPPrefix = "192.168.7.9/24"
			return r
		}(),
	} {
		w.must(&fsm.CreateSecurityGroupRule{Rule: r})
	}
	g := w.secGroup("sg-web")
	last := g.Rules[len(g.Rules)-1]
	if last.RemoteIPPrefix != "192.168.7.9/24" || last.Ethertype != fsm.EthertypeIPv4 || len(g.Rules) != 8 {
		t.Errorf("rules = %+v", g.Rules)
	}
	// The same rule again, the prefix written another way, is a duplicate.
	dup := rule("dup", "sg-web", fsm.DirectionIngress, fsm.ProtocolTCP, ptr(22), ptr(22))
	dup.RemoteIPPrefix, dup.Ethertype = "192.168.7.0/24", fsm.EthertypeIPv4
	w.refuse(&fsm.CreateSecurityGroupRule{Rule: dup}, fsm.ErrConflict)

	w.refuse(&fsm.DeleteSecurityGroupRule{ID: "nope", ProjectID: "p1", Time: t2}, fsm.ErrNotFound)
	w.must(&fsm.DeleteSecurityGroupRule{ID: "ok-prefix", Time: t2})
	if _, err := w.f.SecurityGroupRule("ok-prefix"); !errors.Is(err, fsm.ErrNotFound) {
		t.Errorf("deleted rule still read: %v", err)
	}
	w.must(&fsm.CreateSecurityGroupRule{Rule: dup}) // no longer a duplicate
	checkDerived(t, w.f)
}

func TestDeleteSecurityGroup(t *testing.T) {
	w := netWorld(t)
	def := fsm.DefaultSecurityGroupID("p1")
	from := func(id, remote string) fsm.SecurityGroupRule {
		r := rule(id, "", fsm.DirectionIngress, "", nil, nil)
		r.RemoteGroupID = remote
		return r
	}
	w.must(secGroupCmd("sg-db", "p1", "db"),
		secGroupCmd("sg-web", "p1", "web", from("r-web-from-db", "sg-db"), rule("r-web-http", "", fsm.DirectionIngress, fsm.ProtocolTCP, ptr(80), ptr(80))),
		groupedCreate("p1", []string{"sg-db"}, "a"))

	// The default group: refused before it is stored (the caller's project
	// says which it is) and after.
	w.refuse(&fsm.DeleteSecurityGroup{ID: def, ProjectID: "p1"}, fsm.ErrConflict)
	w.must(groupedCreate("p1", nil, "b"))
	err := w.refuse(&fsm.DeleteSecurityGroup{ID: def}, fsm.ErrConflict)
	if !containsText(err, "default security group") {
		t.Errorf("deleting default: %v", err)
	}
	w.refuse(&fsm.DeleteSecurityGroup{ID: "nope"}, fsm.ErrNotFound)
	err = w.refuse(&fsm.DeleteSecurityGroup{ID: "sg-db"}, fsm.ErrConflict) // a is in it
	if !containsText(err, "in use by server a") {
		t.Errorf("deleting a group in use: %v", err)
	}
	w.must(&fsm.RemoveInstanceSecurityGroup{InstanceID: "a", GroupID: "sg-db", Time: t2})
	index := w.next
	w.must(&fsm.DeleteSecurityGroup{ID: "sg-db"})
	if _, err := w.f.SecurityGroup("sg-db"); !errors.Is(err, fsm.ErrNotFound) {
		t.Errorf("sg-db after delete: %v", err)
	}
	// Rules naming it as their remote group went with it.
	web := w.secGroup("sg-web")
	if len(web.Rules) != 1 || web.Rules[0].ID != "r-web-http" || web.ModifyIndex != index {
		t.Errorf("sg-web after its remote group went = %+v", web)
	}
	checkDerived(t, w.f)
}

func TestInstanceSecurityGroups(t *testing.T) {
	w := netWorld(t)
	def := fsm.DefaultSecurityGroupID("p1")
	w.must(secGroupCmd("sg-web", "p1", "web"), secGroupCmd("sg-p2", "p2", "web"))

	// Created in the groups named, each once; none means default.
	w.must(groupedCreate("p1", []string{"sg-web", "sg-web"}, "a"))
	if got := w.inst("a").SecurityGroups; !reflect.DeepEqual(got, []string{"sg-web"}) {
		t.Errorf("a's groups = %v", got)
	}
	if _, err := w.f.SecurityGroup(def); err != nil {
		t.Fatal(err)
	}
	if st := stateOf(t, w.f); st.SecurityGroups[def] != nil {
		t.Errorf("a server not in the default group stored it")
	}
	w.refuse(groupedCreate("p1", []string{"nope"}, "x"), fsm.ErrNotFound)
	w.refuse(groupedCreate("p1", []string{"sg-p2"}, "x"), fsm.ErrConflict)
	w.refuse(groupedCreate("p1", []string{fsm.DefaultSecurityGroupID("p2")}, "x"), fsm.ErrNotFound)

	index := w.next
	w.must(&fsm.AddInstanceSecurityGroup{InstanceID: "a", GroupID: def, Time: t2})
	a := w.inst("a")
	if !reflect.DeepEqual(a.SecurityGroups, []string{"sg-web", def}) || a.ModifyIndex != index || !a.Updated.Equal(t2) {
		t.Errorf("a after add = %v (modified %d, updated %v)", a.SecurityGroups, a.ModifyIndex, a.Updated)
	}
	w.refuse(&fsm.AddInstanceSecurityGroup{InstanceID: "a", GroupID: def, Time: t2}, fsm.ErrConflict)
	w.refuse(&fsm.AddInstanceSecurityGroup{InstanceID: "a", GroupID: "sg-p2", Time: t2}, fsm.ErrConflict)
	w.refuse(&fsm.AddInstanceSecurityGroup{InstanceID: "a", GroupID: "nope", Time: t2}, fsm.ErrNotFound)
	w.refuse(&fsm.AddInstanceSecurityGroup{InstanceID: "nope", GroupID: def, Time: t2}, fsm.ErrNotFound)

	w.must(&fsm.RemoveInstanceSecurityGroup{InstanceID: "a", GroupID: "sg-web", Time: t2},
		&fsm.RemoveInstanceSecurityGroup{InstanceID: "a", GroupID: def, Time: t2})
	if got := w.inst("a").SecurityGroups; len(got) != 0 {
		t.Errorf("a after removing both = %v", got)
	}
	w.refuse(&fsm.RemoveInstanceSecurityGroup{InstanceID: "a", GroupID: "sg-web", Time: t2}, fsm.ErrConflict)
	w.refuse(&fsm.RemoveInstanceSecurityGroup{InstanceID: "a", GroupID: "nope", Time: t2}, fsm.ErrNotFound)
	w.refuse(&fsm.RemoveInstanceSecurityGroup{InstanceID: "nope", GroupID: "sg-web", Time: t2}, fsm.ErrNotFound)

	// A server being deleted keeps its groups as they are.
	w.must(&fsm.AddInstanceSecurityGroup{InstanceID: "a", GroupID: "sg-web", Time: t2})
	w.place("a", "h1")
	w.finish("a")
	w.act("a", fsm.ActionDelete)
	w.refuse(&fsm.AddInstanceSecurityGroup{InstanceID: "a", GroupID: def, Time: t2}, fsm.ErrConflict)
	w.refuse(&fsm.RemoveInstanceSecurityGroup{InstanceID: "a", GroupID: "sg-web", Time: t2}, fsm.ErrConflict)
	w.refuse(&fsm.DeleteSecurityGroup{ID: "sg-web"}, fsm.ErrConflict) // still in use until it is gone
	w.must(reportCmd("h1", fsm.InstanceReport{ID: "a", Done: fsm.TaskDeleting}), &fsm.DeleteSecurityGroup{ID: "sg-web"})
	checkDerived(t, w.f)
}

// A snapshot carries every networking object, and a restored replica
// answers every read alike.
func TestNetworkingSnapshotRoundTrip(t *testing.T) {
	w := netWorld(t)
	w.must(secGroupCmd("sg-web", "p1", "web", rule("r1", "", fsm.DirectionIngress, fsm.ProtocolTCP, ptr(80), ptr(81))),
		groupedCreate("p1", []string{"sg-web"}, "a"), groupedCreate("p1", nil, "b"),
		allocFIP("f1", "ext", "p1"), allocFIP("f2", "ext", "p1"),
		&fsm.AssociateFloatingIP{FloatingIPID: "f1", InstanceID: "a"},
		&fsm.ReleaseFloatingIP{ID: "f2"}, // the cursor moved back
	)
	snap := snapshotBytes(t, w.f)
	for _, key := range []string{`"networks"`, `"floating_ips"`, `"security_groups"`, `"allocation_pools"`, `"port_range_min"`} {
		if !strings.Contains(string(snap), key) {
			t.Errorf("snapshot lacks %s", key)
		}
	}
	dst := fsm.New()
	restore(t, dst, snap)
	if again := snapshotBytes(t, dst); string(again) != string(snap) {
		t.Errorf("restored snapshot differs:\n%s\n%s", snap, again)
	}
	assertSameReads(t, w.f, dst)
	// Both go on alike: the next floating IP is the released one.
	next := w.next
	for _, f := range []*fsm.FSM{w.f, dst} {
		mustApply(t, f, next, allocFIP("f3", "ext", "p1"))
		if got, _ := f.FloatingIP("f3"); got.IP != "10.66.0.11" {
			t.Errorf("f3 = %s, want 10.66.0.11", got.IP)
		}
	}
	sameSnapshot(t, "after the next allocation", w.f, dst)
	v := dst.NetworkView()
	if v.Tenant == nil || v.Tenant.ID != "default" || len(v.External) != 1 || len(v.FloatingIPs) != 2 ||
		len(v.SecurityGroups) != 2 || len(v.Instances) != 2 || len(v.Hosts) != 2 || v.Index != dst.Index() {
		t.Errorf("NetworkView() = %+v", v)
	}
	a, _ := dst.Instance("a")
	if addr, ok := a.FixedAddress(); !ok || addr.IP == "" || addr.MAC == "" || v.FloatingIPs[0].FixedIP != addr.IP {
		t.Errorf("FixedAddress() = %+v, %v; floating IPs %+v", addr, ok, v.FloatingIPs)
	}
	checkDerived(t, dst)
}
