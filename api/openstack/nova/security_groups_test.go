package nova_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/secgroups"

	"github.com/shoal-project/shoal/api/apitest"
	"github.com/shoal-project/shoal/api/openstack/nova"
	"github.com/shoal-project/shoal/fsm"
)

// TestSecurityGroupsThroughGophercloud drives Nova's security group proxy
// with gophercloud's compute secgroups: groups keep their names as sent,
// rules show in Nova's shape (ingress only), a server's groups list, and
// Neutron's refusals come back as Nova's 400s.
func TestSecurityGroupsThroughGophercloud(t *testing.T) {
	ctx := context.Background()
	e := newServersEnv(t)
	const server = "f1000000-0000-4000-8000-000000000001"
	e.SeedServer(t, e.alpha, server, "web", apitest.CirrosID, apitest.NodeName)
	client := e.compute(t, false)

	// A new group has no ingress rule: Nova shows none (its egress rule has
	// no Nova shape).
	web, err := secgroups.Create(ctx, client, secgroups.CreateOpts{Name: " web tier ", Description: "front"}).Extract()
	if err != nil {
		t.Fatal(err)
	}
	if web.Name != " web tier " || web.Description != "front" || web.TenantID != e.alpha.ProjectID || len(web.Rules) != 0 {
		t.Fatalf("created %+v", web)
	}
	db, err := secgroups.Create(ctx, client, secgroups.CreateOpts{Name: "db", Description: "data"}).Extract()
	if err != nil {
		t.Fatal(err)
	}
	if got, err := secgroups.Get(ctx, client, web.ID).Extract(); err != nil || got.Name != web.Name || got.ID != web.ID {
		t.Fatalf("get: %+v %v", got, err)
	}

	// The list: the project's groups by name, the default group with its
	// rule from its own members.
	page, err := secgroups.List(client).AllPages(ctx)
	if err != nil {
		t.Fatal(err)
	}
	all, err := secgroups.ExtractSecurityGroups(page)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, g := range all {
		names = append(names, g.Name)
	}
	if !slices.Equal(names, []string{" web tier ", "db", "default"}) {
		t.Fatalf("listed %q", names)
	}
	def := all[2]
	if len(def.Rules) != 1 || def.Rules[0].Group.Name != "default" || def.Rules[0].Group.TenantID != e.alpha.ProjectID ||
		def.Rules[0].IPRange.CIDR != "" {
		t.Errorf("default group's rules %+v", def.Rules)
	}

	// Rules: from a prefix, from a group (tcp without ports is all of them),
	// icmp of any type.
	ssh, err := secgroups.CreateRule(ctx, client, secgroups.CreateRuleOpts{ParentGroupID: web.ID, IPProtocol: "tcp",
		FromPort: 22, ToPort: 22, CIDR: "10.2.3.0/24"}).Extract()
	if err != nil {
		t.Fatal(err)
	}
	if ssh.ParentGroupID != web.ID || ssh.IPProtocol != "tcp" || ssh.FromPort != 22 || ssh.ToPort != 22 ||
		ssh.IPRange.CIDR != "10.2.3.0/24" || ssh.Group.Name != "" {
		t.Errorf("tcp rule %+v", ssh)
	}
	fromDB, err := secgroups.CreateRule(ctx, client, secgroups.CreateRuleOpts{ParentGroupID: web.ID, IPProtocol: "icmp",
		FromPort: -1, ToPort: -1, FromGroupID: db.ID}).Extract()
	if err != nil {
		t.Fatal(err)
	}
	if fromDB.Group.Name != "db" || fromDB.Group.TenantID != e.alpha.ProjectID || fromDB.FromPort != -1 || fromDB.ToPort != -1 {
		t.Errorf("group rule %+v", fromDB)
	}
	_, err = secgroups.CreateRule(ctx, client, secgroups.CreateRuleOpts{ParentGroupID: web.ID, IPProtocol: "tcp",
		FromPort: 22, ToPort: 22, CIDR: "10.2.3.0/24"}).Extract()
	if msg := novaFault(t, err, 400); msg != "This rule already exists in group "+web.ID {
		t.Errorf("duplicate rule: %q", msg)
	}

	// In a server, the group cannot go (400, as Nova answers Neutron's
	// 409), and the server lists it.
	if err := secgroups.AddServer(ctx, client, server, web.Name).ExtractErr(); err != nil {
		t.Fatal(err)
	}
	page, err = secgroups.ListByServer(client, server).AllPages(ctx)
	if err != nil {
		t.Fatal(err)
	}
	mine, _ := secgroups.ExtractSecurityGroups(page)
	if len(mine) != 2 || mine[0].ID != web.ID || len(mine[0].Rules) != 2 || mine[1].Name != "default" {
		t.Errorf("server's groups %+v", mine)
	}
	err = secgroups.Delete(ctx, client, web.ID).ExtractErr()
	if msg := novaFault(t, err, 400); msg != "Security Group "+web.ID+" in use." {
		t.Errorf("delete in use: %q", msg)
	}
	err = secgroups.Delete(ctx, client, def.ID).ExtractErr()
	if msg := novaFault(t, err, 400); msg != "Insufficient rights for removing default security group." {
		t.Errorf("delete default: %q", msg)
	}
	if err := secgroups.RemoveServer(ctx, client, server, web.Name).ExtractErr(); err != nil {
		t.Fatal(err)
	}

	desc := "the front"
	updated, err := secgroups.Update(ctx, client, web.ID, secgroups.UpdateOpts{Name: "front", Description: &desc}).Extract()
	if err != nil || updated.Name != "front" || updated.Description != desc || len(updated.Rules) != 2 {
		t.Fatalf("update: %+v %v", updated, err)
	}
	if err := secgroups.DeleteRule(ctx, client, ssh.ID).ExtractErr(); err != nil {
		t.Fatal(err)
	}
	err = secgroups.DeleteRule(ctx, client, ssh.ID).ExtractErr()
	if msg := novaFault(t, err, 404); msg != "Security group rule "+ssh.ID+" not found." {
		t.Errorf("rule deleted twice: %q", msg)
	}
	// Deleting db takes web's rule from it with it (Neutron's cascade).
	if err := secgroups.Delete(ctx, client, db.ID).ExtractErr(); err != nil {
		t.Fatal(err)
	}
	if got, err := secgroups.Get(ctx, client, web.ID).Extract(); err != nil || len(got.Rules) != 0 {
		t.Errorf("after the remote group went: %+v %v", got, err)
	}
	_, err = secgroups.Get(ctx, client, db.ID).Extract()
	if msg := novaFault(t, err, 404); msg != "Security group "+db.ID+" not found." {
		t.Errorf("deleted group: %q", msg)
	}
}

