package glance_test

import (
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// TestSDKCreateImageSequence replays what openstacksdk 0.101's
// create_image sends (openstack/image/_base_proxy.py and v2/_proxy.py,
// as `openstack image create --file` runs it): discovery at the
// unversioned endpoint, find by name (GET by ID → 404, then ?name=, then
// ?os_hidden=True), create with the owner_specified.openstack.* keys,
// upload, and the fetch whose checksum it compares with its md5.
func TestSDKCreateImageSequence(t *testing.T) {
	e := newEnv(t)
	tok := e.alice.Token
	data := strings.Repeat("shoal sdk image ", 4096)
	md5sum, shasum := md5.Sum([]byte(data)), sha256.Sum256([]byte(data))

	if resp, v := e.call(t, "GET", "/image", "", ""); resp.StatusCode != http.StatusMultipleChoices || len(v["versions"].([]any)) == 0 {
		t.Fatalf("discovery: %d %v", resp.StatusCode, v)
	}
	resp, v := e.call(t, "GET", "/image/v2/images/sdk-tiny", "", tok)
	wantFault(t, resp, v, http.StatusNotFound, "No image found with ID sdk-tiny")
	for _, q := range []string{"name=sdk-tiny", "os_hidden=True"} {
		resp, v := e.call(t, "GET", "/image/v2/images?"+q, "", tok)
		if resp.StatusCode != http.StatusOK || len(v["images"].([]any)) != 0 {
			t.Fatalf("?%s: %d %v", q, resp.StatusCode, v)
		}
	}
	img := e.create(t, tok, `{"container_format": "bare", "name": "sdk-tiny", "disk_format": "raw", "tags": [],
		"owner_specified.openstack.md5": "`+hex.EncodeToString(md5sum[:])+`",
		"owner_specified.openstack.sha256": "`+hex.EncodeToString(shasum[:])+`",
		"owner_specified.openstack.object": "images/sdk-tiny"}`)
	id := img["id"].(string)
	resp, _ = e.call(t, "PUT", "/image/v2/images/"+id+"/file", data, tok, "Content-Type", "application/octet-stream", "Accept", "")
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("upload: %d", resp.StatusCode)
	}
	resp, v = e.call(t, "GET", "/image/v2/images/"+id, "", tok)
	if resp.StatusCode != http.StatusOK || v["checksum"] != v["owner_specified.openstack.md5"] ||
		v["os_hash_value"] != v["owner_specified.openstack.sha256"] || v["owner_specified.openstack.object"] != "images/sdk-tiny" {
		t.Fatalf("fetch: %d %v", resp.StatusCode, v)
	}
	// The next create of the same name finds it, by the list filter.
	resp, v = e.call(t, "GET", "/image/v2/images?name="+url.QueryEscape("sdk-tiny"), "", tok)
	if imgs := v["images"].([]any); resp.StatusCode != http.StatusOK || len(imgs) != 1 || imgs[0].(map[string]any)["id"] != id {
		t.Fatalf("find: %d %v", resp.StatusCode, v)
	}
}

// TestDownload: no data yet is Glance's 204; a Range is served as /v1
// serves it, with the MD5 header.
func TestDownload(t *testing.T) {
	e := newEnv(t)
	id := e.create(t, e.alice.Token, `{"name":"d","disk_format":"raw","container_format":"bare"}`)["id"].(string)
	resp, b := e.Do(t, "GET", "/image/v2/images/"+id+"/file", "", e.alice.Token)
	if resp.StatusCode != http.StatusNoContent || len(b) != 0 {
		t.Fatalf("queued: %d %q", resp.StatusCode, b)
	}
	e.Do(t, "PUT", "/image/v2/images/"+id+"/file", "0123456789", e.alice.Token, "Content-Type", "application/octet-stream")
	sum := md5.Sum([]byte("0123456789"))
	resp, b = e.Do(t, "GET", "/image/v2/images/"+id+"/file", "", e.alice.Token, "Range", "bytes=2-5")
	if resp.StatusCode != http.StatusPartialContent || string(b) != "2345" || resp.Header.Get("Content-MD5") != hex.EncodeToString(sum[:]) ||
		resp.Header.Get("Content-Range") != "bytes 2-5/10" {
		t.Fatalf("range: %d %q %v", resp.StatusCode, b, resp.Header)
	}
	resp, v := e.call(t, "PUT", "/image/v2/images/"+id+"/file", "again", e.alice.Token, "Content-Type", "application/octet-stream")
	wantFault(t, resp, v, http.StatusConflict, "")
}
