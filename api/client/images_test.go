package client

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"io"
	"net/http/httptest"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/shoal-project/shoal/api"
	"github.com/shoal-project/shoal/api/identity/identitytest"
	"github.com/shoal-project/shoal/compute/imagecache"
	"github.com/shoal-project/shoal/fsm"
)

// cacheImages shows an imagecache.Cache to the API, as cmd does.
type cacheImages struct{ c *imagecache.Cache }

func (a cacheImages) Put(ctx context.Context, r io.Reader, format string, max int64) (api.StoredImage, error) {
	st, err := a.c.Put(ctx, r, format, max)
	return api.StoredImage(st), err
}
func (a cacheImages) Has(sum string) bool                           { return a.c.Has(sum) }
func (a cacheImages) Open(sum string) (io.ReadCloser, int64, error) { return a.c.Open(sum) }

// newImageClient is newTestClient with a node that stores images.
func newImageClient(t *testing.T) *Client {
	t.Helper()
	c, _ := newTestClient(t)
	cache, err := imagecache.New(imagecache.Config{Dir: filepath.Join(t.TempDir(), "images"), NodeName: "node1"})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(api.New(api.Config{State: c.FSM, Cluster: c, NodeName: "node1", Images: cacheImages{cache},
		Auth: api.Auth{Signer: identitytest.Signer}}).Handler())
	t.Cleanup(ts.Close)
	return New(ts.URL, WithToken(identitytest.AdminToken))
}

// newQueuedImage is newImageClient with the image name (format, container
// bare) created but not yet uploaded.
func newQueuedImage(t *testing.T, name, format string) (*Client, fsm.Image) {
	t.Helper()
	cl := newImageClient(t)
	img, err := cl.CreateImage(context.Background(), api.ImageCreate{Name: name, DiskFormat: format, ContainerFormat: "bare"})
	if err != nil {
		t.Fatal(err)
	}
	return cl, img
}

func qcow2Image(n int) []byte {
	h := make([]byte, n)
	copy(h, "QFI\xfb")
	binary.BigEndian.PutUint32(h[4:], 3)
	binary.BigEndian.PutUint32(h[20:], 16)
	binary.BigEndian.PutUint32(h[100:], 112)
	return h
}

func TestUploadAndDownloadImage(t *testing.T) {
	cl, img := newQueuedImage(t, "tiny", "qcow2")
	ctx := context.Background()
	data := qcow2Image(3 << 20)
	var seen []int64
	if err := cl.UploadImage(ctx, img.ID, bytes.NewReader(data), int64(len(data)), func(done int64) { seen = append(seen, done) }); err != nil {
		t.Fatalf("UploadImage: %v", err)
	}
	if len(seen) == 0 || seen[len(seen)-1] != int64(len(data)) {
		t.Errorf("progress %v, want it to end at %d", seen, len(data))
	}
	for i := 1; i < len(seen); i++ {
		if seen[i] < seen[i-1] {
			t.Errorf("progress went back: %v", seen)
		}
	}
	sum := sha256.Sum256(data)
	got, err := cl.Image(ctx, "tiny")
	if err != nil || got.Status != "active" || got.Checksum != hex.EncodeToString(sum[:]) || got.Size != int64(len(data)) ||
		!reflect.DeepEqual(got.Locations, []string{"node1"}) {
		t.Errorf("after upload: %+v, %v", got, err)
	}

	var out bytes.Buffer
	if n, err := cl.DownloadImage(ctx, "tiny", &out); err != nil || n != int64(len(data)) || !bytes.Equal(out.Bytes(), data) {
		t.Errorf("DownloadImage = %d, %v", n, err)
	}

	// Unknown size (sent chunked) works too; an active image refuses more data.
	if err := cl.UploadImage(ctx, img.ID, io.MultiReader(bytes.NewReader(data)), -1, nil); !errors.Is(err, fsm.ErrConflict) {
		t.Errorf("second upload: %v", err)
	}
}

func TestUploadImageRefused(t *testing.T) {
	cl, img := newQueuedImage(t, "raw", "raw")
	ctx := context.Background()
	data := qcow2Image(4096)
	err := cl.UploadImage(ctx, img.ID, bytes.NewReader(data), int64(len(data)), nil)
	var apiErr *Error
	if !errors.Is(err, fsm.ErrInvalid) || !errors.As(err, &apiErr) || apiErr.Status != 400 || !strings.Contains(err.Error(), "declared raw") {
		t.Errorf("qcow2 data for a raw image: %v", err)
	}
	if _, err := cl.DownloadImage(ctx, "raw", io.Discard); !errors.Is(err, fsm.ErrNotFound) {
		t.Errorf("download of a queued image: %v", err)
	}
	if err := cl.UploadImage(ctx, "", bytes.NewReader(nil), 0, nil); !errors.Is(err, fsm.ErrInvalid) {
		t.Errorf("empty ref: %v", err)
	}
	if err := cl.UploadImage(ctx, "nope", bytes.NewReader(nil), 0, nil); !errors.Is(err, fsm.ErrNotFound) {
		t.Errorf("unknown image: %v", err)
	}
}
