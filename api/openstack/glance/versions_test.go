package glance_test

import (
	"net/http"
	"testing"
)

func TestVersions(t *testing.T) {
	e := newEnv(t)
	for path, status := range map[string]int{"/image": 300, "/image/": 300, "/image/versions": 200} {
		resp, v := e.call(t, "GET", path, "", "")
		if resp.StatusCode != status {
			t.Fatalf("%s: %d", path, resp.StatusCode)
		}
		vs := v["versions"].([]any)
		if len(vs) != 8 {
			t.Fatalf("%s: %v", path, vs)
		}
		for i, x := range vs {
			ver := x.(map[string]any)
			wantStatus := "SUPPORTED"
			if i == 0 {
				wantStatus = "CURRENT"
			}
			links := ver["links"].([]any)
			self := links[0].(map[string]any)
			if ver["status"] != wantStatus || self["rel"] != "self" || self["href"] != e.URL()+"/image/v2/" {
				t.Fatalf("%s: %v", path, ver)
			}
		}
		if vs[0].(map[string]any)["id"] != "v2.7" || vs[7].(map[string]any)["id"] != "v2.0" {
			t.Fatalf("%s: %v", path, vs)
		}
	}
	// An unknown path under the prefix answers in Glance's dialect.
	resp, v := e.call(t, "GET", "/image/v2/nothing", "", e.alice.Token)
	wantFault(t, resp, v, http.StatusNotFound, "")
}

func TestSchemas(t *testing.T) {
	e := newEnv(t)
	resp, img := e.call(t, "GET", "/image/v2/schemas/image", "", e.aliceReader.Token)
	props, _ := img["properties"].(map[string]any)
	if resp.StatusCode != 200 || img["name"] != "image" || props["checksum"] == nil || props["os_hash_value"] == nil ||
		img["additionalProperties"].(map[string]any)["type"] != "string" {
		t.Fatalf("image schema: %d %v", resp.StatusCode, img)
	}
	resp, list := e.call(t, "GET", "/image/v2/schemas/images", "", e.aliceReader.Token)
	items := list["properties"].(map[string]any)["images"].(map[string]any)["items"].(map[string]any)
	if resp.StatusCode != 200 || list["name"] != "images" || items["name"] != "image" {
		t.Fatalf("images schema: %d %v", resp.StatusCode, list)
	}
}