// TestSecurityGroupsBadInput: Nova's schema and its rule checks, each with
// Nova's status and words, and another project's group absent.
func TestSecurityGroupsBadInput(t *testing.T) {
	e := newServersEnv(t)
	const web = "f1000000-0000-4000-8000-0000000000a1"
	e.Apply(t, &fsm.CreateSecurityGroup{Group: fsm.SecurityGroup{ID: web, Name: "web", ProjectID: e.alpha.ProjectID,
		UserID: e.alpha.UserID, Rules: []fsm.SecurityGroupRule{}, Created: apitest.SeedTime}})
	const unknown = "f1000000-0000-4000-8000-0000000000ff"
	long := strings.Repeat("n", 256)
	rule := func(fields string) string {
		return `{"security_group_rule":{"parent_group_id":"` + web + `"` + fields + `}}`
	}
	for _, c := range []struct {
		name, method, path, body string
		token                    string // alpha's when ""
		status                   int
		message                  string // a part of the fault's message
	}{
		{"show, not a uuid", "GET", "/os-security-groups/nope", "", "", 400, "Security group id should be uuid"},
		{"show, an integer", "GET", "/os-security-groups/1234", "", "", 404, "Security group 1234 not found."},
		{"show, unknown", "GET", "/os-security-groups/" + unknown, "", "", 404, "Security group " + unknown + " not found."},
		{"show, another project's", "GET", "/os-security-groups/" + web, "", e.beta.Token, 404, "not found"},
		{"delete, another project's", "DELETE", "/os-security-groups/" + web, "", e.beta.Token, 404, "not found"},
		{"delete, empty id", "DELETE", "/os-security-groups/", "", "", 404, ""},
		{"create, no body", "POST", "/os-security-groups", `{}`, "", 400, "'security_group' is a required property"},
		{"create, no description", "POST", "/os-security-groups", `{"security_group":{"name":"a"}}`, "", 400,
			"'description' is a required property"},
		{"create, empty name", "POST", "/os-security-groups", `{"security_group":{"name":"","description":""}}`, "", 400, "empty"},
		{"create, blank name", "POST", "/os-security-groups", `{"security_group":{"name":"  ","description":""}}`, "", 400, "empty"},
		{"create, long name", "POST", "/os-security-groups", `{"security_group":{"name":"` + long + `","description":""}}`, "", 400,
			"is too long"},
		{"create, long description", "POST", "/os-security-groups", `{"security_group":{"name":"b","description":"` + long + `"}}`,
			"", 400, "is too long"},
		{"create, name not a string", "POST", "/os-security-groups", `{"security_group":{"name":1,"description":""}}`, "", 400,
			"is not of type 'string'"},
		{"create, taken name", "POST", "/os-security-groups", `{"security_group":{"name":"web","description":""}}`, "", 400,
			"Security group web already exists"},
		{"update, not a uuid", "PUT", "/os-security-groups/sg-1", `{"security_group":{"name":"a","description":""}}`, "", 400,
			"Security group id should be uuid"},
		{"update, name only", "PUT", "/os-security-groups/" + web, `{"security_group":{"name":"a"}}`, "", 400,
			"'description' is a required property"},
		{"update, unknown", "PUT", "/os-security-groups/" + unknown, `{"security_group":{"name":"a","description":""}}`, "", 404,
			"not found"},
		{"update, to default", "PUT", "/os-security-groups/" + web, `{"security_group":{"name":"default","description":""}}`, "", 400,
			"already exists"},
		{"rule, no parent", "POST", "/os-security-group-rules", `{"security_group_rule":{}}`, "", 400,
			"'parent_group_id' is a required property"},
		{"rule, parent not a uuid", "POST", "/os-security-group-rules", `{"security_group_rule":{"parent_group_id":"x1"}}`, "", 400,
			"'x1' is not a 'uuid'"},
		{"rule, parent an integer", "POST", "/os-security-group-rules", `{"security_group_rule":{"parent_group_id":1234}}`, "", 404,
			"Security group 1234 not found."},
		{"rule, unknown parent", "POST", "/os-security-group-rules", `{"security_group_rule":{"parent_group_id":"` + unknown + `"}}`,
			"", 404, "not found"},
		{"rule, unknown group", "POST", "/os-security-group-rules", rule(`,"group_id":"` + unknown + `"`), "", 404, "not found"},
		{"rule, another project's parent", "POST", "/os-security-group-rules", rule(`,"ip_protocol":"tcp","from_port":1,"to_port":2`),
			e.beta.Token, 404, "not found"},
		{"rule, no protocol", "POST", "/os-security-group-rules", rule(`,"from_port":1,"to_port":2`), "", 400,
			"Not enough parameters to build a valid rule."},
		{"rule, no ports", "POST", "/os-security-group-rules", rule(`,"ip_protocol":"tcp"`), "", 400,
			"Not enough parameters to build a valid rule."},
		{"rule, bad protocol", "POST", "/os-security-group-rules", rule(`,"ip_protocol":"999x","from_port":1,"to_port":2`), "", 400,
			"Invalid IP protocol 999x."},
		{"rule, port not an integer", "POST", "/os-security-group-rules", rule(`,"ip_protocol":"tcp","from_port":"a","to_port":2`), "",
			400, "To and From ports must be integers"},
		{"rule, icmp type not an integer", "POST", "/os-security-group-rules", rule(`,"ip_protocol":"icmp","from_port":"a","to_port":2`),
			"", 400, "Type and Code must be integers for ICMP protocol type"},
		{"rule, from above 65535", "POST", "/os-security-group-rules", rule(`,"ip_protocol":"tcp","from_port":65536,"to_port":22`), "",
			400, "Invalid port range 65536:22."},
		{"rule, to above 65535", "POST", "/os-security-group-rules", rule(`,"ip_protocol":"tcp","from_port":22,"to_port":65536`), "",
			400, "Valid TCP ports should be between 1-65535"},
		{"rule, range reversed", "POST", "/os-security-group-rules", rule(`,"ip_protocol":"udp","from_port":22,"to_port":21`), "",
			400, "Former value cannot be greater than the later"},
		{"rule, icmp type 256", "POST", "/os-security-group-rules", rule(`,"ip_protocol":"icmp","from_port":256,"to_port":0`), "",
			400, "For ICMP, the type:code must be valid"},
		{"rule, bad cidr", "POST", "/os-security-group-rules", rule(`,"ip_protocol":"tcp","from_port":1,"to_port":2,"cidr":"10.0.0.1"`),
			"", 400, "10.0.0.1 is not a valid IP network."},
		{"rule, zero prefix", "POST", "/os-security-group-rules", rule(`,"ip_protocol":"tcp","from_port":1,"to_port":2,"cidr":"10.0.0.0/0"`),
			"", 400, "Bad prefix for network in cidr 10.0.0.0/0"},
		{"rule, ipv6", "POST", "/os-security-group-rules", rule(`,"ip_protocol":"tcp","from_port":1,"to_port":2,"cidr":"::/0"`),
			"", 400, "IPv4"},
		{"rule delete, not a uuid", "DELETE", "/os-security-group-rules/r1", "", "", 400, "Security group id should be uuid"},
		{"rule delete, unknown", "DELETE", "/os-security-group-rules/" + unknown, "", "", 404,
			"Security group rule " + unknown + " not found."},
		{"server's groups, unknown server", "GET", "/servers/" + unknown + "/os-security-groups", "", "", 404,
			"Instance " + unknown + " could not be found."},
		{"list, bad limit", "GET", "/os-security-groups?limit=x", "", "", 400, "limit"},
		{"list, bad offset", "GET", "/os-security-groups?offset=-1", "", "", 400, "offset"},
	} {
		t.Run(c.name, func(t *testing.T) {
			token := c.token
			if token == "" {
				token = e.alpha.Token
			}
			status, raw := e.call(t, c.method, c.path, c.body, token)
			if status != c.status {
				t.Fatalf("%d %s, want %d", status, raw, c.status)
			}
			if _, _, msg := fault(t, raw); !strings.Contains(msg, c.message) {
				t.Errorf("message %q, want %q in it", msg, c.message)
			}
		})
	}
	// Nothing refused was kept.
	status, raw := e.call(t, "GET", "/os-security-groups/"+web, "", e.alpha.Token)
	var body struct {
		SecurityGroup struct {
			Name  string
			Rules []any
		} `json:"security_group"`
	}
	decode(t, raw, &body)
	if status != 200 || body.SecurityGroup.Name != "web" || len(body.SecurityGroup.Rules) != 0 {
		t.Errorf("web after the refusals: %d %s", status, raw)
	}
}

