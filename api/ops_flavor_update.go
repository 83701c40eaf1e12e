package api

import (
	"context"
	"fmt"
	"maps"
	"net/http"

	"github.com/shoal-project/shoal/fsm"
)

// Flavors after create: visibility of private flavors, their access lists,
// extra specs and description (Nova's os-flavor-access, os-extra_specs and
// 2.55's PUT). Reading follows the flavor's visibility; every change is an
// admin's (the route's access).

// maxRxtxFactor is Nova's bound on rxtx_factor (a float column).
const maxRxtxFactor = 3.40282e+38

// seesFlavor is Flavor.VisibleTo for a caller: admins and nodes see every
// flavor.
func seesFlavor(p Principal, f fsm.Flavor) bool {
	return p.Admin() || p.Node != "" || f.VisibleTo(p.ProjectID)
}

// flavorFor finds a flavor the caller sees by ID, else by its (unique)
// name; a private one it has no access to is absent, so a server create
// naming it is Nova's 400 "Flavor … could not be found.".
func (s *Server) flavorFor(ctx context.Context, ref string) (fsm.Flavor, error) {
	p := Caller(ctx)
	return findVisible(s.state.Flavors(), ref, "flavor", "flavors",
		func(f fsm.Flavor) bool { return seesFlavor(p, f) },
		func(f fsm.Flavor) (string, string) { return f.ID, f.Name })
}

// extras validates and sets the optional fields of a create request.
func (req flavorRequest) extras(f *fsm.Flavor) error {
	if req.Swap != nil {
		if *req.Swap < 0 || *req.Swap > maxFlavorRAM {
			return fmt.Errorf("%w: flavor swap must be from 0 to %d MiB, got %d", fsm.ErrInvalid, maxFlavorRAM, *req.Swap)
		}
		f.Swap = *req.Swap
	}
	if req.Ephemeral != nil {
		if *req.Ephemeral < 0 || *req.Ephemeral > maxFlavorDisk {
			return fmt.Errorf("%w: flavor ephemeral must be from 0 to %d GiB, got %d", fsm.ErrInvalid, maxFlavorDisk, *req.Ephemeral)
		}
		f.Ephemeral = *req.Ephemeral
	}
	if req.RxtxFactor != nil {
		if !(*req.RxtxFactor > 0 && *req.RxtxFactor <= maxRxtxFactor) {
			return fmt.Errorf("%w: flavor rxtx_factor must be above 0 and at most %g", fsm.ErrInvalid, maxRxtxFactor)
		}
		f.RxtxFactor = *req.RxtxFactor
	}
	if req.Description != nil {
		if err := validText("flavor description", *req.Description, fsm.MaxFlavorDescription); err != nil {
			return err
		}
		f.Description = *req.Description
	}
	f.Private = req.IsPublic != nil && !*req.IsPublic
	return nil
}

// FlavorAccessEntry is one project a private flavor is given to (Nova's
// flavor_access item).
type FlavorAccessEntry struct {
	FlavorID string `json:"flavor_id"`
	TenantID string `json:"tenant_id"`
}

// FlavorAccessList is the body of the flavor access calls.
type FlavorAccessList struct {
	FlavorAccess []FlavorAccessEntry `json:"flavor_access"`
}

// ExtraSpecsBody is the body of the whole-map extra spec calls.
type ExtraSpecsBody struct {
	ExtraSpecs map[string]string `json:"extra_specs"`
}

// UpdateFlavor sets a flavor's description (Nova 2.55's PUT; "" clears it).
func (o *Ops) UpdateFlavor(ctx context.Context, ref, description string) (uint64, fsm.Flavor, error) {
	f, err := o.s.flavorFor(ctx, ref)
	if err != nil {
		return 0, f, err
	}
	if err := validText("flavor description", description, fsm.MaxFlavorDescription); err != nil {
		return 0, f, err
	}
	return applyRead(o.s, ctx, &fsm.UpdateFlavor{ID: f.ID, Description: &description}, "flavor", f.ID, o.s.state.Flavor)
}

// FlavorExtraSpecs are the extra specs of a flavor the caller sees (never nil).
func (o *Ops) FlavorExtraSpecs(ctx context.Context, ref string) (map[string]string, error) {
	f, err := o.s.flavorFor(ctx, ref)
	if err != nil {
		return nil, err
	}
	return extraSpecsOf(f), nil
}

// FlavorExtraSpec is one extra spec; a missing key is 404 with Nova's message.
func (o *Ops) FlavorExtraSpec(ctx context.Context, ref, key string) (string, error) {
	f, err := o.s.flavorFor(ctx, ref)
	if err != nil {
		return "", err
	}
	v, ok := f.ExtraSpecs[key]
	if !ok {
		return "", noExtraSpec(f.ID, key)
	}
	return v, nil
}

func noExtraSpec(flavorID, key string) error {
	return fmt.Errorf("%w: Flavor %s has no extra specs with key %s.", fsm.ErrNotFound, flavorID, truncate(key))
}

