package api

import (
	"maps"
	"net/http"
	"reflect"
	"slices"
	"testing"

	"github.com/shoal-project/shoal/fsm"
)

func flavorIDs(t *testing.T, raw []byte) []string {
	t.Helper()
	var ids []string
	for _, f := range decode[FlavorList](t, raw).Flavors {
		ids = append(ids, f.ID)
	}
	return ids
}

// A private flavor is seen and used only by admins and the projects on its
// access list: to others it does not exist, and a server create naming it
// is Nova's 400.
func TestPrivateFlavors(t *testing.T) {
	w := seedPolicyUpdates(t, newTenants(t))
	resp, raw := w.as(t, admin, "POST", "/v1/flavors", `{"flavor":{"id":"secret","name":"x1.secret","vcpus":1,"ram":512,"disk":1,`+
		`"is_public":false,"swap":256,"ephemeral":2,"rxtx_factor":2.5,"description":"for the few"}}`)
	f := decode[FlavorResponse](t, raw).Flavor
	if resp.StatusCode != http.StatusCreated || !f.Private || f.Swap != 256 || f.Ephemeral != 2 || f.RxtxFactor != 2.5 ||
		f.Description != "for the few" || f.Access != nil {
		t.Fatalf("create = %d %s", resp.StatusCode, raw)
	}
	if ids := flavorIDs(t, must200(t, w, member, "/v1/flavors")); slices.Contains(ids, "secret") || !slices.Contains(ids, "private") {
		t.Errorf("alpha lists %v", ids)
	}
	if ids := flavorIDs(t, must200(t, w, admin, "/v1/flavors")); !slices.Contains(ids, "secret") {
		t.Errorf("the admin lists %v", ids)
	}
	resp, raw = w.as(t, member, "GET", "/v1/flavors/x1.secret", "")
	wantError(t, resp, raw, 404, "")
	create := `{"server":{"name":"vm","flavor":"secret","image":"` + w.alpha.image + `"}}`
	before := w.c.snapshot()
	resp, raw = w.as(t, member, "POST", "/v1/servers", create)
	wantError(t, resp, raw, 400, "Flavor secret could not be found.")
	if after := w.c.snapshot(); !reflect.DeepEqual(after, before) {
		t.Error("a refused create changed the state")
	}

	// Access for alpha: alpha sees it and builds from it; beta does not.
	resp, raw = w.as(t, admin, "POST", "/v1/flavors/secret/access", `{"tenant_id":"`+w.alpha.project+`"}`)
	if got := decode[FlavorAccessList](t, raw).FlavorAccess; resp.StatusCode != 200 ||
		!reflect.DeepEqual(got, []FlavorAccessEntry{{FlavorID: "secret", TenantID: w.alpha.project}}) {
		t.Fatalf("add access = %d %s", resp.StatusCode, raw)
	}
	must200(t, w, member, "/v1/flavors/secret")
	if resp, raw := w.as(t, member, "POST", "/v1/servers", create); resp.StatusCode != http.StatusAccepted {
		t.Errorf("create with access = %d %s", resp.StatusCode, raw)
	}
	resp, raw = w.as(t, betaUser, "GET", "/v1/flavors/secret", "")
	wantError(t, resp, raw, 404, "")
	if got := decode[FlavorAccessList](t, must200(t, w, admin, "/v1/flavors/secret/access")).FlavorAccess; len(got) != 1 {
		t.Errorf("access list %v", got)
	}

	for _, tc := range []struct {
		method, path, body string
		status             int
		contains           string
	}{
		{"POST", "/v1/flavors/secret/access", `{"tenant_id":"` + w.alpha.project + `"}`, 409, "Flavor access already exists"},
		{"POST", "/v1/flavors/1/access", `{"tenant_id":"` + w.alpha.project + `"}`, 409, "Can not add access to a public flavor."},
		{"POST", "/v1/flavors/secret/access", `{"tenant_id":"nope"}`, 400, "Project ID nope is not a valid project."},
		{"POST", "/v1/flavors/secret/access", `{}`, 400, "tenant"},
		{"DELETE", "/v1/flavors/secret/access/" + w.beta.project, "", 404, "Flavor access not found"},
		{"GET", "/v1/flavors/1/access", "", 404, "Access list not available for public flavors."},
		{"POST", "/v1/flavors", `{"name":"n","vcpus":1,"ram":1,"disk":0,"rxtx_factor":0}`, 400, "rxtx_factor"},
		{"POST", "/v1/flavors", `{"name":"n","vcpus":1,"ram":1,"disk":0,"swap":-1}`, 400, "swap"},
		{"POST", "/v1/flavors", `{"name":"n","vcpus":1,"ram":1,"disk":0,"is_public":"no"}`, 400, "is_public"},
	} {
		before := w.c.snapshot()
		resp, raw := w.as(t, admin, tc.method, tc.path, tc.body)
		wantError(t, resp, raw, tc.status, tc.contains)
		if after := w.c.snapshot(); !reflect.DeepEqual(after, before) {
			t.Errorf("%s %s: a refused request changed the state", tc.method, tc.path)
		}
	}
	if resp, raw := w.as(t, admin, "DELETE", "/v1/flavors/secret/access/"+w.alpha.project, ""); resp.StatusCode != http.StatusNoContent {
		t.Errorf("remove access = %d %s", resp.StatusCode, raw)
	}
	resp, raw = w.as(t, member, "GET", "/v1/flavors/secret", "")
	wantError(t, resp, raw, 404, "")
}

