package nova_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/hypervisors"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/services"

	"github.com/shoal-project/shoal/api/apitest"
	"github.com/shoal-project/shoal/api/identity/identitytest"
	"github.com/shoal-project/shoal/api/openstack/nova"
	"github.com/shoal-project/shoal/fsm"
)

// computeEnvUpTo is computeEnv serving microversions up to max.
func computeEnvUpTo(t *testing.T, max string) (*apitest.Env, identitytest.Tenant) {
	t.Helper()
	e := apitest.New(t, nova.NewUpTo(max))
	img := e.SeedCompute(t)
	alpha := e.AddTenant(t, "alpha", fsm.RoleMember)
	e.SeedServer(t, alpha, "5e000000-0000-4000-8000-000000000001", "vm-a", img.ID, apitest.NodeName)
	return e, alpha
}

// at is a request at microversion v: its status and body.
func hostsAt(t *testing.T, e *apitest.Env, v, method, path, body string) (int, []byte) {
	t.Helper()
	resp, raw := e.Do(t, method, "/compute/v2.1"+path, body, apitest.AdminToken, "X-OpenStack-Nova-API-Version", v)
	return resp.StatusCode, raw
}

// getAt is a GET at microversion v that must answer 200.
func getAt(t *testing.T, e *apitest.Env, v, path string) []byte {
	t.Helper()
	status, raw := hostsAt(t, e, v, "GET", path, "")
	if status != http.StatusOK {
		t.Fatalf("GET %s at %s: %d %s", path, v, status, raw)
	}
	return raw
}

// refusal is a request that must fail with status and Nova's message.
type refusal struct {
	v, method, path, body string
	status                int
	message               string
}

func checkRefusals(t *testing.T, e *apitest.Env, cases []refusal) {
	t.Helper()
	for _, c := range cases {
		status, raw := hostsAt(t, e, c.v, c.method, c.path, c.body)
		if status != c.status || faultMessage(t, raw) != c.message {
			t.Errorf("%s %s %s at %s: %d %s, want %d %q", c.method, c.path, c.body, c.v, status, raw, c.status, c.message)
		}
	}
}

// Tempest's v2_11 and v2_53 service schemas.
var (
	service211Shape = func() shape {
		s := shape{"forced_down": "boolean"}
		for k, v := range serviceShape {
			s[k] = v
		}
		return s
	}()
	forcedDownShape = shape{"service": shape{"binary": "string", "host": "string", "forced_down": "boolean"}}
)

func isUUID(v any) bool {
	s, ok := v.(string)
	_, err := uuid.Parse(s)
	return ok && err == nil
}

