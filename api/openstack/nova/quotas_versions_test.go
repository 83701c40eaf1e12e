package nova_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/shoal-project/shoal/api/apitest"
	"github.com/shoal-project/shoal/api/openstack/nova"
	"github.com/shoal-project/shoal/fsm"
)

// quotaSetShapeAt is Tempest's quota set schema at a microversion: v2_1's
// keys less v2_36's network keys and v2_57's injected ones.
func quotaSetShapeAt(minor int, id bool, value any) shape {
	s := quotaSetShape(id, value)["quota_set"].(shape)
	if minor >= 36 {
		s = restDropKeys(s, "fixed_ips", "floating_ips", "security_group_rules", "security_groups")
	}
	if minor >= 57 {
		s = restDropKeys(s, "injected_file_content_bytes", "injected_file_path_bytes", "injected_files")
	}
	return shape{"quota_set": s}
}

// limitsShapeAt is Tempest's limits schema at a microversion (v2_36,
// v2_39, v2_57).
func limitsShapeAt(minor int) shape {
	a := limitsShape["limits"].(shape)["absolute"].(shape)
	if minor >= 36 {
		a = restDropKeys(a, "maxSecurityGroupRules", "maxSecurityGroups", "maxTotalFloatingIps", "totalFloatingIpsUsed",
			"totalSecurityGroupsUsed")
	}
	if minor >= 39 {
		a = restDropKeys(a, "maxImageMeta")
	}
	if minor >= 57 {
		a = restDropKeys(a, "maxPersonality", "maxPersonalitySize")
	}
	return shape{"limits": shape{"rate": []any{"any"}, "absolute": a}}
}

func TestQuotasAndLimitsV236V239V257(t *testing.T) {
	e := apitest.New(t, nova.NewUpTo("2.100"))
	alpha := e.AddTenant(t, "alpha", fsm.RoleMember)
	admin := apitest.AdminToken
	path := "/compute/v2.1/os-quota-sets/" + alpha.ProjectID
	detail := shape{"reserved": "integer", "limit": "integer", "in_use": "integer"}
	for _, minor := range []int{35, 36, 38, 39, 56, 57, 100} {
		v := restAt(fmt.Sprintf("2.%d", minor))
		_, raw := e.Do(t, "GET", path, "", alpha.Token, v...)
		checkShape(t, fmt.Sprintf("show 2.%d", minor), raw, quotaSetShapeAt(minor, true, "integer"))
		_, raw = e.Do(t, "GET", path+"/defaults", "", alpha.Token, v...)
		checkShape(t, fmt.Sprintf("defaults 2.%d", minor), raw, quotaSetShapeAt(minor, true, "integer"))
		_, raw = e.Do(t, "GET", path+"/detail", "", alpha.Token, v...)
		checkShape(t, fmt.Sprintf("detail 2.%d", minor), raw, quotaSetShapeAt(minor, true, detail))
		resp, raw := e.Do(t, "PUT", path, `{"quota_set":{"instances":12}}`, admin, v...)
		if resp.StatusCode != 200 {
			t.Fatalf("update at 2.%d: %d %s", minor, resp.StatusCode, raw)
		}
		checkShape(t, fmt.Sprintf("update 2.%d", minor), raw, quotaSetShapeAt(minor, false, "integer"))
		_, raw = e.Do(t, "GET", "/compute/v2.1/limits", "", alpha.Token, v...)
		checkShape(t, fmt.Sprintf("limits 2.%d", minor), raw, limitsShapeAt(minor))
	}
	for _, c := range []struct {
		version, body string
		status        int
	}{
		{"2.35", `{"quota_set":{"floating_ips":5}}`, 200},
		{"2.36", `{"quota_set":{"floating_ips":5}}`, 400},
		{"2.36", `{"quota_set":{"security_groups":5}}`, 400},
		{"2.56", `{"quota_set":{"injected_files":5}}`, 200},
		{"2.57", `{"quota_set":{"injected_files":5}}`, 400},
		{"2.57", `{"quota_set":{"injected_file_path_bytes":5}}`, 400},
	} {
		resp, raw := e.Do(t, "PUT", path, c.body, admin, restAt(c.version)...)
		if resp.StatusCode != c.status || c.status == 400 && !strings.HasPrefix(faultMessage(t, raw), "Invalid input for field/attribute quota_set.") {
			t.Errorf("%s at %s: %d %s", c.body, c.version, resp.StatusCode, raw)
		}
	}
}