// SetFlavorExtraSpecs adds or changes extra specs (the others stay) and
// returns them all as applied.
func (o *Ops) SetFlavorExtraSpecs(ctx context.Context, ref string, specs map[string]string) (uint64, map[string]string, error) {
	f, err := o.s.flavorFor(ctx, ref)
	if err != nil {
		return 0, nil, err
	}
	if len(specs) == 0 {
		return 0, nil, fmt.Errorf("%w: no extra specs given", fsm.ErrInvalid)
	}
	if err := fsm.ValidMetadata("extra spec", specs); err != nil {
		return 0, nil, err
	}
	idx, f, err := applyRead(o.s, ctx, &fsm.SetFlavorExtraSpecs{ID: f.ID, Specs: specs}, "flavor", f.ID, o.s.state.Flavor)
	return idx, extraSpecsOf(f), err
}

// DeleteFlavorExtraSpec removes one extra spec, which must be there.
func (o *Ops) DeleteFlavorExtraSpec(ctx context.Context, ref, key string) (uint64, error) {
	f, err := o.s.flavorFor(ctx, ref)
	if err != nil {
		return 0, err
	}
	if _, ok := f.ExtraSpecs[key]; !ok {
		return 0, noExtraSpec(f.ID, key)
	}
	return o.s.apply(ctx, &fsm.DeleteFlavorExtraSpec{ID: f.ID, Key: key})
}

func extraSpecsOf(f fsm.Flavor) map[string]string {
	specs := maps.Clone(f.ExtraSpecs)
	if specs == nil {
		specs = map[string]string{}
	}
	return specs
}

// FlavorAccess lists the projects a private flavor is given to; a public
// flavor has no list (Nova's 404 "Access list not available for public
// flavors.").
func (o *Ops) FlavorAccess(ctx context.Context, ref string) ([]FlavorAccessEntry, error) {
	f, err := o.s.flavorFor(ctx, ref)
	if err != nil {
		return nil, err
	}
	if f.IsPublic() {
		return nil, fmt.Errorf("%w: Access list not available for public flavors.", fsm.ErrNotFound)
	}
	return accessOf(f), nil
}

// AddFlavorAccess gives a project a private flavor and returns the list as
// applied. The project must exist (Nova asks Keystone: 400 otherwise); a
// public flavor and a project already on the list are 409.
func (o *Ops) AddFlavorAccess(ctx context.Context, ref, projectID string) (uint64, []FlavorAccessEntry, error) {
	f, err := o.s.flavorFor(ctx, ref)
	if err != nil {
		return 0, nil, err
	}
	if err := validRef("tenant", projectID); err != nil {
		return 0, nil, err
	}
	if o.knownProject(projectID) != nil {
		return 0, nil, fmt.Errorf("%w: Project ID %s is not a valid project.", fsm.ErrInvalid, truncate(projectID))
	}
	if err := f.CheckAccessChange(projectID, true); err != nil {
		return 0, nil, err
	}
	idx, f, err := applyRead(o.s, ctx, &fsm.AddFlavorAccess{ID: f.ID, ProjectID: projectID}, "flavor", f.ID, o.s.state.Flavor)
	return idx, accessOf(f), err
}

// RemoveFlavorAccess takes a project off a flavor's list (whether the
// project still exists does not matter, as in Nova); one not on it is 404.
func (o *Ops) RemoveFlavorAccess(ctx context.Context, ref, projectID string) (uint64, []FlavorAccessEntry, error) {
	f, err := o.s.flavorFor(ctx, ref)
	if err != nil {
		return 0, nil, err
	}
	if err := f.CheckAccessChange(projectID, false); err != nil {
		return 0, nil, err
	}
	idx, f, err := applyRead(o.s, ctx, &fsm.RemoveFlavorAccess{ID: f.ID, ProjectID: projectID}, "flavor", f.ID, o.s.state.Flavor)
	return idx, accessOf(f), err
}

func accessOf(f fsm.Flavor) []FlavorAccessEntry {
	out := []FlavorAccessEntry{}
	for _, p := range f.Access {
		out = append(out, FlavorAccessEntry{FlavorID: f.ID, TenantID: p})
	}
	return out
}

// The /v1 routes of the above. Extra specs are read by whoever sees the
// flavor (Nova's policy); everything else is an admin's.
func (s *Server) flavorUpdateRoutes() {
	s.route("PUT /v1/flavors/{id}", AccessAdmin, s.updateFlavor)
	s.read("GET /v1/flavors/{id}/extra-specs", AccessAuthenticated, s.listFlavorExtraSpecs)
	s.route("POST /v1/flavors/{id}/extra-specs", AccessAdmin, s.setFlavorExtraSpecs)
	s.read("GET /v1/flavors/{id}/extra-specs/{key}", AccessAuthenticated, s.showFlavorExtraSpec)
	s.route("PUT /v1/flavors/{id}/extra-specs/{key}", AccessAdmin, s.setFlavorExtraSpec)
	s.route("DELETE /v1/flavors/{id}/extra-specs/{key}", AccessAdmin, s.deleteFlavorExtraSpec)
	s.read("GET /v1/flavors/{id}/access", AccessAdmin, s.listFlavorAccess)
	s.route("POST /v1/flavors/{id}/access", AccessAdmin, s.addFlavorAccess)
	s.route("DELETE /v1/flavors/{id}/access/{project_id}", AccessAdmin, s.removeFlavorAccess)
}

