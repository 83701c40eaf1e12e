package api

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/shoal-project/shoal/fsm"
)

// Tenancy: who owns what, and what a caller may see of it. The rule itself
// is Principal.Sees (its own project's objects, or any for an admin; those
// without a project only for an admin) and, for images, fsm's
// Image.VisibleTo (public ones and those made before identity too). Every
// handler looks objects up through the helpers below, so another project's
// object is absent (404) everywhere, as in Nova and Glance.

// serverFor finds a server the caller may see; another project's is absent.
func (s *Server) serverFor(ctx context.Context, id string) (fsm.Instance, error) {
	inst, err := s.state.Instance(id)
	if err == nil && !Caller(ctx).Sees(inst.ProjectID) {
		return fsm.Instance{}, fmt.Errorf("%w: server %q", fsm.ErrNotFound, id)
	}
	return inst, err
}

// serverGroupFor finds a server group the caller may see by ID, else by a
// name unique among those it sees.
func (s *Server) serverGroupFor(ctx context.Context, ref string) (fsm.ServerGroup, error) {
	p := Caller(ctx)
	return findVisible(s.state.ServerGroups(), ref, "server group", "server groups",
		func(g fsm.ServerGroup) bool { return p.Sees(g.ProjectID) },
		func(g fsm.ServerGroup) (string, string) { return g.ID, g.Name })
}

// seesImage is Glance's read rule: an admin and the cluster's own nodes
// (fetching data for a build) see every image; a project sees its own,
// public ones and those made before identity.
func seesImage(p Principal, img fsm.Image) bool {
	return p.Admin() || p.Node != "" || img.VisibleTo(p.ProjectID)
}

// imageFor finds an image the caller may see by ID, else by a name unique
// among those it sees.
func (s *Server) imageFor(ctx context.Context, ref string) (fsm.Image, error) {
	p := Caller(ctx)
	return findVisible(s.state.Images(), ref, "image", "images",
		func(img fsm.Image) bool { return seesImage(p, img) },
		func(img fsm.Image) (string, string) { return img.ID, img.Name })
}

// imageToChange finds an image the caller may change (upload, delete): one
// it cannot see is absent (404); one it sees but does not own (a public
// image of another project, or one made before identity) is forbidden (403),
// as Glance answers.
func (s *Server) imageToChange(ctx context.Context, ref string) (fsm.Image, error) {
	img, err := s.imageFor(ctx, ref)
	if err == nil && !Caller(ctx).Sees(img.ProjectID) {
		return fsm.Image{}, fmt.Errorf("%w: you are not permitted to modify image %s: it belongs to another project", fsm.ErrForbidden, img.ID)
	}
	return img, err
}

// findVisible finds ref among the items keep allows: by ID first, then by
// a name only one of them has. Objects the caller may not see neither match
// nor make a name ambiguous, so their existence does not leak.
func findVisible[T any](items []T, ref, kind, kinds string, keep func(T) bool, key func(T) (id, name string)) (T, error) {
	var match []T
	for _, it := range items {
		if !keep(it) {
			continue
		}
		id, name := key(it)
		if id == ref {
			return it, nil
		}
		if name == ref {
			match = append(match, it)
		}
	}
	var zero T
	switch len(match) {
	case 0:
		return zero, fmt.Errorf("%w: %s %q", fsm.ErrNotFound, kind, ref)
	case 1:
		return match[0], nil
	}
	return zero, fmt.Errorf("%w: %d %s are named %q; use the ID", fsm.ErrConflict, len(match), kinds, ref)
}

// tenantScope is which projects' objects a listing shows: all of them
// (all ""), or one.
type tenantScope struct {
	all     bool
	project string
}

func (sc tenantScope) has(projectID string) bool { return sc.all || sc.project == projectID }

// allows reports whether p may list sc: its own project, or any for an admin.
func (sc tenantScope) allows(p Principal) bool {
	return p.Admin() || (!sc.all && sc.project == p.ProjectID)
}

// scopeOf is the scope of a listing of all projects or of project ("": the
// caller's own), refused (403) unless p may list it.
func scopeOf(p Principal, all bool, project, what string) (tenantScope, error) {
	sc := tenantScope{all: all, project: p.ProjectID}
	if project != "" {
		sc.all, sc.project = false, project
	}
	if !sc.allows(p) {
		return sc, errForbiddenTo("listing " + what + " of other projects")
	}
	return sc, nil
}

// listScope reads Nova's scope parameters of a listing: allKey
// (all_tenants for servers, all_projects for server groups) with any value
// oslo's bool_from_string takes, and for servers a project_id/tenant_id
// filter. Without them a caller lists its own project. Asking for all
// projects, or another project than one's own, is an admin's right: anyone
// else gets Nova's policy error (403).
func listScope(r *http.Request, q url.Values, allKey string, filters ...string) (tenantScope, error) {
	p := Caller(r.Context())
	sc := tenantScope{project: p.ProjectID}
	if q.Has(allKey) {
		all, err := parseBool(allKey, q.Get(allKey))
		if err != nil {
			return sc, err
		}
		sc.all = all
	}
	for _, k := range filters {
		if v := q.Get(k); v != "" {
			sc.all, sc.project = false, v
		}
	}
	if !sc.allows(p) {
		return sc, errPolicy(r)
	}
	return sc, nil
}

// onlyParams refuses query parameters other than known, so a typo is an
// error rather than an unfiltered list.
func onlyParams(q url.Values, known ...string) error {
	for k := range q {
		if !slices.Contains(known, k) {
			return fmt.Errorf("%w: unknown query parameter %q (use %s)", fsm.ErrInvalid, truncate(k), strings.Join(known, ", "))
		}
	}
	return nil
}

// parseBool is oslo's strict bool_from_string, which Nova uses for
// all_tenants: an empty value counts as true (the parameter is present).
func parseBool(key, v string) (bool, error) {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "", "1", "t", "true", "on", "y", "yes":
		return true, nil
	case "0", "f", "false", "off", "n", "no":
		return false, nil
	}
	return false, fmt.Errorf("%w: %s %q is not a boolean (use 1/0, true/false, yes/no, on/off)", fsm.ErrInvalid, key, truncate(v))
}
