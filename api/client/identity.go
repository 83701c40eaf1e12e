package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/shoal-project/shoal/fsm"
)

// IdentityPrefix is where every node serves its Keystone v3 subset, beside
// the native /v1 on the same address.
const IdentityPrefix = "/identity/v3"

// The identity objects in Keystone v3's wire shapes: the client speaks
// Keystone, so these are its field names, not fsm's. Links is what Keystone
// adds to every object ({"self": URL}); it is kept so that -o json shows the
// answer as the API gave it.
type (
	// Project is a Keystone project (a tenant, in Nova's words).
	Project struct {
		ID          string            `json:"id"`
		Name        string            `json:"name"`
		DomainID    string            `json:"domain_id"`
		Description string            `json:"description"`
		Enabled     bool              `json:"enabled"`
		Links       map[string]string `json:"links,omitempty"`
	}

	// User is a Keystone user; the API never shows a password or its hash.
	User struct {
		ID               string            `json:"id"`
		Name             string            `json:"name"`
		DomainID         string            `json:"domain_id"`
		Enabled          bool              `json:"enabled"`
		DefaultProjectID string            `json:"default_project_id,omitempty"`
		Links            map[string]string `json:"links,omitempty"`
	}

	// Role is a Keystone role (admin, member and reader exist from the
	// bootstrap).
	Role struct {
		ID    string            `json:"id"`
		Name  string            `json:"name"`
		Links map[string]string `json:"links,omitempty"`
	}

	// RoleAssignment is one row of GET /role_assignments: a user holds a
	// role on a project.
	RoleAssignment struct {
		Role  Ref `json:"role"`
		User  Ref `json:"user"`
		Scope struct {
			Project Ref `json:"project"`
		} `json:"scope"`
		Links map[string]string `json:"links,omitempty"`
	}

	// Ref names an object inside another one; Keystone adds the name only
	// when asked (include_names).
	Ref struct {
		ID   string `json:"id"`
		Name string `json:"name,omitempty"`
	}
)

// ProjectCreate is the body of POST /projects. Enabled nil leaves Keystone's
// default (enabled); DomainID empty means the default domain.
type ProjectCreate struct {
	Name        string `json:"name"`
	Description string `json:"description,omitempty"`
	DomainID    string `json:"domain_id,omitempty"`
	Enabled     *bool  `json:"enabled,omitempty"`
}

// ProjectUpdate is the body of PATCH /projects/{id}: nil fields stay as they are.
type ProjectUpdate struct {
	Name        *string `json:"name,omitempty"`
	Description *string `json:"description,omitempty"`
	Enabled     *bool   `json:"enabled,omitempty"`
}

// UserCreate is the body of POST /users. DefaultProjectID is an ID: callers
// holding a name resolve it with Project first. The password is sent once,
// in the body, and never kept.
type UserCreate struct {
	Name             string `json:"name"`
	Password         string `json:"password,omitempty"`
	DefaultProjectID string `json:"default_project_id,omitempty"`
	DomainID         string `json:"domain_id,omitempty"`
	Enabled          *bool  `json:"enabled,omitempty"`
}

// UserUpdate is the body of PATCH /users/{id} (what an admin changes,
// password included): nil fields stay as they are.
type UserUpdate struct {
	Name             *string `json:"name,omitempty"`
	Password         *string `json:"password,omitempty"`
	DefaultProjectID *string `json:"default_project_id,omitempty"`
	Enabled          *bool   `json:"enabled,omitempty"`
}

// String and GoString leave the passwords out, so that a stray %v cannot
// print them.
func (u UserCreate) String() string {
	return fmt.Sprintf("user %q (default project %q)", u.Name, u.DefaultProjectID)
}
func (u UserCreate) GoString() string { return "client.UserCreate{" + u.String() + "}" }
func (u UserUpdate) String() string   { return "client.UserUpdate{…}" }
func (u UserUpdate) GoString() string { return u.String() }

