package nova_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/shoal-project/shoal/api/apitest"
	"github.com/shoal-project/shoal/api/openstack/nova"
	"github.com/shoal-project/shoal/fsm"
)

// at is the header asking for compute microversion v.
func at(v string) []string { return []string{"X-OpenStack-Nova-API-Version", v} }

// TestServerViewMicroversions: the fields each microversion adds to the
// server view appear from it on, and only for whom Nova shows them.
func TestServerViewMicroversions(t *testing.T) {
	e := newServersEnvWith(t, nova.NewUpTo("2.100"))
	status, raw := e.call(t, "POST", "/servers", `{"server":{"name":"Web Server","imageRef":"`+apitest.CirrosID+`",
		"flavorRef":"1","networks":"auto","description":"front","tags":["b","a"],"hostname":"web-1"}}`,
		e.alpha.Token, at("2.90")...)
	if status != 202 {
		t.Fatalf("create at 2.90: %d %s", status, raw)
	}
	var created struct{ Server struct{ ID string } }
	decode(t, raw, &created)
	id := created.Server.ID
	inst, err := e.FSM.Instance(id)
	if err != nil || inst.Hostname != "web-1" || inst.Description != "front" || strings.Join(inst.Tags, ",") != "a,b" {
		t.Fatalf("created %+v, %v", inst, err)
	}

	show := func(v, token string) map[string]any {
		t.Helper()
		status, raw := e.call(t, "GET", "/servers/"+id, "", token, at(v)...)
		if status != 200 {
			t.Fatalf("show at %s: %d %s", v, status, raw)
		}
		var out struct{ Server map[string]any }
		decode(t, raw, &out)
		return out.Server
	}
	later := []string{"locked", "description", "tags", "trusted_image_certificates", "server_groups", "locked_reason",
		"pinned_availability_zone", "scheduler_hints", "host_status", "OS-EXT-SRV-ATTR:hostname",
		"OS-EXT-SRV-ATTR:reservation_id", "OS-EXT-SRV-ATTR:launch_index", "OS-EXT-SRV-ATTR:user_data"}
	for _, k := range later {
		if _, ok := show("2.1", apitest.AdminToken)[k]; ok {
			t.Errorf("%s shown at 2.1", k)
		}
	}
	admin := show("2.100", apitest.AdminToken)
	for _, k := range later {
		if _, ok := admin[k]; !ok {
			t.Errorf("%s missing at 2.100 for an admin", k)
		}
	}
	if admin["OS-EXT-SRV-ATTR:hostname"] != "web-1" || admin["description"] != "front" || admin["locked"] != false ||
		admin["trusted_image_certificates"] != nil || admin["locked_reason"] != nil {
		t.Errorf("admin view at 2.100: %v", admin)
	}
	flavor, _ := admin["flavor"].(map[string]any)
	if flavor["original_name"] == nil || flavor["vcpus"] == nil || flavor["extra_specs"] == nil || flavor["id"] != nil {
		t.Errorf("2.47 flavor: %v", flavor)
	}
	if image, _ := admin["image"].(map[string]any); image["properties"] == nil {
		t.Errorf("2.98 image: %v", admin["image"])
	}
	member := show("2.100", e.alpha.Token)
	for _, k := range []string{"host_status", "OS-EXT-SRV-ATTR:reservation_id", "OS-EXT-SRV-ATTR:host"} {
		if _, ok := member[k]; ok {
			t.Errorf("%s shown to a member", k)
		}
	}
	if member["OS-EXT-SRV-ATTR:hostname"] != "web-1" {
		t.Errorf("2.90 hostname for a member: %v", member["OS-EXT-SRV-ATTR:hostname"])
	}
	if _, ok := show("2.89", e.alpha.Token)["OS-EXT-SRV-ATTR:hostname"]; ok {
		t.Error("hostname shown to a member before 2.90")
	}

	// The list's detail has no server_groups (2.71 is show and update).
	status, raw = e.call(t, "GET", "/servers/detail", "", e.alpha.Token, at("2.100")...)
	if status != 200 || strings.Contains(string(raw), `"server_groups"`) || !strings.Contains(string(raw), `"locked_reason"`) {
		t.Errorf("detail at 2.100: %d %s", status, raw)
	}

	// PUT: 2.90 hostname; below 2.75 the common view, from 2.75 GET's.
	status, raw = e.call(t, "PUT", "/servers/"+id, `{"server":{"hostname":"web-2"}}`, e.alpha.Token, at("2.90")...)
	if status != 200 || !strings.Contains(string(raw), `"OS-EXT-SRV-ATTR:hostname":"web-2"`) ||
		!strings.Contains(string(raw), `"OS-EXT-AZ:availability_zone"`) {
		t.Errorf("update at 2.90: %d %s", status, raw)
	}
	status, raw = e.call(t, "PUT", "/servers/"+id, `{"server":{"name":"n"}}`, e.alpha.Token, at("2.74")...)
	if status != 200 || strings.Contains(string(raw), `"OS-EXT-AZ:availability_zone"`) ||
		!strings.Contains(string(raw), `"server_groups":[]`) {
		t.Errorf("update at 2.74: %d %s", status, raw)
	}
}

