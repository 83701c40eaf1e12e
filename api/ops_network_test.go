package api

import (
	"errors"
	"testing"

	"github.com/shoal-project/shoal/fsm"
)

// TestOpsFloatingIPs: a floating IP is associated with a server and
// detached again through Ops (Neutron's PUT port_id), with the rules of
// the server actions; another project's objects are absent.
func TestOpsFloatingIPs(t *testing.T) {
	w := newTenants(t)
	ops := w.srv.Ops()
	alpha := asCaller(Principal{UserID: w.alpha.user, ProjectID: w.alpha.project, Roles: []string{fsm.RoleMember}})

	f, err := ops.FloatingIP(alpha, w.alpha.fip)
	if err != nil || f.IP != w.alpha.fipAddress || f.ServerID != "" {
		t.Fatalf("FloatingIP by ID: %+v, %v", f, err)
	}
	idx, f, err := ops.AssociateFloatingIP(alpha, w.alpha.fip, w.alpha.server, "")
	if err != nil || idx == 0 || f.ServerID != w.alpha.server || f.FixedIP == "" {
		t.Fatalf("associate: %d %+v %v", idx, f, err)
	}
	if d, _, _ := ops.Server(alpha, w.alpha.server); len(d.Addresses) != 2 || d.Addresses[1].IP != f.IP {
		t.Errorf("server addresses after associate: %+v", d.Addresses)
	}
	for name, err := range map[string]error{
		"another project's server": errOf(ops.AssociateFloatingIP(alpha, w.alpha.fip, w.beta.server, "")),
		"another project's IP":     errOf(ops.AssociateFloatingIP(alpha, w.beta.fip, w.alpha.server, "")),
	} {
		if !errors.Is(err, fsm.ErrNotFound) {
			t.Errorf("%s: %v, want not found", name, err)
		}
	}
	if _, f, err = ops.DisassociateFloatingIP(alpha, w.alpha.fipAddress); err != nil || f.ServerID != "" || f.FixedIP != "" {
		t.Fatalf("disassociate: %+v %v", f, err)
	}
	if _, f, err = ops.DisassociateFloatingIP(alpha, w.alpha.fip); err != nil || f.ServerID != "" {
		t.Errorf("disassociate again: %+v %v", f, err)
	}

	rules, err := ops.SecurityGroupRules(alpha, Scope{})
	if err != nil || !containsRule(rules, w.alpha.rule) || containsRule(rules, w.beta.rule) {
		t.Errorf("rules of alpha: %+v %v", rules, err)
	}
	if _, err := ops.SecurityGroupRules(alpha, Scope{All: true}); !errors.Is(err, fsm.ErrForbidden) {
		t.Errorf("a member's rules of all projects: %v", err)
	}
}

func errOf(_ uint64, _ FloatingIP, err error) error { return err }

func containsRule(rules []SecurityGroupRule, id string) bool {
	for _, r := range rules {
		if r.ID == id {
			return true
		}
	}
	return false
}
