package nova

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"

	"github.com/shoal-project/shoal/api"
	"github.com/shoal-project/shoal/api/openstack/osapi"
	"github.com/shoal-project/shoal/fsm"
)

// os-quota-sets: 2.1 has every key Nova had then; the network ones go at
// 2.36, the injected_* ones at 2.57 (from the views and from what an
// update may name); 2.75 refuses unknown query parameters. fsm's quota types carry Nova's key
// names as their JSON names, so the views and the update go through JSON
// and name no field: a key fsm adds needs only a line in quotaKeys.

// quotaKeys are the keys of a 2.1 quota set, in Nova's order.
var quotaKeys = []string{
	"cores", "fixed_ips", "floating_ips", "injected_file_content_bytes", "injected_file_path_bytes",
	"injected_files", "instances", "key_pairs", "metadata_items", "ram", "security_group_rules",
	"security_groups", "server_group_members", "server_groups",
}

// quotaKeysGone are the keys Nova filters out from a microversion on.
var quotaKeysGone = []struct {
	major, minor int
	keys         []string
}{
	{2, 36, []string{"fixed_ips", "floating_ips", "security_group_rules", "security_groups"}},
	{2, 57, []string{"injected_file_content_bytes", "injected_file_path_bytes", "injected_files"}},
}

// quotaKeysAt are the keys of a quota set at microversion v.
func quotaKeysAt(v osapi.Version) []string {
	keys := slices.Clone(quotaKeys)
	for _, g := range quotaKeysGone {
		if v.AtLeast(g.major, g.minor) {
			keys = slices.DeleteFunc(keys, func(k string) bool { return slices.Contains(g.keys, k) })
		}
	}
	return keys
}

// QuotaDetail is a key of GET os-quota-sets/{p}/detail.
type QuotaDetail struct {
	Limit    int `json:"limit"`
	InUse    int `json:"in_use"`
	Reserved int `json:"reserved"`
}

func (m *Module) registerQuotas(r api.Router) {
	m.route(r, "GET /os-quota-sets/{project_id}", api.AccessProjectReader, m.showQuota)
	m.route(r, "GET /os-quota-sets/{project_id}/detail", api.AccessProjectReader, m.showQuotaDetail)
	m.route(r, "GET /os-quota-sets/{project_id}/defaults", api.AccessAuthenticated, m.showDefaultQuota)
	m.route(r, "PUT /os-quota-sets/{project_id}", api.AccessAdmin, m.updateQuota)
	m.route(r, "DELETE /os-quota-sets/{project_id}", api.AccessAdmin, m.resetQuota)
}

// asKeys reads a quota type (fsm.QuotaSet, fsm.QuotaUsage) as its JSON
// object: Nova's key → number.
func asKeys(v any) map[string]int {
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("nova: a quota type does not encode: %v", err))
	}
	var out map[string]int
	if err := json.Unmarshal(b, &out); err != nil {
		panic(fmt.Sprintf("nova: a quota type is not an object of numbers: %v", err))
	}
	return out
}

// quotaView is the quota set at v: id (when given) and every key.
func quotaView(v osapi.Version, id string, q fsm.QuotaSet) map[string]any {
	limits := asKeys(q)
	out := map[string]any{}
	if id != "" {
		out["id"] = id
	}
	for _, k := range quotaKeysAt(v) {
		out[k] = limits[k]
	}
	return out
}

func (m *Module) showQuota(w http.ResponseWriter, r *http.Request) {
	var q api.QuotaSetView
	err := onlyQuery(r, "user_id")
	if err == nil {
		q, err = m.ops.Quota(r.Context(), r.PathValue("project_id"))
	}
	if err != nil {
		m.fail(w, r, err)
		return
	}
	api.WriteJSON(w, http.StatusOK, map[string]any{"quota_set": quotaView(osapi.Requested(r.Context()), q.ID, q.QuotaSet)})
}

