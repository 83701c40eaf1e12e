package nova_test

import (
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/shoal-project/shoal/api/apitest"
	"github.com/shoal-project/shoal/fsm"
)

// TestServerUpdateAndMetadata: PUT /servers/{id} answers the common view
// only (Tempest's update schema has no room for the rest), the metadata
// API answers Nova's bodies, and the errors are Nova's, the server left as
// it was.
func TestServerUpdateAndMetadata(t *testing.T) {
	e := newServersEnv(t)
	const id = "f2000000-0000-4000-8000-000000000001"
	e.SeedServer(t, e.alpha, id, "web", apitest.CirrosID, apitest.NodeName)
	two := 2
	e.Apply(t, &fsm.SetQuota{ProjectID: e.alpha.ProjectID, Quota: fsm.QuotaOverride{MetadataItems: &two}})

	status, raw := e.call(t, "PUT", "/servers/"+id, `{"server":{"name":"www","accessIPv4":"192.0.2.7","OS-DCF:diskConfig":"MANUAL"}}`,
		e.alpha.Token)
	if status != 200 {
		t.Fatalf("PUT: %d %s", status, raw)
	}
	checkShape(t, "update", raw, shape{"server": commonServer})
	var updated struct{ Server map[string]any }
	decode(t, raw, &updated)
	if updated.Server["name"] != "www" || updated.Server["accessIPv4"] != "192.0.2.7" || updated.Server["accessIPv6"] != "" {
		t.Errorf("updated %s", raw)
	}

	for _, step := range []struct {
		method, path, body string
		status             int
		want               string // the body, for a 2xx
	}{
		{"GET", "/metadata", "", 200, `{"metadata":{}}`},
		{"POST", "/metadata", `{"metadata":{"a":"1"}}`, 200, `{"metadata":{"a":"1"}}`},
		{"POST", "/metadata", `{"metadata":{"b":"2"}}`, 200, `{"metadata":{"a":"1","b":"2"}}`},
		{"PUT", "/metadata", `{"metadata":{"c":"3"}}`, 200, `{"metadata":{"c":"3"}}`},
		{"PUT", "/metadata/d", `{"meta":{"d":"4"}}`, 200, `{"meta":{"d":"4"}}`},
		{"GET", "/metadata/d", "", 200, `{"meta":{"d":"4"}}`},
		{"DELETE", "/metadata/c", "", 204, ""},
		{"GET", "/metadata", "", 200, `{"metadata":{"d":"4"}}`},
	} {
		status, raw := e.call(t, step.method, "/servers/"+id+step.path, step.body, e.alpha.Token)
		if status != step.status || strings.TrimSpace(string(raw)) != step.want {
			t.Fatalf("%s %s: %d %s, want %d %s", step.method, step.path, status, raw, step.status, step.want)
		}
	}

	for _, c := range []struct {
		method, path, body string
		status             int
		message            string
	}{
		{"PUT", "", `{"server":{"bogus":1}}`, 400, ""},
		{"PUT", "", `{"server":{"name":""}}`, 400, ""},
		{"PUT", "", `{"server":{"accessIPv4":"2001:db8::1"}}`, 400, ""},
		{"PUT", "", `{"server":{"description":"x"}}`, 400, ""}, // 2.19's
		{"PUT", "", `{}`, 400, "'server' is a required property"},
		{"GET", "/metadata/nope", "", 404, "Metadata item was not found"},
		{"DELETE", "/metadata/nope", "", 404, "Metadata item was not found"},
		{"PUT", "/metadata/d", `{"meta":{"e":"5"}}`, 400, "Request body and URI mismatch"},
		{"PUT", "/metadata/d", `{"meta":{}}`, 400, ""},
		{"PUT", "/metadata/d", `{"meta":{"d":"4","e":"5"}}`, 400, ""},
		{"PUT", "/metadata", `{"metadata":{"k":1}}`, 400, ""},
		{"POST", "/metadata", `{"meta":{"k":"v"}}`, 400, ""},
		{"POST", "/metadata", `{"metadata":{"x":"1","y":"2"}}`, 403, ""},
	} {
		before := e.modified(t, id)
		status, raw := e.call(t, c.method, "/servers/"+id+c.path, c.body, e.alpha.Token)
		if status != c.status {
			t.Errorf("%s %s %s: %d %s, want %d", c.method, c.path, c.body, status, raw, c.status)
			continue
		}
		if _, _, msg := fault(t, raw); c.message != "" && msg != c.message {
			t.Errorf("%s %s: %q, want %q", c.method, c.path, msg, c.message)
		}
		if e.modified(t, id) != before {
			t.Errorf("%s %s %s changed the server", c.method, c.path, c.body)
		}
	}
}

