package imagecache_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
	"testing/iotest"

	"github.com/shoal-project/shoal/compute/imagecache"
)

func sha(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// newCache is a cache in a fresh directory; the Config may be completed by edits.
func newCache(t *testing.T, node string, edits ...func(*imagecache.Config)) *imagecache.Cache {
	t.Helper()
	cfg := imagecache.Config{Dir: filepath.Join(t.TempDir(), "images"), NodeName: node}
	for _, e := range edits {
		e(&cfg)
	}
	c, err := imagecache.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// assertEmpty checks that dir holds no file at all, partial ones included.
func assertEmpty(t *testing.T, dir string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		t.Errorf("left behind: %s", e.Name())
	}
}

func randomBytes(n int, seed uint64) []byte {
	b := make([]byte, n)
	r := rand.New(rand.NewPCG(seed, seed))
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

func readAll(t *testing.T, c *imagecache.Cache, sum string) []byte {
	t.Helper()
	rc, size, err := c.Open(sum)
	if err != nil {
		t.Fatalf("Open(%s): %v", sum, err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil || int64(len(b)) != size {
		t.Fatalf("read %d bytes (size %d): %v", len(b), size, err)
	}
	return b
}

func TestPutHasOpenRemove(t *testing.T) {
	ctx := context.Background()
	c := newCache(t, "n1")
	data := randomBytes(5<<20+123, 1) // several reads past the first 2 MiB
	st, err := c.Put(ctx, iotest.HalfReader(bytes.NewReader(data)), "raw", int64(len(data)))
	if err != nil {
		t.Fatalf("Put: %v", err)
	}
	if want := (imagecache.Stored{Checksum: sha(data), Size: int64(len(data)), Format: "raw"}); st != want {
		t.Errorf("Put = %+v, want %+v", st, want)
	}
	if !c.Has(st.Checksum) || !bytes.Equal(readAll(t, c, st.Checksum), data) {
		t.Fatal("stored data is not what was put")
	}
	// Content-addressed: the file is named by its sha256.
	if fi, err := os.Stat(filepath.Join(c.Dir(), st.Checksum)); err != nil || fi.Size() != int64(len(data)) {
		t.Errorf("file %s: %v", st.Checksum, err)
	}
	// The same data again is harmless.
	if again, err := c.Put(ctx, bytes.NewReader(data), "raw", 0); err != nil || again != st {
		t.Errorf("Put again = %+v, %v", again, err)
	}
	if err := c.Remove(st.Checksum); err != nil {
		t.Fatal(err)
	}
	if c.Has(st.Checksum) {
		t.Error("Has after Remove")
	}
	if _, _, err := c.Open(st.Checksum); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Open after Remove: %v, want fs.ErrNotExist", err)
	}
	if err := c.Remove(st.Checksum); err != nil {
		t.Errorf("Remove of missing data: %v", err)
	}
	assertEmpty(t, c.Dir())
}

// Only checksums become file names.
func TestNotChecksums(t *testing.T) {
	c := newCache(t, "n1")
	if err := os.WriteFile(filepath.Join(c.Dir(), "..", "secret"), []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, ref := range []string{"", "../secret", "/etc/passwd", sha(nil)[:63], "ABC"} {
		if c.Has(ref) {
			t.Errorf("Has(%q)", ref)
		}
		if _, _, err := c.Open(ref); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("Open(%q) = %v, want fs.ErrNotExist", ref, err)
		}
		if err := c.Remove(ref); err == nil {
			t.Errorf("Remove(%q) succeeded", ref)
		}
	}
}

func TestPutLimits(t *testing.T) {
	ctx := context.Background()
	for _, n := range []int{1000, 3 << 20} { // within the first read, and past it
		c := newCache(t, "n1")
		data := randomBytes(n, 2)
		if _, err := c.Put(ctx, bytes.NewReader(data), "raw", int64(n-1)); !errors.Is(err, imagecache.ErrTooLarge) {
			t.Errorf("%d bytes with a limit of %d: %v, want ErrTooLarge", n, n-1, err)
		}
		assertEmpty(t, c.Dir())
		if _, err := c.Put(ctx, bytes.NewReader(data), "raw", int64(n)); err != nil {
			t.Errorf("%d bytes with a limit of %d: %v", n, n, err)
		}
	}
}

func TestPutFailedRead(t *testing.T) {
	c := newCache(t, "n1")
	boom := errors.New("connection reset")
	r := io.MultiReader(bytes.NewReader(randomBytes(3<<20, 3)), iotest.ErrReader(boom))
	if _, err := c.Put(context.Background(), r, "raw", 0); !errors.Is(err, boom) {
		t.Errorf("Put = %v, want the read error", err)
	}
	assertEmpty(t, c.Dir())

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := c.Put(ctx, bytes.NewReader(randomBytes(3<<20, 4)), "raw", 0); !errors.Is(err, context.Canceled) {
		t.Errorf("Put with a cancelled context = %v", err)
	}
	assertEmpty(t, c.Dir())
}

// New removes what a crash left half-written, and keeps the rest.
func TestNewRemovesPartialFiles(t *testing.T) {
	c := newCache(t, "n1")
	st, err := c.Put(context.Background(), bytes.NewReader([]byte("kept")), "raw", 0)
	if err != nil {
		t.Fatal(err)
	}
	partial := filepath.Join(c.Dir(), ".partial-123")
	if err := os.WriteFile(partial, []byte("half"), 0o600); err != nil {
		t.Fatal(err)
	}
	again, err := imagecache.New(imagecache.Config{Dir: c.Dir()})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(partial); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("partial file still there: %v", err)
	}
	if !again.Has(st.Checksum) {
		t.Error("complete data was removed")
	}
	if _, err := imagecache.New(imagecache.Config{}); err == nil {
		t.Error("New without a Dir succeeded")
	}
}
