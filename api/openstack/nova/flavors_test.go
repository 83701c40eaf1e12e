package nova_test

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/shoal-project/shoal/api/apitest"
)

// Tempest's v2_1 flavor schemas.
var (
	flavorShape = shape{"name": "string", "links": links, "ram": "integer", "vcpus": "integer",
		"swap": "integer|string", "disk": "integer", "id": "string", "?OS-FLV-DISABLED:disabled": "boolean",
		"?os-flavor-access:is_public": "boolean", "?rxtx_factor": "number", "?OS-FLV-EXT-DATA:ephemeral": "integer"}
	flavorListShape = shape{"flavors": []any{shape{"name": "string", "links": links, "id": "string"}},
		"?flavors_links": links}
	flavorDetailListShape = shape{"flavors": []any{flavorShape}, "?flavors_links": links}
	flavorAccessShape     = shape{"flavor_access": []any{shape{"flavor_id": "string", "tenant_id": "string"}}}
	extraSpecsShape       = shape{"extra_specs": dict{"string"}}
)

// flavorNames are the names a flavor list shows, in its order.
func flavorNames(t *testing.T, raw []byte) []string {
	t.Helper()
	var list struct {
		Flavors []struct {
			ID   string `json:"id"`
			Name string `json:"name"`
		} `json:"flavors"`
	}
	if err := json.Unmarshal(raw, &list); err != nil {
		t.Fatalf("%v: %s", err, raw)
	}
	var names []string
	for _, f := range list.Flavors {
		names = append(names, f.Name)
	}
	return names
}

