package fsm_test

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/shoal-project/shoal/fsm"
)

// Two md5s of image data (hex).
const (
	md5A = "098f6bcd4621d373cade4e832627b4f6"
	md5B = "ad0234829205b9033196ba818f7a872b"
)

func imageUpdate(id string, changes ...fsm.ImageChange) *fsm.UpdateImage {
	return &fsm.UpdateImage{ID: id, Changes: changes, Time: t2}
}

func setField(field, value string) fsm.ImageChange {
	return fsm.ImageChange{Op: fsm.ImageOpReplace, Field: field, Value: value}
}

func property(op, key, value string) fsm.ImageChange {
	return fsm.ImageChange{Op: op, Property: key, Value: value}
}

func (w *world) image(id string) fsm.Image {
	w.t.Helper()
	img, err := w.f.Image(id)
	if err != nil {
		w.t.Fatalf("Image(%s): %v", id, err)
	}
	return img
}

func TestUpdateImage(t *testing.T) {
	w := newWorld(t, testCIDR)
	w.must(&fsm.CreateImage{Image: ownedImage("img-1", "p1", fsm.ImagePrivate)})
	index := w.next
	w.must(imageUpdate("img-1",
		setField(fsm.ImageFieldName, "renamed"),
		fsm.ImageChange{Op: fsm.ImageOpAdd, Field: fsm.ImageFieldVisibility, Value: fsm.ImageCommunity},
		fsm.ImageChange{Op: fsm.ImageOpReplace, Field: fsm.ImageFieldMinRAM, Number: 512},
		fsm.ImageChange{Op: fsm.ImageOpAdd, Field: fsm.ImageFieldMinDisk, Number: 3},
		fsm.ImageChange{Op: fsm.ImageOpReplace, Field: fsm.ImageFieldProtected, Flag: true},
		fsm.ImageChange{Op: fsm.ImageOpAdd, Field: fsm.ImageFieldTags, Tags: []string{"web", "base", "web"}},
		property(fsm.ImageOpAdd, "owner_specified.openstack.md5", md5A),
		property(fsm.ImageOpAdd, "hw:disk_bus", "virtio"),
		property(fsm.ImageOpReplace, "os_distro", "debian"),
	))
	img := w.image("img-1")
	wantProps := map[string]string{"os_distro": "debian", "owner_specified.openstack.md5": md5A, "hw:disk_bus": "virtio"}
	if img.Name != "renamed" || img.Visibility != fsm.ImageCommunity || img.MinRAM != 512 || img.MinDisk != 3 || !img.Protected ||
		!slices.Equal(img.Tags, []string{"base", "web"}) || !maps.Equal(img.Properties, wantProps) {
		t.Errorf("updated image = %+v", img)
	}
	if img.ModifyIndex != index || !img.Updated.Equal(t2) {
		t.Errorf("modify index %d updated %v, want %d %v", img.ModifyIndex, img.Updated, index, t2)
	}
	if !img.VisibleTo("p2") {
		t.Error("a community image is not visible to another project")
	}

	// One tag at a time: adding one twice changes nothing but the time;
	// removing a missing one is 404.
	w.must(imageUpdate("img-1", fsm.ImageChange{Op: fsm.ImageOpAdd, Field: fsm.ImageFieldTag, Value: "arm"}))
	w.must(imageUpdate("img-1", fsm.ImageChange{Op: fsm.ImageOpAdd, Field: fsm.ImageFieldTag, Value: "arm"}))
	w.must(imageUpdate("img-1", fsm.ImageChange{Op: fsm.ImageOpRemove, Field: fsm.ImageFieldTag, Value: "web"}))
	if img := w.image("img-1"); !slices.Equal(img.Tags, []string{"arm", "base"}) {
		t.Errorf("tags %v", img.Tags)
	}
	w.refuse(imageUpdate("img-1", fsm.ImageChange{Op: fsm.ImageOpRemove, Field: fsm.ImageFieldTag, Value: "web"}), fsm.ErrNotFound)

	// Protected images are not deleted (Glance's 403) until unprotected.
	err := w.refuse(&fsm.DeleteImage{ID: "img-1"}, fsm.ErrForbidden)
	if !strings.Contains(err.Error(), "Image img-1 is protected and cannot be deleted.") {
		t.Errorf("delete protected: %v", err)
	}
	w.must(imageUpdate("img-1",
		fsm.ImageChange{Op: fsm.ImageOpReplace, Field: fsm.ImageFieldProtected, Flag: false},
		fsm.ImageChange{Op: fsm.ImageOpReplace, Field: fsm.ImageFieldTags},
		property(fsm.ImageOpRemove, "os_distro", ""),
		property(fsm.ImageOpRemove, "hw:disk_bus", ""),
		property(fsm.ImageOpRemove, "owner_specified.openstack.md5", ""),
	))
	if img := w.image("img-1"); img.Tags != nil || img.Properties != nil {
		t.Errorf("emptied tags %#v, properties %#v; want nil", img.Tags, img.Properties)
	}
	w.must(&fsm.DeleteImage{ID: "img-1"})
}

