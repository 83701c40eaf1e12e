package fsm_test

import (
	"reflect"
	"strings"
	"testing"

	"github.com/shoal-project/shoal/fsm"
)

// Two image checksums (hex sha256).
const (
	sumA = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
	sumB = "60303ae22b998861bce3b28f33eec1be758a213c86c93c076dbe9f558c11c752"
)

func queuedImage(id string) fsm.Image {
	return fsm.Image{ID: id, Name: "upload-" + id, DiskFormat: "qcow2", ContainerFormat: "bare",
		Status: fsm.ImageQueued, Created: t0, Updated: t0}
}

func uploaded(id, node string, size int64, sum string) *fsm.ImageUploaded {
	return &fsm.ImageUploaded{ID: id, Node: node, Size: size, Checksum: sum, DiskFormat: "qcow2", Time: t1}
}

// wantImage checks the fields uploads change.
func wantImage(t *testing.T, f *fsm.FSM, id, status string, size int64, sum string, locations []string, modify uint64) {
	t.Helper()
	img, err := f.Image(id)
	if err != nil {
		t.Fatalf("Image(%q): %v", id, err)
	}
	if img.Status != status || img.Size != size || img.Checksum != sum || !reflect.DeepEqual(img.Locations, locations) || img.ModifyIndex != modify {
		t.Errorf("image %s: status %s, size %d, checksum %s, locations %q, modify index %d\nwant %s, %d, %s, %q, %d",
			id, img.Status, img.Size, img.Checksum, img.Locations, img.ModifyIndex, status, size, sum, locations, modify)
	}
}

func TestApplyImageData(t *testing.T) {
	queued := &fsm.CreateImage{Image: queuedImage("q")}
	expecting := func() fsm.Command { i := queuedImage("q"); i.Checksum = sumA; return &fsm.CreateImage{Image: i} }()
	onH1 := []fsm.Command{queued, uploaded("q", "h1", 100, sumA)}
	onBoth := append(onH1[:2:2], uploaded("q", "h2", 100, sumA))
	legacy := func() fsm.Command { i := activeImage("old"); i.Checksum = ""; return &fsm.CreateImage{Image: i} }()

	runApplyCases(t, []applyCase{
		{
			name:  "first upload makes a queued image active",
			setup: []fsm.Command{queued},
			cmd:   uploaded("q", "h1", 100, sumA),
			check: func(t *testing.T, f *fsm.FSM, index uint64) {
				wantImage(t, f, "q", fsm.ImageActive, 100, sumA, []string{"h1"}, index)
				if img, _ := f.Image("q"); !img.Updated.Equal(t1) || img.CreateIndex != 1 {
					t.Errorf("updated %v, create index %d", img.Updated, img.CreateIndex)
				}
			},
		},
		{
			name:  "a queued image that declares its checksum takes matching data",
			setup: []fsm.Command{expecting},
			cmd:   uploaded("q", "h1", 100, sumA),
			check: func(t *testing.T, f *fsm.FSM, index uint64) {
				wantImage(t, f, "q", fsm.ImageActive, 100, sumA, []string{"h1"}, index)
			},
		},
		{name: "a queued image refuses data other than it declares", setup: []fsm.Command{expecting}, cmd: uploaded("q", "h1", 100, sumB), wantErr: fsm.ErrConflict},
		{
			name:  "another node's copy adds a location, kept sorted",
			setup: []fsm.Command{queued, uploaded("q", "h2", 100, sumA)},
			cmd:   uploaded("q", "h1", 100, sumA),
			check: func(t *testing.T, f *fsm.FSM, index uint64) {
				wantImage(t, f, "q", fsm.ImageActive, 100, sumA, []string{"h1", "h2"}, index)
			},
		},
		{
			name:  "a repeated record changes nothing",
			setup: onBoth,
			cmd:   uploaded("q", "h1", 100, sumA),
			check: func(t *testing.T, f *fsm.FSM, index uint64) {
				wantImage(t, f, "q", fsm.ImageActive, 100, sumA, []string{"h1", "h2"}, index-1)
			},
		},
		{
			name:  "an image registered active without data takes its first upload",
			setup: []fsm.Command{legacy},
			cmd:   &fsm.ImageUploaded{ID: "old", Node: "h3", Size: 7, Checksum: sumB, Time: t1},
			check: func(t *testing.T, f *fsm.FSM, index uint64) {
				wantImage(t, f, "old", fsm.ImageActive, 7, sumB, []string{"h3"}, index)
			},
		},
		{name: "other data for an active image", setup: onH1, cmd: uploaded("q", "h2", 100, sumB), wantErr: fsm.ErrConflict},
		{name: "another size for an active image", setup: onH1, cmd: uploaded("q", "h2", 101, sumA), wantErr: fsm.ErrConflict},
		{name: "data verified as another format", setup: []fsm.Command{queued},
			cmd: &fsm.ImageUploaded{ID: "q", Node: "h1", Size: 1, Checksum: sumA, DiskFormat: "raw", Time: t1}, wantErr: fsm.ErrConflict},
		{name: "upload to an unknown image", cmd: uploaded("nope", "h1", 1, sumA), wantErr: fsm.ErrNotFound},
		{name: "upload without a node", setup: []fsm.Command{queued}, cmd: uploaded("q", "", 1, sumA), wantErr: fsm.ErrInvalid},
		{name: "upload without an image ID", setup: []fsm.Command{queued}, cmd: uploaded("", "h1", 1, sumA), wantErr: fsm.ErrInvalid},
		{name: "upper-case checksum", setup: []fsm.Command{queued}, cmd: uploaded("q", "h1", 1, strings.ToUpper(sumA)), wantErr: fsm.ErrInvalid},
		{name: "short checksum", setup: []fsm.Command{queued}, cmd: uploaded("q", "h1", 1, sumA[:63]), wantErr: fsm.ErrInvalid},
		{name: "negative size", setup: []fsm.Command{queued}, cmd: uploaded("q", "h1", -1, sumA), wantErr: fsm.ErrInvalid},
		{
			name: "create image ignores locations",
			cmd:  &fsm.CreateImage{Image: func() fsm.Image { i := queuedImage("q"); i.Locations = []string{"h9"}; return i }()},
			check: func(t *testing.T, f *fsm.FSM, index uint64) {
				wantImage(t, f, "q", fsm.ImageQueued, 0, "", []string{}, index)
			},
		},
		{
			name:  "remove a location",
			setup: onBoth,
			cmd:   &fsm.RemoveImageLocation{ID: "q", Node: "h1", Time: t2},
			check: func(t *testing.T, f *fsm.FSM, index uint64) {
				wantImage(t, f, "q", fsm.ImageActive, 100, sumA, []string{"h2"}, index)
				if img, _ := f.Image("q"); !img.Updated.Equal(t2) {
					t.Errorf("updated %v, want %v", img.Updated, t2)
				}
			},
		},
		{
			name:  "removing the last location keeps the image active",
			setup: onH1,
			cmd:   &fsm.RemoveImageLocation{ID: "q", Node: "h1", Time: t2},
			check: func(t *testing.T, f *fsm.FSM, index uint64) {
				wantImage(t, f, "q", fsm.ImageActive, 100, sumA, []string{}, index)
			},
		},
		{
			name:  "removing a location that is not listed changes nothing",
			setup: onH1,
			cmd:   &fsm.RemoveImageLocation{ID: "q", Node: "h2", Time: t2},
			check: func(t *testing.T, f *fsm.FSM, index uint64) {
				wantImage(t, f, "q", fsm.ImageActive, 100, sumA, []string{"h1"}, index-1)
			},
		},
		{name: "remove a location of an unknown image", cmd: &fsm.RemoveImageLocation{ID: "q", Node: "h1"}, wantErr: fsm.ErrNotFound},
		{name: "remove a location without a node", setup: onH1, cmd: &fsm.RemoveImageLocation{ID: "q"}, wantErr: fsm.ErrInvalid},
	})
}

