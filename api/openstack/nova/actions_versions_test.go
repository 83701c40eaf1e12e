package nova_test

import (
	"strings"
	"testing"

	"github.com/shoal-project/shoal/api/apitest"
	"github.com/shoal-project/shoal/api/openstack/nova"
	"github.com/shoal-project/shoal/fsm"
)

// newServersEnvUpTo is newServersEnv serving microversions up to 2.100.
func newServersEnvUpTo(t *testing.T) *serversEnv {
	t.Helper()
	e := &serversEnv{Env: apitest.New(t, nova.NewUpTo("2.100"))}
	e.SeedCompute(t)
	e.alpha = e.AddTenant(t, "alpha", "member")
	e.beta = e.AddTenant(t, "beta", "member")
	return e
}

// withRequired is withKeys that also drops base's optional "?k" of each
// key k given.
func withRequired(base, more shape) shape {
	out := withKeys(base, more)
	for k := range more {
		delete(out, "?"+k)
	}
	return out
}

// TestInstanceActionsVersions: the action log's shapes and paging by
// microversion (2.21, 2.51, 2.58, 2.62, 2.66, 2.84), as Tempest's schemas.
func TestInstanceActionsVersions(t *testing.T) {
	e := newServersEnvUpTo(t)
	const id = "c1000000-0000-4000-8000-000000000001"
	e.SeedServer(t, e.alpha, id, "web", apitest.CirrosID, apitest.NodeName)
	for _, body := range []string{`{"lock":null}`, `{"unlock":null}`} {
		if status, raw := e.call(t, "POST", "/servers/"+id+"/action", body, e.alpha.Token); status != 202 {
			t.Fatalf("%s: %d %s", body, status, raw)
		}
	}
	event := shape{"event": "string", "start_time": "datetime", "finish_time": "datetime|null", "result": "string|null"}
	action258 := withRequired(instanceActionShape, shape{"updated_at": "datetime"})
	list := "/servers/" + id + "/os-instance-actions"
	// 2.58: updated_at, a full page has a next link, the marker pages on.
	status, raw := e.call(t, "GET", list+"?limit=2", "", e.alpha.Token, at("2.58")...)
	checkShape(t, "list 2.58", raw, shape{"instanceActions": []any{action258}, "?links": links})
	var page struct {
		InstanceActions []struct {
			Action    string `json:"action"`
			RequestID string `json:"request_id"`
		} `json:"instanceActions"`
		Links []struct{ Href, Rel string } `json:"links"`
	}
	decode(t, raw, &page)
	if status != 200 || len(page.InstanceActions) != 2 || page.InstanceActions[0].Action != "unlock" || len(page.Links) != 1 ||
		!strings.Contains(page.Links[0].Href, "marker=") {
		t.Fatalf("page 1: %d %s", status, raw)
	}
	_, raw = e.call(t, "GET", list+"?limit=2&marker="+page.InstanceActions[1].RequestID, "", e.alpha.Token, at("2.58")...)
	page.Links = nil
	decode(t, raw, &page)
	if len(page.InstanceActions) != 1 || page.InstanceActions[0].Action != "create" || len(page.Links) != 0 {
		t.Fatalf("page 2: %s", raw)
	}
	for _, c := range []struct{ version, query, message string }{
		{"2.58", "?marker=req-nope", "Marker req-nope could not be found."},
		{"2.58", "?limit=x", "Invalid input for query parameters limit. Value: x. 'x' does not match '^[0-9]*$'"},
		{"2.58", "?foo=1", "Additional properties are not allowed ('foo' was unexpected)"},
		{"2.65", "?changes-before=2030-01-01T00:00:00Z", "Additional properties are not allowed ('changes-before' was unexpected)"},
		{"2.66", "?changes-since=2030-01-02T00:00:00Z&changes-before=2030-01-01T00:00:00Z",
			"The value of changes-since must be less than or equal to changes-before."},
		{"2.58", "?changes-since=yesterday", "Invalid input for query parameters changes-since. Value: yesterday. 'yesterday' is not a 'date-time'"},
	} {
		status, raw := e.call(t, "GET", list+c.query, "", e.alpha.Token, at(c.version)...)
		if _, _, msg := fault(t, raw); status != 400 || msg != c.message {
			t.Errorf("%s %s: %d %s", c.version, c.query, status, raw)
		}
	}
	// Below 2.58 the query is not read; changes-since filters from 2.58.
	if status, raw := e.call(t, "GET", list+"?foo=1", "", e.alpha.Token, at("2.57")...); status != 200 {
		t.Errorf("2.57 with a stray parameter: %d %s", status, raw)
	}
	_, raw = e.call(t, "GET", list+"?changes-since=2100-01-01T00:00:00Z", "", e.alpha.Token, at("2.66")...)
	decode(t, raw, &page)
	if len(page.InstanceActions) != 0 {
		t.Errorf("changes-since in the future: %s", raw)
	}
	// Show: a member sees events from 2.51 (no traceback, no host), hostId
	// from 2.62, details from 2.84; an admin sees traceback and host.
	show := list + "/req-seed"
	for _, c := range []struct {
		version, token string
		want           shape
	}{
		{"2.50", e.alpha.Token, instanceActionShape},
		{"2.51", e.alpha.Token, withRequired(instanceActionShape, shape{"events": []any{event}})},
		{"2.62", e.alpha.Token, withRequired(action258, shape{"events": []any{withRequired(event, shape{"hostId": "string"})}})},
		{"2.62", apitest.AdminToken, withRequired(action258, shape{"events": []any{withRequired(event,
			shape{"hostId": "string", "host": "string", "traceback": "null"})}})},
		{"2.84", e.alpha.Token, withRequired(action258, shape{"events": []any{withRequired(event,
			shape{"hostId": "string", "details": "string|null"})}})},
	} {
		status, raw := e.call(t, "GET", show, "", c.token, at(c.version)...)
		if status != 200 {
			t.Fatalf("show %s: %d %s", c.version, status, raw)
		}
		checkShape(t, "show "+c.version, raw, shape{"instanceAction": c.want})
		if c.version == "2.50" && strings.Contains(string(raw), "events") {
			t.Errorf("2.50 member sees events: %s", raw)
		}
	}
	// 2.21: a deleted server's log is still there; before, the server is gone.
	const gone = "c1000000-0000-4000-8000-000000000002"
	e.SeedServer(t, e.alpha, gone, "gone", apitest.CirrosID, "")
	if status, raw := e.call(t, "DELETE", "/servers/"+gone, "", e.alpha.Token); status != 204 {
		t.Fatalf("delete: %d %s", status, raw)
	}
	if status, _ := e.call(t, "GET", "/servers/"+gone+"/os-instance-actions", "", e.alpha.Token, at("2.20")...); status != 404 {
		t.Errorf("2.20 log of a deleted server: %d", status)
	}
	status, raw = e.call(t, "GET", "/servers/"+gone+"/os-instance-actions", "", e.alpha.Token, at("2.21")...)
	decode(t, raw, &page)
	if status != 200 || len(page.InstanceActions) != 2 || page.InstanceActions[0].Action != fsm.ActionDelete {
		t.Errorf("2.21 log of a deleted server: %d %s", status, raw)
	}
	if status, _ := e.call(t, "GET", "/servers/"+gone+"/os-instance-actions", "", e.beta.Token, at("2.21")...); status != 404 {
		t.Errorf("another project reads a deleted server's log: %d", status)
	}
}

