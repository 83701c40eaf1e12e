package imagecache_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shoal-project/shoal/compute/imagecache"
	"github.com/shoal-project/shoal/fsm"
	"github.com/shoal-project/shoal/internal/testkit"
)

// catalog is an Images, Peers and Recorder in one: image records, peer
// addresses, and the locations recorded.
type catalog struct {
	mu       sync.Mutex
	images   map[string]fsm.Image
	peers    map[string]string
	recorded []fsm.ImageUploaded
	applyErr error
}

func (c *catalog) Image(ref string) (fsm.Image, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if img, ok := c.images[ref]; ok {
		return img, nil
	}
	return fsm.Image{}, fsm.ErrNotFound
}

func (c *catalog) HostHTTPAddress(name string) (string, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	a, ok := c.peers[name]
	return a, ok
}

func (c *catalog) Apply(_ context.Context, cmd fsm.Command) (uint64, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.applyErr != nil {
		return 0, c.applyErr
	}
	c.recorded = append(c.recorded, *cmd.(*fsm.ImageUploaded))
	return 1, nil
}

func (c *catalog) records() []fsm.ImageUploaded {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]fsm.ImageUploaded(nil), c.recorded...)
}

// peer serves GET /internal/v1/images/{id}/file from a cache, as the API
// does for other nodes, for the images it holds (ID → checksum); before,
// when set, runs first (to stall requests).
type peer struct {
	cache  *imagecache.Cache
	held   map[string]string
	hits   atomic.Int32
	before func(r *http.Request)
}

func (p *peer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p.hits.Add(1)
	if p.before != nil {
		p.before(r)
	}
	id, internal := strings.CutPrefix(r.URL.Path, "/internal/v1/images/")
	id, file := strings.CutSuffix(id, "/file")
	sum, ok := p.held[id]
	if !ok || !internal || !file || r.Method != http.MethodGet {
		http.Error(w, "no such image", http.StatusNotFound)
		return
	}
	rc, size, err := p.cache.Open(sum)
	if err != nil {
		http.Error(w, "no copy here", http.StatusNotFound)
		return
	}
	defer rc.Close()
	w.Header().Set("Content-Length", strconv.FormatInt(size, 10))
	w.Header().Set(imagecache.HeaderChecksum, sum)
	_, _ = io.Copy(w, rc)
}

const imageID = "4e3c0c2a-0000-4000-8000-000000000001"

// tlsServer is an HTTPS test server; every one of them presents httptest's
// certificate, which tlsClient trusts: what a node's TLS client is to the
// cache.
func tlsServer(t *testing.T, h http.Handler) *httptest.Server {
	t.Helper()
	ts := httptest.NewTLSServer(h)
	t.Cleanup(ts.Close)
	return ts
}

func tlsClient(t *testing.T) *http.Client {
	t.Helper()
	ts := tlsServer(t, http.NotFoundHandler())
	return ts.Client()
}

// twoNodes has the image's data on n1 (served over HTTPS) and none on n2.
func twoNodes(t *testing.T, data []byte) (cat *catalog, n1 *peer, n2 *imagecache.Cache) {
	t.Helper()
	cat = &catalog{images: map[string]fsm.Image{}, peers: map[string]string{}}
	client := tlsClient(t)
	wire := func(cfg *imagecache.Config) {
		cfg.Images, cfg.Peers, cfg.Recorder, cfg.HTTPClient = cat, cat, cat, client
	}
	n1 = &peer{cache: newCache(t, "n1", wire)}
	st, err := n1.cache.Put(context.Background(), bytes.NewReader(data), "qcow2", 0)
	if err != nil {
		t.Fatal(err)
	}
	n1.held = map[string]string{imageID: st.Checksum}
	ts := tlsServer(t, n1)
	cat.peers["n1"] = strings.TrimPrefix(ts.URL, "https://")
	cat.images[imageID] = fsm.Image{ID: imageID, Name: "tiny", DiskFormat: "qcow2", Status: fsm.ImageActive,
		Size: st.Size, Checksum: st.Checksum, Locations: []string{"n1"}}
	return cat, n1, newCache(t, "n2", wire)
}

