package nova_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/shoal-project/shoal/api/apitest"
	"github.com/shoal-project/shoal/api/openstack/nova"
)

// os-hosts (until 2.42): the list, a host's resources, the status update
// over the hosts' enable flag, and Nova's 404/400/501/403 answers.
func TestOSHosts(t *testing.T) {
	e, alpha := computeEnv(t)
	admin := apitest.AdminToken
	const base = "/compute/v2.1/os-hosts"

	raw := get(t, e, base, admin)
	if string(raw) != `{"hosts":[{"host_name":"node1","service":"compute","zone":"nova"},{"host_name":"node2","service":"compute","zone":"nova"}]}`+"\n" {
		t.Errorf("hosts: %s", raw)
	}
	for zone, want := range map[string]int{"nova": 2, "": 2, "xxx": 0} {
		if raw := get(t, e, base+"?zone="+zone, admin); strings.Count(string(raw), "host_name") != want {
			t.Errorf("hosts of zone %q: %s", zone, raw)
		}
	}

	raw = get(t, e, base+"/"+apitest.NodeName, admin)
	var show struct {
		Host []struct {
			Resource map[string]any `json:"resource"`
		} `json:"host"`
	}
	if err := json.Unmarshal(raw, &show); err != nil || len(show.Host) != 4 {
		t.Fatalf("host: %s", raw)
	}
	for i, want := range []string{"(total)", "(used_now)", "(used_max)", alpha.ProjectID} {
		r := show.Host[i].Resource
		if r["project"] != want || r["host"] != apitest.NodeName || len(r) != 5 {
			t.Errorf("line %d: %v, want project %s", i, r, want)
		}
	}
	if r := show.Host[0].Resource; r["cpu"] != 8.0 || r["memory_mb"] != 16384.0 || r["disk_gb"] != 100.0 {
		t.Errorf("total: %v", r)
	}
	if r := show.Host[2].Resource; r["cpu"] != 1.0 {
		t.Errorf("used_max: %v", r)
	}

	// Disabling hides the host from the list, as Nova lists only enabled
	// services; enabling brings it back.
	resp, raw := e.Do(t, "PUT", base+"/node2", `{"status":"Disable"}`, admin)
	if resp.StatusCode != 200 || string(raw) != `{"host":"node2","status":"disabled"}`+"\n" {
		t.Errorf("disable: %d %s", resp.StatusCode, raw)
	}
	if h, _ := e.FSM.Host("node2"); h.Enabled {
		t.Errorf("node2 still enabled")
	}
	if raw := get(t, e, base, admin); strings.Contains(string(raw), "node2") {
		t.Errorf("a disabled host listed: %s", raw)
	}
	resp, raw = e.Do(t, "PUT", base+"/node2", `{"status":"enable"}`, admin)
	if resp.StatusCode != 200 || string(raw) != `{"host":"node2","status":"enabled"}`+"\n" {
		t.Errorf("enable: %d %s", resp.StatusCode, raw)
	}

	before := e.FSM.Index()
	notMapped := "Host 'nohost' is not mapped to any cell"
	unsupported := "The requested functionality is not supported."
	for _, c := range []struct {
		method, path, body string
		status             int
		message            string
	}{
		{"GET", "/nohost", "", 404, notMapped},
		{"PUT", "/nohost", `{"status":"enable"}`, 404, notMapped},
		{"GET", "/nohost/startup", "", 404, notMapped},
		{"GET", "/nohost/shutdown", "", 404, notMapped},
		{"GET", "/nohost/reboot", "", 404, notMapped},
		{"GET", "/node1/startup", "", 501, unsupported},
		{"GET", "/node1/shutdown", "", 501, unsupported},
		{"GET", "/node1/reboot", "", 501, unsupported},
		{"PUT", "/node1", `{"status":"disable","maintenance_mode":"enable"}`, 501, unsupported},
		{"PUT", "/node1", `{"status":"invalid","maintenance_mode":"enable"}`, 400,
			"Invalid input for field/attribute status. Value: \"invalid\". 'invalid' is not one of ['enable', 'disable', 'Enable', 'Disable', 'ENABLE', 'DISABLE']"},
		{"PUT", "/node1", `{"status":"enable","maintenance_mode":"invalid"}`, 400,
			"Invalid input for field/attribute maintenance_mode. Value: \"invalid\". 'invalid' is not one of ['enable', 'disable', 'Enable', 'Disable', 'ENABLE', 'DISABLE']"},
		{"PUT", "/node1", `{}`, 400, "{} is not valid under any of the given schemas"},
		{"PUT", "/node1", `{"status":"enable","x":1}`, 400, "Additional properties are not allowed ('x' was unexpected)"},
		{"PUT", "/node1", `{"status":`, 400, "Malformed request body"},
	} {
		resp, raw := e.Do(t, c.method, base+c.path, c.body, admin)
		if resp.StatusCode != c.status || faultMessage(t, raw) != c.message {
			t.Errorf("%s %s %s: %d %s", c.method, c.path, c.body, resp.StatusCode, raw)
		}
	}
	if e.FSM.Index() != before {
		t.Errorf("refused requests changed the state: index %d → %d", before, e.FSM.Index())
	}

	// Admin only; gone at 2.43.
	for _, path := range []string{"", "/node1", "/node1/reboot"} {
		if resp, _ := e.Do(t, "GET", base+path, "", alpha.Token); resp.StatusCode != 403 {
			t.Errorf("member GET %s: %d", path, resp.StatusCode)
		}
	}
	if resp, _ := e.Do(t, "PUT", base+"/node1", `{"status":"enable"}`, alpha.Token); resp.StatusCode != 403 {
		t.Errorf("member PUT: %d", resp.StatusCode)
	}
	e2 := apitest.New(t, nova.NewUpTo("2.43"))
	e2.SeedHosts(t, apitest.NodeName)
	if resp, _ := e2.Do(t, "GET", base, "", admin, "X-OpenStack-Nova-API-Version", "2.43"); resp.StatusCode != 404 {
		t.Errorf("os-hosts at 2.43: %d", resp.StatusCode)
	}
	if resp, _ := e2.Do(t, "GET", base, "", admin, "X-OpenStack-Nova-API-Version", "2.42"); resp.StatusCode != 200 {
		t.Errorf("os-hosts at 2.42: %d", resp.StatusCode)
	}
}