// TestServerCreateMicroversionsBadInput: what each version's create
// schema refuses, and what shoal cannot do.
func TestServerCreateMicroversionsBadInput(t *testing.T) {
	e := newServersEnvWith(t, nova.NewUpTo("2.100"))
	body := func(extra string) string {
		return `{"server":{"name":"x","imageRef":"` + apitest.CirrosID + `","flavorRef":"1"` + extra + `}}`
	}
	for _, tc := range []struct {
		version, body string
		token         string
		want          int
	}{
		{"2.37", body(``), "", 400},                                    // networks required
		{"2.37", body(`,"networks":"none"`), "", 400},                  // no port: not supported
		{"2.37", body(`,"networks":"some"`), "", 400},                  // not auto/none
		{"2.37", body(`,"networks":[{"uuid":"default"}]`), "", 400},    // not a UUID
		{"2.37", body(`,"networks":"auto","tags":["a"]`), "", 400},     // tags from 2.52
		{"2.52", body(`,"networks":"auto","tags":["a/b"]`), "", 400},   // bad tag
		{"2.18", body(`,"description":"d"`), "", 400},                  // description from 2.19
		{"2.57", body(`,"networks":"auto","personality":[]`), "", 400}, // gone at 2.57
		{"2.63", body(`,"networks":"auto","trusted_image_certificates":["c"]`), "", 400},
		{"2.74", body(`,"networks":"auto","host":"` + apitest.NodeName + `"`), "", 403}, // an admin's
		{"2.74", body(`,"networks":"auto","host":"nowhere"`), apitest.AdminToken, 400},
		{"2.90", body(`,"networks":"auto","hostname":"a.b"`), "", 400}, // a label before 2.94
		{"2.90", body(`,"networks":"auto","hostname":"h","max_count":2`), "", 400},
		{"2.52", body(`,"networks":"auto","tags":["a"],"min_count":1`), "", 202},
		{"2.94", body(`,"networks":"auto","hostname":"a.example.org"`), "", 202},
		{"2.74", body(`,"networks":"auto","hypervisor_hostname":"` + apitest.NodeName + `"`), apitest.AdminToken, 202},
	} {
		token := tc.token
		if token == "" {
			token = e.alpha.Token
		}
		status, raw := e.call(t, "POST", "/servers", tc.body, token, at(tc.version)...)
		if status != tc.want {
			t.Errorf("%s %s: %d, want %d: %s", tc.version, tc.body, status, tc.want, raw)
		}
	}
}

// TestServerTags: Nova's server tags API at 2.26.
func TestServerTags(t *testing.T) {
	e := newServersEnvWith(t, nova.NewUpTo("2.100"))
	id := "a0000000-0000-4000-8000-000000000026"
	e.SeedServer(t, e.alpha, id, "tagged", apitest.CirrosID, apitest.NodeName)
	v := at("2.26")
	call := func(method, path, body string) (int, string) {
		status, raw := e.call(t, method, "/servers/"+id+path, body, e.alpha.Token, v...)
		return status, string(raw)
	}
	for _, step := range []struct {
		method, path, body string
		want               int
		contains           string
	}{
		{"GET", "/tags", "", 200, `{"tags":[]}`},
		{"PUT", "/tags/web", "", 201, ""},
		{"PUT", "/tags/web", "", 204, ""},
		{"GET", "/tags/web", "", 204, ""},
		{"GET", "/tags/db", "", 404, "has no tag 'db'"},
		{"PUT", "/tags/a,b", "", 400, "is invalid"},
		{"PUT", "/tags", `{"tags":["z","y","z"]}`, 200, `{"tags":["y","z"]}`},
		{"PUT", "/tags", `{"tags":"z"}`, 400, ""},
		{"PUT", "/tags", `{"tagz":[]}`, 400, ""},
		{"DELETE", "/tags/web", "", 404, "has no tag 'web'"},
		{"DELETE", "/tags/y", "", 204, ""},
		{"GET", "/tags", "", 200, `{"tags":["z"]}`},
		{"DELETE", "/tags", "", 204, ""},
		{"GET", "/tags", "", 200, `{"tags":[]}`},
	} {
		status, raw := call(step.method, step.path, step.body)
		if status != step.want || !strings.Contains(raw, step.contains) {
			t.Errorf("%s %s %s: %d %s, want %d with %q", step.method, step.path, step.body, status, raw, step.want, step.contains)
		}
	}
	if status, _ := e.call(t, "GET", "/servers/"+id+"/tags", "", e.beta.Token, v...); status != 404 {
		t.Errorf("another project's server's tags: %d", status)
	}
	if status, _ := e.call(t, "GET", "/servers/"+id+"/tags", "", e.alpha.Token, at("2.25")...); status != 404 {
		t.Errorf("tags at 2.25: %d", status)
	}
	// The view shows the tags (2.26).
	e.Apply(t, &fsm.SetInstanceTags{ID: id, Tags: []string{"kept"}, Time: apitest.SeedTime})
	status, raw := e.call(t, "GET", "/servers/"+id, "", e.alpha.Token, v...)
	if status != 200 || !strings.Contains(string(raw), `"tags":["kept"]`) {
		t.Errorf("view at 2.26: %d %s", status, raw)
	}
}

