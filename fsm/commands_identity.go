package fsm

import (
	"fmt"
	"slices"
	"time"
)

// CreateProject adds a project; ID and Created are stamped by the proposing
// node. An empty DomainID means the default domain.
type CreateProject struct {
	Project Project `json:"project"`
}

// UpdateProject changes the fields that are set (Keystone's PATCH).
type UpdateProject struct {
	ID          string  `json:"id"`
	Name        *string `json:"name,omitempty"`
	Description *string `json:"description,omitempty"`
	Enabled     *bool   `json:"enabled,omitempty"`
}

// DeleteProject removes a project and every role assignment on it, as
// Keystone does. What the project owns (servers, groups, images) is not
// checked here: refusing while it owns any belongs with the ownership
// fields. Users whose default project it was keep the dangling ID, as in
// Keystone; a token scoped to a missing project is refused anyway.
type DeleteProject struct {
	ID string `json:"id"`
}

// CreateUser adds a user; ID, Created and the bcrypt hash of its password
// (if it has one: a user without a password cannot log in) are made by the
// proposing node. An empty DomainID means the default domain.
type CreateUser struct {
	User User `json:"user"`
}

// UpdateUser changes the fields that are set. A new password hash or a
// disable moves TokensValidAfter to Time, so tokens issued before die.
type UpdateUser struct {
	ID               string    `json:"id"`
	Name             *string   `json:"name,omitempty"`
	Enabled          *bool     `json:"enabled,omitempty"`
	DefaultProjectID *string   `json:"default_project_id,omitempty"` // "" clears it
	PasswordHash     *string   `json:"password_hash,omitempty"`
	Time             time.Time `json:"time"`
}

// DeleteUser removes a user, its role assignments and its keypairs.
type DeleteUser struct {
	ID string `json:"id"`
}

func (*CreateProject) Type() Type { return TypeCreateProject }
func (*UpdateProject) Type() Type { return TypeUpdateProject }
func (*DeleteProject) Type() Type { return TypeDeleteProject }
func (*CreateUser) Type() Type    { return TypeCreateUser }
func (*UpdateUser) Type() Type    { return TypeUpdateUser }
func (*DeleteUser) Type() Type    { return TypeDeleteUser }

func applyCreateProject(s *State, index uint64, c Command) error {
	p := c.(*CreateProject).Project
	if p.DomainID == "" {
		p.DomainID = DefaultDomainID
	}
	if err := validIDName("project", p.ID, p.Name); err != nil {
		return err
	}
	if _, err := find(s.Domains, "domain", p.DomainID); err != nil {
		return err
	}
	if err := unused("project", p.ID, p.Name, s.Projects, s.projectNames, nameKey(p.DomainID, p.Name)); err != nil {
		return err
	}
	s.putProject(p, index)
	return nil
}

func (s *State) putProject(p Project, index uint64) {
	p.CreateIndex, p.ModifyIndex = index, index
	s.Projects[p.ID] = &p
	s.projectNames[nameKey(p.DomainID, p.Name)] = p.ID
}

func applyUpdateProject(s *State, index uint64, c Command) error {
	cmd := c.(*UpdateProject)
	p, err := find(s.Projects, "project", cmd.ID)
	if err != nil {
		return err
	}
	if cmd.Name != nil && *cmd.Name != p.Name {
		if err := freeName("project", *cmd.Name, s.projectNames, nameKey(p.DomainID, *cmd.Name)); err != nil {
			return err
		}
		rename(s.projectNames, p.ID, &p.Name, *cmd.Name, func(n string) string { return nameKey(p.DomainID, n) })
	}
	if cmd.Description != nil {
		p.Description = *cmd.Description
	}
	if cmd.Enabled != nil {
		p.Enabled = *cmd.Enabled
	}
	p.ModifyIndex = index
	return nil
}

func applyDeleteProject(s *State, _ uint64, c Command) error {
	id := c.(*DeleteProject).ID
	p, err := find(s.Projects, "project", id)
	if err != nil {
		return err
	}
	s.dropAssignments(func(a RoleAssignment) bool { return a.ProjectID == id })
	delete(s.projectNames, nameKey(p.DomainID, p.Name))
	delete(s.Projects, id)
	return nil
}

func applyCreateUser(s *State, index uint64, c Command) error {
	u := c.(*CreateUser).User
	if u.DomainID == "" {
		u.DomainID = DefaultDomainID
	}
	if err := validIDName("user", u.ID, u.Name); err != nil {
		return err
	}
	if u.PasswordHash != "" {
		if err := validPasswordHash(u.PasswordHash); err != nil {
			return err
		}
	}
	if _, err := find(s.Domains, "domain", u.DomainID); err != nil {
		return err
	}
	if err := s.defaultProject(u.DefaultProjectID); err != nil {
		return err
	}
	if err := unused("user", u.ID, u.Name, s.Users, s.userNames, nameKey(u.DomainID, u.Name)); err != nil {
		return err
	}
	s.putUser(u, index)
	return nil
}