// updateFlavor is PUT /v1/flavors/{id} with {"flavor":{"description":…}}.
func (s *Server) updateFlavor(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Flavor *struct {
			Description *string `json:"description"`
		} `json:"flavor"`
	}
	err := decodeBody(w, r, &body)
	if err == nil && (body.Flavor == nil || body.Flavor.Description == nil) {
		err = fmt.Errorf("%w: the body must be {\"flavor\":{\"description\":...}}", fsm.ErrInvalid)
	}
	var idx uint64
	var f fsm.Flavor
	if err == nil {
		idx, f, err = s.ops.UpdateFlavor(r.Context(), r.PathValue("id"), *body.Flavor.Description)
	}
	s.writeFound(w, r, idx, err, func() any { return FlavorResponse{Flavor: f} })
}

func (s *Server) listFlavorExtraSpecs(w http.ResponseWriter, r *http.Request) {
	idx := s.state.Index()
	specs, err := s.ops.FlavorExtraSpecs(r.Context(), r.PathValue("id"))
	s.writeFound(w, r, idx, err, func() any { return ExtraSpecsBody{ExtraSpecs: specs} })
}

// setFlavorExtraSpecs is POST …/extra-specs with {"extra_specs":{…}}; it
// answers every extra spec.
func (s *Server) setFlavorExtraSpecs(w http.ResponseWriter, r *http.Request) {
	var body ExtraSpecsBody
	err := decodeBody(w, r, &body)
	var idx uint64
	var specs map[string]string
	if err == nil {
		idx, specs, err = s.ops.SetFlavorExtraSpecs(r.Context(), r.PathValue("id"), body.ExtraSpecs)
	}
	s.writeFound(w, r, idx, err, func() any { return ExtraSpecsBody{ExtraSpecs: specs} })
}

// showFlavorExtraSpec answers {key: value}, as Nova.
func (s *Server) showFlavorExtraSpec(w http.ResponseWriter, r *http.Request) {
	idx := s.state.Index()
	key := r.PathValue("key")
	v, err := s.ops.FlavorExtraSpec(r.Context(), r.PathValue("id"), key)
	s.writeFound(w, r, idx, err, func() any { return map[string]string{key: v} })
}

// setFlavorExtraSpec is PUT …/extra-specs/{key} with {key: value}: the key
// of the path and only it (Nova's 400 otherwise).
func (s *Server) setFlavorExtraSpec(w http.ResponseWriter, r *http.Request) {
	key := r.PathValue("key")
	var body map[string]string
	err := decodeBody(w, r, &body)
	v, ok := body[key]
	switch {
	case err != nil:
	case len(body) > 1:
		err = fmt.Errorf("%w: Request body contains too many items", fsm.ErrInvalid)
	case !ok:
		err = fmt.Errorf("%w: Request body and URI mismatch", fsm.ErrInvalid)
	}
	var idx uint64
	if err == nil {
		idx, _, err = s.ops.SetFlavorExtraSpecs(r.Context(), r.PathValue("id"), map[string]string{key: v})
	}
	s.writeFound(w, r, idx, err, func() any { return map[string]string{key: v} })
}

func (s *Server) deleteFlavorExtraSpec(w http.ResponseWriter, r *http.Request) {
	idx, err := s.ops.DeleteFlavorExtraSpec(r.Context(), r.PathValue("id"), r.PathValue("key"))
	s.writeNoContent(w, r, idx, err)
}

func (s *Server) listFlavorAccess(w http.ResponseWriter, r *http.Request) {
	idx := s.state.Index()
	list, err := s.ops.FlavorAccess(r.Context(), r.PathValue("id"))
	s.writeFound(w, r, idx, err, func() any { return FlavorAccessList{FlavorAccess: list} })
}

// addFlavorAccess is POST …/access with {"tenant_id":…}; it answers the list.
func (s *Server) addFlavorAccess(w http.ResponseWriter, r *http.Request) {
	var body struct {
		TenantID string `json:"tenant_id"`
	}
	err := decodeBody(w, r, &body)
	var idx uint64
	var list []FlavorAccessEntry
	if err == nil {
		idx, list, err = s.ops.AddFlavorAccess(r.Context(), r.PathValue("id"), body.TenantID)
	}
	s.writeFound(w, r, idx, err, func() any { return FlavorAccessList{FlavorAccess: list} })
}

func (s *Server) removeFlavorAccess(w http.ResponseWriter, r *http.Request) {
	idx, _, err := s.ops.RemoveFlavorAccess(r.Context(), r.PathValue("id"), r.PathValue("project_id"))
	s.writeNoContent(w, r, idx, err)
}
