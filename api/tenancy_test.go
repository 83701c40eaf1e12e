package api

import (
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/shoal-project/shoal/api/identity/identitytest"
	"github.com/shoal-project/shoal/fsm"
)

// ids lists the "id" of every object of a list body's key.
func listIDs(t *testing.T, raw []byte, key string) []string {
	t.Helper()
	var body map[string][]map[string]any
	if err := json.Unmarshal(raw, &body); err != nil {
		t.Fatalf("decode %s: %v", raw, err)
	}
	var out []string
	for _, o := range body[key] {
		out = append(out, o["id"].(string))
	}
	slices.Sort(out)
	return out
}

func sorted(ids ...string) []string { return slices.Sorted(slices.Values(ids)) }

// Creating stamps the caller's project and user, shown with Nova's and
// Glance's names.
func TestCreateStampsOwner(t *testing.T) {
	w := newTenants(t)
	resp, raw := w.as(t, member, "POST", "/v1/servers", `{"server":{"name":"web","flavor":"1","image":"img-1"}}`)
	if resp.StatusCode != 202 {
		t.Fatalf("create server = %d %s", resp.StatusCode, raw)
	}
	var srv struct {
		Server map[string]any `json:"server"`
	}
	json.Unmarshal(raw, &srv)
	if srv.Server["tenant_id"] != w.alpha.project || srv.Server["user_id"] != w.alpha.user {
		t.Errorf("server owner = %v/%v, want %s/%s", srv.Server["tenant_id"], srv.Server["user_id"], w.alpha.project, w.alpha.user)
	}
	resp, raw = w.as(t, member, "POST", "/v1/server-groups", `{"server_group":{"name":"g","policy":"affinity"}}`)
	g := decode[ServerGroupResponse](t, raw).ServerGroup
	if resp.StatusCode != 201 || g.ProjectID != w.alpha.project || g.UserID != w.alpha.user || !strings.Contains(string(raw), `"project_id":"`+w.alpha.project) {
		t.Errorf("create group = %d %s", resp.StatusCode, raw)
	}
	resp, raw = w.as(t, member, "POST", "/v1/images", `{"name":"mine","disk_format":"qcow2","container_format":"bare"}`)
	if want := `"owner":"` + w.alpha.project + `","visibility":"private"`; resp.StatusCode != 201 || !strings.Contains(string(raw), want) {
		t.Errorf("create image = %d %s, want %s", resp.StatusCode, raw, want)
	}
	// An image made before identity has no owner and every project sees it.
	_, raw = w.as(t, reader, "GET", "/v1/images/cirros", "")
	if want := `"owner":null,"visibility":"public"`; !strings.Contains(string(raw), want) {
		t.Errorf("legacy image = %s, want %s", raw, want)
	}
}

// Lists show the caller's project; all_tenants (servers) and all_projects
// (server groups) are an admin's, with Nova's spellings of true.
func TestListScope(t *testing.T) {
	w := newTenants(t)
	both := sorted(w.alpha.server, w.beta.server)
	for _, tc := range []struct {
		caller, query string
		status        int
		want          []string
	}{
		{reader, "", 200, []string{w.alpha.server}},
		{betaUser, "", 200, []string{w.beta.server}},
		{reader, "?project_id=" + w.alpha.project, 200, []string{w.alpha.server}},
		{reader, "?all_tenants=0", 200, []string{w.alpha.server}},
		{admin, "", 200, nil}, // the admin project owns none
		{admin, "?all_tenants=1", 200, both},
		{admin, "?all_tenants=true", 200, both},
		{admin, "?all_tenants=True", 200, both},
		{admin, "?all_tenants=yes", 200, both},
		{admin, "?all_tenants", 200, both},
		{admin, "?all_tenants=1&project_id=" + w.beta.project, 200, []string{w.beta.server}},
		{admin, "?tenant_id=" + w.beta.project, 200, []string{w.beta.server}},
		{admin, "?all_tenants=maybe", 400, nil},
		{member, "?all_tenants=1", 403, nil},
		{member, "?project_id=" + w.beta.project, 403, nil},
		{member, "?tenant_id=" + w.beta.project, 403, nil},
	} {
		resp, raw := w.as(t, tc.caller, "GET", "/v1/servers"+tc.query, "")
		if resp.StatusCode != tc.status {
			t.Errorf("GET /v1/servers%s as %s = %d %s, want %d", tc.query, tc.caller, resp.StatusCode, raw, tc.status)
			continue
		}
		if resp.StatusCode != 200 {
			continue
		}
		if got := listIDs(t, raw, "servers"); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("GET /v1/servers%s as %s = %v, want %v", tc.query, tc.caller, got, tc.want)
		}
	}
	legacy := "9a9a9a9a-0000-4000-8000-000000000001" // seedCompute's, made before identity
	for _, tc := range []struct {
		caller, query string
		status        int
		want          []string
	}{
		{member, "", 200, []string{w.alpha.group}},
		{admin, "?all_projects=1", 200, sorted(w.alpha.group, w.beta.group, legacy)},
		{member, "?all_projects=1", 403, nil},
		{member, "?all_tenants=1", 400, nil},
	} {
		resp, raw := w.as(t, tc.caller, "GET", "/v1/server-groups"+tc.query, "")
		if resp.StatusCode != tc.status {
			t.Errorf("GET /v1/server-groups%s as %s = %d %s, want %d", tc.query, tc.caller, resp.StatusCode, raw, tc.status)
			continue
		}
		if resp.StatusCode != 200 {
			continue
		}
		if got := listIDs(t, raw, "server_groups"); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("GET /v1/server-groups%s as %s = %v, want %v", tc.query, tc.caller, got, tc.want)
		}
	}
	// Objects made before identity belong to no project: an admin's only.
	if resp, _ := w.as(t, member, "GET", "/v1/server-groups/"+legacy, ""); resp.StatusCode != 404 {
		t.Errorf("legacy group as member = %d, want 404", resp.StatusCode)
	}
}

