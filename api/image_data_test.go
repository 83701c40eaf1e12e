package api

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/shoal-project/shoal/compute/imagecache"
	"github.com/shoal-project/shoal/fsm"
)

// cacheImages shows an imagecache.Cache to the API, as cmd does.
type cacheImages struct{ c *imagecache.Cache }

func (a cacheImages) Put(ctx context.Context, r io.Reader, format string, max int64) (StoredImage, error) {
	st, err := a.c.Put(ctx, r, format, max)
	return StoredImage(st), err
}
func (a cacheImages) Has(sum string) bool                           { return a.c.Has(sum) }
func (a cacheImages) Open(sum string) (io.ReadCloser, int64, error) { return a.c.Open(sum) }

// newImageServer is node's API over HTTPS, as a node serves it, with a node
// certificate of testCA, storing images in a real cache in a temp dir that
// fetches from peers as node.
func newImageServer(t *testing.T, c *fakeCluster, node string, edit ...func(*Config)) (*httptest.Server, *imagecache.Cache) {
	t.Helper()
	id := nodeIdentity(t, testCA(), node)
	cache, err := imagecache.New(imagecache.Config{Dir: filepath.Join(t.TempDir(), "images"), NodeName: node,
		Images: c.FSM, Peers: imagecache.HostRecords(c.FSM), Recorder: c, HTTPClient: nodeClient(t, id)})
	if err != nil {
		t.Fatal(err)
	}
	cfg := Config{State: c.FSM, Cluster: c, NodeName: node, Images: cacheImages{cache}, Auth: testAuth()}
	for _, e := range edit {
		e(&cfg)
	}
	return nodeServer(t, New(cfg).Handler(), id), cache
}

// qcow2Image is a minimal valid qcow2 v3 image of n bytes; edit may spoil it.
func qcow2Image(n int, edit ...func(h []byte)) []byte {
	h := make([]byte, max(n, 4096))
	copy(h, "QFI\xfb")
	be := binary.BigEndian
	be.PutUint32(h[4:], 3)
	be.PutUint32(h[20:], 16)
	be.PutUint64(h[24:], 1<<30)
	be.PutUint32(h[96:], 4)
	be.PutUint32(h[100:], 112)
	for _, e := range edit {
		e(h)
	}
	return h[:n]
}

func withBackingFile(h []byte) {
	binary.BigEndian.PutUint64(h[8:], 0x200)
	copy(h[0x200:], "/etc/shadow")
}

func sha256Hex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// upload sends data as an image's bytes.
func upload(t *testing.T, ts *httptest.Server, ref string, data []byte, contentType string) (*http.Response, []byte) {
	t.Helper()
	return call(t, ts, "PUT", "/v1/images/"+ref+"/file", string(data), "Content-Type", contentType)
}

func createQueued(t *testing.T, ts *httptest.Server, name, format string) fsm.Image {
	t.Helper()
	resp, raw := call(t, ts, "POST", "/v1/images", `{"name":"`+name+`","disk_format":"`+format+`","container_format":"bare"}`)
	img := decode[ImageResponse](t, raw).Image
	if resp.StatusCode != http.StatusCreated || img.Status != fsm.ImageQueued || img.Size != 0 || img.Checksum != "" ||
		img.Locations == nil || !strings.Contains(string(raw), `"locations":[]`) {
		t.Fatalf("create = %d %s", resp.StatusCode, raw)
	}
	return img
}

