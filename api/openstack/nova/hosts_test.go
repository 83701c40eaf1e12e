package nova_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/shoal-project/shoal/api/apitest"
	"github.com/shoal-project/shoal/api/identity/identitytest"
	"github.com/shoal-project/shoal/api/openstack/nova"
	"github.com/shoal-project/shoal/fsm"
)

// Tempest's v2_1 schemas of services, hypervisors and availability zones.
var (
	serviceShape = shape{"id": "integer|string", "zone": "string", "host": "string", "state": "string",
		"binary": "string", "status": "string", "updated_at": "datetime|null", "disabled_reason": "string|null"}
	hypervisorSummaryShape = shape{"id": "integer|string", "hypervisor_hostname": "string", "?status": "string", "?state": "string"}
	hypervisorDetailShape  = shape{
		"?status": "string", "?state": "string", "cpu_info": "string", "current_workload": "integer",
		"disk_available_least": "integer|null", "host_ip": "string|null", "free_disk_gb": "integer",
		"free_ram_mb": "integer", "hypervisor_hostname": "string", "hypervisor_type": "string",
		"hypervisor_version": "integer", "id": "integer|string", "local_gb": "integer", "local_gb_used": "integer",
		"memory_mb": "integer", "memory_mb_used": "integer", "running_vms": "integer",
		"service": shape{"host": "string", "id": "integer|string", "?disabled_reason": "string|null"},
		"vcpus":   "integer", "vcpus_used": "integer",
	}
	statisticsShape = shape{"hypervisor_statistics": shape{"count": "integer", "current_workload": "integer",
		"disk_available_least": "integer|null", "free_disk_gb": "integer", "free_ram_mb": "integer", "local_gb": "integer",
		"local_gb_used": "integer", "memory_mb": "integer", "memory_mb_used": "integer", "running_vms": "integer",
		"vcpus": "integer", "vcpus_used": "integer"}}
	uptimeShape = shape{"hypervisor": shape{"?status": "string", "?state": "string", "id": "integer|string",
		"hypervisor_hostname": "string", "uptime": "string"}}
	hypervisorServersShape = shape{"hypervisors": []any{shape{"?status": "string", "?state": "string",
		"id": "integer|string", "hypervisor_hostname": "string",
		"?servers": []any{shape{"?uuid": "string", "?name": "string"}}}}}
	zoneShape = func(hosts any) shape {
		return shape{"availabilityZoneInfo": []any{shape{"zoneName": "string",
			"zoneState": shape{"available": "boolean"}, "hosts": hosts}}}
	}
	zoneHostsShape = dict{dict{shape{"available": "boolean", "active": "boolean", "updated_at": "datetime|null"}}}
)

// computeEnv is a node with the compute module, hosts node1 (this node)
// and node2, and tenant alpha's server on node1.
func computeEnv(t *testing.T) (*apitest.Env, identitytest.Tenant) {
	t.Helper()
	e := apitest.New(t, nova.New())
	img := e.SeedCompute(t)
	alpha := e.AddTenant(t, "alpha", fsm.RoleMember)
	e.SeedServer(t, alpha, "5e000000-0000-4000-8000-000000000001", "vm-a", img.ID, apitest.NodeName)
	return e, alpha
}

// get is a GET that must answer 200.
func get(t *testing.T, e *apitest.Env, path, token string) []byte {
	t.Helper()
	resp, raw := e.Do(t, "GET", path, "", token)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d %s", path, resp.StatusCode, raw)
	}
	return raw
}

