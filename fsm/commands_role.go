package fsm

import (
	"fmt"
	"slices"
)

// CreateRole adds a role; its ID is stamped by the proposing node. Roles are
// global, but like every identity object they exist only once bootstrap has
// made the default domain.
type CreateRole struct {
	Role Role `json:"role"`
}

// DeleteRole removes a role and every assignment of it.
type DeleteRole struct {
	ID string `json:"id"`
}

// GrantRole gives a user a role on a project. Granting one the user already
// holds succeeds and changes nothing, as Keystone's PUT is idempotent.
type GrantRole struct {
	RoleAssignment
}

// RevokeRole takes a role on a project from a user.
type RevokeRole struct {
	RoleAssignment
}

func (*CreateRole) Type() Type { return TypeCreateRole }
func (*DeleteRole) Type() Type { return TypeDeleteRole }
func (*GrantRole) Type() Type  { return TypeGrantRole }
func (*RevokeRole) Type() Type { return TypeRevokeRole }

func applyCreateRole(s *State, index uint64, c Command) error {
	r := c.(*CreateRole).Role
	if err := validIDName("role", r.ID, r.Name); err != nil {
		return err
	}
	if _, ok := s.Domains[DefaultDomainID]; !ok {
		return fmt.Errorf("%w: domain %q (identity is made at bootstrap)", ErrNotFound, DefaultDomainID)
	}
	if err := unused("role", r.ID, r.Name, s.Roles, s.roleNames, r.Name); err != nil {
		return err
	}
	s.putRole(r, index)
	return nil
}

func (s *State) putRole(r Role, index uint64) {
	r.CreateIndex, r.ModifyIndex = index, index
	s.Roles[r.ID] = &r
	s.roleNames[r.Name] = r.ID
}

func applyDeleteRole(s *State, _ uint64, c Command) error {
	id := c.(*DeleteRole).ID
	r, err := find(s.Roles, "role", id)
	if err != nil {
		return err
	}
	s.dropAssignments(func(a RoleAssignment) bool { return a.RoleID == id })
	delete(s.roleNames, r.Name)
	delete(s.Roles, id)
	return nil
}

// assignmentParties checks that the project, user and role of a exist.
func (s *State) assignmentParties(a RoleAssignment) error {
	if _, err := find(s.Projects, "project", a.ProjectID); err != nil {
		return err
	}
	if _, err := find(s.Users, "user", a.UserID); err != nil {
		return err
	}
	_, err := find(s.Roles, "role", a.RoleID)
	return err
}

func applyGrantRole(s *State, _ uint64, c Command) error {
	a := c.(*GrantRole).RoleAssignment
	if err := s.assignmentParties(a); err != nil {
		return err
	}
	s.grant(a)
	return nil
}

// grant adds a to the sorted assignment set unless it is there already.
func (s *State) grant(a RoleAssignment) {
	at, found := slices.BinarySearchFunc(s.Assignments, a, RoleAssignment.compare)
	if !found {
		s.Assignments = slices.Insert(s.Assignments, at, a)
	}
}

func applyRevokeRole(s *State, _ uint64, c Command) error {
	a := c.(*RevokeRole).RoleAssignment
	if err := s.assignmentParties(a); err != nil {
		return err
	}
	at, found := slices.BinarySearchFunc(s.Assignments, a, RoleAssignment.compare)
	if !found {
		return fmt.Errorf("%w: user %q has no role %q on project %q", ErrNotFound, a.UserID, a.RoleID, a.ProjectID)
	}
	s.Assignments = slices.Delete(s.Assignments, at, at+1)
	return nil
}
