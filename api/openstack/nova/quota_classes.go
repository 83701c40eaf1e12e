package nova

import (
	"net/http"
	"slices"

	"github.com/shoal-project/shoal/api"
	"github.com/shoal-project/shoal/api/openstack/osapi"
	"github.com/shoal-project/shoal/fsm"
)

// os-quota-class-sets (an admin's): Nova's quota classes, the "default"
// one being the defaults of every project without its own limits. The
// keys follow the microversion: below 2.50 the server group keys are not
// shown (though an update takes them), 2.50 drops the network keys and
// adds the server group ones, 2.57 drops the injected_* ones.

func (m *Module) registerQuotaClasses(r api.Router) {
	m.route(r, "GET /os-quota-class-sets/{id}", api.AccessAdmin, m.showQuotaClass)
	m.route(r, "PUT /os-quota-class-sets/{id}", api.AccessAdmin, m.updateQuotaClass)
}

var (
	serverGroupQuotaKeys = []string{"server_group_members", "server_groups"}
	networkQuotaKeys     = []string{"fixed_ips", "floating_ips", "security_group_rules", "security_groups"}
	injectedQuotaKeys    = []string{"injected_file_content_bytes", "injected_file_path_bytes", "injected_files"}
)

// quotaClassKeys are the keys a class set has at the requested version
// (shown), and those an update takes (taken).
func quotaClassKeys(r *http.Request) (shown, taken []string) {
	v := osapi.Requested(r.Context())
	without := func(drop ...[]string) []string {
		return slices.DeleteFunc(slices.Clone(quotaKeys), func(k string) bool {
			return slices.ContainsFunc(drop, func(keys []string) bool { return slices.Contains(keys, k) })
		})
	}
	switch {
	case v.AtLeast(2, 57):
		keys := without(networkQuotaKeys, injectedQuotaKeys)
		return keys, keys
	case v.AtLeast(2, 50):
		keys := without(networkQuotaKeys)
		return keys, keys
	default:
		return without(serverGroupQuotaKeys), quotaKeys
	}
}

// quotaClassView is a class set: id (when given) and the keys shown.
func quotaClassView(r *http.Request, id string, q fsm.QuotaSet) map[string]any {
	shown, _ := quotaClassKeys(r)
	limits := asKeys(q)
	out := map[string]any{}
	if id != "" {
		out["id"] = id
	}
	for _, k := range shown {
		out[k] = limits[k]
	}
	return map[string]any{"quota_class_set": out}
}

func (m *Module) showQuotaClass(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	q, err := m.ops.QuotaClass(r.Context(), id)
	if err != nil {
		m.fail(w, r, err)
		return
	}
	api.WriteJSON(w, http.StatusOK, quotaClassView(r, id, q))
}

// updateQuotaClass takes {"quota_class_set":{key: n, …}} with the keys of
// the version; the answer has no id, as Nova's.
func (m *Module) updateQuotaClass(w http.ResponseWriter, r *http.Request) {
	_, taken := quotaClassKeys(r)
	body, err := readObject(w, r)
	if err == nil {
		err = onlyKeys("", body, "quota_class_set")
	}
	if err == nil {
		err = required("", body, "quota_class_set")
	}
	var q fsm.QuotaSet
	if err == nil {
		set, err2 := member(body, "quota_class_set", taken...)
		if err = err2; err == nil {
			_, q, err = m.ops.UpdateQuotaClass(r.Context(), r.PathValue("id"), set)
		}
	}
	if err != nil {
		m.fail(w, r, err)
		return
	}
	api.WriteJSON(w, http.StatusOK, quotaClassView(r, "", q))
}
