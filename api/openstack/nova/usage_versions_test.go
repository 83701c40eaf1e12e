package nova_test

import (
	"strings"
	"testing"
	"time"

	"github.com/shoal-project/shoal/api/apitest"
	"github.com/shoal-project/shoal/api/openstack/nova"
	"github.com/shoal-project/shoal/fsm"
)

// usageIDs are the server IDs a usage answer lists, in order.
func usageIDs(t *testing.T, raw []byte) string {
	t.Helper()
	var body struct {
		List []struct {
			ServerUsages []struct {
				ID string `json:"instance_id"`
			} `json:"server_usages"`
		} `json:"tenant_usages"`
		One struct {
			ServerUsages []struct {
				ID string `json:"instance_id"`
			} `json:"server_usages"`
		} `json:"tenant_usage"`
	}
	decode(t, raw, &body)
	var ids []string
	for _, u := range body.List {
		for _, s := range u.ServerUsages {
			ids = append(ids, s.ID[len(s.ID)-1:])
		}
	}
	for _, s := range body.One.ServerUsages {
		ids = append(ids, s.ID[len(s.ID)-1:])
	}
	return strings.Join(ids, ",")
}

func TestUsageV240PagingAndV275(t *testing.T) {
	e := apitest.New(t, nova.NewUpTo("2.100"))
	img := e.SeedCompute(t)
	alpha := e.AddTenant(t, "alpha", fsm.RoleMember)
	beta := e.AddTenant(t, "beta", fsm.RoleMember)
	for _, s := range []struct {
		tenant   string
		id, name string
	}{{"alpha", "5e000000-0000-4000-8000-000000000003", "c"}, {"alpha", "5e000000-0000-4000-8000-000000000001", "a"},
		{"beta", "5e000000-0000-4000-8000-000000000002", "b"}} {
		tenant := alpha
		if s.tenant == "beta" {
			tenant = beta
		}
		e.SeedServer(t, tenant, s.id, s.name, img.ID, apitest.NodeName)
	}
	admin := apitest.AdminToken
	q := "?start=" + apitest.SeedTime.Format("2006-01-02T15:04:05") + "&end=" +
		apitest.SeedTime.Add(2*time.Hour).Format("2006-01-02T15:04:05")
	list := "/compute/v2.1/os-simple-tenant-usage"
	links := []any{shape{"href": "string", "rel": "string"}}

	_, raw := e.Do(t, "GET", list+q+"&detailed=1&limit=2", "", admin, restAt("2.40")...)
	checkShape(t, "list 2.40", raw, shape{"tenant_usages": []any{tenantUsageShape(true)}, "tenant_usages_links": links})
	if usageIDs(t, raw) != "1,2" || !strings.Contains(string(raw), "marker=5e000000-0000-4000-8000-000000000002") {
		t.Errorf("first page: %s", raw)
	}
	_, raw = e.Do(t, "GET", list+q+"&detailed=1&limit=2&marker=5e000000-0000-4000-8000-000000000002", "", admin, restAt("2.40")...)
	if usageIDs(t, raw) != "3" || strings.Contains(string(raw), "links") {
		t.Errorf("last page: %s", raw)
	}
	_, raw = e.Do(t, "GET", list+q+"&detailed=1&limit=2", "", admin, restAt("2.39")...) // not paged before 2.40
	if usageIDs(t, raw) != "1,3,2" || strings.Contains(string(raw), "links") {          // grouped by project
		t.Errorf("2.39: %s", raw)
	}
	show := list + "/" + alpha.ProjectID
	_, raw = e.Do(t, "GET", show+q+"&limit=1", "", alpha.Token, restAt("2.40")...)
	checkShape(t, "show 2.40", raw, shape{"tenant_usage": tenantUsageShape(true), "tenant_usage_links": links})
	if usageIDs(t, raw) != "1" || !strings.Contains(string(raw), show+"?") {
		t.Errorf("show page: %s", raw)
	}
	for _, c := range []struct {
		path, version, message string
	}{
		{list + q + "&marker=nope", "2.40", "Marker nope could not be found."},
		{list + q + "&limit=-1", "2.40", "Invalid input for query parameters limit. Value: -1. '-1' does not match '^[0-9]*$'"},
		{list + q + "&foo=1", "2.75", "Additional properties are not allowed ('foo' was unexpected)"},
		{show + q + "&detailed=1", "2.75", "Additional properties are not allowed ('detailed' was unexpected)"},
	} {
		resp, raw := e.Do(t, "GET", c.path, "", admin, restAt(c.version)...)
		if resp.StatusCode != 400 || faultMessage(t, raw) != c.message {
			t.Errorf("%s at %s: %d %s", c.path, c.version, resp.StatusCode, raw)
		}
	}
	if resp, raw := e.Do(t, "GET", list+q+"&foo=1&marker=nope", "", admin, restAt("2.39")...); resp.StatusCode != 200 {
		t.Errorf("unknown and marker at 2.39: %d %s", resp.StatusCode, raw)
	}
}
