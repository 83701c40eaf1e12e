package nova_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/shoal-project/shoal/api/apitest"
	"github.com/shoal-project/shoal/fsm"
)

// Tempest's v2_1 schemas of quota sets, limits and tenant usage.
var (
	quotaKeys21 = []string{"instances", "cores", "ram", "floating_ips", "fixed_ips", "metadata_items", "key_pairs",
		"security_groups", "security_group_rules", "injected_files", "injected_file_content_bytes",
		"injected_file_path_bytes", "server_groups", "server_group_members"}
	quotaSetShape = func(id bool, value any) shape {
		s := shape{}
		for _, k := range quotaKeys21 {
			s[k] = value
		}
		if id {
			s["id"] = "string"
		}
		return shape{"quota_set": s}
	}
	limitsShape = shape{"limits": shape{"rate": []any{"any"}, "absolute": shape{
		"maxImageMeta": "integer", "maxPersonality": "integer", "maxPersonalitySize": "integer",
		"maxSecurityGroupRules": "integer", "maxSecurityGroups": "integer", "maxServerMeta": "integer",
		"maxTotalCores": "integer", "maxTotalFloatingIps": "integer", "maxTotalInstances": "integer",
		"maxTotalKeypairs": "integer", "maxTotalRAMSize": "integer", "totalCoresUsed": "integer",
		"totalFloatingIpsUsed": "integer", "totalInstancesUsed": "integer", "totalRAMUsed": "integer",
		"totalSecurityGroupsUsed": "integer", "?maxServerGroupMembers": "integer", "?maxServerGroups": "integer",
		"?totalServerGroupsUsed": "integer"}}}
	serverUsageShape = shape{"ended_at": "datetime|null", "flavor": "string", "hours": "number", "instance_id": "string",
		"local_gb": "integer", "memory_mb": "integer", "name": "string", "started_at": "datetime", "state": "string",
		"tenant_id": "string", "uptime": "integer", "vcpus": "integer"}
	tenantUsageShape = func(servers bool) shape {
		s := shape{"start": "datetime", "stop": "datetime", "tenant_id": "string", "total_hours": "number",
			"total_local_gb_usage": "number", "total_memory_mb_usage": "number", "total_vcpus_usage": "number",
			"?server_usages": []any{serverUsageShape}}
		if servers {
			s["server_usages"] = []any{serverUsageShape}
			delete(s, "?server_usages")
		}
		return s
	}
)