func TestImageUploadAndDownload(t *testing.T) {
	c := newFakeCluster(t)
	ts, cache := newImageServer(t, c, "node1")
	img := createQueued(t, ts, "tiny", "qcow2")
	data := qcow2Image(3<<20 + 5)

	resp, raw := upload(t, ts, img.ID, data, "application/octet-stream")
	if resp.StatusCode != http.StatusNoContent || len(raw) != 0 || indexOf(t, resp) != c.FSM.Index() {
		t.Fatalf("upload = %d %s", resp.StatusCode, raw)
	}
	resp, raw = call(t, ts, "GET", "/v1/images/"+img.ID, "")
	got := decode[ImageResponse](t, raw).Image
	if got.Status != fsm.ImageActive || got.Checksum != sha256Hex(data) || got.Size != int64(len(data)) ||
		!reflect.DeepEqual(got.Locations, []string{"node1"}) || got.ModifyIndex != c.FSM.Index() || !got.Updated.After(img.Updated.Add(-time.Second)) {
		t.Errorf("after upload: %s", raw)
	}
	if !cache.Has(got.Checksum) {
		t.Error("the data is not in the cache")
	}

	// Download: the whole, a range, a HEAD.
	resp, raw = call(t, ts, "GET", "/v1/images/tiny/file", "")
	if resp.StatusCode != 200 || !bytes.Equal(raw, data) || resp.Header.Get(HeaderImageChecksum) != got.Checksum ||
		resp.Header.Get("Content-Length") != strconv.Itoa(len(data)) || resp.Header.Get("Content-Type") != "application/octet-stream" {
		t.Errorf("download = %d, %d bytes, headers %v", resp.StatusCode, len(raw), resp.Header)
	}
	resp, raw = call(t, ts, "GET", "/v1/images/tiny/file", "", "Range", "bytes=4-7")
	if resp.StatusCode != http.StatusPartialContent || string(raw) != "\x00\x00\x00\x03" {
		t.Errorf("range = %d %q", resp.StatusCode, raw)
	}
	resp, raw = call(t, ts, "HEAD", "/v1/images/tiny/file", "")
	if resp.StatusCode != 200 || len(raw) != 0 || resp.Header.Get("Content-Length") != strconv.Itoa(len(data)) {
		t.Errorf("head = %d %q %v", resp.StatusCode, raw, resp.Header)
	}

	// Active images keep their data.
	resp, raw = upload(t, ts, img.ID, data, "application/octet-stream")
	wantError(t, resp, raw, 409, "already active")

	// A server can be built from it now.
	c.MustApply(t, &fsm.RegisterHost{Name: "node1", HTTPAddress: "127.0.0.1:1", Time: time.Unix(1, 0).UTC()})
	c.MustApply(t, &fsm.UpdateHostInventory{Name: "node1", Inventory: fsm.Inventory{VCPUs: 4, MemoryMiB: 4096, DiskGiB: 20}, Time: time.Unix(1, 0).UTC()})
	if resp, raw := call(t, ts, "POST", "/v1/servers", `{"server":{"name":"vm","flavor":"m1.tiny","image":"tiny"}}`); resp.StatusCode != 202 {
		t.Errorf("server from the uploaded image = %d %s", resp.StatusCode, raw)
	}
}

func TestImageUploadRefused(t *testing.T) {
	raw := bytes.Repeat([]byte("not an image header "), 300)
	for _, tc := range []struct {
		name, format, contentType string
		data                      []byte
		limit                     int64
		noStore                   bool
		status                    int
		contains                  string
	}{
		{name: "backing file", format: "qcow2", data: qcow2Image(4096, withBackingFile), status: 400, contains: "backing file"},
		{name: "external data file", format: "qcow2", status: 400, contains: "external data file",
			data: qcow2Image(4096, func(h []byte) { binary.BigEndian.PutUint64(h[72:], 1<<2) })},
		{name: "raw data declared qcow2", format: "qcow2", data: raw, status: 400, contains: "not a qcow2 image"},
		{name: "qcow2 declared raw", format: "raw", data: qcow2Image(4096), status: 400, contains: "declared raw"},
		{name: "empty", format: "raw", data: nil, status: 400, contains: "empty"},
		{name: "format without a check", format: "vmdk", data: raw, status: 400, contains: "not supported for upload"},
		{name: "json body", format: "raw", data: raw, contentType: "application/json", status: 415, contains: "application/octet-stream"},
		{name: "no content type", format: "raw", data: raw, contentType: "-", status: 415, contains: "application/octet-stream"},
		{name: "over the limit", format: "raw", data: raw, limit: 100, status: 413, contains: "limit"},
		{name: "no image store", format: "raw", data: raw, noStore: true, status: 501, contains: "stores no images"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := newFakeCluster(t)
			ts, cache := newImageServer(t, c, "node1", func(cfg *Config) {
				cfg.MaxImageBytes = tc.limit
				if tc.noStore {
					cfg.Images = nil
				}
			})
			img := createQueued(t, ts, "img", tc.format)
			before := c.snapshot()
			ct := "application/octet-stream"
			switch tc.contentType {
			case "":
			case "-":
				ct = ""
			default:
				ct = tc.contentType
			}
			resp, body := upload(t, ts, img.ID, tc.data, ct)
			wantError(t, resp, body, tc.status, tc.contains)
			if after := c.snapshot(); !reflect.DeepEqual(after, before) {
				t.Errorf("state changed: index %d→%d", before.index, after.index)
			}
			if got, _ := c.FSM.Image(img.ID); got.Status != fsm.ImageQueued {
				t.Errorf("image is %s", got.Status)
			}
			if entries, _ := os.ReadDir(cache.Dir()); len(entries) != 0 {
				t.Errorf("the cache keeps %d files", len(entries))
			}
		})
	}

	// A body over the limit without a Content-Length is cut off too.
	c := newFakeCluster(t)
	ts, _ := newImageServer(t, c, "node1", func(cfg *Config) { cfg.MaxImageBytes = 3 << 20 })
	img := createQueued(t, ts, "img", "raw")
	req, _ := http.NewRequest("PUT", ts.URL+"/v1/images/"+img.ID+"/file", io.MultiReader(bytes.NewReader(make([]byte, 4<<20))))
	req.Header.Set("Content-Type", "application/octet-stream")
	req.Header.Set(HeaderAuthToken, adminToken)
	resp, err := ts.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if req.ContentLength != 0 || resp.StatusCode != 413 {
		t.Errorf("chunked upload over the limit = %d %s", resp.StatusCode, body)
	}

	resp, body = upload(t, ts, "nope", raw, "application/octet-stream")
	wantError(t, resp, body, 404, "nope")
}

