package imagecache

import (
	"fmt"
	"os"
	"time"

	"github.com/shoal-project/shoal/fsm"
)

// Prune removes cached files that no image refers to any more (the image was
// deleted), so a host's disk does not fill with images nobody can use.
// inUse reports whether a checksum still belongs to an image. Files younger
// than minAge are kept: an upload stores its file before the record that
// names its checksum is committed, and a replica may lag behind.
func (c *Cache) Prune(inUse func(checksum string) bool, minAge time.Duration) ([]string, error) {
	entries, err := os.ReadDir(c.dir)
	if err != nil {
		return nil, fmt.Errorf("imagecache: %w", err)
	}
	var removed []string
	for _, e := range entries {
		sum := e.Name()
		if !e.Type().IsRegular() || !fsm.ValidChecksum(sum) || inUse(sum) {
			continue
		}
		info, err := e.Info()
		if err != nil || time.Since(info.ModTime()) < minAge {
			continue
		}
		if err := c.Remove(sum); err != nil {
			return removed, err
		}
		removed = append(removed, sum)
	}
	return removed, nil
}

// InUse returns the checksums of every image in images, for Prune.
func InUse(images []fsm.Image) func(string) bool {
	sums := make(map[string]bool, len(images))
	for _, img := range images {
		if img.Checksum != "" {
			sums[img.Checksum] = true
		}
	}
	return func(sum string) bool { return sums[sum] }
}
