package glance

import (
	"maps"
	"strings"
	"testing"
)

func TestDecodeCreate(t *testing.T) {
	req, err := decodeCreate(decode(t, `{"name":"n","disk_format":"qcow2","container_format":"bare","min_ram":64,
		"id":"0f0e0d0c-0000-4000-8000-000000000001","owner_specified.openstack.md5":"","owner_specified.openstack.object":"images/n",
		"hw:cpu_policy":"dedicated","os_hidden":false,"owner":null,"disk_format":"raw"}`))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"owner_specified.openstack.md5": "", "owner_specified.openstack.object": "images/n", "hw:cpu_policy": "dedicated"}
	if req.Name != "n" || req.DiskFormat != "raw" || req.MinRAM != 64 || req.Visibility != "shared" || req.Owner != nil ||
		req.ID != "0f0e0d0c-0000-4000-8000-000000000001" || !maps.Equal(req.Properties, want) {
		t.Fatalf("%+v", req)
	}
	req, err = decodeCreate(decode(t, `{"name":"n","visibility":"private"}`))
	if err != nil || req.Visibility != "private" {
		t.Fatalf("%+v %v", req, err)
	}
}

func TestDecodeCreateRefuses(t *testing.T) {
	long := strings.Repeat("k", 256)
	for _, tc := range []struct {
		body    string
		status  int
		message string
	}{
		{`["name"]`, 400, "Provided object does not match schema 'image': ['name'] is not of type 'object'"},
		{`{"name":"n","self":"/x"}`, 403, "Attribute 'self' is read-only."},
		{`{"name":"n","file":"/x","min_ram":"x"}`, 403, "Attribute 'file' is read-only."},
		{`{"name":"n","status":"active"}`, 403, "Attribute 'status' is read-only."},
		{`{"name":"n","checksum":"abc"}`, 403, "Attribute 'checksum' is read-only."},
		{`{"name":"n","size":5}`, 403, "Attribute 'size' is read-only."},
		{`{"name":"n","created_at":"2020-01-01T00:00:00Z"}`, 403, "Attribute 'created_at' is read-only."},
		{`{"name":"n","location":"http://x"}`, 403, "Attribute 'location' is reserved."},
		{`{"name":"n","os_glance_x":"1"}`, 403, "Attribute 'os_glance_x' is reserved."},
		{`{"name":"n","min_ram":"512"}`, 400, "Provided object does not match schema 'image': '512' is not of type 'integer'"},
		{`{"name":"n","disk_format":"floppy"}`, 400, "Provided object does not match schema 'image': 'floppy' is not one of [None, 'ami', 'ari', 'aki', 'vhd', 'vhdx', 'vmdk', 'raw', 'qcow2', 'vdi', 'iso', 'ploop']"},
		{`{"name":"n","id":"nope"}`, 400, "Provided object does not match schema 'image': 'nope' does not match '^([0-9a-fA-F]){8}-([0-9a-fA-F]){4}-([0-9a-fA-F]){4}-([0-9a-fA-F]){4}-([0-9a-fA-F]){12}$'"},
		{`{"name":"n","tags":"a"}`, 400, "Provided object does not match schema 'image': 'a' is not of type 'array'"},
		{`{"name":"n","extra":1}`, 400, "Provided object does not match schema 'image': 1 is not of type 'string'"},
		{`{"name":"n","extra":null}`, 400, "Provided object does not match schema 'image': None is not of type 'string'"},
		{`{"name":"n","` + long + `":"v"}`, 400, "Custom property should not be greater than 255 characters."},
		{`{"name":"` + strings.Repeat("n", 256) + `"}`, 400, "Provided object does not match schema 'image': '" + strings.Repeat("n", 256) + "' is too long"},
	} {
		t.Run(tc.body[:min(len(tc.body), 60)], func(t *testing.T) {
			_, err := decodeCreate(decode(t, tc.body))
			if err == nil || statusOf(err) != tc.status || message(err) != tc.message {
				t.Fatalf("got %v (%d), want %d %q", err, statusOf(err), tc.status, tc.message)
			}
		})
	}
}

func TestPyRepr(t *testing.T) {
	v := decode(t, `{"b":[1,2.5,true,false,null],"a":"it's"}`)
	if got := pyRepr(v); got != `{'a': "it's", 'b': [1, 2.5, True, False, None]}` {
		t.Fatal(got)
	}
}
