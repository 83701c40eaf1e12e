package fsm

import (
	"fmt"
	"time"
)

// Bootstrap stamps a new cluster's identity and seeds its default objects.
// Identity is optional: an entry written before it existed applies as it
// always did, and such a cluster simply has no users.
type Bootstrap struct {
	ClusterID   string             `json:"cluster_id"`
	Time        time.Time          `json:"time"`
	Flavors     []Flavor           `json:"flavors"`
	NetworkCIDR string             `json:"network_cidr,omitempty"`
	Identity    *BootstrapIdentity `json:"identity,omitempty"`
}

// BootstrapIdentity seeds Keystone's bootstrap: the default domain, the roles
// admin, member and reader, project admin and user admin holding the admin
// role on it. IDs and the bcrypt hash are made by the proposing node.
type BootstrapIdentity struct {
	AdminProjectID    string `json:"admin_project_id"`
	AdminUserID       string `json:"admin_user_id"`
	AdminPasswordHash string `json:"admin_password_hash"`
	AdminRoleID       string `json:"admin_role_id"`
	MemberRoleID      string `json:"member_role_id"`
	ReaderRoleID      string `json:"reader_role_id"`
}

func (*Bootstrap) Type() Type { return TypeBootstrap }

func applyBootstrap(s *State, index uint64, c Command) error {
	cmd := c.(*Bootstrap)
	if s.ClusterID != "" {
		return fmt.Errorf("%w: cluster %s is already bootstrapped", ErrConflict, s.ClusterID)
	}
	if cmd.ClusterID == "" {
		return fmt.Errorf("%w: bootstrap needs a cluster ID", ErrInvalid)
	}
	for _, f := range cmd.Flavors {
		if err := validFlavor(f); err != nil {
			return err
		}
	}
	if cmd.Identity != nil {
		if err := cmd.Identity.valid(); err != nil {
			return err
		}
	}
	if cmd.NetworkCIDR != "" {
		n, err := NewNetwork("default", cmd.NetworkCIDR)
		if err != nil {
			return err
		}
		s.Network = n
	}
	s.ClusterID = cmd.ClusterID
	for _, f := range cmd.Flavors {
		if _, ok := s.Flavors[f.ID]; ok || s.flavorByName(f.Name) != nil {
			continue
		}
		f.Created = cmd.Time
		s.putFlavor(f, index)
	}
	if cmd.Identity != nil {
		s.seedIdentity(*cmd.Identity, cmd.Time, index)
	}
	return nil
}

func (b BootstrapIdentity) valid() error {
	for _, id := range []struct{ what, id string }{
		{"admin project ID", b.AdminProjectID}, {"admin user ID", b.AdminUserID},
		{"admin role ID", b.AdminRoleID}, {"member role ID", b.MemberRoleID}, {"reader role ID", b.ReaderRoleID},
	} {
		if err := validName(id.what, id.id); err != nil {
			return err
		}
	}
	if b.AdminRoleID == b.MemberRoleID || b.AdminRoleID == b.ReaderRoleID || b.MemberRoleID == b.ReaderRoleID {
		return fmt.Errorf("%w: the bootstrap roles need three different IDs", ErrInvalid)
	}
	return validPasswordHash(b.AdminPasswordHash)
}

// seedIdentity makes what Keystone's bootstrap makes. Every other identity
// object needs the default domain, so before bootstrap there is none to
// clash with (signing keys and revocations aside, which it does not touch).
func (s *State) seedIdentity(b BootstrapIdentity, at time.Time, index uint64) {
	d := Domain{ID: DefaultDomainID, Name: "Default", Enabled: true, Created: at}
	d.CreateIndex, d.ModifyIndex = index, index
	s.Domains[d.ID] = &d
	for _, r := range []Role{{ID: b.AdminRoleID, Name: RoleAdmin}, {ID: b.MemberRoleID, Name: RoleMember}, {ID: b.ReaderRoleID, Name: RoleReader}} {
		s.putRole(r, index)
	}
	s.putProject(Project{ID: b.AdminProjectID, Name: "admin", DomainID: DefaultDomainID, Enabled: true, Created: at,
		Description: "Bootstrap project for initializing the cloud."}, index)
	s.putUser(User{ID: b.AdminUserID, Name: "admin", DomainID: DefaultDomainID, Enabled: true,
		DefaultProjectID: b.AdminProjectID, PasswordHash: b.AdminPasswordHash, Created: at, Updated: at}, index)
	s.grant(RoleAssignment{ProjectID: b.AdminProjectID, UserID: b.AdminUserID, RoleID: b.AdminRoleID})
}