// TestServerActionVersions: lock's reason (2.73), evacuate's force (2.29
// to 2.67) and stop (2.95), the network proxy actions gone at 2.44.
func TestServerActionVersions(t *testing.T) {
	e := newServersEnvUpTo(t)
	const id = "c2000000-0000-4000-8000-000000000001"
	e.SeedServer(t, e.alpha, id, "web", apitest.CirrosID, apitest.NodeName)
	for _, c := range []struct {
		version, token, body string
		status               int
		message              string
	}{
		{"2.73", e.alpha.Token, `{"lock":{"locked_reason":""}}`, 400,
			`Invalid input for field/attribute locked_reason. Value: "". '' is too short`},
		{"2.73", e.alpha.Token, `{"lock":{"reason":"x"}}`, 400, ""},
		{"2.73", e.alpha.Token, `{"lock":5}`, 400, "Invalid input for field/attribute lock. Value: 5. 5 is not of type 'object', 'null'"},
		{"2.72", e.alpha.Token, `{"lock":{"locked_reason":"ignored"}}`, 202, ""},
		{"2.72", e.alpha.Token, `{"unlock":null}`, 202, ""},
		{"2.73", e.alpha.Token, `{"lock":{"locked_reason":"maintenance"}}`, 202, ""},
		{"2.73", e.alpha.Token, `{"unlock":null}`, 202, ""},
		{"2.43", e.alpha.Token, `{"addFixedIp":{"networkId":"x"}}`, 400, "There is no such action: addFixedIp"},
		{"2.44", e.alpha.Token, `{"addFixedIp":{"networkId":"x"}}`, 404, ""},
		{"2.44", e.alpha.Token, `{"removeFixedIp":{"address":"10.0.0.9"}}`, 404, ""},
		{"2.44", e.alpha.Token, `{"addFloatingIp":{"address":"10.0.0.9"}}`, 404, ""},
		{"2.29", apitest.AdminToken, `{"evacuate":{"force":true}}`, 400, "Can't force to a non-provided destination"},
		{"2.29", apitest.AdminToken, `{"evacuate":{"force":"maybe"}}`, 400,
			`Invalid input for field/attribute force. Value: "maybe". "maybe" is not one of the allowed boolean values`},
		{"2.28", apitest.AdminToken, `{"evacuate":{"force":false}}`, 400, ""},
		{"2.68", apitest.AdminToken, `{"evacuate":{"force":false}}`, 400, ""},
	} {
		status, raw := e.call(t, "POST", "/servers/"+id+"/action", c.body, c.token, at(c.version)...)
		if status != c.status {
			t.Errorf("%s %s: %d %s", c.version, c.body, status, raw)
			continue
		}
		if status < 400 || c.message == "" {
			continue
		}
		if _, _, msg := fault(t, raw); msg != c.message {
			t.Errorf("%s %s: %q, want %q", c.version, c.body, msg, c.message)
		}
	}
	// 2.73's reason reaches the server.
	if status, raw := e.call(t, "POST", "/servers/"+id+"/action", `{"lock":{"locked_reason":"maintenance"}}`, e.alpha.Token,
		at("2.73")...); status != 202 {
		t.Fatalf("lock: %d %s", status, raw)
	}
	resp, raw := e.Do(t, "GET", "/v1/servers/"+id, "", e.alpha.Token)
	if resp.StatusCode != 200 || !strings.Contains(string(raw), `"locked_reason":"maintenance"`) {
		t.Errorf("after a 2.73 lock: %d %s", resp.StatusCode, raw)
	}
}

