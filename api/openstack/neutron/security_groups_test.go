package neutron_test

import (
	"reflect"
	"slices"
	"testing"

	"github.com/shoal-project/shoal/api/apitest"
	"github.com/shoal-project/shoal/fsm"
)

func TestSecurityGroups(t *testing.T) {
	f := newFixture(t)
	def := fsm.DefaultSecurityGroupID(f.alice.ProjectID)

	list := f.mustCall(t, ok, "GET", v2+"/security-groups", "", f.aliceReader.Token)
	if got := ids(list["security_groups"]); !reflect.DeepEqual(got, []string{def}) {
		t.Fatalf("alice's groups %v, want her default group", got)
	}
	g := f.mustCall(t, created, "POST", v2+"/security-groups",
		`{"security_group":{"name":"web","description":"http in"}}`, f.alice.Token)["security_group"].(map[string]any)
	id := g["id"].(string)
	want := map[string]any{"name": "web", "description": "http in", "stateful": true, "project_id": f.alice.ProjectID,
		"tenant_id": f.alice.ProjectID, "tags": []any{}}
	for k, v := range want {
		if !reflect.DeepEqual(g[k], v) {
			t.Errorf("new group %s = %v, want %v", k, g[k], v)
		}
	}
	if rules := g["security_group_rules"].([]any); len(rules) != 1 || rules[0].(map[string]any)["direction"] != "egress" {
		t.Errorf("a new group's rules %v, want the one egress rule", rules)
	}
	if got := ids(f.mustCall(t, ok, "GET", v2+"/security-groups?name=web", "", f.alice.Token)["security_groups"]); !reflect.DeepEqual(got, []string{id}) {
		t.Errorf("?name=web: %v", got)
	}
	f.mustCall(t, notFound, "GET", v2+"/security-groups/"+id, "", f.bob.Token)
	admin := ids(f.mustCall(t, ok, "GET", v2+"/security-groups", "", apitest.AdminToken)["security_groups"])
	if !slices.Contains(admin, id) {
		t.Errorf("the admin's list %v lacks alice's group", admin)
	}

	// The CLI's `security group rule create --protocol tcp --dst-port 22 web`.
	rule := f.mustCall(t, created, "POST", v2+"/security-group-rules",
		`{"security_group_rule":{"protocol":"tcp","direction":"ingress","ethertype":"IPv4","port_range_min":22,
		  "port_range_max":22,"remote_ip_prefix":"0.0.0.0/0","security_group_id":"`+id+`"}}`, f.alice.Token)["security_group_rule"].(map[string]any)
	ruleID := rule["id"].(string)
	wantRule := map[string]any{"security_group_id": id, "direction": "ingress", "ethertype": "IPv4", "protocol": "tcp",
		"port_range_min": 22.0, "port_range_max": 22.0, "remote_ip_prefix": "0.0.0.0/0", "remote_group_id": nil,
		"project_id": f.alice.ProjectID, "description": ""}
	for k, v := range wantRule {
		if !reflect.DeepEqual(rule[k], v) {
			t.Errorf("new rule %s = %v, want %v", k, rule[k], v)
		}
	}
	// protocol null is any protocol.
	anyRule := f.mustCall(t, created, "POST", v2+"/security-group-rules",
		`{"security_group_rule":{"protocol":null,"direction":"ingress","ethertype":"IPv4","remote_group_id":"`+def+`","security_group_id":"`+id+`"}}`,
		f.alice.Token)["security_group_rule"].(map[string]any)
	if anyRule["protocol"] != nil || anyRule["remote_group_id"] != def {
		t.Errorf("any-protocol rule %v", anyRule)
	}
	rules := ids(f.mustCall(t, ok, "GET", v2+"/security-group-rules?security_group_id="+id, "", f.alice.Token)["security_group_rules"])
	if len(rules) != 3 || !slices.Contains(rules, ruleID) {
		t.Errorf("rules of web %v", rules)
	}
	f.mustCall(t, ok, "GET", v2+"/security-group-rules/"+ruleID, "", f.aliceReader.Token)
	f.mustCall(t, notFound, "GET", v2+"/security-group-rules/"+ruleID, "", f.bob.Token)
	f.mustCall(t, noContent, "DELETE", v2+"/security-group-rules/"+ruleID, "", f.alice.Token)
	status, body := f.call(t, "GET", v2+"/security-group-rules/"+ruleID, "", f.alice.Token)
	if typ, _ := neutronError(t, body); status != notFound || typ != "SecurityGroupRuleNotFound" {
		t.Errorf("deleted rule: %d %s", status, typ)
	}

	// An update that changes nothing answers the group.
	same := f.mustCall(t, ok, "PUT", v2+"/security-groups/"+id, `{"security_group":{"name":"web"}}`, f.alice.Token)
	if same["security_group"].(map[string]any)["name"] != "web" {
		t.Errorf("no-op update: %v", same)
	}
	// `openstack security group set --name www --description new web`: the
	// new view, rules and all; what the body leaves out stays.
	put := f.mustCall(t, ok, "PUT", v2+"/security-groups/"+id, `{"security_group":{"name":"www","description":"new"}}`,
		f.alice.Token)["security_group"].(map[string]any)
	if put["name"] != "www" || put["description"] != "new" || put["id"] != id || len(put["security_group_rules"].([]any)) != 2 {
		t.Errorf("after PUT: %v", put)
	}
	put = f.mustCall(t, ok, "PUT", v2+"/security-groups/"+id, `{"security_group":{"description":""}}`, f.alice.Token)["security_group"].(map[string]any)
	if put["name"] != "www" || put["description"] != "" {
		t.Errorf("after clearing the description: %v", put)
	}
	if got := f.mustCall(t, ok, "GET", v2+"/security-groups/"+id, "", f.aliceReader.Token)["security_group"].(map[string]any); got["name"] != "www" {
		t.Errorf("GET after PUT: %v", got)
	}
	// The default group's description may change (storing it); its name
	// may not, and no other group takes it. Refusals propose nothing.
	put = f.mustCall(t, ok, "PUT", v2+"/security-groups/"+def, `{"security_group":{"description":"alice's"}}`, f.alice.Token)["security_group"].(map[string]any)
	if put["name"] != "default" || put["description"] != "alice's" || len(put["security_group_rules"].([]any)) != 2 {
		t.Errorf("default group after PUT: %v", put)
	}
	before := f.FSM.Index()
	for _, tc := range []struct {
		name, group, body, token string
		status                   int
		typ                      string
	}{
		{"renaming the default group", def, `{"name":"mine"}`, f.alice.Token, conflict, "SecurityGroupCannotUpdateDefault"},
		{"renaming a group default", id, `{"name":"default"}`, f.alice.Token, conflict, "SecurityGroupDefaultAlreadyExists"},
		{"a reader", id, `{"description":"x"}`, f.aliceReader.Token, forbidden, "PolicyNotAuthorized"},
		{"another project's group", id, `{"description":"x"}`, f.bob.Token, notFound, "SecurityGroupNotFound"},
	} {
		status, body := f.call(t, "PUT", v2+"/security-groups/"+tc.group, `{"security_group":`+tc.body+`}`, tc.token)
		if typ, _ := neutronError(t, body); status != tc.status || typ != tc.typ {
			t.Errorf("%s: %d %s, want %d %s", tc.name, status, typ, tc.status, tc.typ)
		}
	}
	if f.FSM.Index() != before {
		t.Errorf("refused updates were proposed (index %d → %d)", before, f.FSM.Index())
	}

	// The default group cannot go, nor a group a server is in.
	status, body = f.call(t, "DELETE", v2+"/security-groups/"+def, "", f.alice.Token)
	if typ, _ := neutronError(t, body); status != conflict || typ != "SecurityGroupCannotRemoveDefault" {
		t.Errorf("deleting the default group: %d %s", status, typ)
	}
	f.Apply(t, &fsm.AddInstanceSecurityGroup{InstanceID: f.web.ID, GroupID: id, Time: apitest.SeedTime})
	status, body = f.call(t, "DELETE", v2+"/security-groups/"+id, "", f.alice.Token)
	if typ, _ := neutronError(t, body); status != conflict || typ != "SecurityGroupInUse" {
		t.Errorf("deleting a group in use: %d %s", status, typ)
	}
	port := f.mustCall(t, ok, "GET", v2+"/ports/"+portOf(f.web), "", f.alice.Token)["port"].(map[string]any)
	if got := port["security_groups"]; !reflect.DeepEqual(got, []any{def, id}) && !reflect.DeepEqual(got, []any{id, def}) {
		t.Errorf("port's groups %v, want default and web", got)
	}
	f.Apply(t, &fsm.RemoveInstanceSecurityGroup{InstanceID: f.web.ID, GroupID: id, Time: apitest.SeedTime})
	f.mustCall(t, noContent, "DELETE", v2+"/security-groups/"+id, "", f.alice.Token)
	f.mustCall(t, notFound, "GET", v2+"/security-groups/"+id, "", f.alice.Token)
}