func TestFlavorExtraSpecsAndDescription(t *testing.T) {
	w := seedPolicyUpdates(t, newTenants(t))
	specs := func() map[string]string {
		t.Helper()
		return decode[ExtraSpecsBody](t, must200(t, w, member, "/v1/flavors/1/extra-specs")).ExtraSpecs
	}
	if got := specs(); !maps.Equal(got, map[string]string{"hw:cpu_policy": "shared"}) {
		t.Fatalf("seeded specs %v", got)
	}
	resp, raw := w.as(t, admin, "POST", "/v1/flavors/1/extra-specs", `{"extra_specs":{"quota:vif":"1","hw:cpu_policy":"dedicated"}}`)
	if got := decode[ExtraSpecsBody](t, raw).ExtraSpecs; resp.StatusCode != 200 || len(got) != 2 || got["hw:cpu_policy"] != "dedicated" {
		t.Fatalf("POST = %d %s", resp.StatusCode, raw)
	}
	resp, raw = w.as(t, admin, "PUT", "/v1/flavors/1/extra-specs/quota:vif", `{"quota:vif":"2"}`)
	if resp.StatusCode != 200 || string(raw) != `{"quota:vif":"2"}`+"\n" {
		t.Fatalf("PUT one = %d %s", resp.StatusCode, raw)
	}
	if raw := must200(t, w, reader, "/v1/flavors/1/extra-specs/quota:vif"); string(raw) != `{"quota:vif":"2"}`+"\n" {
		t.Errorf("GET one = %s", raw)
	}
	if resp, raw := w.as(t, admin, "DELETE", "/v1/flavors/1/extra-specs/quota:vif", ""); resp.StatusCode != http.StatusNoContent {
		t.Fatalf("DELETE = %d %s", resp.StatusCode, raw)
	}
	if got := specs(); !maps.Equal(got, map[string]string{"hw:cpu_policy": "dedicated"}) {
		t.Errorf("specs %v", got)
	}
	before := w.c.snapshot()
	for _, tc := range []struct {
		method, path, body string
		status             int
		contains           string
	}{
		{"GET", "/v1/flavors/1/extra-specs/quota:vif", "", 404, "Flavor 1 has no extra specs with key quota:vif."},
		{"DELETE", "/v1/flavors/1/extra-specs/quota:vif", "", 404, "no extra specs"},
		{"PUT", "/v1/flavors/1/extra-specs/a", `{"b":"1"}`, 400, "mismatch"},
		{"PUT", "/v1/flavors/1/extra-specs/a", `{"a":"1","b":"2"}`, 400, "too many"},
		{"POST", "/v1/flavors/1/extra-specs", `{"extra_specs":{}}`, 400, "no extra specs"},
		{"POST", "/v1/flavors/1/extra-specs", `{"extra_specs":{"k":"a\nb"}}`, 400, "control"},
		{"POST", "/v1/flavors/nope/extra-specs", `{"extra_specs":{"k":"v"}}`, 404, ""},
		{"PUT", "/v1/flavors/1", `{"flavor":{}}`, 400, "description"},
		{"PUT", "/v1/flavors/1", `{"flavor":{"description":"d","name":"n"}}`, 400, "name"},
	} {
		resp, raw := w.as(t, admin, tc.method, tc.path, tc.body)
		wantError(t, resp, raw, tc.status, tc.contains)
	}
	if after := w.c.snapshot(); !reflect.DeepEqual(after, before) {
		t.Error("a refused request changed the state")
	}
	resp, raw = w.as(t, admin, "PUT", "/v1/flavors/m1.tiny", `{"flavor":{"description":"the smallest"}}`)
	if f := decode[FlavorResponse](t, raw).Flavor; resp.StatusCode != 200 || f.ID != "1" || f.Description != "the smallest" {
		t.Errorf("PUT description = %d %s", resp.StatusCode, raw)
	}
	// A private flavor's extra specs are absent to those who do not see it.
	w.c.MustApply(t, &fsm.CreateFlavor{Flavor: fsm.Flavor{ID: "hidden", Name: "hidden", VCPUs: 1, RAM: 1, Private: true,
		ExtraSpecs: map[string]string{"k": "v"}}})
	resp, raw = w.as(t, member, "GET", "/v1/flavors/hidden/extra-specs", "")
	wantError(t, resp, raw, 404, "")
}