func TestQuotasAndLimitsV275UnknownQuery(t *testing.T) {
	e := apitest.New(t, nova.NewUpTo("2.100"))
	alpha := e.AddTenant(t, "alpha", fsm.RoleMember)
	admin := apitest.AdminToken
	path := "/compute/v2.1/os-quota-sets/" + alpha.ProjectID
	for _, c := range []struct{ method, path, body string }{
		{"GET", path, ""},
		{"GET", path + "/detail", ""},
		{"PUT", path, `{"quota_set":{"instances":12}}`},
		{"DELETE", path, ""},
		{"GET", "/compute/v2.1/limits", ""},
	} {
		if resp, raw := e.Do(t, c.method, c.path+"?foo=1", c.body, admin, restAt("2.74")...); resp.StatusCode >= 300 {
			t.Errorf("%s %s?foo=1 at 2.74: %d %s", c.method, c.path, resp.StatusCode, raw)
		}
		resp, raw := e.Do(t, c.method, c.path+"?foo=1", c.body, admin, restAt("2.75")...)
		if resp.StatusCode != 400 || faultMessage(t, raw) != "Additional properties are not allowed ('foo' was unexpected)" {
			t.Errorf("%s %s?foo=1 at 2.75: %d %s", c.method, c.path, resp.StatusCode, raw)
		}
	}
	if resp, raw := e.Do(t, "GET", "/compute/v2.1/limits?tenant_id="+alpha.ProjectID, "", admin, restAt("2.75")...); resp.StatusCode != 200 {
		t.Errorf("limits tenant_id at 2.75: %d %s", resp.StatusCode, raw)
	}
	if resp, raw := e.Do(t, "GET", path+"?user_id="+alpha.UserID, "", admin, restAt("2.75")...); resp.StatusCode != 200 {
		t.Errorf("quota user_id at 2.75: %d %s", resp.StatusCode, raw)
	}
	// defaults keeps accepting anything until 2.102.
	if resp, raw := e.Do(t, "GET", path+"/defaults?foo=1", "", admin, restAt("2.100")...); resp.StatusCode != 200 {
		t.Errorf("defaults ?foo=1 at 2.100: %d %s", resp.StatusCode, raw)
	}
}

// TestQueryV2102 covers the two routes of ours whose query schemas close
// only at 2.102: server group show and quota defaults.
func TestQueryV2102(t *testing.T) {
	e := apitest.New(t, nova.NewUpTo("2.102"))
	alpha := e.AddTenant(t, "alpha", fsm.RoleMember)
	resp, raw := e.Do(t, "POST", "/compute/v2.1/os-server-groups", `{"server_group":{"name":"g","policies":["affinity"]}}`, alpha.Token)
	if resp.StatusCode != 200 {
		t.Fatalf("create: %d %s", resp.StatusCode, raw)
	}
	id := strings.Split(strings.Split(string(raw), `"id":"`)[1], `"`)[0]
	for _, path := range []string{"/compute/v2.1/os-server-groups/" + id, "/compute/v2.1/os-quota-sets/" + alpha.ProjectID + "/defaults"} {
		if resp, raw := e.Do(t, "GET", path+"?foo=1", "", alpha.Token, restAt("2.101")...); resp.StatusCode != 200 {
			t.Errorf("%s?foo=1 at 2.101: %d %s", path, resp.StatusCode, raw)
		}
		if resp, raw := e.Do(t, "GET", path+"?foo=1", "", alpha.Token, restAt("2.102")...); resp.StatusCode != 400 ||
			faultMessage(t, raw) != "Additional properties are not allowed ('foo' was unexpected)" {
			t.Errorf("%s?foo=1 at 2.102: %d %s", path, resp.StatusCode, raw)
		}
	}
}