// Projects lists the projects.
func (c *Client) Projects(ctx context.Context) ([]Project, error) {
	var out struct {
		Projects []Project `json:"projects"`
	}
	err := c.do(ctx, http.MethodGet, IdentityPrefix+"/projects", nil, &out)
	return out.Projects, err
}

// Project finds a project by ID or, as the openstack CLI does, by name when
// no project has that ID. A name two projects share is a conflict.
func (c *Client) Project(ctx context.Context, ref string) (Project, error) {
	return find[Project](ctx, c, "project", "projects", ref)
}

// CreateProject creates a project.
func (c *Client) CreateProject(ctx context.Context, p ProjectCreate) (Project, error) {
	var out struct {
		Project Project `json:"project"`
	}
	err := c.do(ctx, http.MethodPost, IdentityPrefix+"/projects", map[string]any{"project": p}, &out)
	return out.Project, err
}

// UpdateProject changes the project ref names (ID or name).
func (c *Client) UpdateProject(ctx context.Context, ref string, u ProjectUpdate) (Project, error) {
	p, err := c.Project(ctx, ref)
	if err != nil {
		return Project{}, err
	}
	var out struct {
		Project Project `json:"project"`
	}
	err = c.do(ctx, http.MethodPatch, IdentityPrefix+"/projects/"+url.PathEscape(p.ID), map[string]any{"project": u}, &out)
	return out.Project, err
}

// DeleteProject deletes the project ref names (ID or name).
func (c *Client) DeleteProject(ctx context.Context, ref string) error {
	p, err := c.Project(ctx, ref)
	if err != nil {
		return err
	}
	return c.do(ctx, http.MethodDelete, IdentityPrefix+"/projects/"+url.PathEscape(p.ID), nil, nil)
}

// Users lists the users.
func (c *Client) Users(ctx context.Context) ([]User, error) {
	var out struct {
		Users []User `json:"users"`
	}
	err := c.do(ctx, http.MethodGet, IdentityPrefix+"/users", nil, &out)
	return out.Users, err
}

// User finds a user by ID, or by name when no user has that ID.
func (c *Client) User(ctx context.Context, ref string) (User, error) {
	return find[User](ctx, c, "user", "users", ref)
}

// CreateUser creates a user.
func (c *Client) CreateUser(ctx context.Context, u UserCreate) (User, error) {
	var out struct {
		User User `json:"user"`
	}
	err := c.do(ctx, http.MethodPost, IdentityPrefix+"/users", map[string]any{"user": u}, &out)
	return out.User, err
}

// UpdateUser changes the user ref names (ID or name): an admin sets a
// password, enables or disables the user this way. A new password or
// disabling ends the user's tokens.
func (c *Client) UpdateUser(ctx context.Context, ref string, u UserUpdate) (User, error) {
	found, err := c.User(ctx, ref)
	if err != nil {
		return User{}, err
	}
	var out struct {
		User User `json:"user"`
	}
	err = c.do(ctx, http.MethodPatch, IdentityPrefix+"/users/"+url.PathEscape(found.ID), map[string]any{"user": u}, &out)
	return out.User, err
}

// ChangePassword is a user changing their own password (Keystone's POST
// /users/{id}/password), proving the original one.
func (c *Client) ChangePassword(ctx context.Context, userID, original, password string) error {
	path, err := refPath(IdentityPrefix+"/users/", "user ID", userID)
	if err != nil {
		return err
	}
	body := map[string]any{"user": map[string]string{"original_password": original, "password": password}}
	return c.do(ctx, http.MethodPost, path+"/password", body, nil)
}

// DeleteUser deletes the user ref names (ID or name).
func (c *Client) DeleteUser(ctx context.Context, ref string) error {
	u, err := c.User(ctx, ref)
	if err != nil {
		return err
	}
	return c.do(ctx, http.MethodDelete, IdentityPrefix+"/users/"+url.PathEscape(u.ID), nil, nil)
}

