package api

import (
	"encoding/json"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/shoal-project/shoal/fsm"
)

// TestSecurityGroupLifecycle: the default group shows before it is used, a
// group gets rules, servers go in and out of groups, and another project's
// groups are absent.
func TestSecurityGroupLifecycle(t *testing.T) {
	c, ts := newTestServer(t)
	c.seedCompute(t)
	alpha := c.addTenant(t, "alpha", fsm.RoleMember)
	beta := c.addTenant(t, "beta", fsm.RoleMember)
	as := func(token, method, path, body string) (*http.Response, []byte) {
		t.Helper()
		return call(t, ts, method, path, body, HeaderAuthToken, token)
	}

	// A fresh project lists its default group, in Neutron's shape, and
	// reading it stores nothing.
	before := c.Index()
	resp, raw := as(alpha.Token, "GET", "/v1/security-groups", "")
	groups := decode[SecurityGroupList](t, raw).SecurityGroups
	if resp.StatusCode != 200 || len(groups) != 1 || groups[0].Name != "default" || groups[0].ID != fsm.DefaultSecurityGroupID(alpha.ProjectID) {
		t.Fatalf("list = %d %s", resp.StatusCode, raw)
	}
	def := groups[0]
	if c.Index() != before {
		t.Error("listing proposed something")
	}
	if len(def.Rules) != 2 || def.Rules[0].Direction != "ingress" || def.Rules[0].RemoteGroupID == nil || *def.Rules[0].RemoteGroupID != def.ID ||
		def.Rules[1].Direction != "egress" || def.Rules[1].RemoteGroupID != nil || def.Rules[1].RemoteIPPrefix != nil {
		t.Errorf("default rules = %s", raw)
	}
	var wire map[string][]map[string]json.RawMessage
	if err := json.Unmarshal(raw, &wire); err != nil {
		t.Fatal(err)
	}
	var rules []map[string]json.RawMessage
	if err := json.Unmarshal(wire["security_groups"][0]["security_group_rules"], &rules); err != nil || len(rules) != 2 {
		t.Fatalf("security_group_rules: %v %s", err, raw)
	}
	for _, k := range []string{"id", "security_group_id", "direction", "ethertype", "protocol", "port_range_min", "port_range_max",
		"remote_ip_prefix", "remote_group_id", "project_id"} {
		if _, ok := rules[1][k]; !ok {
			t.Errorf("rule JSON lacks %q: %s", k, raw)
		}
	}
	if string(rules[1]["protocol"]) != "null" || string(rules[1]["port_range_min"]) != "null" || string(rules[1]["ethertype"]) != `"IPv4"` {
		t.Errorf("open fields of the egress rule: %s", raw)
	}
	resp, raw = as(beta.Token, "GET", "/v1/security-groups/"+def.ID, "")
	wantError(t, resp, raw, http.StatusNotFound, def.ID)

	// A new group: Neutron's allow-all egress rule, nothing in.
	resp, raw = as(alpha.Token, "POST", "/v1/security-groups", `{"security_group":{"name":"web","description":"HTTP in"}}`)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("create = %d %s", resp.StatusCode, raw)
	}
	web := decode[SecurityGroupResponse](t, raw).SecurityGroup
	if web.Name != "web" || web.Description != "HTTP in" || web.ProjectID != alpha.ProjectID || len(web.Rules) != 1 ||
		web.Rules[0].Direction != "egress" || web.Rules[0].SecurityGroupID != web.ID || resp.Header.Get("Location") != "/v1/security-groups/"+web.ID {
		t.Errorf("created %+v (Location %q)", web, resp.Header.Get("Location"))
	}
	for _, name := range []string{"web", "default"} {
		resp, raw = as(alpha.Token, "POST", "/v1/security-groups", `{"security_group":{"name":"`+name+`"}}`)
		wantError(t, resp, raw, http.StatusConflict, name)
	}
	// Beta may reuse the name.
	if resp, raw = as(beta.Token, "POST", "/v1/security-groups", `{"security_group":{"name":"web"}}`); resp.StatusCode != http.StatusCreated {
		t.Errorf("beta's web = %d %s", resp.StatusCode, raw)
	}
	betaWeb := decode[SecurityGroupResponse](t, raw).SecurityGroup

	// Rules: tcp 80 from anywhere, icmp echo; a duplicate is a conflict.
	rule := func(token, fields string) (*http.Response, []byte) {
		return as(token, "POST", "/v1/security-group-rules", `{"security_group_rule":{"security_group_id":"`+web.ID+`","direction":"ingress"`+fields+`}}`)
	}
	resp, raw = rule(alpha.Token, `,"protocol":"TCP","port_range_min":80,"port_range_max":80,"remote_ip_prefix":"192.0.2.7/24"`)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("rule = %d %s", resp.StatusCode, raw)
	}
	http80 := decode[SecurityGroupRuleResponse](t, raw).SecurityGroupRule
	if *http80.Protocol != "tcp" || *http80.PortRangeMin != 80 || *http80.PortRangeMax != 80 || *http80.RemoteIPPrefix != "192.0.2.7/24" ||
		http80.Ethertype != "IPv4" || http80.SecurityGroupID != web.ID || http80.ProjectID != alpha.ProjectID {
		t.Errorf("rule = %s", raw)
	}
	resp, raw = rule(alpha.Token, `,"protocol":"tcp","port_range_min":80,"port_range_max":80,"remote_ip_prefix":"192.0.2.0/24"`)
	wantError(t, resp, raw, http.StatusConflict, "already has this rule")
	if resp, raw = rule(alpha.Token, `,"protocol":"icmp","port_range_min":8,"port_range_max":0`); resp.StatusCode != http.StatusCreated {
		t.Errorf("icmp rule = %d %s", resp.StatusCode, raw)
	}
	// Beta cannot add a rule to alpha's group, nor name alpha's group as
	// its remote group, nor delete alpha's rule.
	resp, raw = rule(beta.Token, `,"protocol":"udp"`)
	wantError(t, resp, raw, http.StatusNotFound, web.ID)
	resp, raw = as(beta.Token, "POST", "/v1/security-group-rules", `{"security_group_rule":{"security_group_id":"`+betaWeb.ID+
		`","direction":"ingress","remote_group_id":"`+web.ID+`"}}`)
	wantError(t, resp, raw, http.StatusNotFound, web.ID)
	resp, raw = as(beta.Token, "DELETE", "/v1/security-group-rules/"+http80.ID, "")
	wantError(t, resp, raw, http.StatusNotFound, http80.ID)

	resp, raw = as(alpha.Token, "GET", "/v1/security-groups/"+web.ID, "")
	if got := decode[SecurityGroupResponse](t, raw).SecurityGroup; len(got.Rules) != 3 {
		t.Errorf("web = %s", raw)
	}
	if resp, raw = as(alpha.Token, "DELETE", "/v1/security-group-rules/"+http80.ID, ""); resp.StatusCode != http.StatusNoContent {
		t.Errorf("delete rule = %d %s", resp.StatusCode, raw)
	}

	// Servers: the default group when none is named, else the named ones
	// (by name or ID); an unknown one is a bad request, as Nova answers.
	server := func(name, groups string) ServerDetail {
		t.Helper()
		resp, raw := as(alpha.Token, "POST", "/v1/servers", `{"server":{"name":"`+name+`","flavor":"1","image":"cirros"`+groups+`}}`)
		if resp.StatusCode != http.StatusAccepted {
			t.Fatalf("create %s = %d %s", name, resp.StatusCode, raw)
		}
		return decode[ServerResponse](t, raw).Server
	}
	plain := server("plain", "")
	if !reflect.DeepEqual(plain.SecurityGroups, []SecurityGroupRef{{Name: "default"}}) {
		t.Errorf("plain's groups = %+v", plain.SecurityGroups)
	}
	front := server("front", `,"security_groups":[{"name":"web"},{"name":"`+def.ID+`"},{"name":"web"}]`)
	if !reflect.DeepEqual(front.SecurityGroups, []SecurityGroupRef{{Name: "web"}, {Name: "default"}}) {
		t.Errorf("front's groups = %+v", front.SecurityGroups)
	}
	before = c.Index()
	for _, ref := range []string{"nope", betaWeb.ID} {
		resp, raw = as(alpha.Token, "POST", "/v1/servers", `{"server":{"name":"x","flavor":"1","image":"cirros","security_groups":[{"name":"`+ref+`"}]}}`)
		wantError(t, resp, raw, http.StatusBadRequest, "Security group "+ref+" not found.")
	}
	if c.Index() != before {
		t.Error("a server with an unknown group was proposed")
	}

	// Actions: in and out of groups; a group in use stays, the default
	// group always does.
	act := func(id, body string) (*http.Response, []byte) {
		return as(alpha.Token, "POST", "/v1/servers/"+id+"/action", body)
	}
	resp, raw = act(plain.ID, `{"action":"add-security-group","name":"web"}`)
	if got := decode[ServerResponse](t, raw).Server; resp.StatusCode != http.StatusAccepted ||
		!reflect.DeepEqual(got.SecurityGroups, []SecurityGroupRef{{Name: "default"}, {Name: "web"}}) {
		t.Errorf("add-security-group = %d %s", resp.StatusCode, raw)
	}
	resp, raw = act(plain.ID, `{"action":"add-security-group","name":"web"}`)
	wantError(t, resp, raw, http.StatusConflict, "already in security group")
	resp, raw = act(plain.ID, `{"action":"add-security-group","name":"nope"}`)
	wantError(t, resp, raw, http.StatusNotFound, "Security group nope not found.")
	resp, raw = act(plain.ID, `{"action":"add-security-group","name":"`+betaWeb.ID+`"}`)
	wantError(t, resp, raw, http.StatusNotFound, betaWeb.ID)
	resp, raw = as(alpha.Token, "DELETE", "/v1/security-groups/"+web.ID, "")
	wantError(t, resp, raw, http.StatusConflict, "")
	resp, raw = as(alpha.Token, "DELETE", "/v1/security-groups/"+def.ID, "")
	wantError(t, resp, raw, http.StatusConflict, "default")
	for _, id := range []string{plain.ID, front.ID} {
		resp, raw = act(id, `{"action":"remove-security-group","name":"web"}`)
		if got := decode[ServerResponse](t, raw).Server; resp.StatusCode != http.StatusAccepted ||
			!reflect.DeepEqual(got.SecurityGroups, []SecurityGroupRef{{Name: "default"}}) {
			t.Errorf("remove-security-group = %d %s", resp.StatusCode, raw)
		}
	}
	resp, raw = act(plain.ID, `{"action":"remove-security-group","name":"web"}`)
	wantError(t, resp, raw, http.StatusConflict, "not in security group")
	if resp, raw = as(alpha.Token, "DELETE", "/v1/security-groups/"+web.ID, ""); resp.StatusCode != http.StatusNoContent {
		t.Errorf("delete = %d %s", resp.StatusCode, raw)
	}
	resp, raw = as(alpha.Token, "GET", "/v1/security-groups", "")
	if got := decode[SecurityGroupList](t, raw).SecurityGroups; len(got) != 1 || got[0].ID != def.ID {
		t.Errorf("list after delete = %s", raw)
	}
}

