package fsm_test

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/shoal-project/shoal/fsm"
)

var (
	name255 = strings.Repeat("é", 255) // characters, not bytes
	name256 = strings.Repeat("a", 256)
)

func TestCreateProject(t *testing.T) {
	project := func(id, name string) *fsm.CreateProject {
		return &fsm.CreateProject{Project: fsm.Project{ID: id, Name: name, Description: "d", Enabled: true, Created: t1}}
	}
	runIdentityCases(t, []identityCase{
		{name: "ok", cmd: project("p3", "ops"), check: func(t *testing.T, f *fsm.FSM, index uint64) {
			want := fsm.Project{ID: "p3", Name: "ops", DomainID: fsm.DefaultDomainID, Description: "d", Enabled: true, Created: t1,
				Indexes: fsm.Indexes{CreateIndex: index, ModifyIndex: index}}
			for _, ref := range []string{"p3", "ops"} {
				if got, err := f.Project(ref); err != nil || !reflect.DeepEqual(got, want) {
					t.Errorf("Project(%q) = %+v, %v; want %+v", ref, got, err, want)
				}
			}
		}},
		{name: "255 characters", cmd: project("p3", name255)},
		{name: "name a second domain would allow", cmd: &fsm.CreateProject{Project: fsm.Project{ID: "p3", Name: "x", DomainID: "other"}}, want: fsm.ErrNotFound},
		{name: "empty ID", cmd: project("", "ops"), want: fsm.ErrInvalid},
		{name: "empty name", cmd: project("p3", ""), want: fsm.ErrInvalid},
		{name: "256 characters", cmd: project("p3", name256), want: fsm.ErrInvalid},
		{name: "newline", cmd: project("p3", "a\nb"), want: fsm.ErrInvalid},
		{name: "DEL", cmd: project("p3", "a\x7f"), want: fsm.ErrInvalid},
		{name: "C1 control", cmd: project("p3", "a\u0085"), want: fsm.ErrInvalid},
		{name: "duplicate name", cmd: project("p3", "web"), want: fsm.ErrConflict},
		{name: "duplicate ID", cmd: project("p1", "ops"), want: fsm.ErrConflict},
		{name: "names are case-sensitive", cmd: project("p3", "Web")},
	})
}

func TestIdentityNeedsBootstrap(t *testing.T) {
	for _, c := range []fsm.Command{
		&fsm.CreateProject{Project: fsm.Project{ID: "p1", Name: "web"}},
		&fsm.CreateUser{User: fsm.User{ID: "u1", Name: "alice"}},
		&fsm.CreateRole{Role: fsm.Role{ID: "r1", Name: "admin"}},
	} {
		t.Run(c.Type().String(), func(t *testing.T) {
			f := fsm.New()
			mustApply(t, f, 1, &fsm.Bootstrap{ClusterID: "c1", Time: t0}) // an old bootstrap: no identity
			before := snapshotBytes(t, f)
			assertBusinessError(t, applyErr(t, f, 2, c), fsm.ErrNotFound)
			assertOnlyIndexChanged(t, before, snapshotBytes(t, f), 2)
		})
	}
}

func TestUpdateProject(t *testing.T) {
	runIdentityCases(t, []identityCase{
		{name: "rename", cmd: &fsm.UpdateProject{ID: "p1", Name: ptr("www")}, check: func(t *testing.T, f *fsm.FSM, index uint64) {
			if p, err := f.Project("www"); err != nil || p.ID != "p1" || p.ModifyIndex != index || p.CreateIndex != 2 {
				t.Errorf("Project(www) = %+v, %v", p, err)
			}
			if _, err := f.Project("web"); !errors.Is(err, fsm.ErrNotFound) {
				t.Errorf("old name still found: %v", err)
			}
		}},
		{name: "disable and describe", cmd: &fsm.UpdateProject{ID: "p1", Enabled: ptr(false), Description: ptr("off")},
			check: func(t *testing.T, f *fsm.FSM, _ uint64) {
				if p, _ := f.Project("p1"); p.Enabled || p.Description != "off" || p.Name != "web" {
					t.Errorf("Project(p1) = %+v", p)
				}
			}},
		{name: "same name", cmd: &fsm.UpdateProject{ID: "p1", Name: ptr("web")}},
		{name: "unknown", cmd: &fsm.UpdateProject{ID: "nope", Enabled: ptr(false)}, want: fsm.ErrNotFound},
		{name: "taken name", cmd: &fsm.UpdateProject{ID: "p1", Name: ptr("db"), Enabled: ptr(false)}, want: fsm.ErrConflict},
		{name: "bad name", cmd: &fsm.UpdateProject{ID: "p1", Name: ptr("a\tb"), Enabled: ptr(false)}, want: fsm.ErrInvalid},
		{name: "empty name", cmd: &fsm.UpdateProject{ID: "p1", Name: ptr("")}, want: fsm.ErrInvalid},
	})
}

