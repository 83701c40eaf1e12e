package imagecache_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/shoal-project/shoal/compute/imagecache"
	"github.com/shoal-project/shoal/fsm"
)

func TestPruneRemovesOnlyOldUnreferencedFiles(t *testing.T) {
	c := newCache(t, "n1")
	put := func(seed uint64) string {
		st, err := c.Put(context.Background(), bytes.NewReader(randomBytes(4096, seed)), "raw", 0)
		if err != nil {
			t.Fatal(err)
		}
		return st.Checksum
	}
	kept, deleted, young := put(1), put(2), put(3)
	old := time.Now().Add(-2 * time.Hour)
	for _, sum := range []string{kept, deleted} {
		if err := os.Chtimes(filepath.Join(c.Dir(), sum), old, old); err != nil {
			t.Fatal(err)
		}
	}
	// A stray file that is not a checksum is never touched.
	stray := filepath.Join(c.Dir(), "notes.txt")
	if err := os.WriteFile(stray, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	inUse := imagecache.InUse([]fsm.Image{{ID: "a", Checksum: kept}, {ID: "queued"}})
	removed, err := c.Prune(inUse, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if len(removed) != 1 || removed[0] != deleted {
		t.Fatalf("removed %v, want only %s", removed, deleted)
	}
	for _, sum := range []string{kept, young} {
		if !c.Has(sum) {
			t.Fatalf("%s was removed", sum)
		}
	}
	if c.Has(deleted) {
		t.Fatal("the unreferenced old file is still there")
	}
	if _, err := os.Stat(stray); err != nil {
		t.Fatalf("a non-checksum file was touched: %v", err)
	}
}