// serverAt247 is the server view from 2.47 to 2.72 (what rebuild renders
// at 2.54 and 2.57): locked (2.9), description (2.19), tags (2.26) and the
// flavor embedded (2.47).
var serverAt247 = withKeys(withRequired(commonServer, shape{"locked": "boolean", "description": "string|null", "tags": "any"}),
	shape{"flavor": shape{"original_name": "string", "vcpus": "integer", "ram": "integer", "disk": "integer",
		"ephemeral": "integer", "swap": "integer", "?extra_specs": "any"}})

// TestRebuildResponseVersions: rebuild answers key_name from 2.54,
// user_data from 2.57 and GET's whole view from 2.75.
func TestRebuildResponseVersions(t *testing.T) {
	e := newServersEnvUpTo(t)
	for k, c := range []struct {
		version string
		want    shape
	}{
		{"2.1", withRequired(commonServer, shape{"adminPass": "string"})},
		{"2.54", withRequired(serverAt247, shape{"adminPass": "string", "key_name": "string|null"})},
		{"2.57", withRequired(serverAt247, shape{"adminPass": "string", "key_name": "string|null", "user_data": "string|null"})},
	} {
		id := "c3000000-0000-4000-8000-00000000000" + string(rune('1'+k))
		e.SeedServer(t, e.alpha, id, "web", apitest.CirrosID, apitest.NodeName)
		status, raw := e.call(t, "POST", "/servers/"+id+"/action", `{"rebuild":{"imageRef":"`+apitest.CirrosID+`"}}`,
			e.alpha.Token, at(c.version)...)
		if status != 202 {
			t.Fatalf("rebuild %s: %d %s", c.version, status, raw)
		}
		checkShape(t, "rebuild "+c.version, raw, shape{"server": c.want})
	}
	const id = "c3000000-0000-4000-8000-000000000009"
	e.SeedServer(t, e.alpha, id, "web", apitest.CirrosID, apitest.NodeName)
	status, raw := e.call(t, "POST", "/servers/"+id+"/action", `{"rebuild":{"imageRef":"`+apitest.CirrosID+`"}}`,
		e.alpha.Token, at("2.75")...)
	if status != 202 || !strings.Contains(string(raw), `"OS-EXT-STS:vm_state"`) || !strings.Contains(string(raw), `"user_data":null`) {
		t.Errorf("rebuild 2.75: %d %s", status, raw)
	}
	// An admin's 2.75 answer is GET's with user_data in place of
	// OS-EXT-SRV-ATTR:user_data (Tempest's v2_75 rebuild schema).
	const id2 = "c3000000-0000-4000-8000-00000000000a"
	e.SeedServer(t, e.alpha, id2, "web", apitest.CirrosID, apitest.NodeName)
	status, raw = e.call(t, "POST", "/servers/"+id2+"/action", `{"rebuild":{"imageRef":"`+apitest.CirrosID+`"}}`,
		apitest.AdminToken, at("2.75")...)
	if status != 202 || !strings.Contains(string(raw), `"OS-EXT-SRV-ATTR:host"`) || strings.Contains(string(raw), `"OS-EXT-SRV-ATTR:user_data"`) ||
		!strings.Contains(string(raw), `"user_data":null`) {
		t.Errorf("an admin's rebuild 2.75: %d %s", status, raw)
	}
}