// PUT renames a group or changes its description; what the body leaves
// out stays, a change to nothing proposes nothing, and the default group's
// description may change (storing it) but not its name.
func TestSecurityGroupUpdate(t *testing.T) {
	w := newTenants(t)
	g := w.alpha.secgroup
	put := func(id, body string) SecurityGroup {
		t.Helper()
		resp, raw := w.as(t, member, "PUT", "/v1/security-groups/"+id, body)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("PUT %s %s = %d %s", id, body, resp.StatusCode, raw)
		}
		if idx := resp.Header.Get(HeaderIndex); idx == "" {
			t.Errorf("PUT %s: no %s", id, HeaderIndex)
		}
		return decode[SecurityGroupResponse](t, raw).SecurityGroup
	}
	before, _ := w.c.FSM.SecurityGroup(g)
	got := put(g, `{"security_group":{"name":"www","description":"HTTP in"}}`)
	if got.ID != g || got.Name != "www" || got.Description != "HTTP in" || len(got.Rules) != len(before.Rules) || !got.Created.Equal(before.Created) {
		t.Errorf("after rename = %+v", got)
	}
	if got = put(g, `{"security_group":{"description":""}}`); got.Name != "www" || got.Description != "" {
		t.Errorf("after clearing the description = %+v", got)
	}
	if stored, _ := w.c.FSM.SecurityGroup(g); stored.Name != "www" || stored.Description != "" {
		t.Errorf("stored = %+v", stored)
	}
	idx := w.c.Index()
	if got = put(g, `{"security_group":{"name":"www"}}`); got.Name != "www" || w.c.Index() != idx {
		t.Errorf("a change to nothing: %+v, index %d → %d", got, idx, w.c.Index())
	}

	def := fsm.DefaultSecurityGroupID(w.alpha.project)
	got = put(def, `{"security_group":{"name":"default","description":"alpha's own"}}`)
	if got.Name != "default" || got.Description != "alpha's own" || len(got.Rules) != 2 {
		t.Errorf("default group after PUT = %+v", got)
	}
	if !slices.ContainsFunc(w.c.FSM.AllSecurityGroups(), func(g fsm.SecurityGroup) bool { return g.ID == def }) {
		t.Error("the default group was not stored")
	}
}

