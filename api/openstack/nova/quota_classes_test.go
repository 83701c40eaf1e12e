package nova_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/quotasets"

	"github.com/shoal-project/shoal/api/apitest"
	"github.com/shoal-project/shoal/api/openstack/nova"
)

// Tempest's v2_1 quota class schema (the quota set's, with
// quota_class_set): every 2.1 key but the server group ones.
var quotaClassKeys21 = []string{"cores", "fixed_ips", "floating_ips", "injected_file_content_bytes", "injected_file_path_bytes",
	"injected_files", "instances", "key_pairs", "metadata_items", "ram", "security_group_rules", "security_groups"}

// The default class is the defaults every project without its own limits
// follows (what quotasets' defaults and a project's set show); another
// class is stored and shown, and changes no project.
func TestQuotaClassSets(t *testing.T) {
	ctx := context.Background()
	e, alpha := computeEnv(t)
	admin := apitest.AdminToken
	user := computeClient(t, e.TenantProvider(t, alpha))

	set := func(raw []byte, key string) map[string]any {
		t.Helper()
		var body map[string]map[string]any
		if err := json.Unmarshal(raw, &body); err != nil || len(body) != 1 || body[key] == nil {
			t.Fatalf("not a %s: %s", key, raw)
		}
		return body[key]
	}
	keysOf := func(m map[string]any) []string {
		var out []string
		for k := range m {
			out = append(out, k)
		}
		return out
	}
	equalKeys := func(what string, m map[string]any, want []string) {
		t.Helper()
		got := keysOf(m)
		if len(got) != len(want) {
			t.Errorf("%s keys %v, want %v", what, got, want)
		}
		for _, k := range want {
			if _, ok := m[k]; !ok {
				t.Errorf("%s lacks %s: %v", what, k, got)
			}
		}
	}

	show := set(get(t, e, "/compute/v2.1/os-quota-class-sets/default", admin), "quota_class_set")
	equalKeys("default class", show, append([]string{"id"}, quotaClassKeys21...))
	if show["id"] != "default" || show["instances"] != 10.0 || show["cores"] != 20.0 {
		t.Errorf("default class: %v", show)
	}

	resp, raw := e.Do(t, "PUT", "/compute/v2.1/os-quota-class-sets/default",
		`{"quota_class_set":{"instances":110,"cores":"120","server_groups":15}}`, admin)
	if resp.StatusCode != 200 {
		t.Fatalf("update default: %d %s", resp.StatusCode, raw)
	}
	upd := set(raw, "quota_class_set")
	equalKeys("update answer", upd, quotaClassKeys21)
	if upd["instances"] != 110.0 || upd["cores"] != 120.0 {
		t.Errorf("update answer: %v", upd)
	}
	// Projects without their own limits follow; gophercloud reads both.
	var defaults quotasets.GetResult
	hresp, gerr := user.Get(ctx, user.ServiceURL("os-quota-sets", alpha.ProjectID, "defaults"), &defaults.Body, nil)
	_, defaults.Header, defaults.Err = gophercloud.ParseResponse(hresp, gerr)
	if d, err := defaults.Extract(); err != nil || d.Instances != 110 || d.Cores != 120 || d.ServerGroups != 15 {
		t.Errorf("defaults after the class changed: %+v %v", d, err)
	}
	if q, err := quotasets.Get(ctx, user, alpha.ProjectID).Extract(); err != nil || q.Instances != 110 || q.KeyPairs != 100 {
		t.Errorf("a project's set after the class changed: %+v %v", q, err)
	}

	// Another class: shown over the defaults, changing no project.
	resp, raw = e.Do(t, "PUT", "/compute/v2.1/os-quota-class-sets/gold", `{"quota_class_set":{"ram":-1}}`, admin)
	if resp.StatusCode != 200 || set(raw, "quota_class_set")["ram"] != -1.0 {
		t.Errorf("update gold: %d %s", resp.StatusCode, raw)
	}
	if gold := set(get(t, e, "/compute/v2.1/os-quota-class-sets/gold", admin), "quota_class_set"); gold["id"] != "gold" ||
		gold["ram"] != -1.0 || gold["instances"] != 110.0 {
		t.Errorf("gold: %v", gold)
	}
	if q, _ := quotasets.Get(ctx, user, alpha.ProjectID).Extract(); q.RAM != 51200 {
		t.Errorf("class gold changed a project: %+v", q)
	}

	before := e.FSM.Index()
	for _, c := range []struct {
		path, body, message string
		status              int
	}{
		{"/default", `{"quota_class_set":{"instances":-2}}`, "", 400},
		{"/default", `{"quota_class_set":{"instances":"x"}}`, "", 400},
		{"/default", `{"quota_class_set":{"force":true}}`, "Invalid input for field/attribute quota_class_set. Value: {\"force\":true}. Additional properties are not allowed ('force' was unexpected)", 400},
		{"/default", `{"quota_class_set":{"networks":1}}`, "", 400},
		{"/default", `{"quota_set":{"instances":1}}`, "Additional properties are not allowed ('quota_set' was unexpected)", 400},
		{"/default", `{}`, "'quota_class_set' is a required property", 400},
		{"/" + strings.Repeat("c", 256), `{"quota_class_set":{"instances":1}}`, "quota_class_name has 256 characters, more than 255.", 400},
	} {
		resp, raw := e.Do(t, "PUT", "/compute/v2.1/os-quota-class-sets"+c.path, c.body, admin)
		if resp.StatusCode != c.status || c.message != "" && faultMessage(t, raw) != c.message || !strings.Contains(string(raw), `"badRequest"`) {
			t.Errorf("PUT %s %s: %d %s", c.path, c.body, resp.StatusCode, raw)
		}
	}
	if e.FSM.Index() != before {
		t.Errorf("refused updates changed the state")
	}
	for _, method := range []string{"GET", "PUT"} {
		if resp, _ := e.Do(t, method, "/compute/v2.1/os-quota-class-sets/default", `{"quota_class_set":{}}`, alpha.Token); resp.StatusCode != 403 {
			t.Errorf("member %s: %d", method, resp.StatusCode)
		}
	}
}

