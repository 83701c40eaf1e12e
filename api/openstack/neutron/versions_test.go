package neutron_test

import (
	"net/http"
	"slices"
	"testing"
)

func TestVersionDocuments(t *testing.T) {
	f := newFixture(t)
	for _, path := range []string{"/networking", "/networking/"} {
		out := f.mustCall(t, ok, "GET", path, "", "") // no token: keystoneauth discovers first
		vs := out["versions"].([]any)
		v := vs[0].(map[string]any)
		links := v["links"].([]any)
		if len(vs) != 1 || v["id"] != "v2.0" || v["status"] != "CURRENT" ||
			links[0].(map[string]any)["href"] != f.URL()+"/networking/v2.0/" {
			t.Errorf("GET %s = %v", path, out)
		}
	}
	out := f.mustCall(t, ok, "GET", v2+"/", "", "")
	var names []string
	for _, r := range out["resources"].([]any) {
		names = append(names, r.(map[string]any)["collection"].(string))
	}
	for _, want := range []string{"networks", "subnets", "ports", "floatingips", "security-groups", "security-group-rules", "quotas"} {
		if !slices.Contains(names, want) {
			t.Errorf("v2.0 resources %v lack %s", names, want)
		}
	}
}

func TestExtensions(t *testing.T) {
	f := newFixture(t)
	out := f.mustCall(t, ok, "GET", v2+"/extensions", "", f.alice.Token)
	var aliases []string
	for _, e := range out["extensions"].([]any) {
		aliases = append(aliases, e.(map[string]any)["alias"].(string))
	}
	for _, want := range []string{"external-net", "router", "security-group", "quotas", "standard-attr-timestamp",
		"standard-attr-description", "project-id"} {
		if !slices.Contains(aliases, want) {
			t.Errorf("extensions %v lack %s", aliases, want)
		}
	}
	for _, never := range []string{"filter-validation", "revision-if-match", "standard-attr-tag"} {
		if slices.Contains(aliases, never) {
			t.Errorf("extensions list %s, which the module does not honour", never)
		}
	}
	one := f.mustCall(t, ok, "GET", v2+"/extensions/external-net", "", f.alice.Token)
	if one["extension"].(map[string]any)["alias"] != "external-net" {
		t.Errorf("extension show = %v", one)
	}
	status, body := f.call(t, "GET", v2+"/extensions/dvr", "", f.alice.Token)
	if typ, _ := neutronError(t, body); status != notFound || typ != "HTTPNotFound" {
		t.Errorf("unknown extension: %d %s", status, typ)
	}
}

// TestErrorsAPIWrites checks the errors api writes before a handler runs
// come in Neutron's body too, but for the 401, which keeps Keystone's.
func TestErrorsAPIWrites(t *testing.T) {
	f := newFixture(t)
	for _, c := range []struct {
		method, path, token string
		status              int
		typ                 string
	}{
		{"GET", v2 + "/routers", f.alice.Token, notFound, "HTTPNotFound"},
		{"GET", "/networking/v3.0/networks", f.alice.Token, notFound, "HTTPNotFound"},
		{"PATCH", v2 + "/networks", f.alice.Token, http.StatusMethodNotAllowed, "HTTPMethodNotAllowed"},
		{"POST", v2 + "/networks", f.alice.Token, forbidden, "PolicyNotAuthorized"},
		{"PUT", v2 + "/quotas/" + f.alice.ProjectID, f.alice.Token, forbidden, "PolicyNotAuthorized"},
		{"POST", v2 + "/floatingips", f.aliceReader.Token, forbidden, "PolicyNotAuthorized"},
	} {
		status, body := f.call(t, c.method, c.path, `{}`, c.token)
		if typ, _ := neutronError(t, body); status != c.status || typ != c.typ {
			t.Errorf("%s %s: %d %s, want %d %s", c.method, c.path, status, typ, c.status, c.typ)
		}
	}
	_, body := f.call(t, "POST", v2+"/networks", `{}`, f.alice.Token)
	if _, msg := neutronError(t, body); msg != "rule:create_network is disallowed by policy" {
		t.Errorf("policy message %q", msg)
	}

	resp, raw := f.Do(t, "GET", v2+"/networks", "", "")
	if resp.StatusCode != unauth || resp.Header.Get("WWW-Authenticate") == "" || string(raw[:9]) != `{"error":` {
		t.Errorf("anonymous: %d %s (WWW-Authenticate %q)", resp.StatusCode, raw, resp.Header.Get("WWW-Authenticate"))
	}
	if resp.Header.Get("X-Openstack-Request-Id") != "" {
		t.Errorf("a 401 came from the module's handler")
	}
	resp, _ = f.Do(t, "GET", v2+"/networks", "", f.alice.Token)
	if id := resp.Header.Get("X-Openstack-Request-Id"); id == "" || id != resp.Header.Get("X-Request-Id") {
		t.Errorf("request IDs %q, %q", id, resp.Header.Get("X-Request-Id"))
	}
}
