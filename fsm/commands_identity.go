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

// DeleteUser removes a user and its role assignments.
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
	if err := validName("project ID", p.ID); err != nil {
		return err
	}
	if err := validName("project name", p.Name); err != nil {
		return err
	}
	if _, ok := s.Domains[p.DomainID]; !ok {
		return fmt.Errorf("%w: domain %q", ErrNotFound, p.DomainID)
	}
	if _, ok := s.Projects[p.ID]; ok {
		return fmt.Errorf("%w: project ID %q already exists", ErrConflict, p.ID)
	}
	if _, ok := s.projectNames[nameKey(p.DomainID, p.Name)]; ok {
		return fmt.Errorf("%w: project name %q already exists", ErrConflict, p.Name)
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
	p, ok := s.Projects[cmd.ID]
	if !ok {
		return fmt.Errorf("%w: project %q", ErrNotFound, cmd.ID)
	}
	if cmd.Name != nil && *cmd.Name != p.Name {
		if err := validName("project name", *cmd.Name); err != nil {
			return err
		}
		if _, taken := s.projectNames[nameKey(p.DomainID, *cmd.Name)]; taken {
			return fmt.Errorf("%w: project name %q already exists", ErrConflict, *cmd.Name)
		}
		delete(s.projectNames, nameKey(p.DomainID, p.Name))
		p.Name = *cmd.Name
		s.projectNames[nameKey(p.DomainID, p.Name)] = p.ID
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
	p, ok := s.Projects[id]
	if !ok {
		return fmt.Errorf("%w: project %q", ErrNotFound, id)
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
	if err := validName("user ID", u.ID); err != nil {
		return err
	}
	if err := validName("user name", u.Name); err != nil {
		return err
	}
	if u.PasswordHash != "" {
		if err := validPasswordHash(u.PasswordHash); err != nil {
			return err
		}
	}
	if _, ok := s.Domains[u.DomainID]; !ok {
		return fmt.Errorf("%w: domain %q", ErrNotFound, u.DomainID)
	}
	if _, ok := s.Projects[u.DefaultProjectID]; u.DefaultProjectID != "" && !ok {
		return fmt.Errorf("%w: project %q", ErrNotFound, u.DefaultProjectID)
	}
	if _, ok := s.Users[u.ID]; ok {
		return fmt.Errorf("%w: user ID %q already exists", ErrConflict, u.ID)
	}
	if _, ok := s.userNames[nameKey(u.DomainID, u.Name)]; ok {
		return fmt.Errorf("%w: user name %q already exists", ErrConflict, u.Name)
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
	u, ok := s.Users[cmd.ID]
	if !ok {
		return fmt.Errorf("%w: user %q", ErrNotFound, cmd.ID)
	}
	if cmd.Time.IsZero() {
		return fmt.Errorf("%w: a user update needs a time", ErrInvalid)
	}
	rename := cmd.Name != nil && *cmd.Name != u.Name
	if rename {
		if err := validName("user name", *cmd.Name); err != nil {
			return err
		}
		if _, taken := s.userNames[nameKey(u.DomainID, *cmd.Name)]; taken {
			return fmt.Errorf("%w: user name %q already exists", ErrConflict, *cmd.Name)
		}
	}
	if cmd.PasswordHash != nil && *cmd.PasswordHash != "" {
		if err := validPasswordHash(*cmd.PasswordHash); err != nil {
			return err
		}
	}
	if p := cmd.DefaultProjectID; p != nil && *p != "" {
		if _, ok := s.Projects[*p]; !ok {
			return fmt.Errorf("%w: project %q", ErrNotFound, *p)
		}
	}

	if rename {
		delete(s.userNames, nameKey(u.DomainID, u.Name))
		u.Name = *cmd.Name
		s.userNames[nameKey(u.DomainID, u.Name)] = u.ID
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
	u, ok := s.Users[id]
	if !ok {
		return fmt.Errorf("%w: user %q", ErrNotFound, id)
	}
	s.dropAssignments(func(a RoleAssignment) bool { return a.UserID == id })
	delete(s.userNames, nameKey(u.DomainID, u.Name))
	delete(s.Users, id)
	return nil
}

// dropAssignments removes the role assignments drop selects; the rest stay
// in order.
func (s *State) dropAssignments(drop func(RoleAssignment) bool) {
	s.Assignments = slices.DeleteFunc(s.Assignments, drop)
}