// 2.50 shows the server group keys and drops the network ones (which an
// update no longer takes); 2.57 drops the injected_* ones too.
func TestQuotaClassSetsMicroversions(t *testing.T) {
	e := apitest.New(t, nova.NewUpTo("2.57"))
	admin := apitest.AdminToken
	for _, c := range []struct {
		version string
		keys    int
		absent  []string
		refused string
	}{
		{"2.49", 12, []string{"server_groups"}, ""},
		{"2.50", 10, []string{"floating_ips", "fixed_ips", "security_groups", "security_group_rules"}, "floating_ips"},
		{"2.57", 7, []string{"floating_ips", "injected_files"}, "injected_files"},
	} {
		resp, raw := e.Do(t, "GET", "/compute/v2.1/os-quota-class-sets/default", "", admin, "X-OpenStack-Nova-API-Version", c.version)
		var body struct {
			Set map[string]any `json:"quota_class_set"`
		}
		if err := json.Unmarshal(raw, &body); err != nil || resp.StatusCode != 200 || len(body.Set) != c.keys+1 {
			t.Errorf("%s: %d %s", c.version, resp.StatusCode, raw)
		}
		for _, k := range c.absent {
			if _, ok := body.Set[k]; ok {
				t.Errorf("%s shows %s", c.version, k)
			}
		}
		if c.version != "2.49" {
			if _, ok := body.Set["server_groups"]; !ok {
				t.Errorf("%s lacks server_groups", c.version)
			}
		}
		if c.refused != "" {
			resp, _ := e.Do(t, "PUT", "/compute/v2.1/os-quota-class-sets/default", `{"quota_class_set":{"`+c.refused+`":1}}`, admin,
				"X-OpenStack-Nova-API-Version", c.version)
			if resp.StatusCode != 400 {
				t.Errorf("%s takes %s: %d", c.version, c.refused, resp.StatusCode)
			}
		}
	}
}