func TestQuotas(t *testing.T) {
	f := newFixture(t)
	path := v2 + "/quotas/" + f.alice.ProjectID
	q := f.mustCall(t, ok, "GET", path, "", f.aliceReader.Token)["quota"].(map[string]any)
	want := map[string]any{"floatingip": 10.0, "network": -1.0, "subnet": -1.0, "port": -1.0, "router": -1.0,
		"security_group": -1.0, "security_group_rule": -1.0}
	if !reflect.DeepEqual(q, want) {
		t.Errorf("alice's quota %v, want %v", q, want)
	}
	if d := f.mustCall(t, ok, "GET", path+"/default", "", f.alice.Token)["quota"]; !reflect.DeepEqual(d, want) {
		t.Errorf("defaults %v", d)
	}
	status, body := f.call(t, "GET", v2+"/quotas/"+f.bob.ProjectID, "", f.alice.Token)
	if typ, _ := neutronError(t, body); status != forbidden || typ != "PolicyNotAuthorized" {
		t.Errorf("bob's quota for alice: %d %s", status, typ)
	}

	f.mustCall(t, created, "POST", v2+"/floatingips", `{"floatingip":{"floating_network_id":"`+apitest.PublicNetworkID+`"}}`, f.alice.Token)
	details := f.mustCall(t, ok, "GET", path+"/details", "", f.alice.Token)["quota"].(map[string]any)
	if fip := details["floatingip"].(map[string]any); fip["limit"] != 10.0 || fip["used"] != 1.0 || fip["reserved"] != 0.0 {
		t.Errorf("floatingip details %v", fip)
	}
	if port := details["port"].(map[string]any); port["used"] != 1.0 || port["limit"] != -1.0 {
		t.Errorf("port details %v", port)
	}

	// `openstack quota set --floating-ips 1 alice`.
	set := f.mustCall(t, ok, "PUT", path, `{"quota":{"floatingip":1}}`, apitest.AdminToken)["quota"].(map[string]any)
	if set["floatingip"] != 1.0 {
		t.Errorf("after PUT: %v", set)
	}
	if got := f.FSM.Quota(f.alice.ProjectID).FloatingIPs; got != 1 {
		t.Errorf("state's floating_ips limit %d", got)
	}
	status, body = f.call(t, "POST", v2+"/floatingips", `{"floatingip":{"floating_network_id":"`+apitest.PublicNetworkID+`"}}`, f.alice.Token)
	if typ, msg := neutronError(t, body); status != conflict || typ != "OverQuota" || msg != "Quota exceeded for resources: ['floatingip']." {
		t.Errorf("over quota: %d %s %q", status, typ, msg)
	}
	// Below what is used: Neutron allows it unless check_limit is asked.
	f.mustCall(t, ok, "PUT", path, `{"quota":{"floatingip":0}}`, apitest.AdminToken)
	f.mustCall(t, ok, "PUT", path, `{"quota":{"floatingip":5}}`, apitest.AdminToken)
	status, body = f.call(t, "PUT", path, `{"quota":{"floatingip":0,"check_limit":true}}`, apitest.AdminToken)
	if typ, _ := neutronError(t, body); status != conflict || typ != "InvalidQuotaValue" {
		t.Errorf("check_limit below usage: %d %s", status, typ)
	}
}