func TestPathFetchesFromPeer(t *testing.T) {
	data := qcow2(3, 3<<20)
	cat, n1, n2 := twoNodes(t, data)
	path, format, err := n2.Path(context.Background(), imageID)
	if err != nil {
		t.Fatalf("Path: %v", err)
	}
	if format != "qcow2" || path != filepath.Join(n2.Dir(), sha(data)) {
		t.Errorf("Path = %s, %s", path, format)
	}
	if got, err := os.ReadFile(path); err != nil || !bytes.Equal(got, data) {
		t.Fatalf("fetched file differs: %v", err)
	}
	rec := cat.records()
	if len(rec) != 1 || rec[0].ID != imageID || rec[0].Node != "n2" || rec[0].Checksum != sha(data) ||
		rec[0].Size != int64(len(data)) || rec[0].DiskFormat != "qcow2" || rec[0].Time.IsZero() {
		t.Errorf("recorded %+v", rec)
	}

	// Cached now: no second fetch; listed, so no second record either.
	cat.images[imageID] = func() fsm.Image { i := cat.images[imageID]; i.Locations = []string{"n1", "n2"}; return i }()
	if again, _, err := n2.Path(context.Background(), imageID); err != nil || again != path {
		t.Errorf("Path again = %s, %v", again, err)
	}
	if n1.hits.Load() != 1 || len(cat.records()) != 1 {
		t.Errorf("%d fetches, %d records; want 1 and 1", n1.hits.Load(), len(cat.records()))
	}
	// The holder itself answers from its own copy.
	if p, _, err := n1.cache.Path(context.Background(), imageID); err != nil || p != filepath.Join(n1.cache.Dir(), sha(data)) {
		t.Errorf("Path on the holder = %s, %v", p, err)
	}
}

// A copy held but not listed (its record was lost) is listed by the next Path.
func TestPathListsUnlistedCopy(t *testing.T) {
	cat, n1, _ := twoNodes(t, qcow2(3, 4096))
	cat.images[imageID] = func() fsm.Image { i := cat.images[imageID]; i.Locations = nil; return i }()
	if _, _, err := n1.cache.Path(context.Background(), imageID); err != nil {
		t.Fatal(err)
	}
	if rec := cat.records(); len(rec) != 1 || rec[0].Node != "n1" {
		t.Errorf("recorded %+v", rec)
	}
}

func TestPathRefusesWrongData(t *testing.T) {
	data := qcow2(3, 4096)
	for _, tc := range []struct {
		name  string
		edit  func(img *fsm.Image)
		serve func(w http.ResponseWriter) // replaces the peer's answer
	}{
		{name: "checksum of other data", edit: func(img *fsm.Image) { img.Checksum = sha([]byte("other")) }},
		{name: "more data than the image has", edit: func(img *fsm.Image) { img.Size-- }},
		{name: "peer announces other data", serve: func(w http.ResponseWriter) {
			w.Header().Set(imagecache.HeaderChecksum, sha([]byte("other")))
			_, _ = w.Write(data)
		}},
		{name: "peer sends other bytes", serve: func(w http.ResponseWriter) {
			_, _ = w.Write(qcow2(3, 4096, func(h []byte) { h[4000] = 1 }))
		}},
		{name: "peer sends raw bytes for a qcow2 image", serve: func(w http.ResponseWriter) {
			_, _ = w.Write(make([]byte, 4096))
		}},
		{name: "peer has no copy", serve: func(w http.ResponseWriter) { http.Error(w, "gone", http.StatusNotFound) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cat, _, n2 := twoNodes(t, data)
			if tc.edit != nil {
				img := cat.images[imageID]
				tc.edit(&img)
				cat.images[imageID] = img
			}
			if tc.serve != nil {
				ts := tlsServer(t, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { tc.serve(w) }))
				cat.peers["n1"] = ts.URL // with its scheme: fetched over https all the same
			}
			if p, _, err := n2.Path(context.Background(), imageID); !errors.Is(err, imagecache.ErrNoCopy) {
				t.Fatalf("Path = %s, %v; want an error wrapping ErrNoCopy", p, err)
			} else if tc.name != "peer has no copy" && !errors.Is(err, imagecache.ErrChecksum) && !errors.Is(err, imagecache.ErrInvalidImage) && !errors.Is(err, imagecache.ErrTooLarge) {
				t.Errorf("Path error %v does not say what was wrong with the data", err)
			}
			assertEmpty(t, n2.Dir())
			if rec := cat.records(); len(rec) != 0 {
				t.Errorf("recorded %+v", rec)
			}
		})
	}
}

// With several holders, one that fails is skipped.
func TestPathTriesEveryHolder(t *testing.T) {
	cat, _, n2 := twoNodes(t, qcow2(3, 4096))
	down := tlsServer(t, http.NotFoundHandler())
	cat.peers["n0"], cat.peers["n3"] = down.URL, "" // n3: address unknown
	img := cat.images[imageID]
	img.Locations = []string{"n0", "n1", "n2", "n3"}
	cat.images[imageID] = img
	for range 5 { // the first holder tried is random
		if _, _, err := n2.Path(context.Background(), imageID); err != nil {
			t.Fatalf("Path: %v", err)
		}
		if err := n2.Remove(img.Checksum); err != nil {
			t.Fatal(err)
		}
	}
}