func (s *State) putUser(u User, index uint64) {
	u.CreateIndex, u.ModifyIndex = index, index
	s.Users[u.ID] = &u
	s.userNames[nameKey(u.DomainID, u.Name)] = u.ID
}

func applyUpdateUser(s *State, index uint64, c Command) error {
	cmd := c.(*UpdateUser)
	u, err := find(s.Users, "user", cmd.ID)
	if err != nil {
		return err
	}
	if cmd.Time.IsZero() {
		return fmt.Errorf("%w: a user update needs a time", ErrInvalid)
	}
	renamed := cmd.Name != nil && *cmd.Name != u.Name
	if renamed {
		if err := freeName("user", *cmd.Name, s.userNames, nameKey(u.DomainID, *cmd.Name)); err != nil {
			return err
		}
	}
	if cmd.PasswordHash != nil && *cmd.PasswordHash != "" {
		if err := validPasswordHash(*cmd.PasswordHash); err != nil {
			return err
		}
	}
	if p := cmd.DefaultProjectID; p != nil {
		if err := s.defaultProject(*p); err != nil {
			return err
		}
	}

	if renamed {
		rename(s.userNames, u.ID, &u.Name, *cmd.Name, func(n string) string { return nameKey(u.DomainID, n) })
	}
	if cmd.DefaultProjectID != nil {
		u.DefaultProjectID = *cmd.DefaultProjectID
	}
	// Tokens die on a new password (even the same one: the user asked for
	// a change) and on a disable. The mark never moves back, so a proposer
	// with a slow clock cannot revive tokens an earlier change killed.
	disable := cmd.Enabled != nil && !*cmd.Enabled && u.Enabled
	if (cmd.PasswordHash != nil || disable) && cmd.Time.After(u.TokensValidAfter) {
		u.TokensValidAfter = cmd.Time
	}
	if cmd.PasswordHash != nil {
		u.PasswordHash = *cmd.PasswordHash
	}
	if cmd.Enabled != nil {
		u.Enabled = *cmd.Enabled
	}
	u.Updated = cmd.Time
	u.ModifyIndex = index
	return nil
}

func applyDeleteUser(s *State, _ uint64, c Command) error {
	id := c.(*DeleteUser).ID
	u, err := find(s.Users, "user", id)
	if err != nil {
		return err
	}
	s.dropAssignments(func(a RoleAssignment) bool { return a.UserID == id })
	s.dropKeyPairsOf(id)
	delete(s.userNames, nameKey(u.DomainID, u.Name))
	delete(s.Users, id)
	return nil
}

// dropAssignments removes the role assignments drop selects; the rest stay
// in order.
func (s *State) dropAssignments(drop func(RoleAssignment) bool) {
	s.Assignments = slices.DeleteFunc(s.Assignments, drop)
}

// find is the object of table with ID id, or ErrNotFound naming the kind.
func find[T any](table map[string]*T, kind, id string) (*T, error) {
	if v, ok := table[id]; ok {
		return v, nil
	}
	return nil, fmt.Errorf("%w: %s %q", ErrNotFound, kind, id)
}

// validIDName checks a new object's ID and name.
func validIDName(kind, id, name string) error {
	if err := validName(kind+" ID", id); err != nil {
		return err
	}
	return validName(kind+" name", name)
}

// unused refuses a new object whose ID or name (under key) is taken.
func unused[T any](kind, id, name string, table map[string]*T, names map[string]string, key string) error {
	if _, ok := table[id]; ok {
		return fmt.Errorf("%w: %s ID %q already exists", ErrConflict, kind, id)
	}
	if _, ok := names[key]; ok {
		return fmt.Errorf("%w: %s name %q already exists", ErrConflict, kind, name)
	}
	return nil
}

// freeName checks name, about to replace an object's name, is valid and
// not taken (under key).
func freeName(kind, name string, names map[string]string, key string) error {
	if err := validName(kind+" name", name); err != nil {
		return err
	}
	if _, taken := names[key]; taken {
		return fmt.Errorf("%w: %s name %q already exists", ErrConflict, kind, name)
	}
	return nil
}

// rename moves the object id from *name to to in the name index names,
// whose keys key makes.
func rename(names map[string]string, id string, name *string, to string, key func(string) string) {
	delete(names, key(*name))
	*name = to
	names[key(to)] = id
}

// defaultProject checks a user's default project exists; "" means none.
func (s *State) defaultProject(id string) error {
	if id == "" {
		return nil
	}
	_, err := find(s.Projects, "project", id)
	return err
}