// A failing change refuses the whole update: nothing changes.
func TestUpdateImageRejects(t *testing.T) {
	w := newWorld(t, testCIDR)
	w.must(&fsm.CreateImage{Image: ownedImage("img-1", "p1", fsm.ImagePrivate)})
	many := make([]string, fsm.MaxImageTags+1)
	for k := range many {
		many[k] = fmt.Sprint("t", k)
	}
	ok := setField(fsm.ImageFieldName, "fine")
	for _, tc := range []struct {
		name string
		ch   fsm.ImageChange
		want error
		msg  string
	}{
		{"unknown op", fsm.ImageChange{Op: "move", Field: fsm.ImageFieldName, Value: "x"}, fsm.ErrInvalid, ""},
		{"neither field nor property", fsm.ImageChange{Op: fsm.ImageOpAdd, Value: "x"}, fsm.ErrInvalid, ""},
		{"both field and property", fsm.ImageChange{Op: fsm.ImageOpAdd, Field: fsm.ImageFieldName, Property: "p", Value: "x"}, fsm.ErrInvalid, ""},
		{"empty name", setField(fsm.ImageFieldName, ""), fsm.ErrInvalid, ""},
		{"bad visibility", setField(fsm.ImageFieldVisibility, "everyone"), fsm.ErrInvalid, ""},
		{"negative min_ram", fsm.ImageChange{Op: fsm.ImageOpReplace, Field: fsm.ImageFieldMinRAM, Number: -1}, fsm.ErrInvalid, ""},
		{"remove a field", fsm.ImageChange{Op: fsm.ImageOpRemove, Field: fsm.ImageFieldMinDisk}, fsm.ErrForbidden, "Property min_disk may not be removed."},
		{"read-only field", setField("status", "active"), fsm.ErrForbidden, ""},
		{"reserved property", property(fsm.ImageOpAdd, "checksum", "x"), fsm.ErrForbidden, "Attribute 'checksum' is reserved."},
		{"replace a missing property", property(fsm.ImageOpReplace, "nope", "x"), fsm.ErrConflict, "Property nope does not exist."},
		{"remove a missing property", property(fsm.ImageOpRemove, "nope", ""), fsm.ErrConflict, "Property nope does not exist."},
		{"long property value", property(fsm.ImageOpAdd, "k", strings.Repeat("v", 256)), fsm.ErrInvalid, ""},
		{"control in a property key", property(fsm.ImageOpAdd, "a\nb", "v"), fsm.ErrInvalid, ""},
		{"empty tag", fsm.ImageChange{Op: fsm.ImageOpAdd, Field: fsm.ImageFieldTags, Tags: []string{""}}, fsm.ErrInvalid, ""},
		{"too many tags", fsm.ImageChange{Op: fsm.ImageOpAdd, Field: fsm.ImageFieldTags, Tags: many}, fsm.ErrInvalid, ""},
		{"replace one tag", fsm.ImageChange{Op: fsm.ImageOpReplace, Field: fsm.ImageFieldTag, Value: "x"}, fsm.ErrInvalid, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w.t = t
			// The good first change is undone with the bad one.
			err := w.refuse(imageUpdate("img-1", ok, tc.ch), tc.want)
			if !strings.Contains(err.Error(), tc.msg) {
				t.Errorf("err = %v, want %q", err, tc.msg)
			}
		})
	}
	w.t = t
	w.refuse(imageUpdate("img-1"), fsm.ErrInvalid)
	w.refuse(imageUpdate("nope", ok), fsm.ErrNotFound)

	// Properties are bounded: Glance's 128.
	var adds []fsm.ImageChange
	for k := range fsm.MaxImageProperties {
		adds = append(adds, property(fsm.ImageOpAdd, fmt.Sprint("k", k), "v"))
	}
	w.refuse(imageUpdate("img-1", adds...), fsm.ErrInvalid) // with os_distro: 129
	w.must(imageUpdate("img-1", append(adds[1:], property(fsm.ImageOpRemove, "os_distro", ""))...))
}

// The first upload records the md5 next to the sha256; later copies must
// agree, and a copy that has none to give changes nothing.
func TestImageMD5(t *testing.T) {
	w := newWorld(t, testCIDR)
	w.must(&fsm.CreateImage{Image: queuedImage("q")})
	up := uploaded("q", "h1", 100, sumA)
	up.MD5 = md5A
	w.must(up)
	if img := w.image("q"); img.MD5 != md5A || img.Checksum != sumA {
		t.Errorf("image = md5 %q sha256 %q", img.MD5, img.Checksum)
	}
	peer := uploaded("q", "h2", 100, sumA) // a peer's fetched copy: no md5
	w.must(peer)
	w.noop(uploaded("q", "h2", 100, sumA))
	other := uploaded("q", "h3", 100, sumA)
	other.MD5 = md5B
	w.refuse(other, fsm.ErrConflict)
	bad := uploaded("q", "h3", 100, sumA)
	bad.MD5 = strings.ToUpper(md5A)
	w.refuse(bad, fsm.ErrInvalid)

	// Data uploaded before md5s were kept gets one from the next record.
	w.must(&fsm.CreateImage{Image: queuedImage("old")}, uploaded("old", "h1", 100, sumA))
	again := uploaded("old", "h1", 100, sumA)
	again.MD5 = md5A
	w.must(again)
	if img := w.image("old"); img.MD5 != md5A || !slices.Equal(img.Locations, []string{"h1"}) {
		t.Errorf("old image = %+v", img)
	}

	// At create: md5 and tags are checked, tags kept as a sorted set.
	img := ownedImage("img-t", "p1", fsm.ImageCommunity)
	img.Tags = []string{"b", "a", "b"}
	w.must(&fsm.CreateImage{Image: img})
	if got := w.image("img-t"); !slices.Equal(got.Tags, []string{"a", "b"}) {
		t.Errorf("tags %v", got.Tags)
	}
	img.ID, img.MD5 = "img-m", "nope"
	w.refuse(&fsm.CreateImage{Image: img}, fsm.ErrInvalid)
}