func TestServicesMicroversions(t *testing.T) {
	e, _ := computeEnvUpTo(t, "2.100")

	// 2.11: forced_down in the view and the force-down action.
	checkShape(t, "services 2.11", getAt(t, e, "2.11", "/os-services"), shape{"services": []any{service211Shape}})
	status, raw := hostsAt(t, e, "2.11", "PUT", "/os-services/force-down", `{"host":"node2","binary":"nova-compute","forced_down":true}`)
	if status != 200 || strings.TrimSpace(string(raw)) != `{"service":{"binary":"nova-compute","forced_down":true,"host":"node2"}}` {
		t.Errorf("force-down at 2.11: %d %s", status, raw)
	}
	checkShape(t, "force-down 2.11", raw, forcedDownShape)
	if h, _ := e.FSM.Host("node2"); !h.ForcedDown {
		t.Errorf("node2 not forced down: %+v", h)
	}

	// 2.53: UUID ids; PUT by UUID answers the whole service.
	raw = getAt(t, e, "2.53", "/os-services")
	checkShape(t, "services 2.53", raw, shape{"services": []any{service211Shape}})
	var list struct {
		Services []map[string]any `json:"services"`
	}
	_ = json.Unmarshal(raw, &list)
	ids := map[string]string{}
	for _, s := range list.Services {
		if !isUUID(s["id"]) {
			t.Errorf("service id at 2.53 is not a UUID: %v", s["id"])
		}
		ids[s["host"].(string)], _ = s["id"].(string)
	}
	status, raw = hostsAt(t, e, "2.53", "PUT", "/os-services/"+ids["node2"], `{"status":"disabled","disabled_reason":"maintenance","forced_down":false}`)
	if status != 200 {
		t.Fatalf("PUT by uuid: %d %s", status, raw)
	}
	checkShape(t, "update 2.53", raw, shape{"service": service211Shape})
	for _, want := range []string{`"id":"` + ids["node2"] + `"`, `"status":"disabled"`, `"disabled_reason":"maintenance"`, `"forced_down":false`} {
		if !strings.Contains(string(raw), want) {
			t.Errorf("update 2.53 lacks %s: %s", want, raw)
		}
	}
	status, raw = hostsAt(t, e, "2.53", "PUT", "/os-services/"+ids["node2"], `{"status":"enabled"}`)
	if status != 200 || !strings.Contains(string(raw), `"status":"enabled"`) || !strings.Contains(string(raw), `"disabled_reason":null`) {
		t.Errorf("enable by uuid: %d %s", status, raw)
	}

	before := e.FSM.Index()
	unknown := "00000000-0000-4000-8000-000000000000"
	checkRefusals(t, e, []refusal{
		{"2.10", "PUT", "/os-services/force-down", `{"host":"node2","binary":"nova-compute","forced_down":true}`, 404, "Unknown action"},
		{"2.52", "PUT", "/os-services/" + ids["node2"], `{"status":"enabled"}`, 404, "Unknown action"},
		{"2.53", "PUT", "/os-services/enable", `{"status":"enabled"}`, 400, "Invalid uuid enable"},
		{"2.53", "PUT", "/os-services/" + unknown, `{"status":"enabled"}`, 404, "Service " + unknown + " could not be found."},
		{"2.53", "PUT", "/os-services/" + unknown, `{}`, 404, "Service " + unknown + " could not be found."},
		{"2.53", "PUT", "/os-services/enable", `{"host":"node2"}`, 400, "Additional properties are not allowed ('host' was unexpected)"},
		{"2.53", "PUT", "/os-services/" + ids["node2"], `{}`, 400, "No updates were requested. Fields 'status' or 'forced_down' should be specified."},
		{"2.53", "PUT", "/os-services/" + ids["node2"], `{"disabled_reason":"x"}`, 400, "No updates were requested. Fields 'status' or 'forced_down' should be specified."},
		{"2.53", "PUT", "/os-services/" + ids["node2"], `{"status":"enabled","disabled_reason":"x"}`, 400, "Specifying 'disabled_reason' with status 'enabled' is invalid."},
		{"2.53", "PUT", "/os-services/" + ids["node2"], `{"status":"up"}`, 400, `Invalid input for field/attribute status. Value: "up". 'up' is not one of ['enabled', 'disabled']`},
		{"2.53", "PUT", "/os-services/" + ids["node2"], `{"status":"disabled","host":"node2"}`, 400, "Additional properties are not allowed ('host' was unexpected)"},
		{"2.53", "PUT", "/os-services/" + ids["node2"], `{"forced_down":"maybe"}`, 400, `Invalid input for field/attribute forced_down. Value: "maybe". "maybe" is not one of the allowed boolean values`},
		// Delete: integer ids below 2.53, UUIDs from it; a host with servers stays.
		{"2.1", "DELETE", "/os-services/abc", "", 400, "Invalid input received: id must be an integer"},
		{"2.1", "DELETE", "/os-services/99999", "", 404, "Service 99999 could not be found."},
		{"2.53", "DELETE", "/os-services/1", "", 400, "Invalid uuid 1"},
		{"2.53", "DELETE", "/os-services/" + ids[apitest.NodeName], "", 409,
			"Unable to delete compute service that is hosting instances. Migrate or delete the instances first."},
		// 2.75: unknown query parameters are refused.
		{"2.75", "GET", "/os-services?host=node1&foo=1", "", 400, "Additional properties are not allowed ('foo' was unexpected)"},
	})
	if e.FSM.Index() != before {
		t.Errorf("refused requests changed the state: index %d → %d", before, e.FSM.Index())
	}
	if raw := getAt(t, e, "2.74", "/os-services?host=node1&foo=1"); strings.Count(string(raw), `"host"`) != 1 {
		t.Errorf("2.74 ignores unknown parameters: %s", raw)
	}
	if status, raw := hostsAt(t, e, "2.53", "DELETE", "/os-services/"+ids["node2"], ""); status != http.StatusNoContent || len(raw) != 0 {
		t.Errorf("delete node2: %d %s", status, raw)
	}
	if _, err := e.FSM.Host("node2"); err == nil {
		t.Error("node2 is still registered")
	}
}

