package glance

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"testing"

	"github.com/shoal-project/shoal/fsm"
)

func decode(t *testing.T, s string) any {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader([]byte(s)))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		t.Fatal(err)
	}
	return v
}

func TestDecodePatchRefuses(t *testing.T) {
	for _, tc := range []struct {
		body    string
		draft   int
		status  int
		message string
	}{
		{`{"op":"add"}`, 10, 400, "Request body must be a JSON array of operation objects."},
		{`["add"]`, 10, 400, "Operations must be JSON objects."},
		{`[{"path":"/name","value":"x"}]`, 10, 400, "Unable to find `op` in JSON Schema change. It must be one of the following: add, remove, replace."},
		{`[{"op":"move","path":"/name","value":"x"}]`, 10, 400, "Invalid operation: `move`. It must be one of the following: add, remove, replace."},
		{`[{"op":"test","path":"/name","value":"x"}]`, 10, 400, "Invalid operation: `test`. It must be one of the following: add, remove, replace."},
		{`[{"op":"add","value":"x"}]`, 10, 400, "Unable to find 'path' in JSON Schema change"},
		{`[{"op":"add","path":"name","value":"x"}]`, 10, 400, "Pointer `name` does not start with \"/\"."},
		{`[{"op":"add","path":"/a//b","value":"x"}]`, 10, 400, "Pointer `/a//b` contains adjacent \"/\"."},
		{`[{"op":"add","path":"/a/","value":"x"}]`, 10, 400, "Pointer `/a/` end with \"/\"."},
		{`[{"op":"add","path":"/a~2","value":"x"}]`, 10, 400, "Pointer `/a~2` contains \"~\" not part of a recognized escape sequence."},
		{`[{"op":"add","path":"/a/b","value":"x"}]`, 10, 400, "Invalid JSON pointer for this resource: '/a/b'"},
		{`[{"op":"add","path":"/tags/-","value":"x"}]`, 10, 400, "Invalid JSON pointer for this resource: '/tags/-'"},
		{`[{"op":"replace","path":"/name"}]`, 10, 400, `Operation "replace" requires a member named "value".`},
		{`[{"op":"replace","path":"/status","value":"active"}]`, 10, 403, "Attribute 'status' is read-only."},
		{`[{"op":"replace","path":"/id","value":"x"}]`, 10, 403, "Attribute 'id' is read-only."},
		{`[{"op":"remove","path":"/checksum"}]`, 10, 403, "Attribute 'checksum' is read-only."},
		{`[{"op":"add","path":"/os_hash_value","value":"x"}]`, 10, 403, "Attribute 'os_hash_value' is read-only."},
		{`[{"op":"add","path":"/self","value":"x"}]`, 10, 403, "Attribute 'self' is read-only."},
		{`[{"op":"add","path":"/deleted","value":"x"}]`, 10, 403, "Attribute 'deleted' is reserved."},
		{`[{"op":"add","path":"/os_glance_importing","value":"x"}]`, 10, 403, "Attribute 'os_glance_importing' is reserved."},
		{`[{"op":"replace","path":"/min_ram","value":"512"}]`, 10, 400, "Provided object does not match schema 'image': '512' is not of type 'integer'"},
		{`[{"op":"replace","path":"/min_ram","value":1.5}]`, 10, 400, "Provided object does not match schema 'image': 1.5 is not of type 'integer'"},
		{`[{"op":"replace","path":"/protected","value":"yes"}]`, 10, 400, "Provided object does not match schema 'image': 'yes' is not of type 'boolean'"},
		{`[{"op":"replace","path":"/visibility","value":"everyone"}]`, 10, 400, "Provided object does not match schema 'image': 'everyone' is not one of ['community', 'public', 'private', 'shared']"},
		{`[{"op":"replace","path":"/name","value":5}]`, 10, 400, "Provided object does not match schema 'image': 5 is not of type 'null', 'string'"},
		{`[{"op":"add","path":"/hw_disk_bus","value":true}]`, 10, 400, "Provided object does not match schema 'image': True is not of type 'string'"},
		{`[{"op":"replace","path":"/tags","value":["a",1]}]`, 10, 400, "Provided object does not match schema 'image': 1 is not of type 'string'"},
		{`[{"op":"replace","path":"/name","value":"ok"},{"op":"replace","path":"/size","value":1}]`, 10, 403, "Attribute 'size' is read-only."},
		{`[{"replace":"/name","add":"/x","value":"x"}]`, 4, 400, `Operation objects must contain only one member named "add", "remove", or "replace".`},
		{`[{"op":"replace","path":"/name","value":"x"}]`, 4, 400, `Operation objects must contain exactly one member named "add", "remove", or "replace".`},
	} {
		t.Run(tc.body, func(t *testing.T) {
			_, err := decodePatch(decode(t, tc.body), tc.draft)
			if err == nil || statusOf(err) != tc.status || message(err) != tc.message {
				t.Fatalf("got %v (%d), want %d %q", err, statusOf(err), tc.status, tc.message)
			}
		})
	}
}

