package glance_test

import (
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/shoal-project/shoal/api"
	"github.com/shoal-project/shoal/api/apitest"
	"github.com/shoal-project/shoal/api/openstack/glance"
)

// recorder lists the patterns a module registers.
type recorder map[string]api.Access

func (r recorder) Route(pattern string, a api.Access, _ http.HandlerFunc) { r[pattern] = a }

// caller is who a policy row's request is made as.
type caller int

const (
	anonymous caller = iota
	reader           // alice's project, reader role
	member           // alice, the image's owner
	other            // bob, a member of another project
	admin
)

// policyRows: every pattern the module registers, with the status each
// caller gets on an image of alice's project that is private (Glance's
// secure defaults: reading is a reader's, changing and downloading a
// member's; another project's private image is absent).
var policyRows = []struct {
	pattern string
	path    string // {id}: a fresh image of alice's (active unless queued)
	queued  bool
	body    string
	headers []string
	want    [5]int // by caller
}{
	{"GET /image", "/image", false, "", nil, [5]int{300, 300, 300, 300, 300}},
	{"GET /image/{$}", "/image/", false, "", nil, [5]int{300, 300, 300, 300, 300}},
	{"GET /image/versions", "/image/versions", false, "", nil, [5]int{200, 200, 200, 200, 200}},
	{"GET /image/v2/images", "/image/v2/images", false, "", nil, [5]int{401, 200, 200, 200, 200}},
	{"POST /image/v2/images", "/image/v2/images", false, `{"name":"p","disk_format":"raw","container_format":"bare"}`,
		[]string{"Content-Type", "application/json"}, [5]int{401, 403, 201, 201, 201}},
	{"GET /image/v2/images/{id}", "/image/v2/images/{id}", false, "", nil, [5]int{401, 200, 200, 404, 200}},
	{"PATCH /image/v2/images/{id}", "/image/v2/images/{id}", false, `[{"op":"replace","path":"/name","value":"q"}]`,
		[]string{"Content-Type", "application/openstack-images-v2.1-json-patch"}, [5]int{401, 403, 200, 404, 200}},
	{"DELETE /image/v2/images/{id}", "/image/v2/images/{id}", false, "", nil, [5]int{401, 403, 204, 404, 204}},
	{"PUT /image/v2/images/{id}/file", "/image/v2/images/{id}/file", true, "raw-bytes",
		[]string{"Content-Type", "application/octet-stream"}, [5]int{401, 403, 204, 404, 204}},
	{"GET /image/v2/images/{id}/file", "/image/v2/images/{id}/file", false, "", nil, [5]int{401, 403, 200, 404, 200}},
	{"PUT /image/v2/images/{id}/tags/{tag}", "/image/v2/images/{id}/tags/new", false, "", nil, [5]int{401, 403, 204, 404, 204}},
	{"DELETE /image/v2/images/{id}/tags/{tag}", "/image/v2/images/{id}/tags/old", false, "", nil, [5]int{401, 403, 204, 404, 204}},
	{"GET /image/v2/schemas/image", "/image/v2/schemas/image", false, "", nil, [5]int{401, 200, 200, 200, 200}},
	{"GET /image/v2/schemas/images", "/image/v2/schemas/images", false, "", nil, [5]int{401, 200, 200, 200, 200}},
}

func TestPolicy(t *testing.T) {
	rec := recorder{}
	glance.New().Register(rec, nil)
	var covered []string
	for _, row := range policyRows {
		covered = append(covered, row.pattern)
	}
	for pattern := range rec {
		if !slices.Contains(covered, pattern) {
			t.Errorf("pattern %q has no policy row", pattern)
		}
	}

	e := newEnv(t)
	tokens := [5]string{"", e.aliceReader.Token, e.alice.Token, e.bob.Token, apitest.AdminToken}
	names := [5]string{"anonymous", "reader", "member", "other project", "admin"}
	for _, row := range policyRows {
		for who, want := range row.want {
			t.Run(row.pattern+" as "+names[who], func(t *testing.T) {
				path := row.path
				if strings.Contains(path, "{id}") {
					path = strings.Replace(path, "{id}", e.aliceImage(t, !row.queued), 1)
				}
				resp, b := e.Do(t, strings.Fields(row.pattern)[0], path, row.body, tokens[who], row.headers...)
				if resp.StatusCode != want {
					t.Fatalf("%s %s: %d %s, want %d", row.pattern, path, resp.StatusCode, b, want)
				}
				switch {
				case want == http.StatusUnauthorized:
					// api's keystonemiddleware body, kept on every path.
					if resp.Header.Get("WWW-Authenticate") == "" || !strings.Contains(string(b), `"error"`) {
						t.Fatalf("401: %v %s", resp.Header, b)
					}
				case want >= 400:
					if !strings.Contains(string(b), `"code":"`+itoa(want)+" ") {
						t.Fatalf("not Glance's error body: %s", b)
					}
				}
			})
		}
	}
}

