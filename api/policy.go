package api

import (
	"net/http"

	"github.com/shoal-project/shoal/fsm"
)

// access is who may call a route: Nova's and Keystone's default policies.
// Every route is registered with one (route, read, collection), so the
// router is also the policy table.
type access int

const (
	// public: no token needed (health, version documents, logging in).
	public access = iota
	// authenticated: any valid token, whatever its roles (flavors, validating
	// one's own token).
	authenticated
	// projectReader: reader, member or admin; the handler keeps the caller
	// to its own project's objects unless it is admin.
	projectReader
	// projectMember: member or admin; may create, act on and delete its
	// project's objects.
	projectMember
	// adminOnly: the cloud administrator alone (flavors, hosts, hypervisors,
	// the cluster, quotas, identity).
	adminOnly
	// nodeOnly: another node of the cluster on its own behalf, known by the
	// node certificate it presented (fetching image data from a peer); no
	// token, not even the admin's, opens these routes.
	nodeOnly
)

var accessNames = map[access]string{public: "public", authenticated: "authenticated",
	projectReader: "project reader", projectMember: "project member", adminOnly: "admin",
	nodeOnly: "node"}

func (a access) String() string { return accessNames[a] }

// allows reports whether p may call a route of access a.
func (p Principal) allows(a access) bool {
	switch a {
	case public, authenticated:
		return true
	case projectReader:
		return p.Has(fsm.RoleReader)
	case projectMember:
		return p.Has(fsm.RoleMember)
	case nodeOnly:
		return p.Node != ""
	}
	return p.Admin()
}

// guard authenticates the request when its route needs it and checks the
// caller's roles against the route's access; the principal goes into the
// request's context. A nil error means serve it.
func (s *Server) guard(r *http.Request, pattern string) (*http.Request, error) {
	a, ok := s.access[pattern]
	if !ok {
		// A route registered around route/read/collection: a wiring bug,
		// refused rather than served open.
		return r, errPolicy(r)
	}
	if a == public {
		return r, nil
	}
	var (
		p   Principal
		err error
	)
	if a == nodeOnly {
		p, err = s.authenticatePeer(r)
	} else {
		p, err = s.authenticate(r)
	}
	if err != nil {
		return r, err
	}
	if !p.allows(a) {
		return r, errPolicy(r)
	}
	return r.WithContext(withPrincipal(r.Context(), p)), nil
}