func TestShapesFlavors(t *testing.T) {
	e, alpha := computeEnv(t)
	admin := apitest.AdminToken
	base := "/compute/v2.1/flavors"

	checkShape(t, "list", get(t, e, base, alpha.Token), flavorListShape)
	raw := get(t, e, base+"/detail", alpha.Token)
	checkShape(t, "detail", raw, flavorDetailListShape)
	show := get(t, e, base+"/1", alpha.Token)
	checkShape(t, "show", show, shape{"flavor": flavorShape})
	if !strings.Contains(string(show), `"swap":""`) || !strings.Contains(string(show), `"rxtx_factor":1`) ||
		!strings.Contains(string(show), `"href":"`+e.URL()+`/compute/v2.1/flavors/1"`) {
		t.Errorf("m1.tiny: %s", show)
	}
	var one struct {
		Flavor json.RawMessage `json:"flavor"`
	}
	_ = json.Unmarshal(show, &one)
	if !strings.Contains(string(raw), string(one.Flavor)) {
		t.Errorf("show is not the detailed list's entry: %s", one.Flavor)
	}

	// Create as Tempest does: ram as a string, id as a number, is_public
	// as a string; the answer is 200 with the flavor.
	resp, raw := e.Do(t, "POST", base, `{"flavor":{"name":"priv","ram":"1024","vcpus":1,"disk":10,"id":1001,`+
		`"swap":1024,"OS-FLV-EXT-DATA:ephemeral":10,"rxtx_factor":2,"os-flavor-access:is_public":"False"}}`, admin)
	if resp.StatusCode != 200 {
		t.Fatalf("create: %d %s", resp.StatusCode, raw)
	}
	checkShape(t, "create", raw, shape{"flavor": flavorShape})
	for _, want := range []string{`"id":"1001"`, `"ram":1024`, `"swap":1024`, `"OS-FLV-EXT-DATA:ephemeral":10`,
		`"rxtx_factor":2`, `"os-flavor-access:is_public":false`} {
		if !strings.Contains(string(raw), want) {
			t.Errorf("created flavor lacks %s: %s", want, raw)
		}
	}
	// A private flavor is nobody's until given: not in the admin's
	// default list, nor a member's; is_public=false and =none show it.
	for _, c := range []struct {
		token, query string
		shown        bool
	}{
		{admin, "", false}, {alpha.Token, "", false}, {alpha.Token, "?is_public=false", false},
		{admin, "?is_public=f", true}, {admin, "?is_public=no", true}, {admin, "?is_public=None", true},
		{admin, "?is_public=0", true},
	} {
		if names := flavorNames(t, get(t, e, base+"/detail"+c.query, c.token)); slices.Contains(names, "priv") != c.shown {
			t.Errorf("list%s: %v, want priv shown %v", c.query, names, c.shown)
		}
	}
	if resp, _ := e.Do(t, "GET", base+"/1001", "", alpha.Token); resp.StatusCode != 404 {
		t.Errorf("a private flavor shown to a member: %d", resp.StatusCode)
	}

	// Access: list, add (the member now sees it), duplicate 409, remove.
	checkShape(t, "access", get(t, e, base+"/1001/os-flavor-access", admin), flavorAccessShape)
	add := `{"addTenantAccess":{"tenant":"` + alpha.ProjectID + `"}}`
	resp, raw = e.Do(t, "POST", base+"/1001/action", add, admin)
	if resp.StatusCode != 200 || !strings.Contains(string(raw), `{"flavor_id":"1001","tenant_id":"`+alpha.ProjectID+`"}`) {
		t.Errorf("add access: %d %s", resp.StatusCode, raw)
	}
	if names := flavorNames(t, get(t, e, base+"/detail", alpha.Token)); !slices.Contains(names, "priv") {
		t.Errorf("a member's list after access: %v", names)
	}
	resp, raw = e.Do(t, "POST", base+"/1001/action", add, admin)
	if resp.StatusCode != 409 || !strings.Contains(string(raw), "conflictingRequest") {
		t.Errorf("duplicate access: %d %s", resp.StatusCode, raw)
	}
	remove := strings.Replace(add, "addTenantAccess", "removeTenantAccess", 1)
	if resp, raw := e.Do(t, "POST", base+"/1001/action", remove, admin); resp.StatusCode != 200 || strings.Contains(string(raw), alpha.ProjectID) {
		t.Errorf("remove access: %d %s", resp.StatusCode, raw)
	}
	if resp, raw := e.Do(t, "POST", base+"/1001/action", remove, admin); resp.StatusCode != 404 {
		t.Errorf("remove access again: %d %s", resp.StatusCode, raw)
	}
	if resp, raw := e.Do(t, "GET", base+"/1/os-flavor-access", "", admin); resp.StatusCode != 404 ||
		faultMessage(t, raw) != "Access list not available for public flavors." {
		t.Errorf("access list of a public flavor: %d %s", resp.StatusCode, raw)
	}

	// Extra specs.
	resp, raw = e.Do(t, "POST", base+"/1/os-extra_specs", `{"extra_specs":{"hw:numa_nodes":1,"hw:cpu_policy":"shared","flag":true}}`, admin)
	if resp.StatusCode != 200 || string(raw) != `{"extra_specs":{"flag":"True","hw:cpu_policy":"shared","hw:numa_nodes":"1"}}`+"\n" {
		t.Errorf("set extra specs: %d %s", resp.StatusCode, raw)
	}
	checkShape(t, "extra specs", get(t, e, base+"/1/os-extra_specs", alpha.Token), extraSpecsShape)
	if raw := get(t, e, base+"/1/os-extra_specs/hw:numa_nodes", alpha.Token); string(raw) != `{"hw:numa_nodes":"1"}`+"\n" {
		t.Errorf("show extra spec: %s", raw)
	}
	if resp, raw := e.Do(t, "PUT", base+"/1/os-extra_specs/hw:numa_nodes", `{"hw:numa_nodes":"2"}`, admin); resp.StatusCode != 200 ||
		string(raw) != `{"hw:numa_nodes":"2"}`+"\n" {
		t.Errorf("update extra spec: %d %s", resp.StatusCode, raw)
	}
	if resp, raw := e.Do(t, "DELETE", base+"/1/os-extra_specs/flag", "", admin); resp.StatusCode != 200 || len(raw) != 0 {
		t.Errorf("delete extra spec: %d %s", resp.StatusCode, raw)
	}

	// Refusals, with Nova's statuses; none changes anything.
	before := e.FSM.Index()
	for _, c := range []struct {
		method, path, body string
		status             int
		message            string
	}{
		{"GET", base + "/nope", "", 404, "Flavor nope could not be found."},
		{"GET", base + "?minRam=x", "", 400, "Invalid minRam filter [x]"},
		{"GET", base + "?limit=-1", "", 400, "limit param must be positive"},
		{"GET", base + "?marker=nope", "", 400, "marker [nope] not found"},
		{"GET", base + "?sort_key=bogus", "", 400, ""},
		{"GET", base + "/detail?is_public=maybe", "", 400, "Invalid is_public filter [maybe]"},
		{"POST", base, `{"flavor":{"name":"x","ram":1,"vcpus":1,"disk":1,"id":"1001"}}`, 409, "Flavor with ID 1001 already exists."},
		{"POST", base, `{"flavor":{"name":"m1.tiny","ram":1,"vcpus":1,"disk":1}}`, 409, "Flavor with name m1.tiny already exists."},
		{"POST", base, `{"flavor":{"name":"x","ram":0,"vcpus":1,"disk":1}}`, 400, ""},
		{"POST", base, `{"flavor":{"name":"x","ram":"-5","vcpus":1,"disk":1}}`, 400, ""},
		{"POST", base, `{"flavor":{"name":"x","vcpus":1,"disk":1}}`, 400, ""},
		{"POST", base, `{"flavor":{"name":"x","ram":1,"vcpus":1,"disk":1,"color":"red"}}`, 400, ""},
		{"POST", base, `{"flavor":{"name":"x","ram":1,"vcpus":1,"disk":1,"rxtx_factor":0}}`, 400, ""},
		{"POST", base + "/1/action", `{"addTenantAccess":{"tenant":"nope"}}`, 400, "Project ID nope is not a valid project."},
		{"POST", base + "/1/action", `{"shrink":{}}`, 400, "There is no such action: shrink"},
		{"POST", base + "/nope/action", `{"addTenantAccess":{"tenant":"x"}}`, 404, "Flavor nope could not be found."},
		{"GET", base + "/1/os-extra_specs/hw:cpu_thread_policy", "", 404, "Flavor 1 has no extra specs with key hw:cpu_thread_policy."},
		{"DELETE", base + "/1/os-extra_specs/hw:cpu_thread_policy", "", 404, "Flavor 1 has no extra specs with key hw:cpu_thread_policy."},
		{"PUT", base + "/1/os-extra_specs/hw:numa_nodes", `{"hw:cpu_policy":"shared"}`, 400, "Request body and URI mismatch"},
		{"PUT", base + "/1/os-extra_specs/hw:numa_nodes", `{"hw:numa_nodes":"1","hw:cpu_policy":"shared"}`, 400, "Request body contains too many items"},
		{"POST", base + "/1/os-extra_specs", `{"extra_specs":{"bad/key":"1"}}`, 400, ""},
		{"DELETE", base + "/nope", "", 404, "Flavor nope could not be found."},
	} {
		resp, raw := e.Do(t, c.method, c.path, c.body, admin)
		if resp.StatusCode != c.status || c.message != "" && faultMessage(t, raw) != c.message {
			t.Errorf("%s %s %s: %d %s", c.method, c.path, c.body, resp.StatusCode, raw)
		}
	}
	if e.FSM.Index() != before {
		t.Errorf("refused requests changed the state")
	}
	if resp, raw := e.Do(t, "DELETE", base+"/1001", "", admin); resp.StatusCode != http.StatusAccepted {
		t.Errorf("delete: %d %s", resp.StatusCode, raw)
	}
	if _, err := e.FSM.Flavor("1001"); err == nil {
		t.Error("flavor 1001 still there")
	}
}