func TestPathWithoutData(t *testing.T) {
	cat, _, n2 := twoNodes(t, qcow2(3, 4096))
	for name, img := range map[string]fsm.Image{
		"queued":       {ID: "q", Status: fsm.ImageQueued, DiskFormat: "qcow2"},
		"no holder":    {ID: "lost", Status: fsm.ImageActive, DiskFormat: "qcow2", Checksum: sha(nil), Size: 1},
		"only here":    {ID: "mine", Status: fsm.ImageActive, DiskFormat: "qcow2", Checksum: sha(nil), Size: 1, Locations: []string{"n2"}},
		"iso":          {ID: "iso", Status: fsm.ImageActive, DiskFormat: "iso", Checksum: sha(nil), Size: 1, Locations: []string{"n1"}},
		"bad checksum": {ID: "bad", Status: fsm.ImageActive, DiskFormat: "raw", Checksum: "../../etc/passwd", Size: 1, Locations: []string{"n1"}},
	} {
		cat.images[img.ID] = img
		if p, _, err := n2.Path(context.Background(), img.ID); err == nil {
			t.Errorf("%s: Path = %s", name, p)
		}
	}
	if _, _, err := n2.Path(context.Background(), "unknown"); !errors.Is(err, fsm.ErrNotFound) {
		t.Errorf("unknown image: %v", err)
	}
	assertEmpty(t, n2.Dir())
}

// A failed record leaves the fetched data usable.
func TestPathRecordFails(t *testing.T) {
	cat, _, n2 := twoNodes(t, qcow2(3, 4096))
	cat.applyErr = errors.New("no leader")
	if _, _, err := n2.Path(context.Background(), imageID); err != nil {
		t.Fatalf("Path: %v", err)
	}
}

// Concurrent Paths of one image share one fetch.
func TestPathSingleFlight(t *testing.T) {
	_, n1, n2 := twoNodes(t, qcow2(3, 1<<20))
	release := make(chan struct{})
	n1.before = func(*http.Request) { <-release }

	const callers = 8
	errs := make(chan error, callers)
	for range callers {
		go func() {
			_, _, err := n2.Path(context.Background(), imageID)
			errs <- err
		}()
	}
	testkit.WaitFor(t, 5*time.Second, "a fetch from n1", func() bool { return n1.hits.Load() > 0 })
	close(release)
	for range callers {
		if err := <-errs; err != nil {
			t.Errorf("Path: %v", err)
		}
	}
	if n := n1.hits.Load(); n != 1 {
		t.Errorf("%d fetches, want 1", n)
	}
}

// A caller that gives up does not fail the others waiting for the same data.
func TestPathAbandonedFetch(t *testing.T) {
	_, n1, n2 := twoNodes(t, qcow2(3, 1<<20))
	n1.before = func(r *http.Request) {
		if n1.hits.Load() == 1 {
			<-r.Context().Done() // the first fetch stalls until its caller leaves
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	first := make(chan error, 1)
	go func() {
		_, _, err := n2.Path(ctx, imageID)
		first <- err
	}()
	testkit.WaitFor(t, 5*time.Second, "the first fetch from n1", func() bool { return n1.hits.Load() == 1 })
	second := make(chan error, 1)
	go func() {
		_, _, err := n2.Path(context.Background(), imageID)
		second <- err
	}()
	cancel()
	if err := <-first; !errors.Is(err, context.Canceled) {
		t.Errorf("abandoned Path = %v, want context.Canceled", err)
	}
	if err := <-second; err != nil {
		t.Errorf("waiting Path = %v", err)
	}
}

// Nodes speak HTTPS only: a fetch goes over TLS whatever the host record
// says, and without the node's TLS client there is no fetch at all.
func TestPathFetchesOverTLSOnly(t *testing.T) {
	data := qcow2(3, 4096)
	cat, n1, _ := twoNodes(t, data)
	plain := httptest.NewServer(n1)
	t.Cleanup(plain.Close)
	cat.peers["n1"] = "http://" + strings.TrimPrefix(plain.URL, "http://")
	n2 := newCache(t, "n2", func(cfg *imagecache.Config) {
		cfg.Images, cfg.Peers, cfg.Recorder, cfg.HTTPClient = cat, cat, cat, plain.Client()
	})
	if _, _, err := n2.Path(context.Background(), imageID); !errors.Is(err, imagecache.ErrNoCopy) || n1.hits.Load() != 0 {
		t.Errorf("Path from a plain HTTP peer = %v after %d requests served; want ErrNoCopy and none", err, n1.hits.Load())
	}

	noClient := newCache(t, "n2", func(cfg *imagecache.Config) { cfg.Images, cfg.Peers, cfg.Recorder = cat, cat, cat })
	if _, _, err := noClient.Path(context.Background(), imageID); err == nil || !strings.Contains(err.Error(), "HTTPClient") {
		t.Errorf("Path without an HTTP client = %v", err)
	}
	assertEmpty(t, n2.Dir())
	assertEmpty(t, noClient.Dir())
}