func TestShapesQuotasAndLimits(t *testing.T) {
	e, alpha := computeEnv(t)
	beta := e.AddTenant(t, "beta", fsm.RoleMember)
	admin := apitest.AdminToken
	path := "/compute/v2.1/os-quota-sets/" + alpha.ProjectID

	checkShape(t, "quota set", get(t, e, path, alpha.Token), quotaSetShape(true, "integer"))
	checkShape(t, "defaults", get(t, e, path+"/defaults", beta.Token), quotaSetShape(true, "integer"))
	detail := shape{"reserved": "integer", "limit": "integer", "in_use": "integer"}
	raw := get(t, e, path+"/detail", alpha.Token)
	checkShape(t, "detail", raw, quotaSetShape(true, detail))
	if !strings.Contains(string(raw), `"instances":{"limit":10,"in_use":1,"reserved":0}`) {
		t.Errorf("detail: %s", raw)
	}

	resp, raw := e.Do(t, "PUT", path, `{"quota_set":{"instances":"20","cores":4,"force":"True"}}`, admin)
	if resp.StatusCode != 200 {
		t.Fatalf("update: %d %s", resp.StatusCode, raw)
	}
	checkShape(t, "update", raw, quotaSetShape(false, "integer"))
	if q := e.FSM.Quota(alpha.ProjectID); q.Instances != 20 || q.Cores != 4 {
		t.Errorf("after update: %+v", q)
	}
	if resp, raw := e.Do(t, "DELETE", path, "", admin); resp.StatusCode != http.StatusAccepted || len(raw) != 0 {
		t.Errorf("delete: %d %s", resp.StatusCode, raw)
	}
	if q := e.FSM.Quota(alpha.ProjectID); q.Instances != fsm.DefaultQuota().Instances {
		t.Errorf("after delete: %+v", q)
	}

	before := e.FSM.Index()
	for _, c := range []struct {
		method, path, body, token string
		status                    int
	}{
		{"GET", path, "", beta.Token, 403},
		{"GET", path + "/detail", "", beta.Token, 403},
		{"PUT", path, `{"quota_set":{"instances":1}}`, alpha.Token, 403},
		{"DELETE", path, "", alpha.Token, 403},
		{"PUT", path, `{"quota_set":{"bogus":1}}`, admin, 400},
		{"PUT", path, `{"quota_set":{"instances":-2}}`, admin, 400},
		{"PUT", path, `{"quota_set":{"instances":"x"}}`, admin, 400},
		{"PUT", path, `{"quota_set":{"instances":0}}`, admin, 400}, // below what alpha uses, without force
		{"PUT", path, `{"quota":{}}`, admin, 400},
		{"GET", "/compute/v2.1/os-quota-sets/nosuchproject", "", admin, 404},
	} {
		resp, raw := e.Do(t, c.method, c.path, c.body, c.token)
		if resp.StatusCode != c.status || !strings.Contains(string(raw), `"code":`) {
			t.Errorf("%s %s %s: %d %s", c.method, c.path, c.body, resp.StatusCode, raw)
		}
	}
	if e.FSM.Index() != before {
		t.Errorf("refused requests changed the state")
	}

	raw = get(t, e, "/compute/v2.1/limits", alpha.Token)
	checkShape(t, "limits", raw, limitsShape)
	var limits struct {
		Limits struct {
			Absolute map[string]int `json:"absolute"`
		} `json:"limits"`
	}
	_ = json.Unmarshal(raw, &limits)
	if a := limits.Limits.Absolute; a["totalInstancesUsed"] != 1 || a["totalCoresUsed"] != 1 || a["maxTotalInstances"] != 10 {
		t.Errorf("alpha's limits: %s", raw)
	}
	if raw := get(t, e, "/compute/v2.1/limits?tenant_id="+alpha.ProjectID, admin); !strings.Contains(string(raw), `"totalInstancesUsed":1`) {
		t.Errorf("alpha's limits seen by an admin: %s", raw)
	}
	if resp, raw := e.Do(t, "GET", "/compute/v2.1/limits?tenant_id="+alpha.ProjectID, "", beta.Token); resp.StatusCode != 403 {
		t.Errorf("another project's limits: %d %s", resp.StatusCode, raw)
	}
}