func TestDecodePatch(t *testing.T) {
	changes, err := decodePatch(decode(t, `[
		{"op":"replace","path":"/name","value":"n"},
		{"op":"add","path":"/owner_specified.openstack.md5","value":"x"},
		{"op":"add","path":"/a~1b~0c","value":"y"},
		{"op":"remove","path":"/hw:cpu"}]`), 10)
	if err != nil {
		t.Fatal(err)
	}
	var roots []string
	for _, c := range changes {
		roots = append(roots, c.op+" "+c.path[0])
	}
	want := []string{"replace name", "add owner_specified.openstack.md5", "add a/b~c", "remove hw:cpu"}
	if len(roots) != len(want) {
		t.Fatalf("got %v", roots)
	}
	for i := range want {
		if roots[i] != want[i] {
			t.Fatalf("got %v, want %v", roots, want)
		}
	}
	changes, err = decodePatch(decode(t, `[{"replace":"/name","value":"n"},{"remove":"/x"}]`), 4)
	if err != nil || len(changes) != 2 || changes[0].op != "replace" || changes[1].path[0] != "x" {
		t.Fatalf("draft 4: %v %v", changes, err)
	}
}

func TestImageChangesRefuses(t *testing.T) {
	img := fsm.Image{ID: "i", Status: fsm.ImageActive, DiskFormat: "qcow2", ContainerFormat: "bare", ProjectID: "p",
		Properties: map[string]string{"present": "1"}}
	for _, tc := range []struct {
		body    string
		draft   int
		admin   bool
		status  int
		message string
	}{
		{`[{"op":"remove","path":"/name"}]`, 10, false, 403, "Property name may not be removed."},
		{`[{"op":"remove","path":"/tags"}]`, 10, false, 403, "Property tags may not be removed."},
		{`[{"op":"replace","path":"/absent","value":"x"}]`, 10, false, 409, "Property absent does not exist."},
		{`[{"op":"remove","path":"/absent"}]`, 10, false, 409, "Property absent does not exist."},
		{`[{"op":"add","path":"/x","value":"1"},{"op":"remove","path":"/x"},{"op":"remove","path":"/x"}]`, 10, false, 409, "Property x does not exist."},
		{`[{"add":"/present","value":"x"}]`, 4, false, 409, "Property present already present."},
		{`[{"add":"/name","value":"x"}]`, 4, false, 409, "Property name already present."},
		{`[{"op":"replace","path":"/owner","value":"q"}]`, 10, false, 403, "Owner can't be updated by non admin."},
		{`[{"op":"replace","path":"/owner","value":"q"}]`, 10, true, 403, "An image's owner cannot be changed here."},
		{`[{"op":"replace","path":"/disk_format","value":"raw"}]`, 10, false, 403, "Attribute disk_format can be only replaced for a queued image."},
		{`[{"op":"replace","path":"/locations","value":[]}]`, 10, false, 403, "It's not allowed to update locations if locations are invisible."},
		{`[{"op":"add","path":"/locations/-","value":{"url":"x","metadata":{}}}]`, 10, false, 403, "It's not allowed to add locations if locations are invisible."},
		{`[{"op":"replace","path":"/os_hidden","value":true}]`, 10, false, 400, "os_hidden: hidden images are not supported"},
	} {
		t.Run(tc.body, func(t *testing.T) {
			changes, err := decodePatch(decode(t, tc.body), tc.draft)
			if err == nil {
				_, err = imageChanges(img, changes, tc.admin)
			}
			if err == nil || statusOf(err) != tc.status || message(err) != tc.message {
				t.Fatalf("got %v (%d), want %d %q", err, statusOf(err), tc.status, tc.message)
			}
		})
	}
}

func TestImageChangesNoOps(t *testing.T) {
	img := fsm.Image{ID: "i", Status: fsm.ImageActive, DiskFormat: "qcow2", ContainerFormat: "bare", ProjectID: "p"}
	changes, err := decodePatch(decode(t, `[{"op":"replace","path":"/os_hidden","value":false},
		{"op":"replace","path":"/disk_format","value":"qcow2"},{"op":"replace","path":"/owner","value":"p"}]`), 10)
	if err != nil {
		t.Fatal(err)
	}
	steps, err := imageChanges(img, changes, true)
	if err != nil || len(steps) != 0 {
		t.Fatalf("steps %v, %v", steps, err)
	}
}

func TestPatchMediaType(t *testing.T) {
	for ct, want := range map[string]int{
		patchV21: 10, patchV20: 4, patchV21 + "; charset=UTF-8": 10,
		"application/json": 0, "application/json-patch+json": 0, "": 0,
	} {
		r, _ := http.NewRequest("PATCH", "/", nil)
		r.Header.Set("Content-Type", ct)
		if got, ok := patchDraft(r); got != want || ok != (want != 0) {
			t.Errorf("%q: draft %d %v", ct, got, ok)
		}
	}
	if !errors.Is(mediaTypeError(&http.Request{Header: http.Header{}}), errMediaType) {
		t.Error("415 error")
	}
}
