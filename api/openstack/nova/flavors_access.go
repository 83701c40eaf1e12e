package nova

import (
	"context"
	"encoding/json"
	"net/http"

	"github.com/shoal-project/shoal/api"
)

// os-flavor-access: which projects see a private flavor (admin only).

// FlavorAccess is an entry of a flavor's access list.
type FlavorAccess struct {
	FlavorID string `json:"flavor_id"`
	TenantID string `json:"tenant_id"`
}

func (m *Module) registerFlavorAccess(r api.Router) {
	m.route(r, "GET /flavors/{id}/os-flavor-access", api.AccessAdmin, m.listFlavorAccess)
	m.route(r, "POST /flavors/{id}/action", api.AccessAdmin, m.flavorAction)
}

func accessList(entries []api.FlavorAccessEntry) api.FlavorAccessList {
	if entries == nil {
		entries = []api.FlavorAccessEntry{}
	}
	return api.FlavorAccessList{FlavorAccess: entries}
}

func (m *Module) listFlavorAccess(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if _, err := m.ops.Flavor(r.Context(), id); err != nil {
		m.fail(w, r, flavorNotFound(err, id))
		return
	}
	entries, err := m.ops.FlavorAccess(r.Context(), id)
	if err != nil {
		m.fail(w, r, err)
		return
	}
	api.WriteJSON(w, http.StatusOK, accessList(entries))
}

// flavorAction is addTenantAccess or removeTenantAccess, each
// {"<action>":{"tenant":"<project id>"}}; it answers the access list.
func (m *Module) flavorAction(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	body, err := readObject(w, r)
	if err == nil {
		_, err = m.ops.Flavor(r.Context(), id)
		err = flavorNotFound(err, id)
	}
	if err != nil {
		m.fail(w, r, err)
		return
	}
	if len(body) != 1 {
		m.fail(w, r, badRequest("There is no such action: %s", actionNames(body)))
		return
	}
	for action := range body {
		var change func(ctx context.Context, ref, project string) (uint64, []api.FlavorAccessEntry, error)
		switch action {
		case "addTenantAccess":
			change = m.ops.AddFlavorAccess
		case "removeTenantAccess":
			change = m.ops.RemoveFlavorAccess
		default:
			m.fail(w, r, badRequest("There is no such action: %s", action))
			return
		}
		args, err := member(body, action, "tenant")
		if err == nil {
			err = required(action, args, "tenant")
		}
		var project string
		if err == nil {
			project, err = stringField(action+"/tenant", args["tenant"])
		}
		var entries []api.FlavorAccessEntry
		if err == nil {
			_, entries, err = change(r.Context(), id, project)
		}
		if err != nil {
			m.fail(w, r, err)
			return
		}
		api.WriteJSON(w, http.StatusOK, accessList(entries))
	}
}

func actionNames(body map[string]json.RawMessage) string {
	b, _ := json.Marshal(body)
	return truncated(b)
}
