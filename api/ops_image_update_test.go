package api

import (
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"maps"
	"net/http"
	"reflect"
	"slices"
	"testing"

	"github.com/shoal-project/shoal/fsm"
)

func TestPatchImage(t *testing.T) {
	w := seedPolicyUpdates(t, newTenants(t))
	path := "/v1/images/" + w.alpha.image
	patch := `[{"op":"replace","path":"/name","value":"renamed"},` +
		`{"op":"add","path":"/visibility","value":"community"},` +
		`{"op":"replace","path":"/min_ram","value":512},` +
		`{"op":"add","path":"/min_disk","value":2},` +
		`{"op":"replace","path":"/protected","value":true},` +
		`{"op":"add","path":"/tags","value":["web","base"]},` +
		`{"op":"add","path":"/owner_specified.openstack.md5","value":"abc"},` +
		`{"op":"add","path":"/hw:disk~1bus","value":"virtio"}]`
	resp, raw := w.as(t, member, "PATCH", path, patch, "Content-Type", ImagePatchMediaType)
	img := decode[ImageResponse](t, raw).Image
	if resp.StatusCode != 200 || img.Name != "renamed" || img.Visibility != fsm.ImageCommunity || img.MinRAM != 512 || img.MinDisk != 2 ||
		!img.Protected || !slices.Equal(img.Tags, []string{"base", "web"}) ||
		!maps.Equal(img.Properties, map[string]string{"owner_specified.openstack.md5": "abc", "hw:disk/bus": "virtio"}) {
		t.Fatalf("PATCH = %d %s", resp.StatusCode, raw)
	}
	// Community: beta sees and uses it now, but may not change it.
	must200(t, w, betaUser, path)
	resp, raw = w.as(t, betaUser, "PATCH", path, `[{"op":"replace","path":"/name","value":"mine"}]`)
	wantError(t, resp, raw, 403, "")

	before := w.c.snapshot()
	for _, tc := range []struct {
		caller, method, path, body, contentType string
		status                                  int
		contains                                string
	}{
		{member, "DELETE", path, "", "", 403, "is protected and cannot be deleted"},
		{member, "PATCH", path, `[{"op":"replace","path":"/id","value":"x"}]`, "", 403, "Attribute 'id' is read-only."},
		{member, "PATCH", path, `[{"op":"replace","path":"/status","value":"active"}]`, "", 403, "read-only"},
		{member, "PATCH", path, `[{"op":"remove","path":"/min_ram"}]`, "", 403, "Property min_ram may not be removed."},
		{member, "PATCH", path, `[{"op":"remove","path":"/nope"}]`, "", 409, "Property nope does not exist."},
		{member, "PATCH", path, `[{"op":"replace","path":"/nope","value":"x"}]`, "", 409, "does not exist"},
		{member, "PATCH", path, `[{"op":"move","path":"/name","value":"x"}]`, "", 400, "Invalid operation"},
		{member, "PATCH", path, `[{"op":"add","path":"name","value":"x"}]`, "", 400, "JSON pointer"},
		{member, "PATCH", path, `[{"op":"add","path":"/locations/0","value":"x"}]`, "", 400, "JSON pointer"},
		{member, "PATCH", path, `[{"op":"add","path":"/min_ram","value":"512"}]`, "", 400, "integer"},
		{member, "PATCH", path, `[{"op":"add","path":"/min_ram","value":-1}]`, "", 400, "0 or more"},
		{member, "PATCH", path, `[{"op":"add","path":"/protected","value":"yes"}]`, "", 400, "boolean"},
		{member, "PATCH", path, `[{"op":"add","path":"/name"}]`, "", 400, "value"},
		{member, "PATCH", path, `[{"op":"add","path":"/name","value":null}]`, "", 400, "string"},
		{member, "PATCH", path, `[{"op":"add","path":"/visibility","value":"public"}]`, "", 403, "publicize_image"},
		{member, "PATCH", path, `[{"op":"add","path":"/visibility","value":"everyone"}]`, "", 400, "visibility"},
		{member, "PATCH", path, `{"op":"add"}`, "", 400, "array"},
		{member, "PATCH", path, `[]`, "text/plain", 415, ""},
		{member, "PUT", path + "/file", "data", "application/octet-stream", 409, "already active"},
		{member, "DELETE", path + "/tags/nope", "", "", 404, "Tag nope not found"},
		{reader, "PATCH", path, `[]`, "", 403, ""},
	} {
		var header []string
		if tc.contentType != "" {
			header = []string{"Content-Type", tc.contentType}
		}
		resp, raw := w.as(t, tc.caller, tc.method, tc.path, tc.body, header...)
		wantError(t, resp, raw, tc.status, tc.contains)
	}
	if after := w.c.snapshot(); !reflect.DeepEqual(after, before) {
		t.Error("a refused request changed the state")
	}

	// One tag at a time, then unprotect and delete.
	for _, call := range []struct{ method, tag string }{{"PUT", "arm"}, {"PUT", "arm"}, {"DELETE", "web"}} {
		if resp, raw := w.as(t, member, call.method, path+"/tags/"+call.tag, ""); resp.StatusCode != http.StatusNoContent {
			t.Fatalf("%s tag %s = %d %s", call.method, call.tag, resp.StatusCode, raw)
		}
	}
	if got := decode[ImageResponse](t, must200(t, w, member, path)).Image.Tags; !slices.Equal(got, []string{"arm", "base"}) {
		t.Errorf("tags %v", got)
	}
	// No changes answer the image as it is.
	if resp, raw := w.as(t, member, "PATCH", path, `[]`); resp.StatusCode != 200 {
		t.Errorf("empty PATCH = %d %s", resp.StatusCode, raw)
	}
	w.as(t, member, "PATCH", path, `[{"op":"replace","path":"/protected","value":false}]`)
	resp, raw = w.as(t, member, "DELETE", path, "")
	wantError(t, resp, raw, 409, "in use") // its server still runs: shoal's rule
}