// TestRebuildBodyVersions: rebuild takes description from 2.19, key_name
// from 2.54, user_data from 2.57 (and personality no more).
func TestRebuildBodyVersions(t *testing.T) {
	e := newServersEnvUpTo(t)
	const id = "c4000000-0000-4000-8000-000000000001"
	e.SeedServer(t, e.alpha, id, "web", apitest.CirrosID, apitest.NodeName)
	img := `"imageRef":"` + apitest.CirrosID + `"`
	for _, c := range []struct {
		version, body, message string
	}{
		{"2.18", `{"rebuild":{` + img + `,"description":"d"}}`, ""},
		{"2.53", `{"rebuild":{` + img + `,"key_name":null}}`, ""},
		{"2.56", `{"rebuild":{` + img + `,"user_data":"aGk="}}`, ""},
		{"2.57", `{"rebuild":{` + img + `,"personality":[]}}`, ""},
		{"2.57", `{"rebuild":{` + img + `,"user_data":"not base64!"}}`, ""},
		{"2.54", `{"rebuild":{` + img + `,"key_name":"nope"}}`, "Invalid key_name provided."},
		{"2.62", `{"rebuild":{` + img + `,"trusted_image_certificates":[]}}`, ""},
		{"2.63", `{"rebuild":{` + img + `,"trusted_image_certificates":["0b5d2c72-12cc-4ba6-a8d7-3ff5cc1d8cb8"]}}`, ""},
		{"2.89", `{"rebuild":{` + img + `,"hostname":"web-2"}}`, ""},
		{"2.90", `{"rebuild":{` + img + `,"hostname":"-web-"}}`, ""},
	} {
		status, raw := e.call(t, "POST", "/servers/"+id+"/action", c.body, e.alpha.Token, at(c.version)...)
		if _, _, msg := fault(t, raw); status != 400 || c.message != "" && msg != c.message {
			t.Errorf("%s %s: %d %s", c.version, c.body, status, raw)
		}
	}
	status, raw := e.call(t, "POST", "/servers/"+id+"/action", `{"rebuild":{`+img+`,"description":"rebuilt","key_name":null,"user_data":"aGk="}}`,
		e.alpha.Token, at("2.57")...)
	if status != 202 || !strings.Contains(string(raw), `"user_data":"aGk="`) || !strings.Contains(string(raw), `"key_name":null`) {
		t.Fatalf("rebuild 2.57: %d %s", status, raw)
	}
	resp, raw := e.Do(t, "GET", "/v1/servers/"+id, "", e.alpha.Token)
	if resp.StatusCode != 200 || !strings.Contains(string(raw), `"description":"rebuilt"`) {
		t.Errorf("after rebuild: %s", raw)
	}
	// 2.90: the hostname (and 2.63's empty certificate list) are taken.
	const id2 = "c4000000-0000-4000-8000-000000000002"
	e.SeedServer(t, e.alpha, id2, "web", apitest.CirrosID, apitest.NodeName)
	status, raw = e.call(t, "POST", "/servers/"+id2+"/action", `{"rebuild":{`+img+`,"hostname":"web-2","trusted_image_certificates":null}}`,
		e.alpha.Token, at("2.90")...)
	if status != 202 {
		t.Fatalf("rebuild 2.90: %d %s", status, raw)
	}
	status, raw = e.call(t, "GET", "/servers/"+id2, "", e.alpha.Token, at("2.90")...)
	if status != 200 || !strings.Contains(string(raw), `"OS-EXT-SRV-ATTR:hostname":"web-2"`) {
		t.Errorf("after a 2.90 rebuild: %d %s", status, raw)
	}
}

// TestUnservedNovaActions: a Nova action shoal does not serve (shelve) is
// 404 for an unknown server, as Nova's handler looks the server up first,
// and 400 "There is no such action" for a known one.
func TestUnservedNovaActions(t *testing.T) {
	e := newServersEnvUpTo(t)
	const id = "c5000000-0000-4000-8000-000000000001"
	e.SeedServer(t, e.alpha, id, "web", apitest.CirrosID, apitest.NodeName)
	status, raw := e.call(t, "POST", "/servers/c5000000-0000-4000-8000-00000000dead/action", `{"shelve":null}`, e.alpha.Token)
	if status != 404 {
		t.Errorf("shelve an unknown server: %d %s", status, raw)
	}
	status, raw = e.call(t, "POST", "/servers/"+id+"/action", `{"shelve":null}`, e.alpha.Token)
	if _, _, msg := fault(t, raw); status != 400 || msg != "There is no such action: shelve" {
		t.Errorf("shelve: %d %s", status, raw)
	}
	status, raw = e.call(t, "POST", "/servers/c5000000-0000-4000-8000-00000000dead/action", `{"fly":null}`, e.alpha.Token)
	if status != 400 {
		t.Errorf("an action Nova does not know, on an unknown server: %d %s", status, raw)
	}
}