func TestDeleteProject(t *testing.T) {
	runIdentityCases(t, []identityCase{
		{name: "ok, with its assignments", cmd: &fsm.DeleteProject{ID: "p1"}, check: func(t *testing.T, f *fsm.FSM, index uint64) {
			if _, err := f.Project("web"); !errors.Is(err, fsm.ErrNotFound) {
				t.Errorf("Project(web) after delete: %v", err)
			}
			if got, want := f.RoleAssignments("u1", ""), []fsm.RoleAssignment{assign("p2", "u1", "r-reader")}; !reflect.DeepEqual(got, want) {
				t.Errorf("RoleAssignments(u1) = %+v, want %+v", got, want)
			}
			// The name is free again.
			mustApply(t, f, index+1, &fsm.CreateProject{Project: fsm.Project{ID: "p9", Name: "web"}})
		}},
		{name: "unknown", cmd: &fsm.DeleteProject{ID: "nope"}, want: fsm.ErrNotFound},
	})
}

func TestCreateUser(t *testing.T) {
	user := func(id, name, hash, project string) *fsm.CreateUser {
		return &fsm.CreateUser{User: fsm.User{ID: id, Name: name, Enabled: true, DefaultProjectID: project, PasswordHash: hash, Created: t1, Updated: t1}}
	}
	runIdentityCases(t, []identityCase{
		{name: "ok", cmd: user("u3", "carol", hashOther, "p2"), check: func(t *testing.T, f *fsm.FSM, index uint64) {
			want := fsm.User{ID: "u3", Name: "carol", DomainID: fsm.DefaultDomainID, Enabled: true, DefaultProjectID: "p2",
				PasswordHash: hashOther, Created: t1, Updated: t1, Indexes: fsm.Indexes{CreateIndex: index, ModifyIndex: index}}
			for _, ref := range []string{"u3", "carol"} {
				if got, err := f.User(ref); err != nil || !reflect.DeepEqual(got, want) {
					t.Errorf("User(%q) = %+v, %v; want %+v", ref, got, err, want)
				}
			}
		}},
		{name: "no password", cmd: user("u3", "carol", "", "")},
		{name: "lowest cost", cmd: user("u3", "carol", hashCost4, "")},
		{name: "$2b$ and $2y$", cmd: user("u3", "carol", "$2y$"+hashOther[4:], "")},
		{name: "clear password", cmd: user("u3", "carol", "secret", ""), want: fsm.ErrInvalid},
		{name: "truncated hash", cmd: user("u3", "carol", hashOther[:59], ""), want: fsm.ErrInvalid},
		{name: "cost too low", cmd: user("u3", "carol", "$2a$03$"+hashOther[7:], ""), want: fsm.ErrInvalid},
		{name: "cost too high", cmd: user("u3", "carol", "$2a$32$"+hashOther[7:], ""), want: fsm.ErrInvalid},
		{name: "unknown version", cmd: user("u3", "carol", "$2c$"+hashOther[4:], ""), want: fsm.ErrInvalid},
		{name: "bad character", cmd: user("u3", "carol", hashOther[:59]+"!", ""), want: fsm.ErrInvalid},
		{name: "empty name", cmd: user("u3", "", "", ""), want: fsm.ErrInvalid},
		{name: "control character", cmd: user("u3", "car\x00ol", "", ""), want: fsm.ErrInvalid},
		{name: "empty ID", cmd: user("", "carol", "", ""), want: fsm.ErrInvalid},
		{name: "unknown default project", cmd: user("u3", "carol", "", "nope"), want: fsm.ErrNotFound},
		{name: "duplicate name", cmd: user("u3", "alice", "", ""), want: fsm.ErrConflict},
		{name: "duplicate ID", cmd: user("u1", "carol", "", ""), want: fsm.ErrConflict},
	})
}

