package nova

import (
	"net/http"
	"slices"

	"github.com/shoal-project/shoal/api"
	"github.com/shoal-project/shoal/api/openstack/osapi"
)

// GET /limits: the project's quota limits and usage under Nova's
// absolute-limit names; no rate limits (an empty list, as Nova since
// Newton). An admin may ask for another project with tenant_id. The
// names of the quota keys a microversion drops go with them (2.36 the
// network ones, 2.57 the injected_* ones), 2.39 drops maxImageMeta, and
// 2.75 refuses unknown query parameters.

// absoluteLimits maps each 2.1 absolute limit to the quota key it shows
// (Nova's limits view builder: image and server metadata both come from
// metadata_items, personality from injected_files).
var absoluteLimits = []struct{ name, key string }{
	{"maxImageMeta", "metadata_items"},
	{"maxPersonality", "injected_files"},
	{"maxPersonalitySize", "injected_file_content_bytes"},
	{"maxSecurityGroupRules", "security_group_rules"},
	{"maxSecurityGroups", "security_groups"},
	{"maxServerGroupMembers", "server_group_members"},
	{"maxServerGroups", "server_groups"},
	{"maxServerMeta", "metadata_items"},
	{"maxTotalCores", "cores"},
	{"maxTotalFloatingIps", "floating_ips"},
	{"maxTotalInstances", "instances"},
	{"maxTotalKeypairs", "key_pairs"},
	{"maxTotalRAMSize", "ram"},
}

// usedLimits maps each 2.1 used figure to the quota key it counts.
// Security groups are Neutron's in Nova (always 0 there); shoal counts
// none per project for this view either.
var usedLimits = []struct{ name, key string }{
	{"totalCoresUsed", "cores"},
	{"totalFloatingIpsUsed", "floating_ips"},
	{"totalInstancesUsed", "instances"},
	{"totalRAMUsed", "ram"},
	{"totalSecurityGroupsUsed", "security_groups"},
	{"totalServerGroupsUsed", "server_groups"},
}

func (m *Module) registerLimits(r api.Router) {
	m.route(r, "GET /limits", api.AccessAuthenticated, m.showLimits)
}

// showLimits is the caller's project's, or with tenant_id (an admin's)
// another's.
func (m *Module) showLimits(w http.ResponseWriter, r *http.Request) {
	var limits, used map[string]int
	err := onlyQuery(r, "tenant_id")
	if err == nil {
		limits, used, err = m.quotaFigures(r.Context(), r.URL.Query().Get("tenant_id"))
	}
	if err != nil {
		m.fail(w, r, err)
		return
	}
	v := osapi.Requested(r.Context())
	keys := quotaKeysAt(v)
	absolute := map[string]int{}
	for _, l := range absoluteLimits {
		if slices.Contains(keys, l.key) && !(l.name == "maxImageMeta" && v.AtLeast(2, 39)) {
			absolute[l.name] = limits[l.key]
		}
	}
	for _, u := range usedLimits {
		if slices.Contains(keys, u.key) {
			absolute[u.name] = used[u.key]
		}
	}
	api.WriteJSON(w, http.StatusOK, map[string]any{"limits": map[string]any{"absolute": absolute, "rate": []any{}}})
}