func TestServicesMicroversionsGophercloud(t *testing.T) {
	ctx := context.Background()
	e, _ := computeEnvUpTo(t, "2.100")
	admin := computeClient(t, e.AdminProvider(t))
	admin.Microversion = "2.69"
	pages, err := services.List(admin, nil).AllPages(ctx)
	if err != nil {
		t.Fatal(err)
	}
	all, err := services.ExtractServices(pages)
	if err != nil || len(all) != 2 {
		t.Fatalf("services at 2.69: %v %+v", err, all)
	}
	var node2 services.Service
	for _, s := range all {
		if !isUUID(s.ID) {
			t.Errorf("service id %q is not a UUID", s.ID)
		}
		if s.Host == "node2" {
			node2 = s
		}
	}
	s, err := services.Update(ctx, admin, node2.ID, services.UpdateOpts{Status: services.ServiceDisabled, DisabledReason: "drain"}).Extract()
	if err != nil || s.Status != "disabled" || s.DisabledReason != "drain" || s.ID != node2.ID {
		t.Fatalf("update: %v %+v", err, s)
	}
	if s, err = services.Update(ctx, admin, node2.ID, services.UpdateOpts{ForcedDown: true}).Extract(); err != nil || !s.ForcedDown {
		t.Fatalf("force down: %v %+v", err, s)
	}
	if err := services.Delete(ctx, admin, node2.ID).ExtractErr(); err != nil {
		t.Fatal(err)
	}
	err = services.Delete(ctx, admin, node2.ID).ExtractErr()
	wantFault(t, "delete again", err, http.StatusNotFound, "itemNotFound")
}

// Tempest's hypervisor schemas from 2.28 (cpu_info an object) and 2.53
// (servers); Nova's own from 2.88 (Tempest 33 has none).
var (
	hypervisorDetail228Shape = func() shape {
		s := shape{}
		for k, v := range hypervisorDetailShape {
			s[k] = v
		}
		s["cpu_info"] = dict{"any"}
		return s
	}()
	hypervisorDetail253Shape = func() shape {
		s := shape{"?servers": []any{shape{"?uuid": "string", "?name": "string"}}}
		for k, v := range hypervisorDetail228Shape {
			s[k] = v
		}
		return s
	}()
	hypervisorDetail288Shape = shape{"id": "string", "hypervisor_hostname": "string", "state": "string", "status": "string",
		"hypervisor_type": "string", "hypervisor_version": "integer", "host_ip": "string|null", "uptime": "string|null",
		"service":  shape{"host": "string", "id": "string", "disabled_reason": "string|null"},
		"?servers": []any{shape{"uuid": "string", "name": "string"}}}
	hypervisorSummary253Shape = shape{"id": "string", "hypervisor_hostname": "string", "?status": "string", "?state": "string",
		"?servers": []any{shape{"?uuid": "string", "?name": "string"}}}
)

// hypervisorIDs are the ids of a hypervisor list, by host name.
func hypervisorIDs(t *testing.T, raw []byte) map[string]string {
	t.Helper()
	var list struct {
		Hypervisors []map[string]any `json:"hypervisors"`
	}
	if err := json.Unmarshal(raw, &list); err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, h := range list.Hypervisors {
		b, _ := json.Marshal(h["id"])
		out[h["hypervisor_hostname"].(string)] = strings.Trim(string(b), `"`)
	}
	return out
}