func TestUpdateUser(t *testing.T) {
	validAfter := func(want fsm.User) func(t *testing.T, f *fsm.FSM, _ uint64) {
		return func(t *testing.T, f *fsm.FSM, _ uint64) {
			got, err := f.User("u1")
			if err != nil {
				t.Fatal(err)
			}
			wantTime(t, "TokensValidAfter", got.TokensValidAfter, want.TokensValidAfter)
			wantTime(t, "Updated", got.Updated, t2)
			if got.PasswordHash != want.PasswordHash || got.Enabled != want.Enabled || got.Name != want.Name || got.DefaultProjectID != want.DefaultProjectID {
				t.Errorf("User(u1) = %+v, want %+v", got, want)
			}
		}
	}
	alice := fsm.User{Name: "alice", Enabled: true, DefaultProjectID: "p1", PasswordHash: hashSecret}
	with := func(change func(*fsm.User)) fsm.User { u := alice; change(&u); return u }
	runIdentityCases(t, []identityCase{
		{name: "new password kills tokens", cmd: &fsm.UpdateUser{ID: "u1", PasswordHash: ptr(hashOther), Time: t2},
			check: validAfter(with(func(u *fsm.User) { u.PasswordHash, u.TokensValidAfter = hashOther, t2 }))},
		{name: "disable kills tokens", cmd: &fsm.UpdateUser{ID: "u1", Enabled: ptr(false), Time: t2},
			check: validAfter(with(func(u *fsm.User) { u.Enabled, u.TokensValidAfter = false, t2 }))},
		{name: "enable keeps tokens", cmd: &fsm.UpdateUser{ID: "u1", Enabled: ptr(true), Time: t2},
			check: validAfter(alice)},
		{name: "rename and clear default project", cmd: &fsm.UpdateUser{ID: "u1", Name: ptr("alicia"), DefaultProjectID: ptr(""), Time: t2},
			check: func(t *testing.T, f *fsm.FSM, _ uint64) {
				validAfter(with(func(u *fsm.User) { u.Name, u.DefaultProjectID = "alicia", "" }))(t, f, 0)
				if _, err := f.User("alice"); !errors.Is(err, fsm.ErrNotFound) {
					t.Errorf("old name still found: %v", err)
				}
			}},
		{name: "remove password", cmd: &fsm.UpdateUser{ID: "u1", PasswordHash: ptr(""), Time: t2},
			check: validAfter(with(func(u *fsm.User) { u.PasswordHash, u.TokensValidAfter = "", t2 }))},
		{name: "default project", cmd: &fsm.UpdateUser{ID: "u1", DefaultProjectID: ptr("p2"), Time: t2},
			check: validAfter(with(func(u *fsm.User) { u.DefaultProjectID = "p2" }))},
		{name: "unknown", cmd: &fsm.UpdateUser{ID: "nope", Enabled: ptr(false), Time: t2}, want: fsm.ErrNotFound},
		{name: "no time", cmd: &fsm.UpdateUser{ID: "u1", Enabled: ptr(false)}, want: fsm.ErrInvalid},
		{name: "bad hash", cmd: &fsm.UpdateUser{ID: "u1", PasswordHash: ptr("secret"), Enabled: ptr(false), Time: t2}, want: fsm.ErrInvalid},
		{name: "taken name", cmd: &fsm.UpdateUser{ID: "u1", Name: ptr("bob"), Enabled: ptr(false), Time: t2}, want: fsm.ErrConflict},
		{name: "bad name", cmd: &fsm.UpdateUser{ID: "u1", Name: ptr(name256), Enabled: ptr(false), Time: t2}, want: fsm.ErrInvalid},
		{name: "unknown default project", cmd: &fsm.UpdateUser{ID: "u1", DefaultProjectID: ptr("nope"), Enabled: ptr(false), Time: t2}, want: fsm.ErrNotFound},
	})
}

// TokensValidAfter never moves back: a proposer with a slow clock cannot
// revive tokens an earlier change killed.
func TestTokensValidAfterNeverMovesBack(t *testing.T) {
	f, index := identityWorld(t)
	index = mustApply(t, f, index,
		&fsm.UpdateUser{ID: "u1", PasswordHash: ptr(hashOther), Time: t2},
		&fsm.UpdateUser{ID: "u1", PasswordHash: ptr(hashSecret), Time: t1},
	)
	u, _ := f.User("u1")
	wantTime(t, "TokensValidAfter", u.TokensValidAfter, t2)
	if u.PasswordHash != hashSecret {
		t.Errorf("PasswordHash = %q, want the later command's", u.PasswordHash)
	}
	// Disabling a disabled user does not move it either.
	mustApply(t, f, index,
		&fsm.UpdateUser{ID: "u2", Enabled: ptr(false), Time: t1},
		&fsm.UpdateUser{ID: "u2", Enabled: ptr(false), Time: t2},
	)
	u, _ = f.User("u2")
	wantTime(t, "TokensValidAfter of u2", u.TokensValidAfter, t1)
}

func TestDeleteUser(t *testing.T) {
	runIdentityCases(t, []identityCase{
		{name: "ok, with its assignments", cmd: &fsm.DeleteUser{ID: "u1"}, check: func(t *testing.T, f *fsm.FSM, _ uint64) {
			if _, err := f.User("alice"); !errors.Is(err, fsm.ErrNotFound) {
				t.Errorf("User(alice) after delete: %v", err)
			}
			if got, want := f.RoleAssignments("", ""), []fsm.RoleAssignment{assign("p-admin", "u-admin", "r-admin")}; !reflect.DeepEqual(got, want) {
				t.Errorf("RoleAssignments() = %+v, want %+v", got, want)
			}
		}},
		{name: "unknown", cmd: &fsm.DeleteUser{ID: "nope"}, want: fsm.ErrNotFound},
	})
}