// TestServerLock: a member's lock keeps the member from acting (Nova's 409
// "is locked") but not an admin; an admin's lock only an admin lifts.
func TestServerLock(t *testing.T) {
	e := newServersEnv(t)
	const id = "f3000000-0000-4000-8000-000000000001"
	e.SeedServer(t, e.alpha, id, "web", apitest.CirrosID, apitest.NodeName)
	act := func(token, body string) (int, string) {
		status, raw := e.call(t, "POST", "/servers/"+id+"/action", body, token)
		msg := ""
		if status >= 400 {
			_, _, msg = fault(t, raw)
		}
		return status, msg
	}
	locked := "Instance " + id + " is locked"
	for _, step := range []struct {
		token, body string
		status      int
		message     string
	}{
		{e.alpha.Token, `{"lock":null}`, 202, ""},
		{e.alpha.Token, `{"os-stop":null}`, 409, locked},
		{e.alpha.Token, `{"unlock":null}`, 202, ""},
		{apitest.AdminToken, `{"lock":null}`, 202, ""},
		{e.alpha.Token, `{"unlock":null}`, 403, "Policy doesn't allow os_compute_api:os-lock-server:unlock:unlock_override to be performed."},
		{e.alpha.Token, `{"reboot":{"type":"SOFT"}}`, 409, locked},
		{apitest.AdminToken, `{"reboot":{"type":"SOFT"}}`, 202, ""},
	} {
		if status, msg := act(step.token, step.body); status != step.status || msg != step.message {
			t.Fatalf("%s: %d %q, want %d %q", step.body, status, msg, step.status, step.message)
		}
	}
	status, raw := e.call(t, "DELETE", "/servers/"+id, "", e.alpha.Token)
	if _, _, msg := fault(t, raw); status != 409 || msg != locked {
		t.Errorf("delete of a locked server: %d %s", status, raw)
	}
	status, raw = e.call(t, "POST", "/servers/"+id+"/metadata", `{"metadata":{"a":"b"}}`, e.alpha.Token)
	if _, _, msg := fault(t, raw); status != 409 || msg != locked {
		t.Errorf("metadata of a locked server: %d %s", status, raw)
	}
}

// TestServerChangesSince: changes-since lists the servers changed since
// then, deleted ones included (DELETED, with terminated_at), as Nova does;
// without it a deleted server is gone.
func TestServerChangesSince(t *testing.T) {
	e := newServersEnv(t)
	const kept, gone = "f4000000-0000-4000-8000-000000000001", "f4000000-0000-4000-8000-000000000002"
	e.SeedServer(t, e.alpha, kept, "kept", apitest.CirrosID, apitest.NodeName)
	e.SeedServer(t, e.alpha, gone, "gone", apitest.CirrosID, "")
	if status, raw := e.call(t, "DELETE", "/servers/"+gone, "", e.alpha.Token); status != 204 {
		t.Fatalf("delete: %d %s", status, raw)
	}
	if _, got, _ := e.list(t, "", e.alpha.Token); strings.Join(got.names, ",") != "kept" {
		t.Errorf("listed %v", got.names)
	}
	status, raw := e.call(t, "GET", "/servers/detail?changes-since=1970-01-01T00:00:00Z", "", e.alpha.Token)
	checkShape(t, "changes-since", raw, detailShape)
	var body struct{ Servers []map[string]any }
	decode(t, raw, &body)
	byName := map[string]map[string]any{}
	for _, s := range body.Servers {
		byName[s["name"].(string)] = s
	}
	if status != 200 || len(byName) != 2 || byName["gone"]["status"] != "DELETED" || byName["gone"]["OS-SRV-USG:terminated_at"] == nil ||
		byName["kept"]["OS-SRV-USG:terminated_at"] != nil {
		t.Errorf("changes-since: %d %v", status, slices.Collect(maps.Keys(byName)))
	}
	// Another project sees none of it.
	if _, got, _ := e.list(t, "?changes-since=1970-01-01T00:00:00Z", e.beta.Token); len(got.names) != 0 {
		t.Errorf("beta lists %v", got.names)
	}
}
