package api

import (
	"fmt"
	"net/http"
	"strings"
)

// A Module serves one foreign API dialect (OpenStack's Compute, Image,
// Network) under its own path prefix on this node's port. It only decodes
// requests and renders answers: every rule, lookup and command is the
// Ops it is given, which the native /v1 handlers use too, so the two
// cannot drift apart. cmd mounts modules through Config.Modules; api never
// imports one.
type Module interface {
	// Prefix is where the module's paths live ("/compute", "/image",
	// "/networking"); its dialect covers every path equal to it or under
	// it, those it has no route for included.
	Prefix() string
	// Register adds the module's routes through r, once, when the Server is
	// built.
	Register(r Router, ops *Ops)
	// WriteError answers err in the module's dialect. status is the one the
	// API chose (StatusOf(err)); a module's own handlers may pass 0 for
	// that. The API calls it for the errors it writes itself for a path
	// under Prefix: the guard's 403, the mux's 404 and 405, a failed sync's
	// 503, a consistent read that cannot be served, a panic's 500. A 401
	// never reaches it: the API keeps keystonemiddleware's body and its
	// WWW-Authenticate header on every path, which is what clients
	// re-authenticate on.
	WriteError(w http.ResponseWriter, r *http.Request, status int, err error)
}

// Router registers a module's routes into the Server's one route and
// policy table, so they are guarded, synced and observed exactly as /v1's:
// the caller is authenticated and checked against a, the principal and
// request ID are in the request's context (Caller, RequestID), a GET never
// syncs and honours ?consistent=true, any other method syncs the replica
// first (503 without a leader).
type Router interface {
	// Route serves h at pattern, a net/http ServeMux pattern with a method
	// and a path under the module's prefix, such as
	// "GET /compute/v2.1/servers/{id}". A pattern outside the prefix or
	// registered twice panics: a wiring mistake.
	Route(pattern string, a Access, h http.HandlerFunc)
}

// moduleRouter is the Router a module registers through.
type moduleRouter struct {
	s      *Server
	prefix string
}

func (mr moduleRouter) Route(pattern string, a Access, h http.HandlerFunc) {
	method, path, ok := strings.Cut(pattern, " ")
	if !ok || method == "" || !underPrefix(path, mr.prefix) {
		panic(fmt.Sprintf("api: module route %q is not a method and a path under %s", pattern, mr.prefix))
	}
	if method == http.MethodGet {
		mr.s.read(pattern, a, h)
		return
	}
	mr.s.route(pattern, a, h)
}

// reservedPrefixes are the API's own: no module may claim them.
var reservedPrefixes = []string{"/v1", "/internal", "/identity"}

// mount registers each module's routes; a bad or overlapping prefix panics.
func (s *Server) mount(modules []Module) {
	for _, m := range modules {
		p := m.Prefix()
		if !strings.HasPrefix(p, "/") || strings.HasSuffix(p, "/") || strings.ContainsAny(p, "{} ") {
			panic(fmt.Sprintf("api: module prefix %q must be a path without a trailing slash", p))
		}
		for _, taken := range reservedPrefixes {
			if underPrefix(p, taken) || underPrefix(taken, p) {
				panic(fmt.Sprintf("api: module prefix %q overlaps the API's %s", p, taken))
			}
		}
		for _, other := range s.modules {
			if underPrefix(p, other.Prefix()) || underPrefix(other.Prefix(), p) {
				panic(fmt.Sprintf("api: module prefixes %q and %q overlap", p, other.Prefix()))
			}
		}
		s.modules = append(s.modules, m)
		m.Register(moduleRouter{s: s, prefix: p}, s.ops)
	}
}

// moduleFor is the module whose dialect path is in, or nil for the API's own.
func (s *Server) moduleFor(path string) Module {
	for _, m := range s.modules {
		if underPrefix(path, m.Prefix()) {
			return m
		}
	}
	return nil
}

// underPrefix reports whether path is prefix or below it.
func underPrefix(path, prefix string) bool {
	return path == prefix || strings.HasPrefix(path, prefix+"/")
}
