package client

import (
	"context"
	"errors"
	"testing"

	"github.com/shoal-project/shoal/api/identity/identitytest"
	"github.com/shoal-project/shoal/fsm"
)

// TestIdentityAgainstServer drives the identity calls against a real
// in-process API: create, find by name and by ID, grant, check, list,
// update, revoke and delete, and the errors Keystone answers.
func TestIdentityAgainstServer(t *testing.T) {
	_, cl := newTestClient(t)
	ctx := context.Background()

	p, err := cl.CreateProject(ctx, ProjectCreate{Name: "demo", Description: "the demo"})
	if err != nil || p.ID == "" || !p.Enabled || p.DomainID != "default" {
		t.Fatalf("CreateProject = %+v, %v", p, err)
	}
	if got, err := cl.Project(ctx, "demo"); err != nil || got.ID != p.ID {
		t.Fatalf("Project(name) = %+v, %v", got, err)
	}
	u, err := cl.CreateUser(ctx, UserCreate{Name: "alice", Password: identitytest.Password, DefaultProjectID: p.ID})
	if err != nil || u.DefaultProjectID != p.ID || !u.Enabled {
		t.Fatalf("CreateUser = %+v, %v", u, err)
	}
	if has, err := cl.HasRole(ctx, "demo", "alice", "member"); err != nil || has {
		t.Fatalf("HasRole before the grant = %v, %v", has, err)
	}
	if err := cl.AddRole(ctx, "demo", "alice", "member"); err != nil {
		t.Fatal(err)
	}
	if has, err := cl.HasRole(ctx, p.ID, u.ID, identitytest.MemberRoleID); err != nil || !has {
		t.Fatalf("HasRole after the grant = %v, %v", has, err)
	}
	l, err := cl.RoleAssignments(ctx, AssignmentFilter{User: "alice"})
	if err != nil || len(l) != 1 || l[0].Role.ID != identitytest.MemberRoleID || l[0].Scope.Project.ID != p.ID {
		t.Fatalf("RoleAssignments = %+v, %v", l, err)
	}
	off := false
	if got, err := cl.UpdateUser(ctx, "alice", UserUpdate{Enabled: &off}); err != nil || got.Enabled {
		t.Fatalf("UpdateUser disable = %+v, %v", got, err)
	}
	desc := "renamed"
	if got, err := cl.UpdateProject(ctx, "demo", ProjectUpdate{Description: &desc}); err != nil || got.Description != desc {
		t.Fatalf("UpdateProject = %+v, %v", got, err)
	}
	r, err := cl.CreateRole(ctx, "auditor")
	if err != nil || r.ID == "" {
		t.Fatalf("CreateRole = %+v, %v", r, err)
	}
	if roles, err := cl.Roles(ctx); err != nil || len(roles) != 4 {
		t.Fatalf("Roles = %+v, %v", roles, err)
	}
	tests := []struct {
		name string
		call func() error
		is   error
	}{
		{"duplicate project", func() error { _, err := cl.CreateProject(ctx, ProjectCreate{Name: "demo"}); return err }, fsm.ErrConflict},
		{"unknown role", func() error { return cl.AddRole(ctx, "demo", "alice", "nope") }, fsm.ErrNotFound},
		{"password too long", func() error {
			_, err := cl.CreateUser(ctx, UserCreate{Name: "bob", Password: string(make([]byte, 73))})
			return err
		}, fsm.ErrInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.call(); !errors.Is(err, tt.is) {
				t.Errorf("err = %v, want %v", err, tt.is)
			}
		})
	}

	if err := cl.RemoveRole(ctx, "demo", "alice", "member"); err != nil {
		t.Fatal(err)
	}
	for _, del := range []func() error{
		func() error { return cl.DeleteRole(ctx, "auditor") },
		func() error { return cl.DeleteUser(ctx, "alice") },
		func() error { return cl.DeleteProject(ctx, "demo") },
	} {
		if err := del(); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := cl.User(ctx, "alice"); !errors.Is(err, fsm.ErrNotFound) {
		t.Errorf("deleted user: %v", err)
	}

	info, err := cl.ValidateToken(ctx, identitytest.AdminToken)
	if err != nil || info.Project.ID != identitytest.AdminProjectID || info.User.ID != identitytest.AdminUserID {
		t.Errorf("ValidateToken = %+v, %v", info, err)
	}
}
