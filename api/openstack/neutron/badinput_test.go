package neutron_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/shoal-project/shoal/api/apitest"
	"github.com/shoal-project/shoal/api/openstack/osapi"
	"github.com/shoal-project/shoal/fsm"
)

// TestBadInput sends what Neutron refuses: each answer has Neutron's
// status and exception type, and nothing is proposed (the replica's index
// does not move).
func TestBadInput(t *testing.T) {
	f := newFixture(t)
	alice, bob, admin := f.alice.Token, f.bob.Token, apitest.AdminToken
	public := apitest.PublicNetworkID
	port := portOf(f.web)
	fip := f.mustCall(t, created, "POST", v2+"/floatingips",
		`{"floatingip":{"floating_network_id":"`+public+`","port_id":"`+port+`"}}`, alice)["floatingip"].(map[string]any)["id"].(string)
	spare := f.mustCall(t, created, "POST", v2+"/floatingips",
		`{"floatingip":{"floating_network_id":"`+public+`"}}`, alice)["floatingip"].(map[string]any)["id"].(string)
	group := f.mustCall(t, created, "POST", v2+"/security-groups", `{"security_group":{"name":"web"}}`, alice)["security_group"].(map[string]any)["id"].(string)
	bobGroup := fsm.DefaultSecurityGroupID(f.bob.ProjectID)
	net := func(body string) string {
		return `{"network":{"name":"x","router:external":true,"cidr":"10.9.0.0/24"` + body + `}}`
	}
	fipOn := func(body string) string { return `{"floatingip":{"floating_network_id":"` + public + `"` + body + `}}` }
	rule := func(body string) string {
		return `{"security_group_rule":{"security_group_id":"` + group + `","direction":"ingress"` + body + `}}`
	}

	// applied marks the refusals that are Apply's (api proposes, fsm
	// refuses against the state it applies to: a network's floating IPs, a
	// chosen address, a duplicate rule): the index moves, the state not.
	const applied = true
	for _, c := range []struct {
		name, method, path, body, token string
		status                          int
		typ                             string
		applied                         bool
	}{
		{"malformed JSON", "POST", v2 + "/networks", `{"network":`, admin, bad, "HTTPBadRequest", false},
		{"body not an object", "POST", v2 + "/networks", `[1]`, admin, bad, "HTTPBadRequest", false},
		{"resource key missing", "POST", v2 + "/networks", `{"net":{}}`, admin, bad, "HTTPBadRequest", false},
		{"resource not an object", "POST", v2 + "/networks", `{"network":"x"}`, admin, bad, "HTTPBadRequest", false},
		{"unknown attribute", "POST", v2 + "/networks", net(`,"frobnicate":1`), admin, bad, "HTTPBadRequest", false},
		{"read-only attribute in POST", "POST", v2 + "/networks", net(`,"id":"x"`), admin, bad, "HTTPBadRequest", false},
		{"tenant network", "POST", v2 + "/networks", `{"network":{"name":"x","cidr":"10.9.0.0/24"}}`, admin, bad, "HTTPBadRequest", false},
		{"no cidr", "POST", v2 + "/networks", `{"network":{"name":"x","router:external":true}}`, admin, bad, "HTTPBadRequest", false},
		{"bad cidr", "POST", v2 + "/networks", `{"network":{"name":"x","router:external":true,"cidr":"ten"}}`, admin, bad, "BadRequest", false},
		{"overlapping cidr", "POST", v2 + "/networks", `{"network":{"name":"x","router:external":true,"cidr":"10.66.0.0/16"}}`, admin, conflict, "Conflict", false},
		{"name not a string", "POST", v2 + "/networks", `{"network":{"name":5,"router:external":true,"cidr":"10.9.0.0/24"}}`, admin, bad, "HTTPBadRequest", false},
		{"boolean not a boolean", "POST", v2 + "/networks", `{"network":{"name":"x","router:external":"maybe","cidr":"10.9.0.0/24"}}`, admin, bad, "HTTPBadRequest", false},
		{"shared external", "POST", v2 + "/networks", net(`,"shared":true`), admin, bad, "HTTPBadRequest", false},
		{"half a surrogate pair", "POST", v2 + "/networks", `{"network":{"name":"\ud800","router:external":true,"cidr":"10.9.0.0/24"}}`, admin, bad, "HTTPBadRequest", false},
		{"bad pool", "POST", v2 + "/networks", net(`,"allocation_pools":[{"start":"10.9.0.9"}]`), admin, bad, "HTTPBadRequest", false},
		{"pool outside", "POST", v2 + "/networks", net(`,"allocation_pools":[{"start":"10.1.0.9","end":"10.1.0.10"}]`), admin, bad, "BadRequest", false},
		{"delete the tenant network", "DELETE", v2 + "/networks/" + f.tenantNet(), "", admin, conflict, "NetworkInUse", false},
		{"delete a network with floating IPs", "DELETE", v2 + "/networks/" + public, "", admin, conflict, "NetworkInUse", applied},
		{"bad limit", "GET", v2 + "/networks?limit=x", "", alice, bad, "HTTPBadRequest", false},
		{"unknown marker", "GET", v2 + "/networks?marker=nope", "", alice, bad, "HTTPBadRequest", false},

		{"floating IP without network", "POST", v2 + "/floatingips", `{"floatingip":{}}`, alice, bad, "HTTPBadRequest", false},
		{"floating IP of an unknown network", "POST", v2 + "/floatingips", `{"floatingip":{"floating_network_id":"nope"}}`, alice, notFound, "NetworkNotFound", false},
		{"floating IP of the tenant network", "POST", v2 + "/floatingips", `{"floatingip":{"floating_network_id":"` + f.tenantNet() + `"}}`, alice, bad, "BadRequest", false},
		{"member chooses the address", "POST", v2 + "/floatingips", fipOn(`,"floating_ip_address":"10.66.0.239"`), alice, forbidden, "PolicyNotAuthorized", false},
		{"address taken", "POST", v2 + "/floatingips", fipOn(`,"floating_ip_address":"10.66.0.200"`), admin, conflict, "IpAddressAlreadyAllocated", applied},
		{"address outside the pools", "POST", v2 + "/floatingips", fipOn(`,"floating_ip_address":"10.66.0.5"`), admin, bad, "BadRequest", applied},
		{"another project's port", "POST", v2 + "/floatingips", fipOn(`,"port_id":"` + portOf(f.db) + `"`), alice, notFound, "PortNotFound", false},
		{"port's fixed IP has one", "POST", v2 + "/floatingips", fipOn(`,"port_id":"` + port + `"`), alice, conflict, "FloatingIPPortAlreadyAssociated", false},
		{"fixed IP not the port's", "POST", v2 + "/floatingips", fipOn(`,"port_id":"` + port + `","fixed_ip_address":"10.88.9.9"`), alice, bad, "HTTPBadRequest", false},
		{"another project", "POST", v2 + "/floatingips", fipOn(`,"project_id":"` + f.bob.ProjectID + `"`), alice, bad, "HTTPBadRequest", false},
		{"another network's subnet", "POST", v2 + "/floatingips", fipOn(`,"subnet_id":"` + osapi.SubnetID(f.tenantNet()) + `"`), alice, bad, "HTTPBadRequest", false},
		{"floating IP description", "POST", v2 + "/floatingips", fipOn(`,"description":"mine"`), alice, bad, "HTTPBadRequest", false},
		{"unknown port", "PUT", v2 + "/floatingips/" + spare, `{"floatingip":{"port_id":"nope"}}`, alice, notFound, "PortNotFound", false},
		{"move onto a taken fixed IP", "PUT", v2 + "/floatingips/" + spare, `{"floatingip":{"port_id":"` + port + `"}}`, alice, conflict, "FloatingIPPortAlreadyAssociated", false},
		{"read-only attribute in PUT", "PUT", v2 + "/floatingips/" + fip, `{"floatingip":{"floating_ip_address":"10.66.0.201"}}`, alice, bad, "HTTPBadRequest", false},
		{"another project's floating IP", "PUT", v2 + "/floatingips/" + fip, `{"floatingip":{"port_id":null}}`, bob, notFound, "FloatingIPNotFound", false},
		{"delete unknown floating IP", "DELETE", v2 + "/floatingips/nope", "", alice, notFound, "FloatingIPNotFound", false},

		{"group name missing", "POST", v2 + "/security-groups", `{"security_group":{}}`, alice, bad, "BadRequest", false},
		{"group name not a string", "POST", v2 + "/security-groups", `{"security_group":{"name":[]}}`, alice, bad, "HTTPBadRequest", false},
		{"stateless group", "POST", v2 + "/security-groups", `{"security_group":{"name":"s","stateful":false}}`, alice, bad, "HTTPBadRequest", false},
		{"group name taken", "POST", v2 + "/security-groups", `{"security_group":{"name":"web"}}`, alice, conflict, "Conflict", false},
		{"group named default", "POST", v2 + "/security-groups", `{"security_group":{"name":"default"}}`, alice, conflict, "SecurityGroupDefaultAlreadyExists", false},
		{"description too long", "POST", v2 + "/security-groups", `{"security_group":{"name":"d","description":"` + strings.Repeat("x", 256) + `"}}`, alice, bad, "BadRequest", false},
		{"empty group name in PUT", "PUT", v2 + "/security-groups/" + group, `{"security_group":{"name":""}}`, alice, bad, "BadRequest", false},
		{"stateful in PUT", "PUT", v2 + "/security-groups/" + group, `{"security_group":{"stateful":true}}`, alice, bad, "HTTPBadRequest", false},
		{"another project's group", "DELETE", v2 + "/security-groups/" + bobGroup, "", alice, notFound, "SecurityGroupNotFound", false},

		{"rule without direction", "POST", v2 + "/security-group-rules", `{"security_group_rule":{"security_group_id":"` + group + `"}}`, alice, bad, "HTTPBadRequest", false},
		{"rule without group", "POST", v2 + "/security-group-rules", `{"security_group_rule":{"direction":"ingress"}}`, alice, bad, "HTTPBadRequest", false},
		{"rule direction", "POST", v2 + "/security-group-rules", `{"security_group_rule":{"security_group_id":"` + group + `","direction":"up"}}`, alice, bad, "BadRequest", false},
		{"IPv6 rule", "POST", v2 + "/security-group-rules", rule(`,"ethertype":"IPv6"`), alice, bad, "BadRequest", false},
		{"unknown protocol", "POST", v2 + "/security-group-rules", rule(`,"protocol":"gre"`), alice, bad, "BadRequest", false},
		{"ports without protocol", "POST", v2 + "/security-group-rules", rule(`,"port_range_min":22,"port_range_max":22`), alice, bad, "BadRequest", false},
		{"port not an integer", "POST", v2 + "/security-group-rules", rule(`,"protocol":"tcp","port_range_min":"ssh","port_range_max":22`), alice, bad, "HTTPBadRequest", false},
		{"port range reversed", "POST", v2 + "/security-group-rules", rule(`,"protocol":"tcp","port_range_min":23,"port_range_max":22`), alice, bad, "BadRequest", false},
		{"prefix not a CIDR", "POST", v2 + "/security-group-rules", rule(`,"remote_ip_prefix":"everywhere"`), alice, bad, "BadRequest", false},
		{"duplicate rule", "POST", v2 + "/security-group-rules", rule(`,"ethertype":"IPv4","remote_group_id":"` + fsm.DefaultSecurityGroupID(f.alice.ProjectID) + `"`), alice, created, "", false},
		{"the same rule again", "POST", v2 + "/security-group-rules", rule(`,"remote_group_id":"` + fsm.DefaultSecurityGroupID(f.alice.ProjectID) + `"`), alice, conflict, "SecurityGroupRuleExists", applied},
		{"unknown group", "POST", v2 + "/security-group-rules", `{"security_group_rule":{"security_group_id":"nope","direction":"ingress"}}`, alice, notFound, "SecurityGroupNotFound", false},
		{"another project's group", "POST", v2 + "/security-group-rules", `{"security_group_rule":{"security_group_id":"` + bobGroup + `","direction":"ingress"}}`, alice, notFound, "SecurityGroupNotFound", false},
		{"unknown remote group", "POST", v2 + "/security-group-rules", rule(`,"remote_group_id":"nope"`), alice, notFound, "SecurityGroupNotFound", false},
		{"rule description", "POST", v2 + "/security-group-rules", rule(`,"description":"ssh"`), alice, bad, "HTTPBadRequest", false},
		{"delete unknown rule", "DELETE", v2 + "/security-group-rules/nope", "", alice, notFound, "SecurityGroupRuleNotFound", false},

		{"quota of a resource shoal does not limit", "PUT", v2 + "/quotas/" + f.alice.ProjectID, `{"quota":{"network":5}}`, admin, bad, "HTTPBadRequest", false},
		{"quota below -1", "PUT", v2 + "/quotas/" + f.alice.ProjectID, `{"quota":{"floatingip":-2}}`, admin, bad, "HTTPBadRequest", false},
		{"quota not a number", "PUT", v2 + "/quotas/" + f.alice.ProjectID, `{"quota":{"floatingip":"many"}}`, admin, bad, "HTTPBadRequest", false},
		{"quota of an unknown project", "PUT", v2 + "/quotas/nope", `{"quota":{"floatingip":1}}`, admin, notFound, "HTTPNotFound", false},
	} {
		before, state := f.FSM.Index(), fingerprint(t, f)
		status, body := f.call(t, c.method, c.path, c.body, c.token)
		if c.status == created {
			if status != created {
				t.Errorf("%s: %d %v", c.name, status, body)
			}
			continue
		}
		if typ, msg := neutronError(t, body); status != c.status || typ != c.typ {
			t.Errorf("%s: %d %s %q, want %d %s", c.name, status, typ, msg, c.status, c.typ)
		}
		if after := f.FSM.Index(); after != before && !c.applied {
			t.Errorf("%s: the index moved from %d to %d", c.name, before, after)
		}
		if fingerprint(t, f) != state {
			t.Errorf("%s: the state changed", c.name)
		}
	}

	resp, _ := f.Do(t, "POST", v2+"/security-groups", `{"security_group":{"name":"`+strings.Repeat("x", 2<<20)+`"}}`, alice)
	if resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Errorf("a body over the limit: %d", resp.StatusCode)
	}
}

// fingerprint is the networking state and the quotas, without indexes.
func fingerprint(t *testing.T, f *fixture) string {
	t.Helper()
	v := f.FSM.NetworkView()
	v.Index = 0
	b, err := json.Marshal([]any{v, f.FSM.Quota(f.alice.ProjectID)})
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
