package neutron_test

import (
	"net/http"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/shoal-project/shoal/api"
	"github.com/shoal-project/shoal/api/apitest"
	"github.com/shoal-project/shoal/api/openstack/neutron"
)

// recorder is a Router that keeps the patterns registered.
type recorder struct{ patterns []string }

func (r *recorder) Route(pattern string, _ api.Access, _ http.HandlerFunc) {
	r.patterns = append(r.patterns, pattern)
}

// callers, in the order every row is played: a write allowed to alice
// (204) is played after bob's refusal and before the admin's 404.
var callers = []string{"anonymous", "alice-reader", "bob", "alice", "admin"}

// TestPolicy plays every registered route as each caller. Statuses past
// the guard show the route let the caller in (a bad body 400, an unknown
// or another project's object 404, a delete 204); the guard's refusals are
// 401 (api's body, Keystone's shape) and 403 (Neutron's
// PolicyNotAuthorized).
func TestPolicy(t *testing.T) {
	f := newFixture(t)
	alice := f.alice.Token
	fip := func() string {
		out := f.mustCall(t, created, "POST", v2+"/floatingips", `{"floatingip":{"floating_network_id":"`+apitest.PublicNetworkID+`"}}`, alice)
		return out["floatingip"].(map[string]any)["id"].(string)
	}
	group := func() string {
		out := f.mustCall(t, created, "POST", v2+"/security-groups", `{"security_group":{"name":"g`+fip()+`"}}`, alice)
		return out["security_group"].(map[string]any)["id"].(string)
	}
	rule := func() string {
		g := f.mustCall(t, ok, "GET", v2+"/security-groups/"+group(), "", alice)["security_group"].(map[string]any)
		return g["security_group_rules"].([]any)[0].(map[string]any)["id"].(string)
	}
	aliceFIP, aliceGroup, aliceRule := fip(), group(), rule()
	port, quota := portOf(f.web), v2+"/quotas/"+f.alice.ProjectID
	const nobody = "00000000-0000-4000-8000-00000000dead"
	var tested []string

	type want [5]int // per callers
	all200 := want{ok, ok, ok, ok, ok}
	auth200 := want{unauth, ok, ok, ok, ok}
	own := want{unauth, ok, notFound, ok, ok}       // a read of alice's object
	write := want{unauth, forbidden, bad, bad, bad} // a member's write with an empty body
	adminOnly := want{unauth, forbidden, forbidden, forbidden, bad}
	for _, row := range []struct {
		pattern, path, body string
		want                want
	}{
		{"GET /networking", "/networking", "", all200},
		{"GET /networking/{$}", "/networking/", "", all200},
		{"GET /networking/v2.0", v2, "", all200},
		{"GET /networking/v2.0/{$}", v2 + "/", "", all200},
		{"GET /networking/v2.0/extensions", v2 + "/extensions", "", auth200},
		{"GET /networking/v2.0/extensions/{alias}", v2 + "/extensions/router", "", auth200},
		{"GET /networking/v2.0/networks", v2 + "/networks", "", auth200},
		{"GET /networking/v2.0/networks/{id}", v2 + "/networks/" + apitest.PublicNetworkID, "", auth200},
		{"POST /networking/v2.0/networks", v2 + "/networks", "{}", adminOnly},
		{"DELETE /networking/v2.0/networks/{id}", v2 + "/networks/" + nobody, "", want{unauth, forbidden, forbidden, forbidden, notFound}},
		{"GET /networking/v2.0/subnets", v2 + "/subnets", "", auth200},
		{"GET /networking/v2.0/subnets/{id}", v2 + "/subnets/" + nobody, "", want{unauth, notFound, notFound, notFound, notFound}},
		{"GET /networking/v2.0/ports", v2 + "/ports", "", auth200},
		{"GET /networking/v2.0/ports/{id}", v2 + "/ports/" + port, "", own},
		{"GET /networking/v2.0/floatingips", v2 + "/floatingips", "", auth200},
		{"GET /networking/v2.0/floatingips/{id}", v2 + "/floatingips/" + aliceFIP, "", own},
		{"POST /networking/v2.0/floatingips", v2 + "/floatingips", "{}", write},
		{"PUT /networking/v2.0/floatingips/{id}", v2 + "/floatingips/" + aliceFIP, "{}", want{unauth, forbidden, notFound, bad, bad}},
		{"DELETE /networking/v2.0/floatingips/{id}", v2 + "/floatingips/" + aliceFIP, "", want{unauth, forbidden, notFound, noContent, notFound}},
		{"GET /networking/v2.0/security-groups", v2 + "/security-groups", "", auth200},
		{"GET /networking/v2.0/security-groups/{id}", v2 + "/security-groups/" + aliceGroup, "", own},
		{"POST /networking/v2.0/security-groups", v2 + "/security-groups", "{}", write},
		{"PUT /networking/v2.0/security-groups/{id}", v2 + "/security-groups/" + aliceGroup, "{}", want{unauth, forbidden, notFound, bad, bad}},
		{"DELETE /networking/v2.0/security-groups/{id}", v2 + "/security-groups/" + aliceGroup, "", want{unauth, forbidden, notFound, noContent, notFound}},
		{"GET /networking/v2.0/security-group-rules", v2 + "/security-group-rules", "", auth200},
		{"GET /networking/v2.0/security-group-rules/{id}", v2 + "/security-group-rules/" + aliceRule, "", own},
		{"POST /networking/v2.0/security-group-rules", v2 + "/security-group-rules", "{}", write},
		{"DELETE /networking/v2.0/security-group-rules/{id}", v2 + "/security-group-rules/" + aliceRule, "", want{unauth, forbidden, notFound, noContent, notFound}},
		{"GET /networking/v2.0/quotas/{project_id}", quota, "", want{unauth, ok, forbidden, ok, ok}},
		{"GET /networking/v2.0/quotas/{project_id}/default", quota + "/default", "", want{unauth, ok, forbidden, ok, ok}},
		{"GET /networking/v2.0/quotas/{project_id}/details", quota + "/details", "", want{unauth, ok, forbidden, ok, ok}},
		{"GET /networking/v2.0/quotas/{project_id}/details.json", quota + "/details.json", "", want{unauth, ok, forbidden, ok, ok}},
		{"PUT /networking/v2.0/quotas/{project_id}", quota, "{}", adminOnly},
	} {
		tokens := map[string]string{"anonymous": "", "alice-reader": f.aliceReader.Token, "bob": f.bob.Token, "alice": alice,
			"admin": apitest.AdminToken}
		method, _, _ := strings.Cut(row.pattern, " ")
		for k, who := range callers {
			status, body := f.call(t, method, row.path, row.body, tokens[who])
			if status != row.want[k] {
				t.Errorf("%s as %s: %d %v, want %d", row.pattern, who, status, body, row.want[k])
				continue
			}
			switch {
			case status == unauth:
				if _, ok := body["error"]; !ok {
					t.Errorf("%s as %s: 401 body %v is not Keystone's", row.pattern, who, body)
				}
			case status == forbidden:
				if typ, _ := neutronError(t, body); typ != "PolicyNotAuthorized" {
					t.Errorf("%s as %s: 403 %s", row.pattern, who, typ)
				}
			case status >= 400:
				neutronError(t, body)
			}
		}
		tested = append(tested, row.pattern)
	}

	var r recorder
	neutron.New().Register(&r, nil)
	sort.Strings(r.patterns)
	sort.Strings(tested)
	if !slices.Equal(r.patterns, tested) {
		t.Errorf("registered patterns %v\ntested %v", r.patterns, tested)
	}
}