func TestShapesServicesHypervisorsZones(t *testing.T) {
	e, alpha := computeEnv(t)
	admin := apitest.AdminToken

	raw := get(t, e, "/compute/v2.1/os-services", admin)
	checkShape(t, "services", raw, shape{"services": []any{serviceShape}})
	var services struct {
		Services []nova.Service `json:"services"`
	}
	_ = json.Unmarshal(raw, &services)
	if len(services.Services) != 2 || services.Services[0].Binary != "nova-compute" || services.Services[0].Zone != "nova" ||
		services.Services[0].State != "up" || services.Services[0].Status != "enabled" {
		t.Errorf("services %s", raw)
	}
	if raw := get(t, e, "/compute/v2.1/os-services?host=node2&unknown=1", admin); strings.Count(string(raw), `"host"`) != 1 {
		t.Errorf("services of node2: %s", raw)
	}
	if raw := get(t, e, "/compute/v2.1/os-services?binary=nova-scheduler", admin); string(raw) != "{\"services\":[]}\n" {
		t.Errorf("services of another binary: %s", raw)
	}

	for _, c := range []struct{ path, body, want string }{
		{"disable", `{"host":"node2","binary":"nova-compute"}`, `{"service":{"binary":"nova-compute","host":"node2","status":"disabled"}}`},
		{"enable", `{"host":"node2","binary":"nova-compute"}`, `{"service":{"binary":"nova-compute","host":"node2","status":"enabled"}}`},
		{"disable-log-reason", `{"host":"node2","binary":"nova-compute","disabled_reason":"maintenance"}`,
			`{"service":{"binary":"nova-compute","disabled_reason":"maintenance","host":"node2","status":"disabled"}}`},
	} {
		resp, raw := e.Do(t, "PUT", "/compute/v2.1/os-services/"+c.path, c.body, admin)
		if resp.StatusCode != 200 || strings.TrimSpace(string(raw)) != c.want {
			t.Errorf("PUT %s: %d %s", c.path, resp.StatusCode, raw)
		}
	}
	if h, _ := e.FSM.Host("node2"); h.Enabled || h.DisabledReason != "maintenance" {
		t.Errorf("node2 after disable-log-reason: %+v", h)
	}

	// Bad input changes nothing and answers as Nova.
	before := e.FSM.Index()
	for _, c := range []struct {
		path, body string
		status     int
		message    string
	}{
		{"disable", `{"host":"nohost","binary":"nova-compute"}`, 404, "Could not find binary nova-compute on host nohost."},
		{"disable", `{"host":"node1","binary":"nova-scheduler"}`, 404, "Could not find binary nova-scheduler on host node1."},
		{"disable", `{"host":"node1"}`, 400, "'binary' is a required property"},
		{"disable", `{"host":"node1","binary":"nova-compute","extra":1}`, 400, "Additional properties are not allowed ('extra' was unexpected)"},
		{"disable-log-reason", `{"host":"node1","binary":"nova-compute"}`, 400, "Missing disabled reason field"},
		{"force-down", `{"host":"node1","binary":"nova-compute","forced_down":true}`, 404, "Unknown action"},
		{"disable", `{"host":`, 400, "Malformed request body"},
	} {
		resp, raw := e.Do(t, "PUT", "/compute/v2.1/os-services/"+c.path, c.body, admin)
		if resp.StatusCode != c.status || faultMessage(t, raw) != c.message {
			t.Errorf("PUT %s %s: %d %s", c.path, c.body, resp.StatusCode, raw)
		}
	}
	if e.FSM.Index() != before {
		t.Errorf("refused requests changed the state: index %d → %d", before, e.FSM.Index())
	}

	raw = get(t, e, "/compute/v2.1/os-hypervisors", admin)
	checkShape(t, "hypervisors", raw, shape{"hypervisors": []any{hypervisorSummaryShape}})
	raw = get(t, e, "/compute/v2.1/os-hypervisors/detail", admin)
	checkShape(t, "hypervisors detail", raw, shape{"hypervisors": []any{hypervisorDetailShape}})
	var detail struct {
		Hypervisors []nova.HypervisorDetail `json:"hypervisors"`
	}
	_ = json.Unmarshal(raw, &detail)
	var node1 nova.HypervisorDetail
	for _, h := range detail.Hypervisors {
		if h.Hostname == apitest.NodeName {
			node1 = h
		}
	}
	if node1.RunningVMs != 1 || node1.VCPUsUsed != 1 || node1.HypervisorVersion != 8002002 || node1.HypervisorType != "QEMU" ||
		node1.Service.Host != apitest.NodeName || node1.Service.ID != node1.ID || !json.Valid([]byte(node1.CPUInfo.(string))) {
		t.Errorf("node1's hypervisor: %+v", node1)
	}
	id := fmt.Sprint(node1.ID)
	raw = get(t, e, "/compute/v2.1/os-hypervisors/"+id, admin)
	checkShape(t, "hypervisor", raw, shape{"hypervisor": hypervisorDetailShape})
	checkShape(t, "statistics", get(t, e, "/compute/v2.1/os-hypervisors/statistics", admin), statisticsShape)
	checkShape(t, "uptime", get(t, e, "/compute/v2.1/os-hypervisors/"+id+"/uptime", admin), uptimeShape)
	checkShape(t, "search", get(t, e, "/compute/v2.1/os-hypervisors/node/search", admin),
		shape{"hypervisors": []any{hypervisorSummaryShape}})
	raw = get(t, e, "/compute/v2.1/os-hypervisors/"+apitest.NodeName+"/servers", admin)
	checkShape(t, "servers", raw, hypervisorServersShape)
	if !strings.Contains(string(raw), `"uuid":"5e000000-0000-4000-8000-000000000001"`) {
		t.Errorf("servers of node1: %s", raw)
	}
	for _, c := range []struct {
		path    string
		status  int
		message string
	}{
		{"/os-hypervisors/node1", 404, "Hypervisor with ID 'node1' could not be found."},
		{"/os-hypervisors/99999", 404, "Hypervisor with ID '99999' could not be found."},
		{"/os-hypervisors/zzz/search", 404, "No hypervisor matching 'zzz' could be found."},
	} {
		resp, raw := e.Do(t, "GET", "/compute/v2.1"+c.path, "", admin)
		if resp.StatusCode != c.status || faultMessage(t, raw) != c.message {
			t.Errorf("GET %s: %d %s", c.path, resp.StatusCode, raw)
		}
	}

	raw = get(t, e, "/compute/v2.1/os-availability-zone", alpha.Token)
	checkShape(t, "zones", raw, zoneShape("null"))
	if string(raw) != `{"availabilityZoneInfo":[{"zoneName":"nova","zoneState":{"available":true},"hosts":null}]}`+"\n" {
		t.Errorf("zones: %s", raw)
	}
	raw = get(t, e, "/compute/v2.1/os-availability-zone/detail", admin)
	checkShape(t, "zones detail", raw, zoneShape(zoneHostsShape))
	if !strings.Contains(string(raw), `"node2":{"nova-compute":{"available":true,"active":false`) {
		t.Errorf("zones detail (node2 is disabled): %s", raw)
	}
}

// faultMessage is the message of a Nova fault body.
func faultMessage(t *testing.T, raw []byte) string {
	t.Helper()
	var body map[string]struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	}
	if err := json.Unmarshal(raw, &body); err != nil || len(body) != 1 {
		return "not a fault: " + string(raw)
	}
	for _, f := range body {
		return f.Message
	}
	return ""
}