func TestFlavorListOrderAndPaging(t *testing.T) {
	e, alpha := computeEnv(t)
	base := "/compute/v2.1/flavors"
	all := flavorNames(t, get(t, e, base, alpha.Token))
	if len(all) < 3 {
		t.Fatalf("default flavors: %v", all)
	}
	raw := get(t, e, base+"?limit=2", alpha.Token)
	if got := flavorNames(t, raw); !slices.Equal(got, all[:2]) || !strings.Contains(string(raw), `"flavors_links":[{"rel":"next","href":"`+e.URL()+`/compute/v2.1/flavors?limit=2\u0026marker=`) {
		t.Errorf("first page: %s", raw)
	}
	var page struct {
		Flavors []struct {
			ID string `json:"id"`
		} `json:"flavors"`
	}
	_ = json.Unmarshal(raw, &page)
	if got := flavorNames(t, get(t, e, base+"/detail?marker="+page.Flavors[1].ID, alpha.Token)); !slices.Equal(got, all[2:]) {
		t.Errorf("after the marker: %v, want %v", got, all[2:])
	}
	if got := flavorNames(t, get(t, e, base+"?sort_key=memory_mb&sort_dir=desc", alpha.Token)); got[0] != "m1.xlarge" {
		t.Errorf("by memory, largest first: %v", got)
	}
	if got := flavorNames(t, get(t, e, base+"?minRam=4096&minDisk=40", alpha.Token)); !slices.Equal(got, []string{"m1.medium", "m1.large", "m1.xlarge"}) {
		t.Errorf("minRam/minDisk: %v", got)
	}
	if raw := get(t, e, base+"?limit=0", alpha.Token); string(raw) != "{\"flavors\":[]}\n" {
		t.Errorf("limit 0: %s", raw)
	}
}
