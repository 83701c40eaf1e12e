package api

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
)

// Quota sets and limits in Nova's shapes, byte for byte.
func TestQuotaSetsAndLimits(t *testing.T) {
	w := newTenants(t)
	a := w.alpha.project
	for _, tc := range []struct {
		caller, path string
		status       int
		want         string
	}{
		{reader, "/v1/quota-sets/" + a, 200, `{"quota_set":{"id":"` + a + `","instances":10,"cores":20,"ram":51200,` +
			`"server_groups":10,"server_group_members":10,"key_pairs":100,"floating_ips":10,` + extraQuotas + `}}`},
		{reader, "/v1/quota-sets/" + a + "/defaults", 200, `{"quota_set":{"id":"` + a + `","instances":10,"cores":20,"ram":51200,` +
			`"server_groups":10,"server_group_members":10,"key_pairs":100,"floating_ips":10,` + extraQuotas + `}}`},
		{member, "/v1/limits", 200, `{"limits":{"absolute":{"maxServerMeta":128,"maxImageMeta":128,"maxPersonality":5,` +
			`"maxPersonalitySize":10240,"maxSecurityGroups":-1,"maxSecurityGroupRules":-1,"totalSecurityGroupsUsed":1,"maxTotalInstances":10,"maxTotalCores":20,"maxTotalRAMSize":51200,` +
			`"maxServerGroups":10,"maxServerGroupMembers":10,"maxTotalKeypairs":100,"maxTotalFloatingIps":10,` +
			`"totalInstancesUsed":1,"totalCoresUsed":1,"totalRAMUsed":512,"totalServerGroupsUsed":1,"totalFloatingIpsUsed":1},"rate":[]}}`},
		{reader, "/v1/quota-sets/" + w.beta.project, 403, ""},
		{reader, "/v1/limits?tenant_id=" + w.beta.project, 403, ""},
		{admin, "/v1/quota-sets/nope", 404, ""},
		{admin, "/v1/quota-sets/nope/defaults", 404, ""},
		{admin, "/v1/limits?tenant_id=nope", 404, ""},
		{reader, "/v1/limits?project=x", 400, ""},
	} {
		resp, raw := w.as(t, tc.caller, "GET", tc.path, "")
		if resp.StatusCode != tc.status || (tc.want != "" && string(raw) != tc.want+"\n") {
			t.Errorf("GET %s as %s = %d %s, want %d %s", tc.path, tc.caller, resp.StatusCode, raw, tc.status, tc.want)
		}
	}

	// PUT is partial; the answer has no id, as Nova's.
	resp, raw := w.as(t, admin, "PUT", "/v1/quota-sets/"+a, `{"quota_set":{"instances":"5","cores":-1}}`)
	if want := `{"quota_set":{"instances":5,"cores":-1,"ram":51200,"server_groups":10,"server_group_members":10,"key_pairs":100,"floating_ips":10,` +
		extraQuotas + `}}` + "\n"; resp.StatusCode != 200 || string(raw) != want {
		t.Errorf("PUT = %d %s, want %s", resp.StatusCode, raw, want)
	}
	before := w.c.snapshot()
	quota := w.c.FSM.Quota(a)
	for _, tc := range []struct {
		path, body string
		status     int
		contains   string
	}{
		{"/v1/quota-sets/" + a, `{"quota_set":{"networks":1}}`, 400, "unknown quota"},
		{"/v1/quota-sets/" + a, `{"quota_set":{"floating_ips":0}}`, 400, "Quota limit 0 for floating_ips must be greater than or equal to already used and reserved 1."},
		{"/v1/quota-sets/" + a, `{"quota_set":{"instances":1.5}}`, 400, "integer"},
		{"/v1/quota-sets/" + a, `{"quota_set":{"instances":"ten"}}`, 400, "integer"},
		{"/v1/quota-sets/" + a, `{"quota_set":{"instances":-2}}`, 400, "-1 (unlimited) or more"},
		{"/v1/quota-sets/" + a, `{"instances":3}`, 400, "unknown field"},
		{"/v1/quota-sets/" + a, `{"quota_set":{"ram":100}}`, 400, "Quota limit 100 for ram must be greater than or equal to already used and reserved 512."},
		{"/v1/quota-sets/nope", `{"quota_set":{"instances":3}}`, 404, "nope"},
	} {
		resp, raw := w.as(t, admin, "PUT", tc.path, tc.body)
		wantError(t, resp, raw, tc.status, tc.contains)
	}
	resp, raw = w.as(t, member, "PUT", "/v1/quota-sets/"+a, `{"quota_set":{"instances":100}}`)
	wantError(t, resp, raw, 403, "policy")
	if after := w.c.snapshot(); !reflect.DeepEqual(after, before) || w.c.FSM.Quota(a) != quota {
		t.Error("a refused quota update changed the state")
	}
	if resp, raw := w.as(t, admin, "PUT", "/v1/quota-sets/"+a, `{"quota_set":{"ram":100,"force":true}}`); resp.StatusCode != 200 {
		t.Errorf("forced PUT = %d %s", resp.StatusCode, raw)
	}

	// DELETE puts the defaults back.
	if resp, raw := w.as(t, admin, "DELETE", "/v1/quota-sets/"+a, ""); resp.StatusCode != 202 {
		t.Fatalf("DELETE = %d %s", resp.StatusCode, raw)
	}
	resp, raw = w.as(t, reader, "GET", "/v1/quota-sets/"+a, "")
	if want := `"instances":10,"cores":20,"ram":51200`; resp.StatusCode != 200 || !strings.Contains(string(raw), want) {
		t.Errorf("after DELETE = %d %s, want %s", resp.StatusCode, raw, want)
	}
	// An admin reads another project's limits.
	resp, raw = w.as(t, admin, "GET", "/v1/limits?tenant_id="+w.beta.project, "")
	if want := `"totalInstancesUsed":1`; resp.StatusCode != 200 || !strings.Contains(string(raw), want) {
		t.Errorf("admin's limits of beta = %d %s", resp.StatusCode, raw)
	}
}

