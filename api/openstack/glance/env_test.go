package glance_test

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/shoal-project/shoal/api/apitest"
	"github.com/shoal-project/shoal/api/identity/identitytest"
	"github.com/shoal-project/shoal/api/openstack/glance"
	"github.com/shoal-project/shoal/fsm"
)

// env is one node with the Image API mounted, and the tenants the tests
// act as: two projects' members, a reader of the first, the admin.
type env struct {
	*apitest.Env
	alice, aliceReader, bob identitytest.Tenant
}

func newEnv(t *testing.T) *env {
	t.Helper()
	e := &env{Env: apitest.New(t, glance.New())}
	e.alice = e.AddTenant(t, "alice", fsm.RoleMember)
	e.aliceReader = e.AddTenant(t, "alice", fsm.RoleReader)
	e.bob = e.AddTenant(t, "bob", fsm.RoleMember)
	return e
}

// call sends a request as token and decodes a JSON answer into a map
// (nil when the body is empty).
func (e *env) call(t *testing.T, method, path, body, token string, headers ...string) (*http.Response, map[string]any) {
	t.Helper()
	if body != "" && len(headers) == 0 {
		headers = []string{"Content-Type", "application/json"}
	}
	resp, b := e.Do(t, method, path, body, token, headers...)
	if len(b) == 0 {
		return resp, nil
	}
	var v map[string]any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("%s %s: %d %q is not a JSON object: %v", method, path, resp.StatusCode, b, err)
	}
	return resp, v
}

// create makes an image through the API as token and returns its view.
func (e *env) create(t *testing.T, token, body string) map[string]any {
	t.Helper()
	resp, v := e.call(t, "POST", "/image/v2/images", body, token)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("create %s: %d %v", body, resp.StatusCode, v)
	}
	return v
}

// wantFault checks a Glance error body with status and message.
func wantFault(t *testing.T, resp *http.Response, v map[string]any, status int, message string) {
	t.Helper()
	want := map[string]any{"code": http.StatusText(status), "title": http.StatusText(status), "message": message}
	want["code"] = itoa(status) + " " + http.StatusText(status)
	if resp.StatusCode != status || v["code"] != want["code"] || v["title"] != want["title"] || (message != "" && v["message"] != message) {
		t.Fatalf("got %d %v, want %d %v", resp.StatusCode, v, status, want)
	}
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }

// image reads an image from the replica.
func (e *env) image(t *testing.T, id string) fsm.Image {
	t.Helper()
	img, err := e.FSM.Image(id)
	if err != nil {
		t.Fatal(err)
	}
	return img
}
