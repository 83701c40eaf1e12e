package nova

import (
	"net/http"

	"github.com/shoal-project/shoal/api"
)

// GET /limits at 2.1: the project's quota limits and usage under Nova's
// absolute-limit names; no rate limits (an empty list, as Nova since
// Newton). An admin may ask for another project with tenant_id.

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
	limits, used, err := m.quotaFigures(r.Context(), r.URL.Query().Get("tenant_id"))
	if err != nil {
		m.fail(w, r, err)
		return
	}
	absolute := map[string]int{}
	for _, l := range absoluteLimits {
		absolute[l.name] = limits[l.key]
	}
	for _, u := range usedLimits {
		absolute[u.name] = used[u.key]
	}
	api.WriteJSON(w, http.StatusOK, map[string]any{"limits": map[string]any{"absolute": absolute, "rate": []any{}}})
}
