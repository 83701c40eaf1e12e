package nova

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/shoal-project/shoal/api"
	"github.com/shoal-project/shoal/api/openstack/osapi"
	"github.com/shoal-project/shoal/fsm"
)

// os-server-groups. Microversions: 2.1 takes and shows the one policy as
// a one-element "policies" list, with an always-empty metadata; 2.13 adds
// project_id and user_id; 2.15 accepts the soft policies; 2.64 replaces
// policies and metadata with "policy" and "rules" (max_server_per_host,
// anti-affinity only); 2.75 refuses unknown query parameters on the list.
// The list pages with limit and offset at every version.

// ServerGroup is a server group's view; which keys it has depends on the
// microversion (see serverGroupView).
type ServerGroup struct {
	ID        string             `json:"id"`
	Name      string             `json:"name"`
	Policies  []string           `json:"policies,omitempty"`
	Policy    string             `json:"policy,omitempty"`
	Rules     *ServerGroupRules  `json:"rules,omitempty"`
	Members   []string           `json:"members"`
	Metadata  *map[string]string `json:"metadata,omitempty"`
	ProjectID *string            `json:"project_id,omitempty"`
	UserID    *string            `json:"user_id,omitempty"`
}

// ServerGroupRules are 2.64's rules: {} unless max_server_per_host is set.
type ServerGroupRules struct {
	MaxServerPerHost int `json:"max_server_per_host,omitempty"`
}

func (m *Module) registerServerGroups(r api.Router) {
	m.route(r, "GET /os-server-groups", api.AccessProjectReader, m.listServerGroups)
	m.route(r, "POST /os-server-groups", api.AccessProjectMember, m.createServerGroup)
	m.route(r, "GET /os-server-groups/{id}", api.AccessProjectReader, m.showServerGroup)
	m.route(r, "DELETE /os-server-groups/{id}", api.AccessProjectMember, m.deleteServerGroup)
}

func serverGroupView(v osapi.Version, g fsm.ServerGroup) ServerGroup {
	members := g.Members
	if members == nil {
		members = []string{}
	}
	out := ServerGroup{ID: g.ID, Name: g.Name, Members: members}
	if v.AtLeast(2, 64) {
		out.Policy, out.Rules = g.Policy, &ServerGroupRules{MaxServerPerHost: g.MaxServerPerHost}
	} else {
		out.Policies, out.Metadata = []string{g.Policy}, &map[string]string{}
	}
	if v.AtLeast(2, 13) {
		out.ProjectID, out.UserID = &g.ProjectID, &g.UserID
	}
	return out
}

// listServerGroups shows the caller's project's groups, or every
// project's for an admin asking all_projects; Nova ignores all_projects
// from anyone else rather than refusing it. offset and limit page it as
// Nova's common.limited does.
func (m *Module) listServerGroups(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	err := onlyQuery(r, "all_projects", "limit", "offset")
	if err == nil {
		err = nonNegative(q, "limit", "offset")
	}
	var groups []fsm.ServerGroup
	if err == nil {
		all := q.Has("all_projects") && m.ops.Principal(r.Context()).Admin()
		groups, err = m.ops.ServerGroups(r.Context(), all)
	}
	if err != nil {
		m.fail(w, r, err)
		return
	}
	groups = limited(groups, q)
	v := osapi.Requested(r.Context())
	out := []ServerGroup{}
	for _, g := range groups {
		out = append(out, serverGroupView(v, g))
	}
	api.WriteJSON(w, http.StatusOK, map[string][]ServerGroup{"server_groups": out})
}

// limited is Nova's common.limited: items from offset, at most limit (0
// or none: maxPage) long. The values are already checked digits.
func limited[T any](items []T, q interface{ Get(string) string }) []T {
	offset, _ := strconv.Atoi(q.Get("offset"))
	limit, _ := strconv.Atoi(q.Get("limit"))
	if limit == 0 || limit > maxPage {
		limit = maxPage
	}
	if offset >= len(items) {
		return items[:0]
	}
	return items[offset:min(len(items), offset+limit)]
}

