package fsm

import (
	"fmt"
	"sort"
)

// Domain finds a domain by ID.
func (f *FSM) Domain(id string) (Domain, error) {
	f.mu.RLock()
	defer f.mu.RUnlock()
	return lookup(f.state.Domains, nil, "domain", id, id)
}

// Project finds a project by ID, then by name in the default domain.
func (f *FSM) Project(ref string) (Project, error) {
	f.mu.RLock()
	defer f.mu.RUnlock()
	return lookup(f.state.Projects, f.state.projectNames, "project", ref, nameKey(DefaultDomainID, ref))
}

// Projects lists projects ordered by name, then ID.
func (f *FSM) Projects() []Project {
	f.mu.RLock()
	defer f.mu.RUnlock()
	out := copyOut(f.state.Projects, plainCopy[Project])
	sortByNameThenID(out, func(v Project) (string, string) { return v.Name, v.ID })
	return out
}

// User finds a user by ID, then by name in the default domain. The copy
// carries PasswordHash: whoever shows a user must leave it out.
func (f *FSM) User(ref string) (User, error) {
	f.mu.RLock()
	defer f.mu.RUnlock()
	return lookup(f.state.Users, f.state.userNames, "user", ref, nameKey(DefaultDomainID, ref))
}

// Users lists users ordered by name, then ID, password hashes included.
func (f *FSM) Users() []User {
	f.mu.RLock()
	defer f.mu.RUnlock()
	out := copyOut(f.state.Users, plainCopy[User])
	sortByNameThenID(out, func(v User) (string, string) { return v.Name, v.ID })
	return out
}

// Role finds a role by ID, then by name.
func (f *FSM) Role(ref string) (Role, error) {
	f.mu.RLock()
	defer f.mu.RUnlock()
	return lookup(f.state.Roles, f.state.roleNames, "role", ref, ref)
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
	k, err := find(f.state.SigningKeys, "signing key", kid)
	if err != nil {
		return SigningKey{}, err
	}
	return k.clone(), nil
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

// lookup copies out the object of table whose ID is ref, else the one the
// name index names files under key; the error names ref, as the caller typed it.
func lookup[T any](table map[string]*T, names map[string]string, kind, ref, key string) (T, error) {
	if v, ok := table[ref]; ok {
		return *v, nil
	}
	if id, ok := names[key]; ok {
		return *table[id], nil
	}
	var zero T
	return zero, fmt.Errorf("%w: %s %q", ErrNotFound, kind, ref)
}
