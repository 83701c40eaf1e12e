package api

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/shoal-project/shoal/fsm"
)

// Every node is a Keystone v3 subset at /identity/v3 (api/identity/DESIGN.md
// lists what is in it and what is left out). The shapes are Keystone's, so
// gophercloud and the openstack CLI speak to it unchanged.

// keystoneVersion is the Keystone v3 minor version whose shapes these are.
const (
	keystoneVersion        = "v3.14"
	keystoneVersionUpdated = "2020-04-07T00:00:00Z"
	// keystoneTimeFormat is how Keystone writes token times: microseconds, UTC.
	keystoneTimeFormat = "2006-01-02T15:04:05.000000Z"
	// identityPrefix is where the Keystone subset is mounted.
	identityPrefix = "/identity/v3"
	// regionName is the one region every catalog names.
	regionName = "RegionOne"
)

// loginPattern is the route of logging in: dispatch does not Sync it.
const loginPattern = "POST " + identityPrefix + "/auth/tokens"

// identityRoutes registers the Keystone subset; routes calls it once.
func (s *Server) identityRoutes() {
	s.route("GET /identity", AccessPublic, s.identityVersions)
	s.route("GET /identity/{$}", AccessPublic, s.identityVersions)
	s.route("GET "+identityPrefix, AccessPublic, s.identityVersion)
	s.route("GET "+identityPrefix+"/{$}", AccessPublic, s.identityVersion)

	s.route(loginPattern, AccessPublic, s.login)
	// GET serves HEAD too: net/http leaves the body out.
	s.route("GET "+identityPrefix+"/auth/tokens", AccessAuthenticated, s.validateToken)
	s.route("DELETE "+identityPrefix+"/auth/tokens", AccessAuthenticated, s.revokeToken)

	const projects, users, roles = identityPrefix + "/projects", identityPrefix + "/users", identityPrefix + "/roles"
	s.collection(projects, AccessAdmin, AccessAdmin, s.listProjects, s.showProject, s.createProject, s.deleteProject)
	s.route("PATCH "+projects+"/{id}", AccessAdmin, s.updateProject)

	s.read("GET "+users, AccessAdmin, s.listUsers)
	s.read("GET "+users+"/{id}", AccessAuthenticated, s.showUser) // the user itself, or an admin
	s.route("POST "+users, AccessAdmin, s.createUser)
	s.route("PATCH "+users+"/{id}", AccessAdmin, s.updateUser)
	s.route("DELETE "+users+"/{id}", AccessAdmin, s.deleteUser)
	s.route("POST "+users+"/{id}/password", AccessAuthenticated, s.changePassword) // the user itself, or an admin

	s.read("GET "+identityPrefix+"/domains", AccessAdmin, s.listDomains)
	s.read("GET "+identityPrefix+"/domains/{id}", AccessAdmin, s.showDomain)

	s.collection(roles, AccessAdmin, AccessAdmin, s.listRoles, s.showRole, s.createRole, s.deleteRole)

	const assignment = projects + "/{project}/users/{user}/roles/{role}"
	s.route("PUT "+assignment, AccessAdmin, s.grantRole)
	s.read("GET "+assignment, AccessAdmin, s.checkRole) // HEAD too
	s.route("DELETE "+assignment, AccessAdmin, s.revokeRole)
	s.read("GET "+projects+"/{project}/users/{user}/roles", AccessAdmin, s.listUserRoles)
	s.read("GET "+identityPrefix+"/role_assignments", AccessAdmin, s.listRoleAssignments)
}

// commitNoContent commits cmd unless the lookup before it failed, and
// answers 204: Keystone's answer to a grant, as to a delete.
func (s *Server) commitNoContent(w http.ResponseWriter, r *http.Request, lookupErr error, cmd fsm.Command) {
	s.commitDelete(w, r, lookupErr, cmd)
}

// BaseURL is this node's API root as the client reached it: https on the
// node's TLS listener (the only one a node serves), http only on a plain
// listener (tests).
func BaseURL(r *http.Request) string {
	if r.TLS != nil {
		return "https://" + r.Host
	}
	return "http://" + r.Host
}

// identityURL is this node's Keystone root as the client reached it.
func identityURL(r *http.Request) string { return BaseURL(r) + identityPrefix }

type link struct {
	Rel  string `json:"rel"`
	Href string `json:"href"`
}

type mediaType struct {
	Base string `json:"base"`
	Type string `json:"type"`
}

type keystoneVersionDoc struct {
	ID         string      `json:"id"`
	Status     string      `json:"status"`
	Updated    string      `json:"updated"`
	Links      []link      `json:"links"`
	MediaTypes []mediaType `json:"media-types"`
}

func v3Version(r *http.Request) keystoneVersionDoc {
	return keystoneVersionDoc{ID: keystoneVersion, Status: "stable", Updated: keystoneVersionUpdated,
		Links:      []link{{Rel: "self", Href: identityURL(r) + "/"}},
		MediaTypes: []mediaType{{Base: "application/json", Type: "application/vnd.openstack.identity-v3+json"}}}
}

