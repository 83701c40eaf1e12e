package fsm_test

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/shoal-project/shoal/fsm"
)

// Real bcrypt hashes (golang.org/x/crypto/bcrypt, of "secret", "other" and,
// at the lowest cost, "x"): the fsm checks their shape only.
const (
	hashSecret = "$2a$10$ijn/xMci5cifYSaNFaKn6.w8NmJiMsRzGY4ZFbWAISiupvTZKDqu."
	hashOther  = "$2a$10$.mX1HjPsViumi8cV/2slyeg1cZNmndRGCovvnZZ/F92F7rMoEuJEa"
	hashCost4  = "$2a$04$LFvDh1VM4/L72TdHc26cUu8zk0g6v8bKSW6b6q.YMS3WZvSbXq6y6"
)

// bootstrapIdentity is what a node proposes for a new cluster with identity.
func bootstrapIdentity() *fsm.Bootstrap {
	return &fsm.Bootstrap{ClusterID: "c1", Time: t0, Flavors: fsm.DefaultFlavors(), Identity: &fsm.BootstrapIdentity{
		AdminProjectID: "p-admin", AdminUserID: "u-admin", AdminPasswordHash: hashSecret,
		AdminRoleID: "r-admin", MemberRoleID: "r-member", ReaderRoleID: "r-reader",
	}}
}

// publicKey is a made-up Ed25519 public key (32 bytes) that differs by seed.
func publicKey(seed byte) []byte { return bytes.Repeat([]byte{seed}, 32) }

func ptr[T any](v T) *T { return &v }

// identityWorld is a bootstrapped FSM with identity and a little of each
// object; it returns the next free index.
//
//	projects: p-admin "admin", p1 "web", p2 "db"
//	users:    u-admin "admin", u1 "alice" (default p1, password), u2 "bob"
//	roles:    r-admin, r-member, r-reader
//	assigned: u-admin admin on p-admin, u1 member on p1, u1 reader on p2
//	key k1 of h1; token a1 revoked until t2
func identityWorld(t testing.TB) (*fsm.FSM, uint64) {
	t.Helper()
	f := fsm.New()
	next := mustApply(t, f, 1,
		bootstrapIdentity(),
		&fsm.CreateProject{Project: fsm.Project{ID: "p1", Name: "web", Enabled: true, Created: t0}},
		&fsm.CreateProject{Project: fsm.Project{ID: "p2", Name: "db", DomainID: fsm.DefaultDomainID, Enabled: true, Created: t0}},
		&fsm.CreateUser{User: fsm.User{ID: "u1", Name: "alice", Enabled: true, DefaultProjectID: "p1", PasswordHash: hashSecret, Created: t0, Updated: t0}},
		&fsm.CreateUser{User: fsm.User{ID: "u2", Name: "bob", Enabled: true, Created: t0, Updated: t0}},
		&fsm.GrantRole{RoleAssignment: fsm.RoleAssignment{ProjectID: "p1", UserID: "u1", RoleID: "r-member"}},
		&fsm.GrantRole{RoleAssignment: fsm.RoleAssignment{ProjectID: "p2", UserID: "u1", RoleID: "r-reader"}},
		&fsm.PublishSigningKey{Key: fsm.SigningKey{ID: "k1", Host: "h1", PublicKey: publicKey(1), Created: t0}},
		&fsm.RevokeToken{AuditID: "a1", ExpiresAt: t2, Time: t0},
	)
	return f, next
}

func assign(project, user, role string) fsm.RoleAssignment {
	return fsm.RoleAssignment{ProjectID: project, UserID: user, RoleID: role}
}

func roleNames(roles []fsm.Role) string {
	var names []string
	for _, r := range roles {
		names = append(names, r.Name)
	}
	return strings.Join(names, ",")
}

// identityCase is one row of a command table: cmd is applied to a fresh
// identityWorld; on want == nil check sees the result, otherwise the state
// must be unchanged but for the index. noop marks a success that must
// change nothing either.
type identityCase struct {
	name  string
	cmd   fsm.Command
	want  error
	noop  bool
	check func(t *testing.T, f *fsm.FSM, index uint64)
}

func runIdentityCases(t *testing.T, cases []identityCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f, index := identityWorld(t)
			before := snapshotBytes(t, f)
			err := applyErr(t, f, index, tc.cmd)
			if tc.want != nil {
				assertBusinessError(t, err, tc.want)
			} else if err != nil {
				t.Fatalf("apply: %v", err)
			}
			if tc.want != nil || tc.noop {
				assertOnlyIndexChanged(t, before, snapshotBytes(t, f), index)
			}
			if tc.check != nil {
				tc.check(t, f, index)
			}
		})
	}
}

func wantTime(t *testing.T, what string, got, want time.Time) {
	t.Helper()
	if !got.Equal(want) {
		t.Errorf("%s = %v, want %v", what, got, want)
	}
}
