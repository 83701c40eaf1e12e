package api

import (
	"fmt"
	"net/http"
	"net/url"

	"github.com/shoal-project/shoal/fsm"
)

// Keystone's role, as shown: global (no domain), no description.
type roleDoc struct {
	ID       string         `json:"id"`
	Name     string         `json:"name"`
	DomainID *string        `json:"domain_id"`
	Options  map[string]any `json:"options"`
	Links    links          `json:"links"`
}

func roleOf(r *http.Request, role fsm.Role) roleDoc {
	return roleDoc{ID: role.ID, Name: role.Name, Options: map[string]any{}, Links: links{Self: objectURL(r, "roles", role.ID)}}
}

func (s *Server) listRoles(w http.ResponseWriter, r *http.Request) {
	idx := s.state.Index()
	q := r.URL.Query()
	out := []roleDoc{}
	for _, role := range s.state.Roles() {
		if keep(q, "name", role.Name) {
			out = append(out, roleOf(r, role))
		}
	}
	SetIndex(w, idx)
	WriteJSON(w, http.StatusOK, map[string]any{"roles": out, "links": listLinks(r)})
}

func (s *Server) showRole(w http.ResponseWriter, r *http.Request) {
	idx := s.state.Index()
	role, err := s.role(r.PathValue("id"))
	s.writeFound(w, r, idx, err, func() any { return map[string]roleDoc{"role": roleOf(r, role)} })
}

func (s *Server) createRole(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Name     *string `json:"name"`
		DomainID *string `json:"domain_id"` // null only: roles are global
	}
	err := decodeKeystone(w, r, "role", &req)
	switch {
	case err != nil:
	case req.Name == nil:
		err = fmt.Errorf("%w: 'name' is a required property", fsm.ErrInvalid)
	case req.DomainID != nil:
		err = fmt.Errorf("%w: domain-specific roles are not supported", fsm.ErrInvalid)
	default:
		if role, lookupErr := s.state.Role(*req.Name); lookupErr == nil && role.Name == *req.Name {
			err = errDuplicate("role", *req.Name)
		}
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	role := fsm.Role{ID: newKeystoneID(), Name: *req.Name}
	idx, created, err := applyRead(s, r.Context(), &fsm.CreateRole{Role: role}, "role", role.ID, s.role)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeCreated(w, idx, objectURL(r, "roles", role.ID), map[string]roleDoc{"role": roleOf(r, created)})
}

// deleteRole removes a role and every assignment of it.
func (s *Server) deleteRole(w http.ResponseWriter, r *http.Request) {
	role, err := s.role(r.PathValue("id"))
	s.commitDelete(w, r, err, &fsm.DeleteRole{ID: role.ID})
}

// assignmentOf reads the project, user and role of an assignment path
// (/projects/{project}/users/{user}/roles/{role}), each of which must exist.
func (s *Server) assignmentOf(r *http.Request) (fsm.RoleAssignment, error) {
	p, err := s.project(r.PathValue("project"))
	if err != nil {
		return fsm.RoleAssignment{}, err
	}
	u, err := s.user(r.PathValue("user"))
	if err != nil {
		return fsm.RoleAssignment{}, err
	}
	role, err := s.role(r.PathValue("role"))
	if err != nil {
		return fsm.RoleAssignment{}, err
	}
	return fsm.RoleAssignment{ProjectID: p.ID, UserID: u.ID, RoleID: role.ID}, nil
}

// assigned reports whether a is in the replica.
func (s *Server) assigned(a fsm.RoleAssignment) bool {
	for _, have := range s.state.RoleAssignments(a.UserID, a.ProjectID) {
		if have == a {
			return true
		}
	}
	return false
}

// grantRole is PUT: idempotent, as Keystone's.
func (s *Server) grantRole(w http.ResponseWriter, r *http.Request) {
	a, err := s.assignmentOf(r)
	s.commitNoContent(w, r, err, &fsm.GrantRole{RoleAssignment: a})
}