// Glance: a project sees its images and the public ones; an admin all.
func TestImageVisibility(t *testing.T) {
	w := newTenants(t)
	cirros := "0f0e0d0c-0000-4000-8000-000000000001" // made before identity: public
	resp, raw := w.as(t, admin, "POST", "/v1/images", `{"name":"ubuntu","disk_format":"qcow2","container_format":"bare","visibility":"public"}`)
	if resp.StatusCode != 201 {
		t.Fatalf("admin's public image = %d %s", resp.StatusCode, raw)
	}
	ubuntu := decode[ImageResponse](t, raw).Image.ID
	for _, tc := range []struct {
		caller, query string
		status        int
		want          []string
	}{
		{reader, "", 200, sorted(w.alpha.image, cirros, ubuntu)},
		{betaUser, "", 200, sorted(w.beta.image, cirros, ubuntu)},
		{admin, "", 200, sorted(w.alpha.image, w.beta.image, cirros, ubuntu)},
		{reader, "?visibility=public", 200, sorted(cirros, ubuntu)},
		{reader, "?visibility=private", 200, []string{w.alpha.image}},
		{admin, "?visibility=private", 200, sorted(w.alpha.image, w.beta.image)},
		{reader, "?visibility=all", 200, sorted(w.alpha.image, cirros, ubuntu)},
		{reader, "?visibility=community", 400, nil},
		{reader, "?owner=x", 400, nil},
	} {
		resp, raw := w.as(t, tc.caller, "GET", "/v1/images"+tc.query, "")
		if resp.StatusCode != tc.status {
			t.Errorf("GET /v1/images%s as %s = %d %s, want %d", tc.query, tc.caller, resp.StatusCode, raw, tc.status)
			continue
		}
		if resp.StatusCode != 200 {
			continue
		}
		if got := listIDs(t, raw, "images"); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("GET /v1/images%s as %s = %v, want %v", tc.query, tc.caller, got, tc.want)
		}
	}

	body := func(visibility string) string {
		return `{"name":"x","disk_format":"qcow2","container_format":"bare","visibility":"` + visibility + `"}`
	}
	before := w.c.snapshot()
	resp, raw = w.as(t, member, "POST", "/v1/images", body("public"))
	wantError(t, resp, raw, 403, "publicize_image")
	resp, raw = w.as(t, member, "POST", "/v1/images", body("everyone"))
	wantError(t, resp, raw, 400, "visibility")
	if after := w.c.snapshot(); !reflect.DeepEqual(after, before) {
		t.Error("a refused image create changed the state")
	}
	if resp, raw := w.as(t, member, "POST", "/v1/images", body("shared")); resp.StatusCode != 201 || !strings.Contains(string(raw), `"visibility":"shared"`) {
		t.Errorf("shared image = %d %s", resp.StatusCode, raw)
	}

	// Another project's image: absent when private, forbidden to change
	// when public (Glance).
	for _, tc := range []struct {
		method, path string
		status       int
	}{
		{"DELETE", "/v1/images/" + w.beta.image, 404},
		{"PUT", "/v1/images/" + w.beta.image + "/file", 404},
		{"DELETE", "/v1/images/" + ubuntu, 403},
		{"PUT", "/v1/images/" + ubuntu + "/file", 403},
		{"DELETE", "/v1/images/" + cirros, 403},
	} {
		if resp, raw := w.as(t, member, tc.method, tc.path, "data"); resp.StatusCode != tc.status {
			t.Errorf("%s %s as member = %d %s, want %d", tc.method, tc.path, resp.StatusCode, raw, tc.status)
		}
	}
}

