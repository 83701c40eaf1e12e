// Package identitytest is the identity every in-process test cluster is
// bootstrapped with: fixed IDs, one fixed signing key and the bootstrap
// admin's token, so tests of the API, its client and the command line run
// authenticated, as everything does, without a login per test.
package identitytest

import (
	"crypto/ed25519"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/shoal-project/shoal/api/identity"
	"github.com/shoal-project/shoal/fsm"
)

// The bootstrap's IDs.
const (
	AdminProjectID = "a0000000000000000000000000000001"
	AdminUserID    = "a0000000000000000000000000000002"
	AdminRoleID    = "f0000000000000000000000000000001"
	MemberRoleID   = "f0000000000000000000000000000002"
	ReaderRoleID   = "f0000000000000000000000000000003"
	// Password is every test user's password.
	Password = "correct horse battery staple"
	// Node is the host the test key is published for.
	Node = "node1"
)

// Signer is the test key: every test server signs and verifies with it.
var Signer = identity.NewSigner(ed25519.NewKeyFromSeed(make([]byte, ed25519.SeedSize)))

var (
	hashOnce sync.Once
	hash     string
	audits   atomic.Uint64

	// AdminToken is the bootstrap admin's token on project admin, valid for
	// a day from the test binary's start.
	AdminToken = Issue(AdminUserID, AdminProjectID)
)

// PasswordHash is Password's bcrypt hash, made once: bcrypt is slow on purpose.
func PasswordHash() string {
	hashOnce.Do(func() {
		h, err := identity.HashPassword(Password)
		if err != nil {
			panic(err)
		}
		hash = h
	})
	return hash
}

// Issue signs a token for user on project, valid for a day from now.
func Issue(userID, projectID string) string {
	now := time.Now().UTC()
	token, err := Signer.Issue(identity.Claims{UserID: userID, ProjectID: projectID, IssuedAt: now,
		ExpiresAt: now.Add(24 * time.Hour), AuditID: fmt.Sprintf("%032x", audits.Add(1)), Methods: []string{"password"}})
	if err != nil {
		panic(err)
	}
	return token
}

// Bootstrap is a cluster's first command with Keystone's bootstrap in it,
// followed by the publication of the test key.
func Bootstrap(clusterID string) []fsm.Command {
	at := time.Unix(0, 0).UTC()
	return []fsm.Command{
		&fsm.Bootstrap{ClusterID: clusterID, Time: at, Flavors: fsm.DefaultFlavors(), NetworkCIDR: fsm.DefaultNetworkCIDR,
			Identity: &fsm.BootstrapIdentity{AdminProjectID: AdminProjectID, AdminUserID: AdminUserID,
				AdminPasswordHash: PasswordHash(), AdminRoleID: AdminRoleID, MemberRoleID: MemberRoleID, ReaderRoleID: ReaderRoleID}},
		PublishKey(),
	}
}

// PublishKey publishes the test key for Node.
func PublishKey() fsm.Command {
	return &fsm.PublishSigningKey{Key: fsm.SigningKey{ID: Signer.KeyID(), Host: Node, PublicKey: Signer.PublicKey(),
		Created: time.Unix(0, 0).UTC()}}
}

// RoleIDs names the bootstrap roles' IDs by role name.
var RoleIDs = map[string]string{fsm.RoleAdmin: AdminRoleID, fsm.RoleMember: MemberRoleID, fsm.RoleReader: ReaderRoleID}

// Tenant is a project with one user holding one role on it, and its token.
type Tenant struct {
	ProjectID, UserID, UserName, Token string
}

// Applier commits commands; fsmtest.Applier's MustApply fits.
type Applier interface {
	Index() uint64
	Project(ref string) (fsm.Project, error)
}

// TenantCommands are the commands that make user name-role holding role on
// project name (created when absent in state), and the tenant they make.
// IDs derive from the state's index, so they are fresh in it.
func TenantCommands(state Applier, name, role string) ([]fsm.Command, Tenant) {
	var cmds []fsm.Command
	p, err := state.Project(name)
	if err != nil {
		p = fsm.Project{ID: fmt.Sprintf("%032x", state.Index()+1), Name: name, DomainID: fsm.DefaultDomainID, Enabled: true}
		cmds = append(cmds, &fsm.CreateProject{Project: p})
	}
	u := fsm.User{ID: fmt.Sprintf("%031x%d", state.Index()+1, len(role)%10), Name: name + "-" + role, DomainID: fsm.DefaultDomainID,
		Enabled: true, DefaultProjectID: p.ID, PasswordHash: PasswordHash()}
	cmds = append(cmds, &fsm.CreateUser{User: u},
		&fsm.GrantRole{RoleAssignment: fsm.RoleAssignment{ProjectID: p.ID, UserID: u.ID, RoleID: RoleIDs[role]}})
	return cmds, Tenant{ProjectID: p.ID, UserID: u.ID, UserName: u.Name, Token: Issue(u.ID, p.ID)}
}
