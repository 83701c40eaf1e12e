package imagecache

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"slices"

	"github.com/shoal-project/shoal/fsm"
)

// DefaultCopies is how many hosts keep each image's data besides the one it
// was uploaded to: a server's disk is rebuilt from its image when its host
// dies, so the image must outlive any one host.
const DefaultCopies = 3

// Replicas picks the n hosts that keep copies of an image, by rendezvous
// hashing: every node computes the same set from the same host list, and a
// host joining or leaving moves only the copies it takes or held.
func Replicas(imageID string, hosts []string, n int) []string {
	type scored struct {
		host  string
		score uint64
	}
	all := make([]scored, 0, len(hosts))
	for _, h := range hosts {
		sum := sha256.Sum256([]byte(imageID + "\x00" + h))
		all = append(all, scored{h, binary.BigEndian.Uint64(sum[:8])})
	}
	slices.SortFunc(all, func(a, b scored) int {
		if c := cmp.Compare(b.score, a.score); c != 0 {
			return c
		}
		return cmp.Compare(a.host, b.host)
	})
	out := make([]string, 0, min(n, len(all)))
	for _, s := range all[:min(n, len(all))] {
		out = append(out, s.host)
	}
	return out
}

// Replicate fetches every active image this node is a replica of and does
// not hold yet (one pass; the agent repeats it). hosts are the cluster's
// hosts that can hold copies.
func (c *Cache) Replicate(ctx context.Context, images []fsm.Image, hosts []string, copies int) {
	for _, img := range images {
		if img.Status != fsm.ImageActive || c.Has(img.Checksum) ||
			!slices.Contains(Replicas(img.ID, hosts, copies), c.cfg.NodeName) {
			continue
		}
		if _, _, err := c.Path(ctx, img.ID); err != nil {
			if ctx.Err() == nil {
				c.log.Warn("keeping a copy of an image failed; will retry", "image", img.ID, "err", err)
			}
			continue
		}
		c.log.Info("keeping a copy of an image", "image", img.ID, "checksum", img.Checksum)
	}
}