// Roles lists the roles.
func (c *Client) Roles(ctx context.Context) ([]Role, error) {
	var out struct {
		Roles []Role `json:"roles"`
	}
	err := c.do(ctx, http.MethodGet, IdentityPrefix+"/roles", nil, &out)
	return out.Roles, err
}

// Role finds a role by ID, or by name when no role has that ID.
func (c *Client) Role(ctx context.Context, ref string) (Role, error) {
	return find[Role](ctx, c, "role", "roles", ref)
}

// CreateRole creates a role.
func (c *Client) CreateRole(ctx context.Context, name string) (Role, error) {
	var out struct {
		Role Role `json:"role"`
	}
	err := c.do(ctx, http.MethodPost, IdentityPrefix+"/roles", map[string]any{"role": map[string]string{"name": name}}, &out)
	return out.Role, err
}

// DeleteRole deletes the role ref names (ID or name); its assignments go with it.
func (c *Client) DeleteRole(ctx context.Context, ref string) error {
	r, err := c.Role(ctx, ref)
	if err != nil {
		return err
	}
	return c.do(ctx, http.MethodDelete, IdentityPrefix+"/roles/"+url.PathEscape(r.ID), nil, nil)
}

// AddRole gives user role on project (each an ID or a name). Giving a role
// the user already holds is not an error, as in Keystone.
func (c *Client) AddRole(ctx context.Context, project, user, role string) error {
	path, err := c.grantPath(ctx, project, user, role)
	if err != nil {
		return err
	}
	return c.do(ctx, http.MethodPut, path, nil, nil)
}

// RemoveRole takes role on project away from user (each an ID or a name).
func (c *Client) RemoveRole(ctx context.Context, project, user, role string) error {
	path, err := c.grantPath(ctx, project, user, role)
	if err != nil {
		return err
	}
	return c.do(ctx, http.MethodDelete, path, nil, nil)
}

// HasRole reports whether user holds role on project (each an ID or a name),
// with Keystone's HEAD: 204 yes, 404 no.
func (c *Client) HasRole(ctx context.Context, project, user, role string) (bool, error) {
	path, err := c.grantPath(ctx, project, user, role)
	if err != nil {
		return false, err
	}
	resp, data, err := c.send(ctx, http.MethodHead, path, nil)
	switch {
	case err != nil:
		return false, err
	case resp.StatusCode == http.StatusNoContent || resp.StatusCode == http.StatusOK:
		return true, nil
	case resp.StatusCode == http.StatusNotFound:
		return false, nil
	}
	return false, responseError(resp, data)
}

// grantPath is /projects/{p}/users/{u}/roles/{r} with the three resolved to IDs.
func (c *Client) grantPath(ctx context.Context, project, user, role string) (string, error) {
	p, err := c.Project(ctx, project)
	if err != nil {
		return "", err
	}
	u, err := c.User(ctx, user)
	if err != nil {
		return "", err
	}
	r, err := c.Role(ctx, role)
	if err != nil {
		return "", err
	}
	return IdentityPrefix + "/projects/" + url.PathEscape(p.ID) + "/users/" + url.PathEscape(u.ID) +
		"/roles/" + url.PathEscape(r.ID), nil
}

// AssignmentFilter narrows RoleAssignments; empty fields do not filter.
// User and Project are IDs or names.
type AssignmentFilter struct {
	User    string
	Project string
}

// RoleAssignments lists who holds which role where, with Keystone's filters
// user.id and scope.project.id.
func (c *Client) RoleAssignments(ctx context.Context, f AssignmentFilter) ([]RoleAssignment, error) {
	q := url.Values{}
	if f.User != "" {
		u, err := c.User(ctx, f.User)
		if err != nil {
			return nil, err
		}
		q.Set("user.id", u.ID)
	}
	if f.Project != "" {
		p, err := c.Project(ctx, f.Project)
		if err != nil {
			return nil, err
		}
		q.Set("scope.project.id", p.ID)
	}
	path := IdentityPrefix + "/role_assignments"
	if len(q) > 0 {
		path += "?" + q.Encode()
	}
	var out struct {
		RoleAssignments []RoleAssignment `json:"role_assignments"`
	}
	err := c.do(ctx, http.MethodGet, path, nil, &out)
	return out.RoleAssignments, err
}

