package fsm_test

import (
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/shoal-project/shoal/fsm"
)

func TestCreateRole(t *testing.T) {
	runIdentityCases(t, []identityCase{
		{name: "ok", cmd: &fsm.CreateRole{Role: fsm.Role{ID: "r-ops", Name: "operator"}}, check: func(t *testing.T, f *fsm.FSM, index uint64) {
			want := fsm.Role{ID: "r-ops", Name: "operator", Indexes: fsm.Indexes{CreateIndex: index, ModifyIndex: index}}
			for _, ref := range []string{"r-ops", "operator"} {
				if got, err := f.Role(ref); err != nil || got != want {
					t.Errorf("Role(%q) = %+v, %v; want %+v", ref, got, err, want)
				}
			}
			if got := roleNames(f.Roles()); got != "admin,member,operator,reader" {
				t.Errorf("Roles() = %s", got)
			}
		}},
		{name: "duplicate name", cmd: &fsm.CreateRole{Role: fsm.Role{ID: "r-ops", Name: "member"}}, want: fsm.ErrConflict},
		{name: "duplicate ID", cmd: &fsm.CreateRole{Role: fsm.Role{ID: "r-member", Name: "operator"}}, want: fsm.ErrConflict},
		{name: "empty name", cmd: &fsm.CreateRole{Role: fsm.Role{ID: "r-ops"}}, want: fsm.ErrInvalid},
		{name: "empty ID", cmd: &fsm.CreateRole{Role: fsm.Role{Name: "operator"}}, want: fsm.ErrInvalid},
		{name: "control character", cmd: &fsm.CreateRole{Role: fsm.Role{ID: "r-ops", Name: "op\r"}}, want: fsm.ErrInvalid},
	})
}

func TestDeleteRole(t *testing.T) {
	runIdentityCases(t, []identityCase{
		{name: "ok, with its assignments", cmd: &fsm.DeleteRole{ID: "r-member"}, check: func(t *testing.T, f *fsm.FSM, _ uint64) {
			if _, err := f.Role("member"); !errors.Is(err, fsm.ErrNotFound) {
				t.Errorf("Role(member) after delete: %v", err)
			}
			if got := roleNames(f.RolesOf("u1", "p1")); got != "" {
				t.Errorf("RolesOf(u1, p1) = %s, want none", got)
			}
			if got := roleNames(f.RolesOf("u1", "p2")); got != "reader" {
				t.Errorf("RolesOf(u1, p2) = %s, want reader", got)
			}
		}},
		{name: "unknown", cmd: &fsm.DeleteRole{ID: "nope"}, want: fsm.ErrNotFound},
	})
}

func TestGrantRole(t *testing.T) {
	grant := func(p, u, r string) *fsm.GrantRole { return &fsm.GrantRole{RoleAssignment: assign(p, u, r)} }
	runIdentityCases(t, []identityCase{
		{name: "ok", cmd: grant("p1", "u1", "r-admin"), check: func(t *testing.T, f *fsm.FSM, _ uint64) {
			if got := roleNames(f.RolesOf("u1", "p1")); got != "admin,member" {
				t.Errorf("RolesOf(u1, p1) = %s, want admin,member", got)
			}
			want := []fsm.RoleAssignment{assign("p1", "u1", "r-admin"), assign("p1", "u1", "r-member")}
			if got := f.RoleAssignments("u1", "p1"); !reflect.DeepEqual(got, want) {
				t.Errorf("RoleAssignments(u1, p1) = %+v, want %+v", got, want)
			}
		}},
		{name: "held already", cmd: grant("p1", "u1", "r-member"), noop: true},
		{name: "unknown project", cmd: grant("nope", "u1", "r-member"), want: fsm.ErrNotFound},
		{name: "unknown user", cmd: grant("p1", "nope", "r-member"), want: fsm.ErrNotFound},
		{name: "unknown role", cmd: grant("p1", "u1", "nope"), want: fsm.ErrNotFound},
	})
}

func TestRevokeRole(t *testing.T) {
	revoke := func(p, u, r string) *fsm.RevokeRole { return &fsm.RevokeRole{RoleAssignment: assign(p, u, r)} }
	runIdentityCases(t, []identityCase{
		{name: "ok", cmd: revoke("p1", "u1", "r-member"), check: func(t *testing.T, f *fsm.FSM, _ uint64) {
			if got := f.RolesOf("u1", "p1"); len(got) != 0 {
				t.Errorf("RolesOf(u1, p1) = %+v, want none", got)
			}
		}},
		{name: "not held", cmd: revoke("p1", "u1", "r-admin"), want: fsm.ErrNotFound},
		{name: "unknown project", cmd: revoke("nope", "u1", "r-member"), want: fsm.ErrNotFound},
		{name: "unknown user", cmd: revoke("p1", "nope", "r-member"), want: fsm.ErrNotFound},
		{name: "unknown role", cmd: revoke("p1", "u1", "nope"), want: fsm.ErrNotFound},
	})
}

func TestRoleAssignmentsFilter(t *testing.T) {
	f, _ := identityWorld(t)
	all := []fsm.RoleAssignment{assign("p-admin", "u-admin", "r-admin"), assign("p1", "u1", "r-member"), assign("p2", "u1", "r-reader")}
	for _, tc := range []struct {
		user, project string
		want          []fsm.RoleAssignment
	}{
		{"", "", all},
		{"u1", "", all[1:]},
		{"", "p2", all[2:]},
		{"u1", "p-admin", []fsm.RoleAssignment{}},
		{"u2", "", []fsm.RoleAssignment{}},
	} {
		if got := f.RoleAssignments(tc.user, tc.project); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("RoleAssignments(%q, %q) = %+v, want %+v", tc.user, tc.project, got, tc.want)
		}
	}
}

