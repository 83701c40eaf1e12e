package fsm_test

import (
	"bytes"
	"time"

	"github.com/shoal-project/shoal/fsm"
)

// bootstrapIdentity is, most of the time, the identity part of a bootstrap;
// now and then it is missing (an old proposer) or invalid.
func (g *logGen) bootstrapIdentity() *fsm.BootstrapIdentity {
	if g.chance(5) {
		return nil
	}
	b := &fsm.BootstrapIdentity{AdminProjectID: "p-admin", AdminUserID: "u-admin", AdminPasswordHash: hashSecret,
		AdminRoleID: "r-admin", MemberRoleID: "r-member", ReaderRoleID: "r-reader"}
	if g.chance(10) {
		b.AdminPasswordHash = "secret" // invalid
	}
	return b
}

// identity returns one identity command. IDs and names come from small
// pools, half the time known to the model, so that conflicts, unknown
// objects, cascades and repeated grants all happen.
func (g *logGen) identity(at time.Time) fsm.Command {
	projects := g.model.Projects()
	users := g.model.Users()
	roles := g.model.Roles()
	project := func() string { return pickKnown(g, "p", 5, projects, func(p fsm.Project) string { return p.ID }) }
	user := func() string { return pickKnown(g, "u", 5, users, func(u fsm.User) string { return u.ID }) }
	role := func() string { return pickKnown(g, "r", 3, roles, func(r fsm.Role) string { return r.ID }) }
	name := func(prefix string) string {
		if g.chance(15) {
			return []string{"", "bad\nname"}[g.rng.IntN(2)] // invalid
		}
		return g.pick(prefix, 5)
	}
	hash := func() string {
		return []string{hashSecret, hashOther, hashSecret, "", "secret"}[g.rng.IntN(5)] // "secret" is invalid
	}
	switch g.rng.IntN(13) {
	case 0:
		return &fsm.CreateProject{Project: fsm.Project{ID: g.pick("p", 5), Name: name("proj-"), Enabled: !g.chance(4), Created: at}}
	case 1:
		c := &fsm.UpdateProject{ID: project()}
		if g.chance(2) {
			c.Name = ptr(name("proj-"))
		}
		if g.chance(2) {
			c.Enabled = ptr(g.chance(2))
		}
		return c
	case 2:
		return &fsm.DeleteProject{ID: project()}
	case 3:
		u := fsm.User{ID: g.pick("u", 5), Name: name("user-"), Enabled: !g.chance(4), PasswordHash: hash(), Created: at, Updated: at}
		if g.chance(3) {
			u.DefaultProjectID = project()
		}
		return &fsm.CreateUser{User: u}
	case 4:
		c := &fsm.UpdateUser{ID: user(), Time: at}
		if g.chance(3) {
			c.Name = ptr(name("user-"))
		}
		if g.chance(2) {
			c.Enabled = ptr(g.chance(2))
		}
		if g.chance(2) {
			c.PasswordHash = ptr(hash())
		}
		if g.chance(4) {
			c.DefaultProjectID = ptr(project())
		}
		if g.chance(15) {
			c.Time = time.Time{} // invalid
		}
		return c
	case 5:
		return &fsm.DeleteUser{ID: user()}
	case 6:
		return &fsm.CreateRole{Role: fsm.Role{ID: g.pick("r", 3), Name: name("role-")}}
	case 7:
		return &fsm.DeleteRole{ID: role()}
	case 8, 9:
		grant := g.chance(2)
		a := fsm.RoleAssignment{ProjectID: project(), UserID: user(), RoleID: role()}
		if len(projects) > 0 && len(users) > 0 && len(roles) > 0 && !g.chance(4) {
			a = fsm.RoleAssignment{ProjectID: projects[g.rng.IntN(len(projects))].ID, UserID: users[g.rng.IntN(len(users))].ID,
				RoleID: roles[g.rng.IntN(len(roles))].ID}
		}
		// Most revokes, and some grants (no-ops), name a role held now.
		if held := g.model.RoleAssignments("", ""); len(held) > 0 && (!grant && !g.chance(5) || g.chance(4)) {
			a = held[g.rng.IntN(len(held))]
		}
		if grant {
			return &fsm.GrantRole{RoleAssignment: a}
		}
		return &fsm.RevokeRole{RoleAssignment: a}
	case 10:
		host := g.pick("h", 3)
		k := fsm.SigningKey{ID: g.pick("k", 4), Host: host, PublicKey: bytes.Repeat([]byte(host[1:]), 32), Created: at}
		if g.chance(8) {
			k.PublicKey = k.PublicKey[:16] // invalid
		}
		return &fsm.PublishSigningKey{Key: k}
	case 11:
		return &fsm.RetireSigningKey{ID: g.pick("k", 4), Time: at}
	default:
		c := &fsm.RevokeToken{AuditID: g.pick("a", 8), ExpiresAt: at.Add(time.Duration(g.rng.IntN(60)-5) * time.Second), Time: at}
		if g.chance(15) {
			c.AuditID = "" // invalid
		}
		return c
	}
}
