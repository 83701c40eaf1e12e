package nova_test

import (
	"encoding/json"
	"strings"
	"testing"
)

// Tempest's v2_13 and v2_64 server group schemas.
var (
	serverGroupShape213 = withKeys(serverGroupShape, shape{"project_id": "string", "user_id": "string"})
	serverGroupShape264 = withKeys(restDropKeys(serverGroupShape213, "policies", "metadata"),
		shape{"policy": "string", "rules": "any"})
)

func TestServerGroupsV213V215(t *testing.T) {
	e, token, user := restEnvUpTo(t)
	base := "/compute/v2.1/os-server-groups"
	soft := `{"server_group":{"name":"s","policies":["soft-anti-affinity"]}}`
	if resp, raw := e.Do(t, "POST", base, soft, token, restAt("2.14")...); resp.StatusCode != 400 ||
		faultMessage(t, raw) != `Invalid input for field/attribute policies/0. Value: ["soft-anti-affinity"]. 'soft-anti-affinity' is not one of ['anti-affinity', 'affinity']` {
		t.Errorf("soft at 2.14: %d %s", resp.StatusCode, raw)
	}
	resp, raw := e.Do(t, "POST", base, soft, token, restAt("2.15")...)
	if resp.StatusCode != 200 {
		t.Fatalf("soft at 2.15: %d %s", resp.StatusCode, raw)
	}
	checkShape(t, "create 2.15", raw, shape{"server_group": serverGroupShape213})
	if !strings.Contains(string(raw), `"user_id":"`+user+`"`) || !strings.Contains(string(raw), `"policies":["soft-anti-affinity"]`) {
		t.Errorf("create 2.15: %s", raw)
	}
	_, raw = e.Do(t, "GET", base, "", token, restAt("2.13")...)
	checkShape(t, "list 2.13", raw, shape{"server_groups": []any{serverGroupShape213}})
	_, raw = e.Do(t, "GET", base, "", token, restAt("2.12")...)
	checkShape(t, "list 2.12", raw, shape{"server_groups": []any{serverGroupShape}})
}

func TestServerGroupsV264PolicyAndRules(t *testing.T) {
	e, token, _ := restEnvUpTo(t)
	base := "/compute/v2.1/os-server-groups"
	body := `{"server_group":{"name":"spread","policy":"anti-affinity","rules":{"max_server_per_host":2}}}`
	if resp, raw := e.Do(t, "POST", base, body, token, restAt("2.63")...); resp.StatusCode != 400 {
		t.Errorf("policy at 2.63: %d %s", resp.StatusCode, raw)
	}
	resp, raw := e.Do(t, "POST", base, body, token, restAt("2.64")...)
	if resp.StatusCode != 200 {
		t.Fatalf("create at 2.64: %d %s", resp.StatusCode, raw)
	}
	checkShape(t, "create 2.64", raw, shape{"server_group": serverGroupShape264})
	if !strings.Contains(string(raw), `"policy":"anti-affinity","rules":{"max_server_per_host":2}`) {
		t.Errorf("create 2.64: %s", raw)
	}
	var created struct {
		Group struct{ ID string } `json:"server_group"`
	}
	_ = json.Unmarshal(raw, &created)
	_, raw = e.Do(t, "GET", base+"/"+created.Group.ID, "", token, restAt("2.64")...)
	checkShape(t, "show 2.64", raw, shape{"server_group": serverGroupShape264})
	_, raw = e.Do(t, "GET", base+"/"+created.Group.ID, "", token, restAt("2.63")...)
	checkShape(t, "show 2.63", raw, shape{"server_group": serverGroupShape213})
	resp, raw = e.Do(t, "POST", base, `{"server_group":{"name":"plain","policy":"soft-affinity"}}`, token, restAt("2.64")...)
	if resp.StatusCode != 200 || !strings.Contains(string(raw), `"rules":{}`) {
		t.Errorf("no rules at 2.64: %d %s", resp.StatusCode, raw)
	}
	_, raw = e.Do(t, "GET", base, "", token, restAt("2.64")...)
	checkShape(t, "list 2.64", raw, shape{"server_groups": []any{serverGroupShape264}})

	for _, c := range []struct{ body, message string }{
		{`{"server_group":{"name":"x","policy":"affinity","rules":{"max_server_per_host":2}}}`, "Only anti-affinity policy supports rules."},
		{`{"server_group":{"name":"x","policy":"anti-affinity","rules":{"max_server_per_host":0}}}`,
			"Invalid input for field/attribute max_server_per_host. Value: 0. 0 is less than the minimum of 1"},
		{`{"server_group":{"name":"x","policy":"anti-affinity","rules":{"other":1}}}`, ""},
		{`{"server_group":{"name":"x","policy":"spread"}}`, ""},
		{`{"server_group":{"name":"x","policies":["affinity"]}}`, ""},
		{`{"server_group":{"name":"x"}}`, ""},
	} {
		if resp, raw := e.Do(t, "POST", base, c.body, token, restAt("2.64")...); resp.StatusCode != 400 ||
			c.message != "" && faultMessage(t, raw) != c.message {
			t.Errorf("%s: %d %s", c.body, resp.StatusCode, raw)
		}
	}
}

func TestServerGroupsListPagingAndV275(t *testing.T) {
	e, token, _ := restEnvUpTo(t)
	base := "/compute/v2.1/os-server-groups"
	for _, n := range []string{"a", "b", "c"} {
		if resp, raw := e.Do(t, "POST", base, `{"server_group":{"name":"`+n+`","policies":["affinity"]}}`, token); resp.StatusCode != 200 {
			t.Fatalf("create: %d %s", resp.StatusCode, raw)
		}
	}
	count := func(raw []byte) int { return strings.Count(string(raw), `"members"`) }
	if raw := get(t, e, base+"?limit=2", token); count(raw) != 2 {
		t.Errorf("limit 2: %s", raw)
	}
	if raw := get(t, e, base+"?offset=2", token); count(raw) != 1 {
		t.Errorf("offset 2: %s", raw)
	}
	if raw := get(t, e, base+"?offset=5&limit=1", token); count(raw) != 0 {
		t.Errorf("offset 5: %s", raw)
	}
	if resp, raw := e.Do(t, "GET", base+"?limit=x", "", token); resp.StatusCode != 400 {
		t.Errorf("limit x: %d %s", resp.StatusCode, raw)
	}
	if resp, raw := e.Do(t, "GET", base+"?foo=1", "", token, restAt("2.74")...); resp.StatusCode != 200 {
		t.Errorf("unknown at 2.74: %d %s", resp.StatusCode, raw)
	}
	if resp, raw := e.Do(t, "GET", base+"?foo=1&bar=2", "", token, restAt("2.75")...); resp.StatusCode != 400 ||
		faultMessage(t, raw) != "Additional properties are not allowed ('bar', 'foo' were unexpected)" {
		t.Errorf("unknown at 2.75: %d %s", resp.StatusCode, raw)
	}
	if resp, raw := e.Do(t, "GET", base+"?all_projects=1&limit=1&offset=0", "", token, restAt("2.75")...); resp.StatusCode != 200 {
		t.Errorf("known at 2.75: %d %s", resp.StatusCode, raw)
	}
}