// showDefaultQuota takes no query parameter from 2.102.
func (m *Module) showDefaultQuota(w http.ResponseWriter, r *http.Request) {
	var q api.QuotaSetView
	err := onlyQuerySince(r, 2, 102)
	if err == nil {
		q, err = m.ops.DefaultQuota(r.Context(), r.PathValue("project_id"))
	}
	if err != nil {
		m.fail(w, r, err)
		return
	}
	api.WriteJSON(w, http.StatusOK, map[string]any{"quota_set": quotaView(osapi.Requested(r.Context()), q.ID, q.QuotaSet)})
}

// usedKeys map the used figures of api's limits to the quota keys they
// count; shoal counts no other per project.
var usedKeys = map[string]string{
	"totalInstancesUsed": "instances", "totalCoresUsed": "cores", "totalRAMUsed": "ram",
	"totalServerGroupsUsed": "server_groups", "totalFloatingIpsUsed": "floating_ips",
}

// quotaFigures are a project's limits and what it uses of them, by quota
// key (the caller's project for ""; another's is an admin's).
func (m *Module) quotaFigures(ctx context.Context, project string) (limits, used map[string]int, err error) {
	l, err := m.ops.Limits(ctx, project)
	if err != nil {
		return nil, nil, err
	}
	if project == "" {
		project = m.ops.Principal(ctx).ProjectID
	}
	q, err := m.ops.Quota(ctx, project)
	if err != nil {
		return nil, nil, err
	}
	used = map[string]int{}
	for name, n := range asKeys(l.Absolute) {
		if k, ok := usedKeys[name]; ok {
			used[k] = n
		}
	}
	return asKeys(q.QuotaSet), used, nil
}

// showQuotaDetail adds what the project uses of each limit (0 for what
// shoal does not count per project); nothing is ever reserved.
func (m *Module) showQuotaDetail(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("project_id")
	var limits, used map[string]int
	err := onlyQuery(r, "user_id")
	if err == nil {
		limits, used, err = m.quotaFigures(r.Context(), id)
	}
	if err != nil {
		m.fail(w, r, err)
		return
	}
	out := map[string]any{"id": id}
	for _, k := range quotaKeysAt(osapi.Requested(r.Context())) {
		out[k] = QuotaDetail{Limit: limits[k], InUse: used[k]}
	}
	api.WriteJSON(w, http.StatusOK, map[string]any{"quota_set": out})
}

// updateQuota takes {"quota_set":{key: n, …, "force"?}} with the keys of
// the requested microversion only; api reads the values (integers or strings of them, -1 or more)
// and, without force, refuses a limit below what the project uses.
func (m *Module) updateQuota(w http.ResponseWriter, r *http.Request) {
	err := onlyQuery(r, "user_id")
	var (
		set map[string]json.RawMessage
		q   api.QuotaSetView
	)
	if err == nil {
		set, err = decodeQuotaSet(w, r)
	}
	if err == nil {
		_, q, err = m.ops.UpdateQuota(r.Context(), r.PathValue("project_id"), set)
	}
	if err != nil {
		m.fail(w, r, err)
		return
	}
	api.WriteJSON(w, http.StatusOK, map[string]any{"quota_set": quotaView(osapi.Requested(r.Context()), "", q.QuotaSet)})
}

// decodeQuotaSet checks the keys against the microversion's schema and turns Nova's
// boolean strings for force into JSON's boolean.
func decodeQuotaSet(w http.ResponseWriter, r *http.Request) (map[string]json.RawMessage, error) {
	body, err := readObject(w, r)
	if err != nil {
		return nil, err
	}
	if err := onlyKeys("", body, "quota_set"); err != nil {
		return nil, err
	}
	set, err := member(body, "quota_set", append(quotaKeysAt(osapi.Requested(r.Context())), "force")...)
	if err != nil {
		return nil, err
	}
	if raw, ok := set["force"]; ok {
		force, err := boolField("quota_set/force", raw)
		if err != nil {
			return nil, err
		}
		set["force"], _ = json.Marshal(force)
	}
	return set, nil
}

func (m *Module) resetQuota(w http.ResponseWriter, r *http.Request) {
	err := onlyQuery(r, "user_id")
	if err == nil {
		_, err = m.ops.ResetQuota(r.Context(), r.PathValue("project_id"))
	}
	if err != nil {
		m.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusAccepted)
}