// TestServerListMicroversionFilters: tags filters (2.26), locked (2.73),
// changes-before (2.66) and the 2.38 status check.
func TestServerListMicroversionFilters(t *testing.T) {
	e := newServersEnvWith(t, nova.NewUpTo("2.100"))
	a, b := "a0000000-0000-4000-8000-00000000000a", "a0000000-0000-4000-8000-00000000000b"
	e.SeedServer(t, e.alpha, a, "a", apitest.CirrosID, apitest.NodeName)
	e.SeedServer(t, e.alpha, b, "b", apitest.CirrosID, apitest.NodeName)
	e.Apply(t, &fsm.SetInstanceTags{ID: a, Tags: []string{"x", "y"}, Time: apitest.SeedTime})
	e.Apply(t, &fsm.SetInstanceTags{ID: b, Tags: []string{"y"}, Time: apitest.SeedTime})
	e.Apply(t, &fsm.LockInstance{ID: b, RequestID: "req-l", ProjectID: e.alpha.ProjectID, Time: apitest.SeedTime})
	for _, tc := range []struct {
		version, query string
		want           int
		ids            []string
	}{
		{"2.26", "tags=x,y", 200, []string{a}},
		{"2.26", "tags-any=x,y", 200, []string{a, b}},
		{"2.26", "not-tags=x,y", 200, []string{b}},
		{"2.26", "not-tags-any=x", 200, []string{b}},
		{"2.25", "tags=x", 200, []string{a, b}}, // a member's unknown filter is dropped
		{"2.73", "locked=true", 200, []string{b}},
		{"2.73", "locked=false", 200, []string{a}},
		{"2.73", "locked=maybe", 400, nil},
		{"2.38", "status=nonsense", 400, nil},
		{"2.37", "status=nonsense", 200, nil},
		{"2.66", "changes-before=1970-01-01T00:01:00Z", 200, nil},
		{"2.66", "changes-since=2030-01-01T00:00:00Z&changes-before=2000-01-01T00:00:00Z", 400, nil},
		{"2.74", "bogus=1", 200, []string{a, b}},
		{"2.75", "bogus=1", 400, nil},
		{"2.75", "hostname=a&sort_key=display_name", 200, []string{a, b}},
	} {
		status, raw := e.call(t, "GET", "/servers?"+tc.query, "", e.alpha.Token, at(tc.version)...)
		if status != tc.want {
			t.Errorf("%s ?%s: %d, want %d: %s", tc.version, tc.query, status, tc.want, raw)
			continue
		}
		if status != 200 {
			continue
		}
		var out struct{ Servers []struct{ ID string } }
		decode(t, raw, &out)
		var ids []string
		for _, s := range out.Servers {
			ids = append(ids, s.ID)
		}
		slices.Sort(ids)
		if !slices.Equal(ids, tc.ids) {
			t.Errorf("%s ?%s: %v, want %v", tc.version, tc.query, ids, tc.ids)
		}
	}
}

// TestInterfaceTagMicroversion: 2.70 adds a null tag to os-interface.
func TestInterfaceTagMicroversion(t *testing.T) {
	e := newServersEnvWith(t, nova.NewUpTo("2.100"))
	id := "a0000000-0000-4000-8000-000000000070"
	e.SeedServer(t, e.alpha, id, "ports", apitest.CirrosID, apitest.NodeName)
	for v, want := range map[string]bool{"2.69": false, "2.70": true} {
		status, raw := e.call(t, "GET", "/servers/"+id+"/os-interface", "", e.alpha.Token, at(v)...)
		if status != 200 || strings.Contains(string(raw), `"tag":null`) != want {
			t.Errorf("os-interface at %s: %d %s", v, status, raw)
		}
	}
}
