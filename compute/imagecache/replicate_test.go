package imagecache_test

import (
	"context"
	"fmt"
	"slices"
	"testing"

	"github.com/shoal-project/shoal/compute/imagecache"
	"github.com/shoal-project/shoal/fsm"
)

// Every node picks the same replicas whatever the order of the host list,
// and a host leaving moves only the copies it held.
func TestReplicasStable(t *testing.T) {
	hosts := []string{"a", "b", "c", "d", "e", "f"}
	got := imagecache.Replicas("img-1", hosts, 3)
	if len(got) != 3 {
		t.Fatalf("Replicas = %v, want 3", got)
	}
	rev := slices.Clone(hosts)
	slices.Reverse(rev)
	if again := imagecache.Replicas("img-1", rev, 3); !slices.Equal(again, got) {
		t.Fatalf("order changed the replicas: %v vs %v", again, got)
	}
	var spared []string
	for _, h := range hosts {
		if h != got[0] {
			spared = append(spared, h)
		}
	}
	after := imagecache.Replicas("img-1", spared, 3)
	if !slices.Contains(after, got[1]) || !slices.Contains(after, got[2]) {
		t.Fatalf("removing %s moved other copies: %v → %v", got[0], got, after)
	}
	if all := imagecache.Replicas("img-1", []string{"a", "b"}, 3); len(all) != 2 {
		t.Fatalf("fewer hosts than copies: %v", all)
	}
	// Images spread over the hosts rather than piling on a few.
	count := map[string]int{}
	for i := range 600 {
		for _, h := range imagecache.Replicas(fmt.Sprint("img-", i), hosts, 3) {
			count[h]++
		}
	}
	for _, h := range hosts {
		if count[h] < 200 || count[h] > 400 {
			t.Errorf("host %s keeps %d of 1800 copies", h, count[h])
		}
	}
}

// A replica fetches the images it should keep; a non-replica does not.
func TestReplicateFetchesOwnCopies(t *testing.T) {
	data := qcow2(3, 1<<20)
	cat, n1, n2 := twoNodes(t, data)
	img := cat.images[imageID]
	images := []fsm.Image{img, {ID: "queued", Status: fsm.ImageQueued}}
	n2.Replicate(context.Background(), images, []string{"n1"}, 1) // n2 is not a replica
	if n2.Has(img.Checksum) || n1.hits.Load() != 0 {
		t.Fatal("a node that is no replica fetched the image")
	}
	n2.Replicate(context.Background(), images, []string{"n1", "n2"}, 2)
	if !n2.Has(img.Checksum) || n1.hits.Load() != 1 {
		t.Fatalf("replica did not fetch (has %v, %d fetches)", n2.Has(img.Checksum), n1.hits.Load())
	}
	n2.Replicate(context.Background(), images, []string{"n1", "n2"}, 2)
	if n1.hits.Load() != 1 {
		t.Fatal("a held copy was fetched again")
	}
}
