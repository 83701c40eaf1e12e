package glance_test

import (
	"net/http"
	"reflect"
	"strings"
	"testing"
)

// TestBadInputChangesNothing: each refused request gets Glance's status
// and body, and the replicated state stays as it was (same Raft index,
// same image).
func TestBadInputChangesNothing(t *testing.T) {
	e := newEnv(t)
	id := e.aliceImage(t, false)
	path := "/image/v2/images/" + id
	patch := []string{"Content-Type", "application/openstack-images-v2.1-json-patch"}
	for _, tc := range []struct {
		name, method, path, body string
		headers                  []string
		status                   int
		message                  string
	}{
		{"PATCH as JSON", "PATCH", path, `[{"op":"replace","path":"/name","value":"x"}]`, []string{"Content-Type", "application/json"},
			415, "The request media type application/json is not supported by this server."},
		{"PATCH without a type", "PATCH", path, `[{"op":"replace","path":"/name","value":"x"}]`, []string{"Accept", "application/json"},
			415, "The request media type is not supported by this server."},
		{"read-only path", "PATCH", path, `[{"op":"replace","path":"/name","value":"x"},{"op":"replace","path":"/status","value":"active"}]`, patch,
			403, "Attribute 'status' is read-only."},
		{"read-only checksum", "PATCH", path, `[{"op":"add","path":"/checksum","value":"x"}]`, patch, 403, "Attribute 'checksum' is read-only."},
		{"unknown op", "PATCH", path, `[{"op":"copy","path":"/name","value":"x"}]`, patch,
			400, "Invalid operation: `copy`. It must be one of the following: add, remove, replace."},
		{"bad JSON", "PATCH", path, `[{"op":"replace",`, patch, 400, "Malformed JSON in request body."},
		{"trailing JSON", "PATCH", path, `[] []`, patch, 400, "Malformed JSON in request body."},
		{"empty body", "PATCH", path, ``, patch, 400, "Body expected in request."},
		{"not a list", "PATCH", path, `{"op":"replace","path":"/name","value":"x"}`, patch, 400, "Request body must be a JSON array of operation objects."},
		{"bad value", "PATCH", path, `[{"op":"replace","path":"/name","value":"x"},{"op":"replace","path":"/min_disk","value":"1"}]`, patch,
			400, "Provided object does not match schema 'image': '1' is not of type 'integer'"},
		{"missing property", "PATCH", path, `[{"op":"replace","path":"/name","value":"x"},{"op":"remove","path":"/nope"}]`, patch,
			409, "Property nope does not exist."},
		{"remove a field", "PATCH", path, `[{"op":"remove","path":"/min_ram"}]`, patch, 403, "Property min_ram may not be removed."},
		{"negative min_ram", "PATCH", path, `[{"op":"replace","path":"/min_ram","value":-1}]`, patch,
			400, "Invalid value '-1' for parameter 'min_ram': Cannot be a negative value"},
		{"too large", "PATCH", path, `[{"op":"add","path":"/big","value":"` + strings.Repeat("x", 120000) + `"}]`, patch, 413, ""},
		{"name by path", "GET", "/image/v2/images/a", "", nil, 404, "No image found with ID a"},
		{"unknown image", "PATCH", "/image/v2/images/00000000-0000-4000-8000-0000000000ff", `[]`, patch,
			404, "No image found with ID 00000000-0000-4000-8000-0000000000ff"},
		{"create bad JSON", "POST", "/image/v2/images", `{"name":`, []string{"Content-Type", "application/json"}, 400, "Malformed JSON in request body."},
		{"create read-only", "POST", "/image/v2/images", `{"name":"n","status":"active"}`, []string{"Content-Type", "application/json"}, 403, "Attribute 'status' is read-only."},
		{"create bad type", "POST", "/image/v2/images", `{"name":"n","min_ram":"1"}`, []string{"Content-Type", "application/json"},
			400, "Provided object does not match schema 'image': '1' is not of type 'integer'"},
		{"create for another owner", "POST", "/image/v2/images", `{"name":"n","disk_format":"raw","container_format":"bare","owner":"someone"}`,
			[]string{"Content-Type", "application/json"}, 403, "You are not permitted to create images owned by 'someone'."},
		{"create bad visibility", "POST", "/image/v2/images", `{"name":"n","visibility":"all"}`, []string{"Content-Type", "application/json"},
			400, "Provided object does not match schema 'image': 'all' is not one of ['community', 'public', 'private', 'shared']"},
		{"upload as JSON", "PUT", path + "/file", "data", []string{"Content-Type", "application/json"}, 415, "Invalid content type application/json"},
		{"upload without a type", "PUT", path + "/file", "data", []string{"Accept", "*/*"}, 415, "Invalid content type None"},
		{"tag too long", "PUT", path + "/tags/" + strings.Repeat("t", 256), "", nil, 400, ""},
		{"no such tag", "DELETE", path + "/tags/nope", "", nil, 404, "The resource could not be found."},
		{"control character in a tag", "PUT", path + "/tags/a%01b", "", nil, 400, ""},
		{"empty name", "PATCH", path, `[{"op":"replace","path":"/name","value":""}]`, patch, 400, ""},
		{"publicize as a member", "PATCH", path, `[{"op":"replace","path":"/visibility","value":"public"}]`, patch,
			403, "you are not authorized to complete publicize_image action"},
		{"list bad limit", "GET", "/image/v2/images?limit=x", "", nil, 400, "limit param must be an integer"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before, beforeIdx := e.image(t, id), e.FSM.Index()
			resp, v := e.call(t, tc.method, tc.path, tc.body, e.alice.Token, tc.headers...)
			wantFault(t, resp, v, tc.status, tc.message)
			if tc.status == http.StatusUnsupportedMediaType && tc.method == "PATCH" &&
				resp.Header.Get("Accept-Patch") != "application/openstack-images-v2.0-json-patch, application/openstack-images-v2.1-json-patch" {
				t.Errorf("Accept-Patch %q", resp.Header.Get("Accept-Patch"))
			}
			if after := e.image(t, id); e.FSM.Index() != beforeIdx || !reflect.DeepEqual(before, after) {
				t.Fatalf("state changed: index %d → %d\n%+v\n%+v", beforeIdx, e.FSM.Index(), before, after)
			}
		})
	}
}

func TestProtectedImageIsNotDeleted(t *testing.T) {
	e := newEnv(t)
	img := e.create(t, e.alice.Token, `{"name":"keep","disk_format":"raw","container_format":"bare","protected":true,"tags":["b","a","b"]}`)
	id := img["id"].(string)
	if img["protected"] != true || len(img["tags"].([]any)) != 2 {
		t.Fatalf("created %v", img)
	}
	before, beforeIdx := e.image(t, id), e.FSM.Index()
	resp, v := e.call(t, "DELETE", "/image/v2/images/"+id, "", e.alice.Token)
	wantFault(t, resp, v, http.StatusForbidden, "Image "+id+" is protected and cannot be deleted.")
	if after := e.image(t, id); e.FSM.Index() != beforeIdx || !reflect.DeepEqual(before, after) {
		t.Fatalf("state changed")
	}
	resp, _ = e.call(t, "PATCH", "/image/v2/images/"+id, `[{"op":"replace","path":"/protected","value":false}]`, e.alice.Token,
		"Content-Type", "application/openstack-images-v2.1-json-patch")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("unprotect: %d", resp.StatusCode)
	}
	if resp, _ := e.call(t, "DELETE", "/image/v2/images/"+id, "", e.alice.Token); resp.StatusCode != http.StatusNoContent {
		t.Fatalf("delete: %d", resp.StatusCode)
	}
}