// A server create may name only images and groups the caller sees; another
// project's are absent, so the references are bad (Nova's 400).
func TestServerCreateRefsOfOtherProject(t *testing.T) {
	w := newTenants(t)
	before := w.c.snapshot()
	for _, tc := range []struct{ body, want string }{
		{`{"server":{"name":"x","flavor":"1","image":"` + w.beta.image + `"}}`, "Image " + w.beta.image + " could not be found."},
		{`{"server":{"name":"x","flavor":"1","image":"img-2"}}`, "Image img-2 could not be found."},
		{`{"server":{"name":"x","flavor":"1","image":"img-1","server_group":"` + w.beta.group + `"}}`,
			"Server group " + w.beta.group + " could not be found."},
		{`{"server":{"name":"x","flavor":"1","image":"img-1","server_group":"group-2"}}`, "Server group group-2 could not be found."},
	} {
		resp, raw := w.as(t, member, "POST", "/v1/servers", tc.body)
		wantError(t, resp, raw, 400, tc.want)
	}
	if after := w.c.snapshot(); !reflect.DeepEqual(after, before) {
		t.Error("a refused create changed the state")
	}
	// The admin may build from any project's image into any group.
	body := `{"server":{"name":"x","flavor":"1","image":"` + w.beta.image + `","server_group":"` + w.beta.group + `"}}`
	if resp, raw := w.as(t, admin, "POST", "/v1/servers", body); resp.StatusCode != 202 {
		t.Errorf("admin's create = %d %s", resp.StatusCode, raw)
	}
}

// The action log says who did what (Nova's instance actions carry user_id
// and project_id); reset-state and evacuate are an admin's (Nova's policy).
func TestActionLogAndAdminActions(t *testing.T) {
	w := newTenants(t)
	path := "/v1/servers/" + w.alpha.server
	for _, action := range []string{`{"action":"reset-state","state":"error"}`, `{"action":"evacuate"}`} {
		resp, raw := w.as(t, member, "POST", path+"/action", action)
		wantError(t, resp, raw, 403, "policy does not allow")
	}
	if resp, raw := w.as(t, member, "POST", path+"/action", `{"action":"stop"}`); resp.StatusCode != 202 {
		t.Fatalf("stop = %d %s", resp.StatusCode, raw)
	}
	w.c.MustApply(t, &fsm.ReportInstances{Host: "node1", Time: time.Unix(400, 0).UTC(),
		Reports: []fsm.InstanceReport{{ID: w.alpha.server, PowerState: fsm.PowerShutdown, Done: fsm.TaskPoweringOff,
			TaskIndex: mustInstance(t, w, w.alpha.server).TaskIndex}}})
	if resp, raw := w.as(t, admin, "POST", path+"/action", `{"action":"reset-state","state":"error"}`); resp.StatusCode != 202 {
		t.Fatalf("admin's reset-state = %d %s", resp.StatusCode, raw)
	}
	if resp, raw := w.as(t, admin, "DELETE", path, ""); resp.StatusCode != 204 {
		t.Fatalf("admin's delete = %d %s", resp.StatusCode, raw)
	}
	resp, raw := w.as(t, reader, "GET", path+"/actions", "")
	if resp.StatusCode != 200 {
		t.Fatalf("actions = %d %s", resp.StatusCode, raw)
	}
	type who struct{ Action, UserID, ProjectID string }
	var got []who
	for _, a := range decode[ServerActionList](t, raw).Actions {
		got = append(got, who{a.Action, a.UserID, a.ProjectID})
	}
	alpha, adm := w.alpha, identitytest.AdminUserID
	want := []who{ // newest first
		{fsm.ActionDelete, adm, identitytest.AdminProjectID},
		{"reset-state error", adm, identitytest.AdminProjectID},
		{fsm.ActionStop, alpha.user, alpha.project},
		{"create", alpha.user, alpha.project},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("action log\n %v\nwant\n %v", got, want)
	}
	if !strings.Contains(string(raw), `"user_id":"`+adm+`","project_id":"`+identitytest.AdminProjectID+`"`) {
		t.Errorf("actions on the wire lack user_id/project_id: %s", raw)
	}
}

func mustInstance(t *testing.T, w *tenants, id string) fsm.Instance {
	t.Helper()
	inst, err := w.c.FSM.Instance(id)
	if err != nil {
		t.Fatal(err)
	}
	return inst
}