// ImageChanges is the one reading of a JSON patch (the Glance module's too).
func TestImageChanges(t *testing.T) {
	var ops []ImagePatchOp
	if err := json.Unmarshal([]byte(`[{"op":"add","path":"/tags","value":["a"]},{"op":"remove","path":"/a~0b~1c"},`+
		`{"op":"replace","path":"/protected","value":false}]`), &ops); err != nil {
		t.Fatal(err)
	}
	got, err := ImageChanges(ops)
	want := []fsm.ImageChange{{Op: "add", Field: "tags", Tags: []string{"a"}}, {Op: "remove", Property: "a~b/c"},
		{Op: "replace", Field: "protected"}}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("ImageChanges = %+v, %v\nwant %+v", got, err, want)
	}
}

// An upload records the md5 of the data next to its sha256, and a
// download sends it as Content-MD5 (Glance's header).
func TestImageUploadMD5(t *testing.T) {
	c := newFakeCluster(t)
	ts, _ := newImageServer(t, c, "node1")
	img := createQueued(t, ts, "tiny", "qcow2")
	data := qcow2Image(1<<20 + 3)
	if resp, raw := upload(t, ts, img.ID, data, "application/octet-stream"); resp.StatusCode != http.StatusNoContent {
		t.Fatalf("upload = %d %s", resp.StatusCode, raw)
	}
	sum := md5.Sum(data)
	want := hex.EncodeToString(sum[:])
	got, err := c.FSM.Image(img.ID)
	if err != nil || got.MD5 != want || got.Checksum != sha256Hex(data) {
		t.Fatalf("image md5 %q sha256 %q, want %q", got.MD5, got.Checksum, want)
	}
	resp, _ := call(t, ts, "GET", "/v1/images/"+img.ID+"/file", "")
	if resp.StatusCode != 200 || resp.Header.Get("Content-MD5") != want {
		t.Errorf("download = %d, Content-MD5 %q", resp.StatusCode, resp.Header.Get("Content-MD5"))
	}
}