// showServerGroup takes no query parameter from 2.102 (Nova's show_query
// stays open until then).
func (m *Module) showServerGroup(w http.ResponseWriter, r *http.Request) {
	if err := onlyQuerySince(r, 2, 102); err != nil {
		m.fail(w, r, err)
		return
	}
	g, err := m.ops.ServerGroup(r.Context(), r.PathValue("id"))
	if err != nil {
		m.fail(w, r, serverGroupNotFound(err, r.PathValue("id")))
		return
	}
	api.WriteJSON(w, http.StatusOK, map[string]ServerGroup{"server_group": serverGroupView(osapi.Requested(r.Context()), g)})
}

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
	api.WriteJSON(w, http.StatusOK, map[string]ServerGroup{"server_group": serverGroupView(osapi.Requested(r.Context()), g)})
}

// serverGroupPolicies are the policies a create may name at v, in the
// order Nova's schema lists them.
func serverGroupPolicies(v osapi.Version) []string {
	if v.AtLeast(2, 15) {
		return []string{fsm.PolicyAntiAffinity, fsm.PolicyAffinity, fsm.PolicySoftAntiAffinity, fsm.PolicySoftAffinity}
	}
	return []string{fsm.PolicyAntiAffinity, fsm.PolicyAffinity}
}

func notOneOf(value string, allowed []string) string {
	return fmt.Sprintf("'%s' is not one of ['%s']", value, strings.Join(allowed, "', '"))
}

// decodeServerGroup applies Nova's create schema at the requested
// microversion: {"name", "policies":[P]} before 2.64, {"name", "policy",
// "rules"?} from it.
func decodeServerGroup(w http.ResponseWriter, r *http.Request) (api.ServerGroupCreate, error) {
	v := osapi.Requested(r.Context())
	var req api.ServerGroupCreate
	body, err := readObject(w, r)
	if err != nil {
		return req, err
	}
	if err := onlyKeys("", body, "server_group"); err != nil {
		return req, err
	}
	keys := []string{"name", "policies"}
	if v.AtLeast(2, 64) {
		keys = []string{"name", "policy", "rules"}
	}
	sg, err := member(body, "server_group", keys...)
	if err != nil {
		return req, err
	}
	if err := required("server_group", sg, keys[:2]...); err != nil {
		return req, err
	}
	if req.Name, err = stringField("name", sg["name"]); err != nil {
		return req, err
	}
	allowed := serverGroupPolicies(v)
	if v.AtLeast(2, 64) {
		if req.Policy, err = stringField("policy", sg["policy"]); err != nil {
			return req, err
		}
		if !slices.Contains(allowed, req.Policy) {
			return req, invalidInput("policy", sg["policy"], notOneOf(req.Policy, allowed))
		}
		if raw, ok := sg["rules"]; ok {
			req.MaxServerPerHost, err = decodeRules(raw)
		}
		return req, err
	}
	var policies []string
	if json.Unmarshal(sg["policies"], &policies) != nil || len(policies) != 1 {
		return req, invalidInput("policies", sg["policies"], "It must be a list of exactly one policy")
	}
	if !slices.Contains(allowed, policies[0]) {
		return req, invalidInput("policies/0", sg["policies"], notOneOf(policies[0], allowed))
	}
	req.Policy = policies[0]
	return req, nil
}

// decodeRules reads 2.64's rules: an object with at most
// max_server_per_host, a positive integer (or a string of one).
func decodeRules(raw json.RawMessage) (int, error) {
	rules, err := member(map[string]json.RawMessage{"rules": raw}, "rules", "max_server_per_host")
	if err != nil {
		return 0, err
	}
	n, ok := rules["max_server_per_host"]
	if !ok {
		return 0, nil
	}
	return intField("max_server_per_host", n, 1)
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