// aliceImage makes a private image of alice's tagged "old", with data
// unless queued, and returns its ID.
func (e *env) aliceImage(t *testing.T, withData bool) string {
	t.Helper()
	id := e.create(t, e.alice.Token, `{"name":"a","disk_format":"raw","container_format":"bare","visibility":"private","tags":["old"]}`)["id"].(string)
	if withData {
		resp, b := e.Do(t, "PUT", "/image/v2/images/"+id+"/file", "0123456789", e.alice.Token, "Content-Type", "application/octet-stream")
		if resp.StatusCode != http.StatusNoContent {
			t.Fatalf("upload: %d %s", resp.StatusCode, b)
		}
	}
	return id
}

// TestPolicyGlanceDiffers: what Glance's policy decides inside the calls,
// where member and admin differ or another project sees but may not change.
func TestPolicyGlanceDiffers(t *testing.T) {
	e := newEnv(t)
	patch := []string{"Content-Type", "application/openstack-images-v2.1-json-patch"}
	publicize := `[{"op":"replace","path":"/visibility","value":"public"}]`

	// publicize_image is the admin's: at create and by PATCH.
	resp, v := e.call(t, "POST", "/image/v2/images", `{"name":"p","disk_format":"raw","container_format":"bare","visibility":"public"}`, e.alice.Token)
	wantFault(t, resp, v, http.StatusForbidden, "")
	id := e.aliceImage(t, false)
	resp, v = e.call(t, "PATCH", "/image/v2/images/"+id, publicize, e.alice.Token, patch...)
	wantFault(t, resp, v, http.StatusForbidden, "")
	resp, v = e.call(t, "PATCH", "/image/v2/images/"+id, publicize, apitest.AdminToken, patch...)
	if resp.StatusCode != http.StatusOK || v["visibility"] != "public" {
		t.Fatalf("admin publicizes: %d %v", resp.StatusCode, v)
	}
	// community is a member's (communitize_image).
	resp, v = e.call(t, "PATCH", "/image/v2/images/"+e.aliceImage(t, false), `[{"op":"replace","path":"/visibility","value":"community"}]`, e.alice.Token, patch...)
	if resp.StatusCode != http.StatusOK || v["visibility"] != "community" {
		t.Fatalf("member communitizes: %d %v", resp.StatusCode, v)
	}

	// Another project sees a public image but may not change it.
	resp, _ = e.call(t, "GET", "/image/v2/images/"+id, "", e.bob.Token)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("bob reads a public image: %d", resp.StatusCode)
	}
	for _, req := range []struct{ method, path, body string }{
		{"PATCH", "/image/v2/images/" + id, `[{"op":"replace","path":"/name","value":"mine"}]`},
		{"DELETE", "/image/v2/images/" + id, ""},
		{"PUT", "/image/v2/images/" + id + "/tags/mine", ""},
		{"DELETE", "/image/v2/images/" + id + "/tags/absent", ""},
		{"PATCH", "/image/v2/images/" + id, `[{"op":"remove","path":"/absent"}]`},
		{"PUT", "/image/v2/images/" + id + "/file", "data"},
	} {
		h := patch
		if strings.HasSuffix(req.path, "/file") {
			h = []string{"Content-Type", "application/octet-stream"}
		}
		resp, v := e.call(t, req.method, req.path, req.body, e.bob.Token, h...)
		wantFault(t, resp, v, http.StatusForbidden, "")
	}
}
