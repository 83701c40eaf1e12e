package nova

import (
	"encoding/json"
	"net/http"

	"github.com/shoal-project/shoal/api"
	"github.com/shoal-project/shoal/fsm"
)

// os-server-groups at 2.1: one policy, given and shown as a one-element
// "policies" list (2.64 makes it "policy"); affinity and anti-affinity
// only (the soft ones come with 2.15); metadata is always {}.

// ServerGroup is a server group at 2.1.
type ServerGroup struct {
	ID       string            `json:"id"`
	Name     string            `json:"name"`
	Policies []string          `json:"policies"`
	Members  []string          `json:"members"`
	Metadata map[string]string `json:"metadata"`
}

func (m *Module) registerServerGroups(r api.Router) {
	m.route(r, "GET /os-server-groups", api.AccessProjectReader, m.listServerGroups)
	m.route(r, "POST /os-server-groups", api.AccessProjectMember, m.createServerGroup)
	m.route(r, "GET /os-server-groups/{id}", api.AccessProjectReader, m.showServerGroup)
	m.route(r, "DELETE /os-server-groups/{id}", api.AccessProjectMember, m.deleteServerGroup)
}

func serverGroupView(g fsm.ServerGroup) ServerGroup {
	members := g.Members
	if members == nil {
		members = []string{}
	}
	return ServerGroup{ID: g.ID, Name: g.Name, Policies: []string{g.Policy}, Members: members, Metadata: map[string]string{}}
}

// listServerGroups shows the caller's project's groups, or every
// project's for an admin asking all_projects; Nova ignores all_projects
// from anyone else rather than refusing it.
func (m *Module) listServerGroups(w http.ResponseWriter, r *http.Request) {
	all := r.URL.Query().Has("all_projects") && m.ops.Principal(r.Context()).Admin()
	groups, err := m.ops.ServerGroups(r.Context(), all)
	if err != nil {
		m.fail(w, r, err)
		return
	}
	out := []ServerGroup{}
	for _, g := range groups {
		out = append(out, serverGroupView(g))
	}
	api.WriteJSON(w, http.StatusOK, map[string][]ServerGroup{"server_groups": out})
}

func (m *Module) showServerGroup(w http.ResponseWriter, r *http.Request) {
	g, err := m.ops.ServerGroup(r.Context(), r.PathValue("id"))
	if err != nil {
		m.fail(w, r, serverGroupNotFound(err, r.PathValue("id")))
		return
	}
	api.WriteJSON(w, http.StatusOK, map[string]ServerGroup{"server_group": serverGroupView(g)})
}

// createServerGroup takes {"server_group":{"name", "policies":[P]}}.
func (m *Module) createServerGroup(w http.ResponseWriter, r *http.Request) {
	req, err := decodeServerGroup(w, r)
	var g fsm.ServerGroup
	if err == nil {
		_, g, err = m.ops.CreateServerGroup(r.Context(), req)
	}
	if err != nil {
		m.fail(w, r, err)
		return
	}
	api.WriteJSON(w, http.StatusOK, map[string]ServerGroup{"server_group": serverGroupView(g)})
}

// decodeServerGroup applies Nova's 2.1 schema: policies holds exactly one
// of affinity and anti-affinity.
func decodeServerGroup(w http.ResponseWriter, r *http.Request) (api.ServerGroupCreate, error) {
	var req api.ServerGroupCreate
	body, err := readObject(w, r)
	if err != nil {
		return req, err
	}
	if err := onlyKeys("", body, "server_group"); err != nil {
		return req, err
	}
	sg, err := member(body, "server_group", "name", "policies")
	if err != nil {
		return req, err
	}
	if err := required("server_group", sg, "name", "policies"); err != nil {
		return req, err
	}
	if req.Name, err = stringField("name", sg["name"]); err != nil {
		return req, err
	}
	var policies []string
	if json.Unmarshal(sg["policies"], &policies) != nil || len(policies) != 1 {
		return req, invalidInput("policies", sg["policies"], "It must be a list of exactly one policy")
	}
	switch policies[0] {
	case fsm.PolicyAffinity, fsm.PolicyAntiAffinity:
	default:
		return req, invalidInput("policies/0", sg["policies"], "'"+policies[0]+"' is not one of ['anti-affinity', 'affinity']")
	}
	req.Policy = policies[0]
	return req, nil
}

func (m *Module) deleteServerGroup(w http.ResponseWriter, r *http.Request) {
	if _, err := m.ops.DeleteServerGroup(r.Context(), r.PathValue("id")); err != nil {
		m.fail(w, r, serverGroupNotFound(err, r.PathValue("id")))
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// serverGroupNotFound words a missing group as Nova does.
func serverGroupNotFound(err error, id string) error {
	if api.StatusOf(err) == http.StatusNotFound {
		return &fault{status: http.StatusNotFound, message: "Instance group " + id + " could not be found."}
	}
	return err
}