// TokenInfo is what Keystone says of a token it validates.
type TokenInfo struct {
	ExpiresAt time.Time
	User      Ref
	Project   Ref
	Roles     []Ref
}

// ValidateToken asks the node about subject (GET /auth/tokens with
// X-Subject-Token): whose it is, its scope and roles. It is how a command
// given a bare token learns its project.
func (c *Client) ValidateToken(ctx context.Context, subject string) (TokenInfo, error) {
	resp, data, err := c.sendWith(ctx, http.MethodGet, IdentityPrefix+"/auth/tokens", nil,
		http.Header{HeaderSubjectToken: {subject}})
	if err != nil {
		return TokenInfo{}, err
	}
	if resp.StatusCode != http.StatusOK {
		return TokenInfo{}, responseError(resp, data)
	}
	var out struct {
		Token struct {
			ExpiresAt time.Time `json:"expires_at"`
			User      Ref       `json:"user"`
			Project   Ref       `json:"project"`
			Roles     []Ref     `json:"roles"`
		} `json:"token"`
	}
	if err := json.Unmarshal(data, &out); err != nil {
		return TokenInfo{}, fmt.Errorf("validating a token: decoding response: %w", err)
	}
	t := out.Token
	return TokenInfo{ExpiresAt: t.ExpiresAt, User: t.User, Project: t.Project, Roles: t.Roles}, nil
}

// CurrentToken is the token this client sends, or "" when it sends none.
func (c *Client) CurrentToken(ctx context.Context) (string, error) { return c.authToken(ctx) }

// find looks ref up as openstackclient's find_resource does: by ID first
// (GET /{plural}/{ref}, answered as {singular: object}), then, if no object
// has that ID, by name (GET /{plural}?name=ref, answered as {plural: [...]}).
// Neither found is fsm.ErrNotFound; a name two objects share, fsm.ErrConflict.
func find[T any](ctx context.Context, c *Client, singular, plural, ref string) (T, error) {
	var zero T
	path, err := refPath(IdentityPrefix+"/"+plural+"/", singular+" ID or name", ref)
	if err != nil {
		return zero, err
	}
	var body map[string]json.RawMessage
	err = c.do(ctx, http.MethodGet, path, nil, &body)
	var e *Error
	switch {
	case err == nil:
		return decodeField[T](body, singular)
	case !errors.As(err, &e) || e.Status != http.StatusNotFound:
		return zero, err
	}
	body = nil
	if err := c.do(ctx, http.MethodGet, IdentityPrefix+"/"+plural+"?"+url.Values{"name": {ref}}.Encode(), nil, &body); err != nil {
		return zero, err
	}
	found, err := decodeField[[]T](body, plural)
	switch {
	case err != nil:
		return zero, err
	case len(found) == 0:
		return zero, fmt.Errorf("%w: no %s with name or ID %q", fsm.ErrNotFound, singular, ref)
	case len(found) > 1:
		return zero, fmt.Errorf("%w: more than one %s is named %q: use its ID", fsm.ErrConflict, singular, ref)
	}
	return found[0], nil
}

// decodeField decodes the member key of a Keystone answer.
func decodeField[T any](body map[string]json.RawMessage, key string) (T, error) {
	var v T
	raw, ok := body[key]
	if !ok {
		return v, fmt.Errorf("the answer has no %q", key)
	}
	if err := json.Unmarshal(raw, &v); err != nil {
		return v, fmt.Errorf("decoding %q: %w", key, err)
	}
	return v, nil
}