// checkRole is GET and HEAD: 204 when the user holds the role on the
// project, 404 otherwise.
func (s *Server) checkRole(w http.ResponseWriter, r *http.Request) {
	idx := s.state.Index()
	a, err := s.assignmentOf(r)
	if err == nil && !s.assigned(a) {
		err = fmt.Errorf("%w: could not find role assignment", fsm.ErrNotFound)
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	SetIndex(w, idx)
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) revokeRole(w http.ResponseWriter, r *http.Request) {
	a, err := s.assignmentOf(r)
	if err == nil && !s.assigned(a) {
		err = fmt.Errorf("%w: could not find role assignment", fsm.ErrNotFound)
	}
	s.commitDelete(w, r, err, &fsm.RevokeRole{RoleAssignment: a})
}

// listUserRoles is GET /projects/{project}/users/{user}/roles.
func (s *Server) listUserRoles(w http.ResponseWriter, r *http.Request) {
	idx := s.state.Index()
	p, err := s.project(r.PathValue("project"))
	var u fsm.User
	if err == nil {
		u, err = s.user(r.PathValue("user"))
	}
	s.writeFound(w, r, idx, err, func() any {
		out := []roleDoc{}
		for _, role := range s.state.RolesOf(u.ID, p.ID) {
			out = append(out, roleOf(r, role))
		}
		return map[string]any{"roles": out, "links": listLinks(r)}
	})
}

// Keystone's role assignment, as listed.
type (
	assignmentDoc struct {
		Role  assignmentRef   `json:"role"`
		User  assignmentRef   `json:"user"`
		Scope assignmentScope `json:"scope"`
		Links struct {
			Assignment string `json:"assignment"`
		} `json:"links"`
	}
	assignmentRef struct {
		ID     string   `json:"id"`
		Name   string   `json:"name,omitempty"`
		Domain *nameRef `json:"domain,omitempty"`
	}
	assignmentScope struct {
		Project assignmentRef `json:"project"`
	}
)

// listRoleAssignments is GET /role_assignments with Keystone's filters
// user.id, scope.project.id and role.id (?include_names adds names). There
// are no groups nor domain or system scopes: filtering on them finds none;
// ?effective changes nothing, as without groups every assignment is direct.
func (s *Server) listRoleAssignments(w http.ResponseWriter, r *http.Request) {
	idx := s.state.Index()
	q := r.URL.Query()
	out := []assignmentDoc{}
	if !q.Has("group.id") && !q.Has("scope.domain.id") && !q.Has("scope.system") {
		_, names := q["include_names"]
		for _, a := range s.state.RoleAssignments(q.Get("user.id"), q.Get("scope.project.id")) {
			if keep(q, "role.id", a.RoleID) {
				out = append(out, s.assignmentDoc(r, a, names))
			}
		}
	}
	SetIndex(w, idx)
	WriteJSON(w, http.StatusOK, map[string]any{"role_assignments": out, "links": listLinks(r)})
}

func (s *Server) assignmentDoc(r *http.Request, a fsm.RoleAssignment, names bool) assignmentDoc {
	d := assignmentDoc{Role: assignmentRef{ID: a.RoleID}, User: assignmentRef{ID: a.UserID},
		Scope: assignmentScope{Project: assignmentRef{ID: a.ProjectID}}}
	d.Links.Assignment = identityURL(r) + "/projects/" + url.PathEscape(a.ProjectID) + "/users/" +
		url.PathEscape(a.UserID) + "/roles/" + url.PathEscape(a.RoleID)
	if names {
		if role, err := s.role(a.RoleID); err == nil {
			d.Role.Name = role.Name
		}
		if u, err := s.user(a.UserID); err == nil {
			d.User.Name, d.User.Domain = u.Name, &defaultDomain
		}
		if p, err := s.project(a.ProjectID); err == nil {
			d.Scope.Project.Name, d.Scope.Project.Domain = p.Name, &defaultDomain
		}
	}
	return d
}
