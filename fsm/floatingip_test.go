package fsm_test

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/shoal-project/shoal/fsm"
)

// Floating IPs take the lowest free address of the pools, in pool order
// whatever order the pools were given in; a released one is taken again
// first; an exhausted network refuses and changes nothing.
func TestFloatingIPAllocationOrder(t *testing.T) {
	w := netWorld(t)
	w.must(allocFIP("f1", "ext", "p1"), allocFIP("f2", "ext", "p1"), allocFIP("f3", "ext", "p2"))
	for id, ip := range map[string]string{"f1": "10.66.0.10", "f2": "10.66.0.11", "f3": "10.66.0.20"} {
		if got := w.fip(id).IP; got != ip {
			t.Errorf("%s got %s, want %s", id, got, ip)
		}
	}
	err := w.refuse(allocFIP("f4", "ext", "p1"), fsm.ErrConflict)
	if want := "network public-ext (10.66.0.0/24) has no free floating IP: all 3 are allocated"; !containsText(err, want) {
		t.Errorf("exhausted: %v, want %q", err, want)
	}
	w.must(&fsm.ReleaseFloatingIP{ID: "f2"}, allocFIP("f4", "ext", "p1"))
	if got := w.fip("f4").IP; got != "10.66.0.11" {
		t.Errorf("after release got %s, want 10.66.0.11", got)
	}
	w.must(&fsm.ReleaseFloatingIP{ID: "f1"}, &fsm.ReleaseFloatingIP{ID: "f3"})

	// A requested address: free and in a pool.
	req := allocFIP("f5", "ext", "p1")
	req.IP = "10.66.0.20"
	w.must(req)
	req = allocFIP("f6", "ext", "p1")
	req.IP = "10.66.0.20"
	w.refuse(req, fsm.ErrConflict)
	req.IP = "10.66.0.12"
	w.refuse(req, fsm.ErrInvalid) // outside the pools
	req.IP = "10.67.0.10"
	w.refuse(req, fsm.ErrInvalid)
	req.IP = "nope"
	w.refuse(req, fsm.ErrInvalid)
	w.must(allocFIP("f6", "ext", "p1"))
	if got := w.fip("f6").IP; got != "10.66.0.10" {
		t.Errorf("lowest free after a requested one = %s, want 10.66.0.10", got)
	}

	w.refuse(allocFIP("f6", "ext", "p1"), fsm.ErrConflict) // ID taken
	w.refuse(allocFIP("", "ext", "p1"), fsm.ErrInvalid)
	w.refuse(allocFIP("f7", "nope", "p1"), fsm.ErrNotFound)
	w.refuse(allocFIP("f7", fsm.DefaultNetworkID, "p1"), fsm.ErrInvalid) // not external
	w.refuse(&fsm.ReleaseFloatingIP{ID: "nope"}, fsm.ErrNotFound)

	got := w.f.FloatingIPs(nil)
	if len(got) != 3 || got[0].ID != "f6" || got[1].ID != "f4" || got[2].ID != "f5" {
		t.Errorf("FloatingIPs(nil) = %+v, want f6, f4, f5 by address", got)
	}
	want := fsm.FloatingIP{ID: "f5", IP: "10.66.0.20", NetworkID: "ext", ProjectID: "p1", UserID: "u-p1", Created: t1,
		Indexes: fsm.Indexes{CreateIndex: w.fip("f5").CreateIndex, ModifyIndex: w.fip("f5").CreateIndex}}
	if !reflect.DeepEqual(w.fip("f5"), want) {
		t.Errorf("FloatingIP(f5) = %+v, want %+v", w.fip("f5"), want)
	}
	checkDerived(t, w.f)
}

// The floating_ips quota is checked in Apply with Nova's message, counting
// what the project holds, associated or not.
func TestFloatingIPQuota(t *testing.T) {
	w := netWorld(t)
	w.must(&fsm.SetQuota{ProjectID: "p1", Quota: fsm.QuotaOverride{FloatingIPs: ptr(2)}},
		allocFIP("f1", "ext", "p1"), allocFIP("f2", "ext", "p1"))
	err := w.refuse(allocFIP("f3", "ext", "p1"), fsm.ErrOverQuota)
	if want := "Quota exceeded for floating_ips: Requested 1, but already used 2 of 2 floating_ips"; err.Error() != want {
		t.Errorf("over quota: %q, want %q", err, want)
	}
	var qe *fsm.QuotaError
	if !errors.As(err, &qe) || qe.Resource != fsm.QuotaFloatingIPs {
		t.Errorf("error %v is not a floating_ips QuotaError", err)
	}
	if u := w.f.ProjectUsage("p1"); u.FloatingIPs != 2 {
		t.Errorf("ProjectUsage(p1).FloatingIPs = %d, want 2", u.FloatingIPs)
	}
	if q := w.f.Quota("p2"); q.FloatingIPs != 10 {
		t.Errorf("Quota(p2).FloatingIPs = %d, want the default 10", q.FloatingIPs)
	}
	w.must(allocFIP("f3", "ext", "p2"), &fsm.ReleaseFloatingIP{ID: "f1"}, allocFIP("f4", "ext", "p1"))
	w.must(&fsm.SetQuota{ProjectID: "p1", Quota: fsm.QuotaOverride{FloatingIPs: ptr(fsm.Unlimited)}})
	w.refuse(&fsm.SetQuota{ProjectID: "p1", Quota: fsm.QuotaOverride{FloatingIPs: ptr(-2)}}, fsm.ErrInvalid)
}