func TestPublishSigningKey(t *testing.T) {
	key := func(id, host string, pub []byte) *fsm.PublishSigningKey {
		return &fsm.PublishSigningKey{Key: fsm.SigningKey{ID: id, Host: host, PublicKey: pub, Created: t1}}
	}
	runIdentityCases(t, []identityCase{
		{name: "ok", cmd: key("k2", "h2", publicKey(2)), check: func(t *testing.T, f *fsm.FSM, index uint64) {
			want := fsm.SigningKey{ID: "k2", Host: "h2", PublicKey: publicKey(2), Created: t1, Indexes: fsm.Indexes{CreateIndex: index, ModifyIndex: index}}
			got, err := f.SigningKey("k2")
			if err != nil || !reflect.DeepEqual(got, want) {
				t.Errorf("SigningKey(k2) = %+v, %v; want %+v", got, err, want)
			}
			got.PublicKey[0] = 9 // a reader's copy is its own
			if again, _ := f.SigningKey("k2"); again.PublicKey[0] != 2 {
				t.Error("SigningKey shares its key bytes with the state")
			}
			if got := len(f.SigningKeys()); got != 2 {
				t.Errorf("SigningKeys() has %d keys, want 2", got)
			}
		}},
		{name: "published again", cmd: key("k1", "h1", publicKey(1)), noop: true},
		{name: "other key, same ID", cmd: key("k1", "h1", publicKey(2)), want: fsm.ErrConflict},
		{name: "other host, same ID", cmd: key("k1", "h2", publicKey(1)), want: fsm.ErrConflict},
		{name: "short key", cmd: key("k2", "h2", publicKey(2)[:31]), want: fsm.ErrInvalid},
		{name: "no host", cmd: key("k2", "", publicKey(2)), want: fsm.ErrInvalid},
		{name: "no ID", cmd: key("", "h2", publicKey(2)), want: fsm.ErrInvalid},
		{name: "no time", cmd: &fsm.PublishSigningKey{Key: fsm.SigningKey{ID: "k2", Host: "h2", PublicKey: publicKey(2)}}, want: fsm.ErrInvalid},
		{name: "retired", cmd: &fsm.PublishSigningKey{Key: fsm.SigningKey{ID: "k2", Host: "h2", PublicKey: publicKey(2), Created: t1, Retired: t1}}, want: fsm.ErrInvalid},
	})
}

func TestRetireSigningKey(t *testing.T) {
	runIdentityCases(t, []identityCase{
		{name: "ok", cmd: &fsm.RetireSigningKey{ID: "k1", Time: t1}, check: func(t *testing.T, f *fsm.FSM, index uint64) {
			k, _ := f.SigningKey("k1")
			wantTime(t, "Retired", k.Retired, t1)
			// Retiring again keeps the first time; publishing it again is refused.
			mustApply(t, f, index+1, &fsm.RetireSigningKey{ID: "k1", Time: t2})
			k, _ = f.SigningKey("k1")
			wantTime(t, "Retired after a second retire", k.Retired, t1)
			if k.ModifyIndex != index {
				t.Errorf("ModifyIndex = %d, want %d", k.ModifyIndex, index)
			}
			err := applyErr(t, f, index+2, &fsm.PublishSigningKey{Key: fsm.SigningKey{ID: "k1", Host: "h1", PublicKey: publicKey(1), Created: t0}})
			assertBusinessError(t, err, fsm.ErrConflict)
		}},
		{name: "unknown", cmd: &fsm.RetireSigningKey{ID: "nope", Time: t1}, want: fsm.ErrNotFound},
		{name: "no time", cmd: &fsm.RetireSigningKey{ID: "k1"}, want: fsm.ErrInvalid},
	})
}

func TestRevokeToken(t *testing.T) {
	t3 := t2.Add(time.Minute)
	runIdentityCases(t, []identityCase{
		{name: "ok", cmd: &fsm.RevokeToken{AuditID: "a2", ExpiresAt: t2, Time: t1}, check: func(t *testing.T, f *fsm.FSM, _ uint64) {
			for _, id := range []string{"a1", "a2"} {
				if !f.TokenRevoked(id) {
					t.Errorf("TokenRevoked(%s) = false", id)
				}
			}
			if f.TokenRevoked("a3") {
				t.Error("TokenRevoked(a3) = true")
			}
		}},
		{name: "prunes the expired", cmd: &fsm.RevokeToken{AuditID: "a2", ExpiresAt: t3, Time: t2}, check: func(t *testing.T, f *fsm.FSM, _ uint64) {
			if f.TokenRevoked("a1") || !f.TokenRevoked("a2") {
				t.Errorf("TokenRevoked(a1, a2) = %v, %v; want false, true", f.TokenRevoked("a1"), f.TokenRevoked("a2"))
			}
		}},
		{name: "expired already", cmd: &fsm.RevokeToken{AuditID: "a2", ExpiresAt: t1, Time: t1}, noop: true},
		{name: "again, earlier expiry", cmd: &fsm.RevokeToken{AuditID: "a1", ExpiresAt: t1, Time: t0}, noop: true},
		{name: "no audit ID", cmd: &fsm.RevokeToken{ExpiresAt: t2, Time: t1}, want: fsm.ErrInvalid},
		{name: "no expiry", cmd: &fsm.RevokeToken{AuditID: "a2", Time: t1}, want: fsm.ErrInvalid},
		{name: "no time", cmd: &fsm.RevokeToken{AuditID: "a2", ExpiresAt: t2}, want: fsm.ErrInvalid},
	})
}