// A create past the quota is 403 with Nova's message, and creates nothing.
func TestCreateOverQuota(t *testing.T) {
	w := newTenants(t)
	if resp, raw := w.as(t, admin, "PUT", "/v1/quota-sets/"+w.alpha.project, `{"quota_set":{"instances":2,"server_groups":1}}`); resp.StatusCode != 200 {
		t.Fatalf("PUT = %d %s", resp.StatusCode, raw)
	}
	before := w.c.snapshot()
	for _, tc := range []struct{ path, body, message string }{
		{"/v1/servers", `{"server":{"name":"vm","flavor":"1","image":"img-1","count":3}}`,
			"Quota exceeded for instances: Requested 3, but already used 1 of 2 instances"},
		{"/v1/server-groups", `{"server_group":{"name":"g","policy":"affinity"}}`, "Quota exceeded, too many server groups."},
	} {
		resp, raw := w.as(t, member, "POST", tc.path, tc.body)
		wantError(t, resp, raw, 403, tc.message)
		if e := decode[ErrorBody](t, raw).Error; e.Kind != "over_quota" {
			t.Errorf("kind = %q, want over_quota", e.Kind)
		}
	}
	if after := w.c.snapshot(); !reflect.DeepEqual(after.instances, before.instances) || !reflect.DeepEqual(after.groups, before.groups) {
		t.Error("a create over quota created something")
	}
	// Within the quota it goes through; other projects are not affected.
	if resp, raw := w.as(t, member, "POST", "/v1/servers", `{"server":{"name":"vm","flavor":"1","image":"img-1"}}`); resp.StatusCode != 202 {
		t.Errorf("create within quota = %d %s", resp.StatusCode, raw)
	}
	body := fmt.Sprintf(`{"server":{"name":"vm","flavor":"1","image":"%s","count":3}}`, w.beta.image)
	if resp, raw := w.as(t, betaUser, "POST", "/v1/servers", body); resp.StatusCode != 202 {
		t.Errorf("beta's create = %d %s", resp.StatusCode, raw)
	}
}

// extraQuotas are Nova 2.1's quota keys beyond those shoal enforced first,
// with their defaults, as a quota set shows them.
const extraQuotas = `"metadata_items":128,"fixed_ips":-1,"injected_files":5,"injected_file_content_bytes":10240,"injected_file_path_bytes":255,"security_groups":-1,"security_group_rules":-1`
