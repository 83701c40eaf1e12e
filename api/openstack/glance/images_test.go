package glance_test

import (
	"net/http"
	"testing"
)

func TestImageLifecycle(t *testing.T) {
	e := newEnv(t)
	img := e.create(t, e.alice.Token, `{"name":"tiny","disk_format":"raw","container_format":"bare","owner_specified.openstack.md5":"","hw:cpu":"2"}`)
	id := img["id"].(string)
	t.Logf("created %v", img)
	if img["visibility"] != "shared" || img["status"] != "queued" || img["checksum"] != nil || img["hw:cpu"] != "2" {
		t.Fatalf("view %v", img)
	}
	resp, _ := e.call(t, "PUT", "/image/v2/images/"+id+"/file", "0123456789", e.alice.Token, "Content-Type", "application/octet-stream")
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("upload: %d", resp.StatusCode)
	}
	resp, b := e.Do(t, "GET", "/image/v2/images/"+id+"/file", "", e.alice.Token)
	if resp.StatusCode != 200 || string(b) != "0123456789" {
		t.Fatalf("download: %d %q", resp.StatusCode, b)
	}
	resp, list := e.call(t, "GET", "/image/v2/images", "", e.alice.Token)
	t.Logf("list %d %v", resp.StatusCode, list)
	resp, v := e.call(t, "GET", "/image/v2/images/"+id, "", e.bob.Token)
	wantFault(t, resp, v, 404, "No image found with ID "+id)
	resp, _ = e.call(t, "DELETE", "/image/v2/images/"+id, "", e.alice.Token)
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("delete: %d", resp.StatusCode)
	}
}