func TestShapesUsage(t *testing.T) {
	e, alpha := computeEnv(t)
	beta := e.AddTenant(t, "beta", fsm.RoleMember)
	admin := apitest.AdminToken
	// The seeded server was created at apitest.SeedTime: a period of two
	// hours from then charges it two hours of m1.tiny.
	start := apitest.SeedTime.Format("2006-01-02T15:04:05")
	end := apitest.SeedTime.Add(2 * time.Hour).Format("2006-01-02T15:04:05.000000")
	q := "?start=" + start + "&end=" + end

	raw := get(t, e, "/compute/v2.1/os-simple-tenant-usage"+q+"&detailed=1", admin)
	checkShape(t, "usage list", raw, shape{"tenant_usages": []any{tenantUsageShape(false)}})
	var list struct {
		Usages []struct {
			TenantID     string  `json:"tenant_id"`
			TotalHours   float64 `json:"total_hours"`
			VCPUs        float64 `json:"total_vcpus_usage"`
			MemoryMB     float64 `json:"total_memory_mb_usage"`
			ServerUsages []any   `json:"server_usages"`
		} `json:"tenant_usages"`
	}
	_ = json.Unmarshal(raw, &list)
	if len(list.Usages) != 1 || list.Usages[0].TenantID != alpha.ProjectID || list.Usages[0].TotalHours != 2 ||
		list.Usages[0].VCPUs != 2 || list.Usages[0].MemoryMB != 1024 || len(list.Usages[0].ServerUsages) != 1 {
		t.Errorf("usage list: %s", raw)
	}
	if raw := get(t, e, "/compute/v2.1/os-simple-tenant-usage"+q, admin); strings.Contains(string(raw), "server_usages") {
		t.Errorf("usage list without detailed: %s", raw)
	}

	raw = get(t, e, "/compute/v2.1/os-simple-tenant-usage/"+alpha.ProjectID+q, alpha.Token)
	checkShape(t, "usage show", raw, shape{"tenant_usage": tenantUsageShape(true)})
	if raw := get(t, e, "/compute/v2.1/os-simple-tenant-usage/"+beta.ProjectID+q, beta.Token); string(raw) != "{\"tenant_usage\":{}}\n" {
		t.Errorf("usage of a project without servers: %s", raw)
	}
	for _, c := range []struct {
		path, token string
		status      int
		message     string
	}{
		{"/os-simple-tenant-usage/" + alpha.ProjectID + q, beta.Token, 403, ""},
		{"/os-simple-tenant-usage" + q, alpha.Token, 403, ""},
		{"/os-simple-tenant-usage?start=" + end + "&end=" + start, admin, 400,
			"Invalid start time. The start time cannot occur after the end time."},
		{"/os-simple-tenant-usage?start=yesterday", admin, 400, "Datetime is in invalid format"},
	} {
		resp, raw := e.Do(t, "GET", "/compute/v2.1"+c.path, "", c.token)
		if resp.StatusCode != c.status || c.message != "" && faultMessage(t, raw) != c.message {
			t.Errorf("GET %s: %d %s", c.path, resp.StatusCode, raw)
		}
	}
}

// TestUsageCountsDeletedServers: a server deleted an hour into the
// period is charged that hour and shown terminated with its end.
func TestUsageCountsDeletedServers(t *testing.T) {
	e, alpha := computeEnv(t)
	id := "5e000000-0000-4000-8000-000000000001"
	if resp, raw := e.Do(t, "DELETE", "/v1/servers/"+id, "", alpha.Token); resp.StatusCode != http.StatusNoContent && resp.StatusCode != http.StatusAccepted {
		t.Fatalf("delete: %d %s", resp.StatusCode, raw)
	}
	inst, err := e.FSM.Instance(id)
	if err != nil {
		t.Fatal(err)
	}
	e.Apply(t, &fsm.ReportInstances{Host: inst.Host, Time: apitest.SeedTime.Add(time.Hour), Reports: []fsm.InstanceReport{
		{ID: id, PowerState: fsm.PowerNoState, Done: fsm.TaskDeleting, TaskIndex: inst.TaskIndex}}})
	if _, err := e.FSM.Instance(id); err == nil {
		t.Fatal("the server is still there")
	}
	q := "?start=" + apitest.SeedTime.Format("2006-01-02T15:04:05") + "&end=" + apitest.SeedTime.Add(2*time.Hour).Format("2006-01-02T15:04:05")
	raw := get(t, e, "/compute/v2.1/os-simple-tenant-usage/"+alpha.ProjectID+q, alpha.Token)
	checkShape(t, "usage", raw, shape{"tenant_usage": tenantUsageShape(true)})
	for _, want := range []string{`"total_hours":1,`, `"state":"terminated"`, `"ended_at":"` + apitest.SeedTime.Add(time.Hour).Format("2006-01-02T15:04:05")} {
		if !strings.Contains(string(raw), want) {
			t.Errorf("usage lacks %s: %s", want, raw)
		}
	}
	// A period that starts after the deletion does not charge it.
	q = "?start=" + apitest.SeedTime.Add(90*time.Minute).Format("2006-01-02T15:04:05") + "&end=" + apitest.SeedTime.Add(2*time.Hour).Format("2006-01-02T15:04:05")
	if raw := get(t, e, "/compute/v2.1/os-simple-tenant-usage"+q, apitest.AdminToken); string(raw) != "{\"tenant_usages\":[]}\n" {
		t.Errorf("usage after the deletion: %s", raw)
	}
}
