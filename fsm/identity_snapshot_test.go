package fsm_test

import (
	"bytes"
	"reflect"
	"testing"

	"github.com/shoal-project/shoal/fsm"
)

// A Bootstrap entry written before identity existed applies exactly as it
// did: the snapshot after it is byte for byte what the version before
// identity wrote (taken from that version), and there is no identity.
func TestOldBootstrapEntry(t *testing.T) {
	const entry = "\x02{\"cluster_id\":\"c1\",\"time\":\"2026-03-01T12:00:00Z\",\"flavors\":[{\"id\":\"1\",\"name\":\"m1.tiny\",\"vcpus\":1,\"ram\":512,\"disk\":1,\"created\":\"0001-01-01T00:00:00Z\",\"create_index\":0,\"modify_index\":0}],\"network_cidr\":\"10.0.0.0/29\"}"
	const want = "{\"cluster_id\":\"c1\",\"index\":1,\"hosts\":{},\"flavors\":{\"1\":{\"id\":\"1\",\"name\":\"m1.tiny\",\"vcpus\":1,\"ram\":512,\"disk\":1,\"created\":\"2026-03-01T12:00:00Z\",\"create_index\":1,\"modify_index\":1}},\"images\":{},\"server_groups\":{},\"instances\":{},\"network\":{\"name\":\"default\",\"cidr\":\"10.0.0.0/29\",\"gateway\":\"10.0.0.1\",\"allocated\":{},\"cursor\":2}}"
	f := fsm.New()
	if res := f.ApplyEntry(1, []byte(entry)); res != nil {
		t.Fatalf("old bootstrap entry: %v", res)
	}
	if got := snapshotBytes(t, f); string(got) != want {
		t.Errorf("snapshot after an old bootstrap entry:\ngot  %s\nwant %s", got, want)
	}
	if _, err := f.Domain(fsm.DefaultDomainID); err == nil {
		t.Error("an old bootstrap made the default domain")
	}
	if n := len(f.Projects()) + len(f.Users()) + len(f.Roles()); n != 0 {
		t.Errorf("an old bootstrap made %d identity objects", n)
	}
}

func TestBootstrapIdentity(t *testing.T) {
	f := fsm.New()
	mustApply(t, f, 1, bootstrapIdentity())

	d, err := f.Domain(fsm.DefaultDomainID)
	if want := (fsm.Domain{ID: "default", Name: "Default", Enabled: true, Created: t0, Indexes: fsm.Indexes{CreateIndex: 1, ModifyIndex: 1}}); err != nil || d != want {
		t.Errorf("Domain(default) = %+v, %v; want %+v", d, err, want)
	}
	if got := roleNames(f.Roles()); got != "admin,member,reader" {
		t.Errorf("Roles() = %s, want admin,member,reader", got)
	}
	p, err := f.Project("admin")
	if err != nil || p.ID != "p-admin" || !p.Enabled || p.DomainID != fsm.DefaultDomainID {
		t.Errorf("Project(admin) = %+v, %v", p, err)
	}
	u, err := f.User("admin")
	if err != nil || u.ID != "u-admin" || !u.Enabled || u.PasswordHash != hashSecret || u.DefaultProjectID != "p-admin" || !u.Created.Equal(t0) {
		t.Errorf("User(admin) = %+v, %v", u, err)
	}
	if got := roleNames(f.RolesOf("u-admin", "p-admin")); got != "admin" {
		t.Errorf("RolesOf(admin, admin) = %s, want admin", got)
	}
	if got := len(f.Flavors()); got != 5 {
		t.Errorf("%d flavors, want the 5 defaults", got)
	}
}

func TestBootstrapIdentityRejects(t *testing.T) {
	for _, tc := range []struct {
		name   string
		change func(*fsm.BootstrapIdentity)
	}{
		{"clear password", func(b *fsm.BootstrapIdentity) { b.AdminPasswordHash = "secret" }},
		{"no password", func(b *fsm.BootstrapIdentity) { b.AdminPasswordHash = "" }},
		{"no project ID", func(b *fsm.BootstrapIdentity) { b.AdminProjectID = "" }},
		{"no user ID", func(b *fsm.BootstrapIdentity) { b.AdminUserID = "" }},
		{"control character in a role ID", func(b *fsm.BootstrapIdentity) { b.ReaderRoleID = "r\n" }},
		{"one role ID twice", func(b *fsm.BootstrapIdentity) { b.MemberRoleID = b.AdminRoleID }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := fsm.New()
			before := snapshotBytes(t, f)
			c := bootstrapIdentity()
			c.NetworkCIDR = "10.0.0.0/24"
			tc.change(c.Identity)
			assertBusinessError(t, applyErr(t, f, 1, c), fsm.ErrInvalid)
			assertOnlyIndexChanged(t, before, snapshotBytes(t, f), 1)
		})
	}
}

// The identity tables and their name indexes survive a snapshot, and both
// replicas go on alike.
func TestSnapshotRestoreIdentity(t *testing.T) {
	src, next := identityWorld(t)
	next = mustApply(t, src, next,
		&fsm.UpdateUser{ID: "u2", Enabled: ptr(false), Time: t1},
		&fsm.RetireSigningKey{ID: "k1", Time: t1},
		&fsm.UpdateProject{ID: "p2", Name: ptr("database")},
	)
	snap := snapshotBytes(t, src)
	dst := fsm.New()
	restore(t, dst, snap)

	assertSameReads(t, src, dst)
	for _, ref := range []string{"p1", "web", "database", "admin"} {
		a, errA := src.Project(ref)
		b, errB := dst.Project(ref)
		if errA != nil || errB != nil || a != b {
			t.Errorf("Project(%q): %+v, %v vs %+v, %v", ref, a, errA, b, errB)
		}
	}
	for _, ref := range []string{"u1", "alice", "bob", "admin"} {
		a, errA := src.User(ref)
		b, errB := dst.User(ref)
		if errA != nil || errB != nil || a != b {
			t.Errorf("User(%q): %+v, %v vs %+v, %v", ref, a, errA, b, errB)
		}
	}
	if !dst.TokenRevoked("a1") {
		t.Error("revocation lost in the snapshot")
	}
	if again := snapshotBytes(t, dst); !bytes.Equal(again, snap) {
		t.Errorf("re-snapshot differs:\nfirst  %s\nsecond %s", snap, again)
	}
	for _, f := range []*fsm.FSM{src, dst} {
		assertBusinessError(t, applyErr(t, f, next, &fsm.CreateProject{Project: fsm.Project{ID: "p9", Name: "database"}}), fsm.ErrConflict)
		assertBusinessError(t, applyErr(t, f, next+1, &fsm.CreateUser{User: fsm.User{ID: "u9", Name: "alice"}}), fsm.ErrConflict)
		assertBusinessError(t, applyErr(t, f, next+2, &fsm.CreateRole{Role: fsm.Role{ID: "r9", Name: "reader"}}), fsm.ErrConflict)
		mustApply(t, f, next+3, &fsm.CreateProject{Project: fsm.Project{ID: "p9", Name: "db"}})
	}
	sameSnapshot(t, "replicas diverged after restore", src, dst)
	if got := dst.Users(); !reflect.DeepEqual(got, src.Users()) {
		t.Errorf("Users() differ after restore: %+v", got)
	}
}
