package api

import (
	"crypto/rand"
	"encoding/hex"
	"net/http"
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
	s.route("GET /identity", public, s.identityVersions)
	s.route("GET /identity/{$}", public, s.identityVersions)
	s.route("GET "+identityPrefix, public, s.identityVersion)
	s.route("GET "+identityPrefix+"/{$}", public, s.identityVersion)

	s.route(loginPattern, public, s.login)
	// GET serves HEAD too: net/http leaves the body out.
	s.route("GET "+identityPrefix+"/auth/tokens", authenticated, s.validateToken)
	s.route("DELETE "+identityPrefix+"/auth/tokens", authenticated, s.revokeToken)
}

// baseURL is this node's API root as the client reached it. The scheme is
// http until the API serves TLS.
func baseURL(r *http.Request) string { return "http://" + r.Host }

// identityURL is this node's Keystone root as the client reached it.
func identityURL(r *http.Request) string { return baseURL(r) + identityPrefix }

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
	writeJSON(w, http.StatusMultipleChoices, map[string]values{"versions": {Values: []keystoneVersionDoc{v3Version(r)}}})
}

// identityVersion is Keystone's /v3.
func (s *Server) identityVersion(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]keystoneVersionDoc{"version": v3Version(r)})
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