// TestSecurityGroupsMicroversions: the proxy is gone at 2.36 (404, as
// Nova), a server's groups are not.
func TestSecurityGroupsMicroversions(t *testing.T) {
	e := &serversEnv{Env: apitest.New(t, nova.NewUpTo("2.36"))}
	e.SeedCompute(t)
	e.alpha = e.AddTenant(t, "alpha", "member")
	const server = "f1000000-0000-4000-8000-000000000001"
	e.SeedServer(t, e.alpha, server, "web", apitest.CirrosID, apitest.NodeName)
	for _, c := range []struct {
		version, path string
		status        int
	}{
		{"2.35", "/os-security-groups", 200},
		{"2.36", "/os-security-groups", 404},
		{"2.36", "/os-security-groups/" + server, 404},
		{"2.35", "/servers/" + server + "/os-security-groups", 200},
		{"2.36", "/servers/" + server + "/os-security-groups", 200},
	} {
		status, raw := e.call(t, "GET", c.path, "", e.alpha.Token, "X-OpenStack-Nova-API-Version", c.version)
		if status != c.status {
			t.Errorf("%s at %s: %d %s", c.path, c.version, status, raw)
		}
	}
	status, _ := e.call(t, "POST", "/os-security-group-rules", `{}`, e.alpha.Token, "X-OpenStack-Nova-API-Version", "2.36")
	if status != 404 {
		t.Errorf("rule create at 2.36: %d", status)
	}
}