// A server needs an active image: a queued one is refused until its data is uploaded.
func TestServerFromUploadedImage(t *testing.T) {
	f := fsm.New()
	index := mustApply(t, f, 1,
		&fsm.Bootstrap{ClusterID: "c1", Time: t0, Flavors: fsm.DefaultFlavors(), NetworkCIDR: testCIDR},
		&fsm.CreateImage{Image: queuedImage("q")})
	create := &fsm.CreateInstances{RequestID: "r", Time: t1, Instances: []fsm.NewInstance{{ID: "a", Name: "a", FlavorID: "1", ImageID: "q"}}}
	assertBusinessError(t, applyErr(t, f, index, create), fsm.ErrConflict)
	mustApply(t, f, index+1, uploaded("q", "h1", 100, sumA), create)
}

// Image copies handed to readers do not share the state's slices.
func TestImageReadsAreCopies(t *testing.T) {
	f := fsm.New()
	mustApply(t, f, 1, &fsm.CreateImage{Image: queuedImage("q")}, uploaded("q", "h1", 100, sumA))
	img, _ := f.Image("q")
	img.Locations[0] = "mutated"
	if again, _ := f.Image("q"); again.Locations[0] != "h1" {
		t.Errorf("a reader changed the state: %q", again.Locations)
	}
}

func TestValidChecksum(t *testing.T) {
	for sum, want := range map[string]bool{
		sumA: true, sumB: true, "": false, sumA[:63]: false, sumA + "0": false,
		strings.ToUpper(sumA): false, "g" + sumA[1:]: false,
	} {
		if got := fsm.ValidChecksum(sum); got != want {
			t.Errorf("ValidChecksum(%q) = %v, want %v", sum, got, want)
		}
	}
}