func TestImageDownloadWithoutCopy(t *testing.T) {
	c := newFakeCluster(t)
	ts, _ := newImageServer(t, c, "node2")
	img := createQueued(t, ts, "img", "raw")
	resp, raw := call(t, ts, "GET", "/v1/images/img/file", "")
	wantError(t, resp, raw, 404, "no data yet")

	c.MustApply(t, &fsm.ImageUploaded{ID: img.ID, Node: "node1", Size: 3, Checksum: sha256Hex([]byte("abc")), Time: time.Unix(5, 0).UTC()})
	resp, raw = call(t, ts, "GET", "/v1/images/img/file", "")
	wantError(t, resp, raw, 404, "node node2 holds no copy of image "+img.ID+" (held by: node1)")

	_, plain := newTestServer(t) // no image store at all
	resp, raw = call(t, plain, "GET", "/v1/images/nope/file", "")
	wantError(t, resp, raw, 404, "nope")
}

// A node without the data fetches it from the node it was uploaded to,
// through that node's real internal endpoint, over HTTPS with its node
// certificate, and is then listed too.
func TestImagePeerFetch(t *testing.T) {
	c := newFakeCluster(t)
	ts1, _ := newImageServer(t, c, "node1")
	ts2, cache2 := newImageServer(t, c, "node2")
	for name, ts := range map[string]*httptest.Server{"node1": ts1, "node2": ts2} {
		c.MustApply(t, &fsm.RegisterHost{Name: name, HTTPAddress: strings.TrimPrefix(ts.URL, "https://"), Time: time.Unix(1, 0).UTC()})
	}
	img := createQueued(t, ts1, "tiny", "qcow2")
	data := qcow2Image(1 << 20)
	if resp, raw := upload(t, ts1, img.ID, data, "application/octet-stream"); resp.StatusCode != 204 {
		t.Fatalf("upload = %d %s", resp.StatusCode, raw)
	}

	path, format, err := cache2.Path(context.Background(), img.ID)
	if err != nil {
		t.Fatalf("Path on node2: %v", err)
	}
	if got, err := os.ReadFile(path); err != nil || !bytes.Equal(got, data) || format != "qcow2" {
		t.Fatalf("node2's copy: %v, format %s", err, format)
	}
	if got, _ := c.FSM.Image(img.ID); !reflect.DeepEqual(got.Locations, []string{"node1", "node2"}) {
		t.Errorf("locations = %q", got.Locations)
	}
	if resp, raw := call(t, ts2, "GET", "/v1/images/"+img.ID+"/file", ""); resp.StatusCode != 200 || !bytes.Equal(raw, data) {
		t.Errorf("download from node2 = %d", resp.StatusCode)
	}
}
