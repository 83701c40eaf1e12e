package fsm

import (
	"cmp"
	"fmt"
	"sort"
	"strings"
)

// Domain finds a domain by ID.
func (f *FSM) Domain(id string) (Domain, error) {
	f.mu.RLock()
	defer f.mu.RUnlock()
	if d, ok := f.state.Domains[id]; ok {
		return *d, nil
	}
	return Domain{}, fmt.Errorf("%w: domain %q", ErrNotFound, id)
}

// Project finds a project by ID, then by name in the default domain.
func (f *FSM) Project(ref string) (Project, error) {
	f.mu.RLock()
	defer f.mu.RUnlock()
	if p, ok := f.state.Projects[ref]; ok {
		return *p, nil
	}
	if id, ok := f.state.projectNames[nameKey(DefaultDomainID, ref)]; ok {
		return *f.state.Projects[id], nil
	}
	return Project{}, fmt.Errorf("%w: project %q", ErrNotFound, ref)
}

// Projects lists projects ordered by name, then ID.
func (f *FSM) Projects() []Project {
	f.mu.RLock()
	defer f.mu.RUnlock()
	out := copyOut(f.state.Projects, plainCopy[Project])
	sort.Slice(out, func(i, j int) bool { return byNameThenID(out[i].Name, out[i].ID, out[j].Name, out[j].ID) })
	return out
}

// User finds a user by ID, then by name in the default domain. The copy
// carries PasswordHash: whoever shows a user must leave it out.
func (f *FSM) User(ref string) (User, error) {
	f.mu.RLock()
	defer f.mu.RUnlock()
	if u, ok := f.state.Users[ref]; ok {
		return *u, nil
	}
	if id, ok := f.state.userNames[nameKey(DefaultDomainID, ref)]; ok {
		return *f.state.Users[id], nil
	}
	return User{}, fmt.Errorf("%w: user %q", ErrNotFound, ref)
}

// Users lists users ordered by name, then ID, password hashes included.
func (f *FSM) Users() []User {
	f.mu.RLock()
	defer f.mu.RUnlock()
	out := copyOut(f.state.Users, plainCopy[User])
	sort.Slice(out, func(i, j int) bool { return byNameThenID(out[i].Name, out[i].ID, out[j].Name, out[j].ID) })
	return out
}

// Role finds a role by ID, then by name.
func (f *FSM) Role(ref string) (Role, error) {
	f.mu.RLock()
	defer f.mu.RUnlock()
	if r, ok := f.state.Roles[ref]; ok {
		return *r, nil
	}
	if id, ok := f.state.roleNames[ref]; ok {
		return *f.state.Roles[id], nil
	}
	return Role{}, fmt.Errorf("%w: role %q", ErrNotFound, ref)
}

// Roles lists roles ordered by name.
func (f *FSM) Roles() []Role {
	f.mu.RLock()
	defer f.mu.RUnlock()
	out := copyOut(f.state.Roles, plainCopy[Role])
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// RoleAssignments lists the assignments of userID on projectID, ordered by
// project, user and role; an empty filter matches any.
func (f *FSM) RoleAssignments(userID, projectID string) []RoleAssignment {
	f.mu.RLock()
	defer f.mu.RUnlock()
	out := []RoleAssignment{}
	for _, a := range f.state.Assignments {
		if (userID == "" || a.UserID == userID) && (projectID == "" || a.ProjectID == projectID) {
			out = append(out, a)
		}
	}
	return out
}

// RolesOf lists the roles userID holds on projectID now, ordered by name:
// token validation reads them live, never from the token.
func (f *FSM) RolesOf(userID, projectID string) []Role {
	f.mu.RLock()
	defer f.mu.RUnlock()
	out := []Role{}
	for _, a := range f.state.Assignments {
		if a.UserID == userID && a.ProjectID == projectID {
			if r, ok := f.state.Roles[a.RoleID]; ok {
				out = append(out, *r)
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// SigningKey finds a token signing key by its kid.
func (f *FSM) SigningKey(kid string) (SigningKey, error) {
	f.mu.RLock()
	defer f.mu.RUnlock()
	if k, ok := f.state.SigningKeys[kid]; ok {
		return k.clone(), nil
	}
	return SigningKey{}, fmt.Errorf("%w: signing key %q", ErrNotFound, kid)
}

// SigningKeys lists the signing keys, retired ones too, ordered by ID.
func (f *FSM) SigningKeys() []SigningKey {
	f.mu.RLock()
	defer f.mu.RUnlock()
	out := copyOut(f.state.SigningKeys, (*SigningKey).clone)
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// TokenRevoked reports whether the token with auditID was revoked. A
// revocation is forgotten only once the token has expired anyway.
func (f *FSM) TokenRevoked(auditID string) bool {
	f.mu.RLock()
	defer f.mu.RUnlock()
	_, ok := f.state.Revoked[auditID]
	return ok
}

func byNameThenID(an, ai, bn, bi string) bool {
	return cmp.Or(strings.Compare(an, bn), strings.Compare(ai, bi)) < 0
}