// identityVersions is Keystone's /: the versions it speaks, answered with
// 300 Multiple Choices as Keystone does.
func (s *Server) identityVersions(w http.ResponseWriter, r *http.Request) {
	type values struct {
		Values []keystoneVersionDoc `json:"values"`
	}
	WriteJSON(w, http.StatusMultipleChoices, map[string]values{"versions": {Values: []keystoneVersionDoc{v3Version(r)}}})
}

// identityVersion is Keystone's /v3.
func (s *Server) identityVersion(w http.ResponseWriter, r *http.Request) {
	WriteJSON(w, http.StatusOK, map[string]keystoneVersionDoc{"version": v3Version(r)})
}

// newKeystoneID is a fresh 32-lowercase-hex ID, Keystone's form, made
// before Raft.
func newKeystoneID() string { return randomHex(16) }

// randomHex is n random bytes in lowercase hex.
func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go 1.24+)
	return hex.EncodeToString(b)
}

// keystoneTime writes t as Keystone does.
func keystoneTime(t time.Time) string { return t.UTC().Format(keystoneTimeFormat) }

// isDefaultDomain reports whether a domain reference names the one domain:
// by ID "default", or by name "Default" (matched case-insensitively, as
// Keystone's SQL backends do).
func isDefaultDomain(id, name string) bool {
	if id != "" {
		return id == fsm.DefaultDomainID
	}
	return strings.EqualFold(name, "Default")
}

// links are a Keystone object's links.
type links struct {
	Self string `json:"self"`
}

// collectionLinks are a Keystone list's links: shoal does not paginate.
type collectionLinks struct {
	Self     string  `json:"self"`
	Previous *string `json:"previous"`
	Next     *string `json:"next"`
}

// listLinks are the links of the list r asked for.
func listLinks(r *http.Request) collectionLinks {
	return collectionLinks{Self: BaseURL(r) + r.URL.RequestURI()}
}

// objectURL is the Keystone URL of an object: collection is "projects",
// "users" or "roles".
func objectURL(r *http.Request, collection, id string) string {
	return identityURL(r) + "/" + collection + "/" + url.PathEscape(id)
}

// decodeKeystone strictly decodes a Keystone request body {key: {...}} into
// v, which must be a pointer to a struct holding key's fields.
func decodeKeystone(w http.ResponseWriter, r *http.Request, key string, v any) error {
	b, err := readBody(w, r)
	if err != nil {
		return err
	}
	var env map[string]json.RawMessage
	if err := decodeStrict(b, &env); err != nil {
		return err
	}
	inner, ok := env[key]
	if !ok || len(env) != 1 {
		return fmt.Errorf("%w: the request body must be {%q: {...}}", fsm.ErrInvalid, key)
	}
	if bytes.Equal(bytes.TrimSpace(inner), []byte("null")) {
		return fmt.Errorf("%w: %q must be an object", fsm.ErrInvalid, key)
	}
	if err := decodeStrict(inner, v); err != nil {
		return err
	}
	return nil
}

// notFound is Keystone's 404 for an object named by ID.
func notFound(kind, id string) error {
	return fmt.Errorf("%w: could not find %s: %s", fsm.ErrNotFound, kind, id)
}

// exact looks an object up by ID alone (the replica's lookups also take
// names, which Keystone's /{id} routes do not).
func exact[T any](kind, id string, get func(string) (T, error), idOf func(T) string) (T, error) {
	v, err := get(id)
	if err != nil || idOf(v) != id {
		var zero T
		return zero, notFound(kind, id)
	}
	return v, nil
}

func (s *Server) project(id string) (fsm.Project, error) {
	return exact("project", id, s.state.Project, func(p fsm.Project) string { return p.ID })
}

func (s *Server) user(id string) (fsm.User, error) {
	return exact("user", id, s.state.User, func(u fsm.User) string { return u.ID })
}

func (s *Server) role(id string) (fsm.Role, error) {
	return exact("role", id, s.state.Role, func(r fsm.Role) string { return r.ID })
}

// checkDomain refuses a domain other than the one that exists.
func checkDomain(id *string) error {
	if id != nil && *id != fsm.DefaultDomainID {
		return notFound("domain", *id)
	}
	return nil
}

// errDuplicate is Keystone's 409 for a name in use.
func errDuplicate(kind, name string) error {
	return fmt.Errorf("%w: conflict occurred attempting to store %s - duplicate entry found with name %s", fsm.ErrConflict, kind, name)
}

// writeUpdated finishes a PATCH: 200 with body, index idx.
func writeUpdated(w http.ResponseWriter, idx uint64, body any) {
	SetIndex(w, idx)
	WriteJSON(w, http.StatusOK, body)
}
