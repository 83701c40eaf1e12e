package api

import (
	"context"
	"testing"
	"time"

	"github.com/shoal-project/shoal/fsm"
)

// seedPolicyUpdates gives the policy table's update rows something to
// find: a metadata key on each project's server, a tag on its image, an
// extra spec on flavor 1 and a private flavor both projects may use.
func seedPolicyUpdates(t *testing.T, w *tenants) *tenants {
	t.Helper()
	now := time.Unix(400, 0).UTC()
	for _, o := range []owned{w.alpha, w.beta} {
		w.c.MustApply(t,
			&fsm.UpdateInstanceMetadata{ID: o.server, Set: map[string]string{"role": "web"}, Admin: true, Time: now},
			&fsm.UpdateImage{ID: o.image, Time: now, Changes: []fsm.ImageChange{{Op: fsm.ImageOpAdd, Field: fsm.ImageFieldTag, Value: "base"}}})
	}
	w.c.MustApply(t,
		&fsm.SetFlavorExtraSpecs{ID: "1", Specs: map[string]string{"hw:cpu_policy": "shared"}},
		&fsm.CreateFlavor{Flavor: fsm.Flavor{ID: "private", Name: "m1.private", VCPUs: 1, RAM: 512, Disk: 1, Private: true,
			Access: []string{w.alpha.project, w.beta.project}, Created: now}})
	return w
}

// ctxOf is a request context of one of the tenants' callers, as the guard
// makes it (for calling Ops directly). The admin's project is another
// than alpha's and beta's.
func (w *tenants) ctxOf(t *testing.T, caller string) context.Context {
	t.Helper()
	p := map[string]Principal{
		reader:   {UserID: w.user[reader], ProjectID: w.alpha.project, Roles: []string{fsm.RoleReader}},
		member:   {UserID: w.user[member], ProjectID: w.alpha.project, Roles: []string{fsm.RoleMember}},
		betaUser: {UserID: w.user[betaUser], ProjectID: w.beta.project, Roles: []string{fsm.RoleMember}},
		admin:    {UserID: w.user[admin], ProjectID: "admin", Roles: []string{fsm.RoleAdmin}},
	}[caller]
	if p.UserID == "" {
		t.Fatalf("no principal for %q", caller)
	}
	return asCaller(p)
}

func (w *tenants) adminCtx(t *testing.T) context.Context { return w.ctxOf(t, admin) }