func TestHypervisorsMicroversions(t *testing.T) {
	e, _ := computeEnvUpTo(t, "2.100")
	links := shape{"hypervisors": []any{hypervisorSummaryShape}, "?hypervisors_links": links}

	// 2.28: cpu_info is the object.
	raw := getAt(t, e, "2.28", "/os-hypervisors/detail")
	checkShape(t, "detail 2.28", raw, shape{"hypervisors": []any{hypervisorDetail228Shape}})
	ints := hypervisorIDs(t, getAt(t, e, "2.33", "/os-hypervisors"))
	checkShape(t, "show 2.28", getAt(t, e, "2.28", "/os-hypervisors/"+ints[apitest.NodeName]), shape{"hypervisor": hypervisorDetail228Shape})

	// 2.33: limit and marker, with a next link on a full page.
	raw = getAt(t, e, "2.33", "/os-hypervisors?limit=1")
	checkShape(t, "page 2.33", raw, links)
	first := hypervisorIDs(t, raw)
	if len(first) != 1 || !strings.Contains(string(raw), `"rel":"next"`) {
		t.Errorf("first page: %s", raw)
	}
	var firstID string
	for _, id := range first {
		firstID = id
	}
	raw = getAt(t, e, "2.33", "/os-hypervisors/detail?limit=5&marker="+firstID)
	if got := hypervisorIDs(t, raw); len(got) != 1 || got[apitest.NodeName] == firstID || strings.Contains(string(raw), "hypervisors_links") {
		t.Errorf("page after %s: %s", firstID, raw)
	}
	if raw := getAt(t, e, "2.32", "/os-hypervisors?limit=1"); len(hypervisorIDs(t, raw)) != 2 {
		t.Errorf("2.32 does not page: %s", raw)
	}

	// 2.53: UUIDs, the hostname pattern and with_servers.
	raw = getAt(t, e, "2.53", "/os-hypervisors")
	checkShape(t, "list 2.53", raw, shape{"hypervisors": []any{hypervisorSummary253Shape}, "?hypervisors_links": links})
	uuids := hypervisorIDs(t, raw)
	for host, id := range uuids {
		if !isUUID(id) {
			t.Errorf("%s's id at 2.53: %s", host, id)
		}
	}
	raw = getAt(t, e, "2.53", "/os-hypervisors/detail?with_servers=true")
	checkShape(t, "detail 2.53", raw, shape{"hypervisors": []any{hypervisorDetail253Shape}})
	if strings.Count(string(raw), `"servers"`) != 1 || !strings.Contains(string(raw), `"uuid":"5e000000-0000-4000-8000-000000000001"`) {
		t.Errorf("with_servers below 2.75 leaves out an empty list: %s", raw)
	}
	if raw := getAt(t, e, "2.75", "/os-hypervisors?with_servers=1"); strings.Count(string(raw), `"servers"`) != 2 {
		t.Errorf("with_servers from 2.75 always lists: %s", raw)
	}
	if raw := getAt(t, e, "2.75", "/os-hypervisors?with_servers=false"); strings.Contains(string(raw), `"servers"`) {
		t.Errorf("with_servers=false: %s", raw)
	}
	raw = getAt(t, e, "2.53", "/os-hypervisors?hypervisor_hostname_pattern=node2")
	if got := hypervisorIDs(t, raw); len(got) != 1 || got["node2"] != uuids["node2"] {
		t.Errorf("pattern node2: %s", raw)
	}
	raw = getAt(t, e, "2.53", "/os-hypervisors/"+uuids[apitest.NodeName]+"?with_servers=yes")
	checkShape(t, "show 2.53", raw, shape{"hypervisor": hypervisorDetail253Shape})
	if !strings.Contains(string(raw), `"id":"`+uuids[apitest.NodeName]+`"`) || !strings.Contains(string(raw), `"servers":[{"uuid":`) {
		t.Errorf("show by uuid: %s", raw)
	}
	checkShape(t, "uptime 2.53", getAt(t, e, "2.53", "/os-hypervisors/"+uuids[apitest.NodeName]+"/uptime"), uptimeShape)

	// 2.88: no figures, the uptime in the detail; statistics and uptime gone.
	raw = getAt(t, e, "2.88", "/os-hypervisors/detail")
	checkShape(t, "detail 2.88", raw, shape{"hypervisors": []any{hypervisorDetail288Shape}})
	if !strings.Contains(string(raw), `"uptime":" `) || !strings.Contains(string(raw), `"uptime":null`) {
		t.Errorf("uptime at 2.88 (this node's line, node2's null): %s", raw)
	}
	checkShape(t, "show 2.88", getAt(t, e, "2.88", "/os-hypervisors/"+uuids["node2"]), shape{"hypervisor": hypervisorDetail288Shape})
	getAt(t, e, "2.87", "/os-hypervisors/statistics")

	missing := "The resource could not be found."
	checkRefusals(t, e, []refusal{
		{"2.33", "GET", "/os-hypervisors?marker=99999", "", 400, "marker [99999] not found"},
		{"2.33", "GET", "/os-hypervisors?limit=-1", "", 400, "limit param must be positive"},
		{"2.33", "GET", "/os-hypervisors?limit=x", "", 400, "limit param must be an integer"},
		{"2.53", "GET", "/os-hypervisors/" + ints[apitest.NodeName], "", 400, "Invalid uuid " + ints[apitest.NodeName]},
		{"2.53", "GET", "/os-hypervisors/00000000-0000-4000-8000-000000000000", "", 404,
			"Hypervisor with ID '00000000-0000-4000-8000-000000000000' could not be found."},
		{"2.53", "GET", "/os-hypervisors?hypervisor_hostname_pattern=node&limit=1", "", 400,
			"Paging over hypervisors with the hypervisor_hostname_pattern query parameter is not supported."},
		{"2.53", "GET", "/os-hypervisors?hypervisor_hostname_pattern=zzz", "", 404, "No hypervisor matching 'zzz' could be found."},
		{"2.53", "GET", "/os-hypervisors?with_servers=maybe", "", 400, "Invalid input for query parameters with_servers. Value: maybe. " +
			"'maybe' is not one of ['True', 'true', 'False', 'false', '1', '0', 'yes', 'no', 'on', 'off', 't', 'f', 'y', 'n']"},
		{"2.53", "GET", "/os-hypervisors/detail?foo=1", "", 400, "Additional properties are not allowed ('foo' was unexpected)"},
		{"2.53", "GET", "/os-hypervisors/" + uuids["node2"] + "?limit=1", "", 400, "Additional properties are not allowed ('limit' was unexpected)"},
		{"2.53", "GET", "/os-hypervisors/node/search", "", 404, missing},
		{"2.53", "GET", "/os-hypervisors/node/servers", "", 404, missing},
		{"2.88", "GET", "/os-hypervisors/statistics", "", 404, missing},
		{"2.88", "GET", "/os-hypervisors/" + uuids[apitest.NodeName] + "/uptime", "", 404, missing},
	})
}

func TestHypervisorsMicroversionsGophercloud(t *testing.T) {
	ctx := context.Background()
	e, _ := computeEnvUpTo(t, "2.100")
	admin := computeClient(t, e.AdminProvider(t))
	for _, v := range []string{"2.28", "2.53", "2.88"} {
		admin.Microversion = v
		pages, err := hypervisors.List(admin, nil).AllPages(ctx)
		if err != nil {
			t.Fatalf("%s: %v", v, err)
		}
		all, err := hypervisors.ExtractHypervisors(pages)
		if err != nil || len(all) != 2 {
			t.Fatalf("%s: %v %+v", v, err, all)
		}
		for _, h := range all {
			got, err := hypervisors.Get(ctx, admin, h.ID).Extract()
			if err != nil || got.HypervisorHostname != h.HypervisorHostname || got.Service.Host != h.HypervisorHostname {
				t.Errorf("%s: get %s: %v %+v", v, h.ID, err, got)
			}
			if v == "2.53" && !isUUID(h.ID) {
				t.Errorf("2.53: id %q", h.ID)
			}
		}
	}
}