// A rule of the default group can be deleted before the group is stored:
// the delete stores it first.
func TestDefaultGroupRuleDelete(t *testing.T) {
	c, ts := newTestServer(t)
	alpha := c.addTenant(t, "alpha", fsm.RoleMember)
	g, err := c.FSM.SecurityGroup(fsm.DefaultSecurityGroupID(alpha.ProjectID))
	if err != nil {
		t.Fatal(err)
	}
	resp, raw := call(t, ts, "DELETE", "/v1/security-group-rules/"+g.Rules[0].ID, "", HeaderAuthToken, alpha.Token)
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("delete = %d %s", resp.StatusCode, raw)
	}
	if g, _ = c.FSM.SecurityGroup(g.ID); len(g.Rules) != 1 || g.Rules[0].Direction != fsm.DirectionEgress {
		t.Errorf("default group after delete = %+v", g)
	}
}

// TestSecurityGroupBadInput: every refused request answers 4xx with the
// error shape, stores nothing and proposes nothing, but for a duplicate
// rule: whether two rules allow the same traffic is Apply's call alone.
func TestSecurityGroupBadInput(t *testing.T) {
	w := newTenants(t)
	g := w.alpha.secgroup
	rule := func(fields string) string {
		return `{"security_group_rule":{"security_group_id":"` + g + `"` + fields + `}}`
	}
	long := strings.Repeat("x", 256)
	w.c.MustApply(t, &fsm.CreateSecurityGroup{Group: fsm.SecurityGroup{ID: "5c000000-0000-4000-8000-0000000000db", Name: "db",
		ProjectID: w.alpha.project, Rules: []fsm.SecurityGroupRule{}}})
	tests := []struct {
		name, method, path, body string
		status                   int
		contains                 string
	}{
		{"port range min > max", "POST", "/v1/security-group-rules", rule(`,"direction":"ingress","protocol":"tcp","port_range_min":90,"port_range_max":80`), 400, "port_range_min 90 is greater than port_range_max 80"},
		{"unknown protocol", "POST", "/v1/security-group-rules", rule(`,"direction":"ingress","protocol":"gre"`), 400, `protocol "gre"`},
		{"protocol number not supported", "POST", "/v1/security-group-rules", rule(`,"direction":"ingress","protocol":"47"`), 400, `protocol "47"`},
		{"ports without protocol", "POST", "/v1/security-group-rules", rule(`,"direction":"ingress","port_range_min":22,"port_range_max":22`), 400, "needs a protocol"},
		{"port zero", "POST", "/v1/security-group-rules", rule(`,"direction":"ingress","protocol":"udp","port_range_min":0,"port_range_max":53`), 400, "outside 1-65535"},
		{"port too big", "POST", "/v1/security-group-rules", rule(`,"direction":"ingress","protocol":"tcp","port_range_min":1,"port_range_max":65536`), 400, "outside 1-65535"},
		{"half a port range", "POST", "/v1/security-group-rules", rule(`,"direction":"ingress","protocol":"tcp","port_range_min":22`), 400, "both"},
		{"icmp type too big", "POST", "/v1/security-group-rules", rule(`,"direction":"ingress","protocol":"icmp","port_range_min":256`), 400, "icmp type 256"},
		{"icmp code without type", "POST", "/v1/security-group-rules", rule(`,"direction":"ingress","protocol":"icmp","port_range_max":0`), 400, "needs an icmp type"},
		{"port not a number", "POST", "/v1/security-group-rules", rule(`,"direction":"ingress","protocol":"tcp","port_range_min":"22"`), 400, "port_range_min"},
		{"unknown direction", "POST", "/v1/security-group-rules", rule(`,"direction":"sideways"`), 400, "direction"},
		{"no direction", "POST", "/v1/security-group-rules", rule(``), 400, "direction"},
		{"IPv6", "POST", "/v1/security-group-rules", rule(`,"direction":"ingress","ethertype":"IPv6"`), 400, "only IPv4"},
		{"bad prefix", "POST", "/v1/security-group-rules", rule(`,"direction":"ingress","remote_ip_prefix":"10.0.0.300/24"`), 400, "remote_ip_prefix"},
		{"IPv6 prefix", "POST", "/v1/security-group-rules", rule(`,"direction":"ingress","remote_ip_prefix":"fd00::/8"`), 400, "remote_ip_prefix"},
		{"prefix and group", "POST", "/v1/security-group-rules", rule(`,"direction":"ingress","remote_ip_prefix":"10.0.0.0/8","remote_group_id":"` + g + `"`), 400, "not both"},
		{"no group", "POST", "/v1/security-group-rules", `{"security_group_rule":{"direction":"ingress"}}`, 400, "security_group_id is required"},
		{"unknown group", "POST", "/v1/security-group-rules", `{"security_group_rule":{"security_group_id":"nope","direction":"ingress"}}`, 404, "nope"},
		{"another project's group", "POST", "/v1/security-group-rules", `{"security_group_rule":{"security_group_id":"` + w.beta.secgroup + `","direction":"ingress"}}`, 404, w.beta.secgroup},
		{"unknown remote group", "POST", "/v1/security-group-rules", rule(`,"direction":"ingress","remote_group_id":"nope"`), 404, "remote group"},
		{"unknown rule field", "POST", "/v1/security-group-rules", rule(`,"direction":"ingress","port_range":"22"`), 400, `"port_range"`},
		{"delete unknown rule", "DELETE", "/v1/security-group-rules/nope", "", 404, "nope"},
		{"delete another project's rule", "DELETE", "/v1/security-group-rules/" + w.beta.rule, "", 404, w.beta.rule},
		{"group without name", "POST", "/v1/security-groups", `{"security_group":{"description":"x"}}`, 400, "name must not be empty"},
		{"group long name", "POST", "/v1/security-groups", `{"security_group":{"name":"` + long + `"}}`, 400, "255"},
		{"group long description", "POST", "/v1/security-groups", `{"security_group":{"name":"g","description":"` + long + `"}}`, 400, "255"},
		{"group named default", "POST", "/v1/security-groups", `{"security_group":{"name":"default"}}`, 409, "default"},
		{"group name taken", "POST", "/v1/security-groups", `{"security_group":{"name":"web-1"}}`, 409, "web-1"},
		{"group unknown field", "POST", "/v1/security-groups", `{"security_group":{"name":"g","stateful":false}}`, 400, `"stateful"`},
		{"delete another project's group", "DELETE", "/v1/security-groups/" + w.beta.secgroup, "", 404, w.beta.secgroup},
		{"rename to a name taken", "PUT", "/v1/security-groups/" + g, `{"security_group":{"name":"db"}}`, 409, `"db"`},
		{"rename to default", "PUT", "/v1/security-groups/" + g, `{"security_group":{"name":"default"}}`, 409, "default"},
		{"rename the default group", "PUT", "/v1/security-groups/" + fsm.DefaultSecurityGroupID(w.alpha.project), `{"security_group":{"name":"mine"}}`, 409, "default security group"},
		{"rename to nothing", "PUT", "/v1/security-groups/" + g, `{"security_group":{"name":""}}`, 400, "name must not be empty"},
		{"update long description", "PUT", "/v1/security-groups/" + g, `{"security_group":{"description":"` + long + `"}}`, 400, "255"},
		{"update unknown field", "PUT", "/v1/security-groups/" + g, `{"security_group":{"stateful":false}}`, 400, `"stateful"`},
		{"update another project's group", "PUT", "/v1/security-groups/" + w.beta.secgroup, `{"security_group":{"description":"x"}}`, 404, w.beta.secgroup},
		{"update unknown group", "PUT", "/v1/security-groups/nope", `{"security_group":{"description":"x"}}`, 404, "nope"},
		{"show by name", "GET", "/v1/security-groups/web-1", "", 404, "web-1"},
		{"list all projects", "GET", "/v1/security-groups?all_projects=true", "", 403, "policy"},
		{"group action without name", "POST", "/v1/servers/" + w.alpha.server + "/action", `{"action":"add-security-group"}`, 400, "needs the security group's name"},
		{"name with another action", "POST", "/v1/servers/" + w.alpha.server + "/action", `{"action":"reboot","name":"web-1"}`, 400, "name goes only with"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := w.c.snapshot()
			groups := w.c.FSM.AllSecurityGroups()
			resp, raw := w.as(t, member, tt.method, tt.path, tt.body)
			wantError(t, resp, raw, tt.status, tt.contains)
			if after := w.c.snapshot(); !reflect.DeepEqual(after, before) || !reflect.DeepEqual(w.c.FSM.AllSecurityGroups(), groups) {
				t.Error("a refused request changed the state or was proposed")
			}
		})
	}
	groups := w.c.FSM.AllSecurityGroups()
	resp, raw := w.as(t, member, "POST", "/v1/security-group-rules", rule(`,"direction":"ingress","protocol":"tcp","port_range_min":22,"port_range_max":22`))
	wantError(t, resp, raw, http.StatusConflict, "already has this rule")
	if !reflect.DeepEqual(w.c.FSM.AllSecurityGroups(), groups) {
		t.Error("a duplicate rule was stored")
	}
}
