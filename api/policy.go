package api

import (
	"context"
	"net/http"

	"github.com/shoal-project/shoal/fsm"
)

// Access is who may call a route: Nova's, Glance's, Neutron's and
// Keystone's default policies. Every route is registered with one (route,
// read, collection, or a Module's Router), so the router is also the
// policy table.
type Access int

const (
	// AccessPublic: no token needed (health, version documents, logging in).
	AccessPublic Access = iota
	// AccessAuthenticated: any valid token, whatever its roles (flavors,
	// validating one's own token).
	AccessAuthenticated
	// AccessProjectReader: reader, member or admin; the handler keeps the
	// caller to its own project's objects unless it is admin.
	AccessProjectReader
	// AccessProjectMember: member or admin; may create, act on and delete
	// its project's objects.
	AccessProjectMember
	// AccessAdmin: the cloud administrator alone (flavors, hosts,
	// hypervisors, the cluster, quotas, identity).
	AccessAdmin
	// AccessNode: another node of the cluster on its own behalf, known by
	// the node certificate it presented (fetching image data from a peer);
	// no token, not even the admin's, opens these routes.
	AccessNode
)

var accessNames = map[Access]string{AccessPublic: "public", AccessAuthenticated: "authenticated",
	AccessProjectReader: "project reader", AccessProjectMember: "project member", AccessAdmin: "admin",
	AccessNode: "node"}

func (a Access) String() string { return accessNames[a] }

// allows reports whether p may call a route of access a.
func (p Principal) allows(a Access) bool {
	switch a {
	case AccessPublic, AccessAuthenticated:
		return true
	case AccessProjectReader:
		return p.Has(fsm.RoleReader)
	case AccessProjectMember:
		return p.Has(fsm.RoleMember)
	case AccessNode:
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
	if a == AccessPublic {
		return r, nil
	}
	var (
		p   Principal
		err error
	)
	if a == AccessNode {
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
	ctx := withPrincipal(r.Context(), p)
	if a != AccessNode {
		ctx = context.WithValue(ctx, tokenKey{}, r.Header.Get(HeaderAuthToken))
	}
	return r.WithContext(ctx), nil
}