func TestAssociateFloatingIP(t *testing.T) {
	w := netWorld(t)
	w.must(groupedCreate("p1", nil, "a", "b"), groupedCreate("p2", nil, "c"),
		allocFIP("f1", "ext", "p1"), allocFIP("f2", "ext", "p1"), allocFIP("f3", "ext", "p2"))
	assoc := func(fip, inst string) *fsm.AssociateFloatingIP {
		return &fsm.AssociateFloatingIP{FloatingIPID: fip, InstanceID: inst}
	}
	w.must(assoc("f1", "a"))
	if f := w.fip("f1"); f.InstanceID != "a" || f.FixedIP != w.ip("a") || !f.Associated() {
		t.Errorf("f1 = %+v, want on a's %s", f, w.ip("a"))
	}
	w.noop(assoc("f1", "a")) // already there
	fixed := assoc("f1", "a")
	fixed.FixedIP = w.ip("a")
	w.noop(fixed)

	w.refuse(assoc("f2", "a"), fsm.ErrConflict) // a's fixed IP has f1
	w.refuse(assoc("f1", "b"), fsm.ErrConflict) // f1 is attached to a
	w.refuse(assoc("f3", "a"), fsm.ErrConflict) // another project's floating IP
	w.refuse(assoc("nope", "b"), fsm.ErrNotFound)
	w.refuse(assoc("f2", "nope"), fsm.ErrNotFound)
	wrong := assoc("f2", "b")
	wrong.FixedIP = "10.20.0.99"
	w.refuse(wrong, fsm.ErrInvalid)
	cross := assoc("f3", "b")
	cross.CrossProject = true // an admin's
	w.must(cross)

	w.refuse(&fsm.DisassociateFloatingIP{FloatingIPID: "f1", InstanceID: "b"}, fsm.ErrConflict)
	w.refuse(&fsm.DisassociateFloatingIP{FloatingIPID: "f2"}, fsm.ErrConflict) // not associated
	w.refuse(&fsm.DisassociateFloatingIP{FloatingIPID: "nope"}, fsm.ErrNotFound)
	w.must(&fsm.DisassociateFloatingIP{FloatingIPID: "f1", InstanceID: "a"})
	if f := w.fip("f1"); f.Associated() || f.FixedIP != "" {
		t.Errorf("f1 after disassociate = %+v", f)
	}
	w.must(assoc("f2", "a"))

	// Releasing an associated floating IP detaches and frees it.
	w.must(&fsm.ReleaseFloatingIP{ID: "f3"})
	if got := w.f.FloatingIPs(fsm.FloatingIPsOf("p2")); len(got) != 0 {
		t.Errorf("p2 still holds %+v", got)
	}
	if n, _ := w.f.NetworkByID("ext"); len(n.Allocated) != 2 {
		t.Errorf("ext allocated %v after release, want 2", n.Allocated)
	}

	// A server being deleted takes no floating IP.
	w.place("b", "h1")
	w.finish("b")
	w.act("b", fsm.ActionDelete)
	w.refuse(assoc("f1", "b"), fsm.ErrConflict)
	checkDerived(t, w.f)
}

// A server's floating IPs and groups stay through evacuation; deleting the
// server detaches its floating IPs, which stay with the project.
func TestFloatingIPFollowsServer(t *testing.T) {
	w := netWorld(t)
	w.must(secGroupCmd("sg-web", "p1", "web"),
		groupedCreate("p1", []string{"sg-web"}, "a"), groupedCreate("p1", nil, "b"),
		allocFIP("f1", "ext", "p1"), allocFIP("f2", "ext", "p1"),
		&fsm.AssociateFloatingIP{FloatingIPID: "f1", InstanceID: "a"},
		&fsm.AssociateFloatingIP{FloatingIPID: "f2", InstanceID: "b"})
	w.place("a", "h1")
	w.finish("a")
	fixed := w.ip("a")

	w.must(&fsm.MarkHostDown{Name: "h1", LastSeen: t1, Time: t2})
	a := w.inst("a")
	if a.Host != "" || a.TaskState != fsm.TaskRebuilding {
		t.Fatalf("a after h1 down = %s, want evacuated", describe(a))
	}
	if f := w.fip("f1"); f.InstanceID != "a" || f.FixedIP != fixed {
		t.Errorf("f1 after evacuation = %+v, want still on a (%s)", f, fixed)
	}
	if !reflect.DeepEqual(a.SecurityGroups, []string{"sg-web"}) || w.ip("a") != fixed {
		t.Errorf("a after evacuation: groups %v, IP %s", a.SecurityGroups, w.ip("a"))
	}
	w.must(planCmd(fsm.Placement{InstanceID: "a", Host: "h2"}))
	if f := w.fip("f1"); f.InstanceID != "a" {
		t.Errorf("f1 after the rebuild's placement = %+v", f)
	}

	// b never reached a host: deleted at once.
	index := w.next
	w.act("b", fsm.ActionDelete)
	w.gone("b")
	if f := w.fip("f2"); f.Associated() || f.FixedIP != "" || f.ProjectID != "p1" || f.ModifyIndex != index {
		t.Errorf("f2 after b's delete = %+v, want allocated, not associated, modified at %d", f, index)
	}
	// a on a host: detached when the host reports it destroyed.
	w.finish("a")
	w.act("a", fsm.ActionDelete)
	if f := w.fip("f1"); f.InstanceID != "a" {
		t.Errorf("f1 while a is deleting = %+v", f)
	}
	w.must(reportCmd("h2", fsm.InstanceReport{ID: "a", Done: fsm.TaskDeleting}))
	w.gone("a")
	if f := w.fip("f1"); f.Associated() {
		t.Errorf("f1 after a is gone = %+v", f)
	}
	checkDerived(t, w.f)
}

func containsText(err error, s string) bool {
	return err != nil && strings.Contains(err.Error(), s)
}
