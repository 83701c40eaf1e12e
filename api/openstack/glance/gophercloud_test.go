package glance_test

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"slices"
	"testing"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack"
	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/imagedata"
	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/images"
	"github.com/gophercloud/gophercloud/v2/pagination"
)

// glanceError is the Glance error body a gophercloud error carried.
func glanceError(t *testing.T, err error, status int) map[string]any {
	t.Helper()
	var code gophercloud.ErrUnexpectedResponseCode
	if !errors.As(err, &code) || code.Actual != status {
		t.Fatalf("got %v, want a %d", err, status)
	}
	var body map[string]any
	if err := json.Unmarshal(code.Body, &body); err != nil || body["code"] != itoa(status)+" "+http.StatusText(status) {
		t.Fatalf("%d body %q is not Glance's", status, code.Body)
	}
	return body
}

// TestGophercloud drives every image route through gophercloud's image v2
// client, found in the catalog of a Keystone login.
func TestGophercloud(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	client, err := openstack.NewImageV2(e.TenantProvider(t, e.alice), gophercloud.EndpointOpts{Region: "RegionOne"})
	if err != nil {
		t.Fatal(err)
	}
	if client.ResourceBase != e.URL()+"/image/v2/" {
		t.Fatalf("resource base %q", client.ResourceBase)
	}

	data := bytes.Repeat([]byte("shoal image "), 1000)
	md5sum, shasum := md5.Sum(data), sha256.Sum256(data)
	private := images.ImageVisibilityPrivate
	img, err := images.Create(ctx, client, images.CreateOpts{Name: "tiny", DiskFormat: "raw", ContainerFormat: "bare",
		Visibility: &private, Tags: []string{"b", "a"}, MinRAM: 64,
		Properties: map[string]string{"owner_specified.openstack.md5": hex.EncodeToString(md5sum[:]), "hw:cpu_policy": "dedicated"}}).Extract()
	if err != nil {
		t.Fatal(err)
	}
	if img.Status != images.ImageStatusQueued || img.Visibility != private || img.MinRAMMegabytes != 64 || img.Checksum != "" ||
		img.Owner != e.alice.ProjectID || img.Properties["hw:cpu_policy"] != "dedicated" || img.File != "/v2/images/"+img.ID+"/file" {
		t.Fatalf("created %+v", img)
	}

	if err := imagedata.Upload(ctx, client, img.ID, bytes.NewReader(data)).ExtractErr(); err != nil {
		t.Fatal(err)
	}
	img, err = images.Get(ctx, client, img.ID).Extract()
	if err != nil {
		t.Fatal(err)
	}
	if img.Status != images.ImageStatusActive || img.SizeBytes != int64(len(data)) || img.Checksum != hex.EncodeToString(md5sum[:]) ||
		img.Properties["os_hash_algo"] != "sha256" || img.Properties["os_hash_value"] != hex.EncodeToString(shasum[:]) {
		t.Fatalf("uploaded %+v", img)
	}
	dl := imagedata.Download(ctx, client, img.ID)
	rc, err := dl.Extract()
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(rc)
	rc.Close()
	if !bytes.Equal(got, data) || dl.Header.Get("Content-MD5") != img.Checksum {
		t.Fatalf("downloaded %d bytes, Content-MD5 %q", len(got), dl.Header.Get("Content-MD5"))
	}

	// List: filters, and paging followed through next.
	for _, name := range []string{"p1", "p2", "p3", "p4"} {
		if _, err := images.Create(ctx, client, images.CreateOpts{Name: name, DiskFormat: "qcow2", ContainerFormat: "bare",
			Tags: []string{"paged"}}).Extract(); err != nil {
			t.Fatal(err)
		}
	}
	list := func(opts images.ListOpts) []string {
		t.Helper()
		var names []string
		pages := 0
		err := images.List(client, opts).EachPage(ctx, func(_ context.Context, p pagination.Page) (bool, error) {
			pages++
			imgs, err := images.ExtractImages(p)
			for _, i := range imgs {
				names = append(names, i.Name)
			}
			return true, err
		})
		if err != nil {
			t.Fatal(err)
		}
		return names
	}
	if got := list(images.ListOpts{Tags: []string{"paged"}, Limit: 3, SortKey: "name", SortDir: "asc"}); !slices.Equal(got, []string{"p1", "p2", "p3", "p4"}) {
		t.Fatalf("paged list %v", got)
	}
	if got := list(images.ListOpts{Name: "tiny", Visibility: private, Status: images.ImageStatusActive}); !slices.Equal(got, []string{"tiny"}) {
		t.Fatalf("filtered list %v", got)
	}
	if got := list(images.ListOpts{Name: "in:p2,p3", Sort: "name:desc"}); !slices.Equal(got, []string{"p3", "p2"}) {
		t.Fatalf("in: list %v", got)
	}

	// Update: the patch kinds gophercloud has.
	img, err = images.Update(ctx, client, img.ID, images.UpdateOpts{
		images.ReplaceImageName{NewName: "renamed"},
		images.ReplaceImageTags{NewTags: []string{"x", "y"}},
		images.ReplaceImageMinDisk{NewMinDisk: 2},
		images.ReplaceImageMinRam{NewMinRam: 128},
		images.UpdateImageProperty{Op: images.AddOp, Name: "os_distro", Value: "cirros"},
		images.UpdateImageProperty{Op: images.ReplaceOp, Name: "hw:cpu_policy", Value: "shared"},
		images.UpdateImageProperty{Op: images.RemoveOp, Name: "owner_specified.openstack.md5"},
		images.ReplaceImageProtected{NewProtected: true},
	}).Extract()
	if err != nil {
		t.Fatal(err)
	}
	_, hasMD5 := img.Properties["owner_specified.openstack.md5"]
	if img.Name != "renamed" || !slices.Equal(img.Tags, []string{"x", "y"}) || img.MinDiskGigabytes != 2 || img.MinRAMMegabytes != 128 ||
		img.Properties["os_distro"] != "cirros" || img.Properties["hw:cpu_policy"] != "shared" || hasMD5 || !img.Protected {
		t.Fatalf("updated %+v", img)
	}
	_, err = images.Update(ctx, client, img.ID, images.UpdateOpts{images.ReplaceImageChecksum{Checksum: "x"}}).Extract()
	if body := glanceError(t, err, http.StatusForbidden); body["message"] != "Attribute 'checksum' is read-only." {
		t.Fatalf("checksum patch: %v", body)
	}

	// A protected image is not deleted; once unprotected it is.
	err = images.Delete(ctx, client, img.ID).ExtractErr()
	if body := glanceError(t, err, http.StatusForbidden); body["message"] != "Image "+img.ID+" is protected and cannot be deleted." {
		t.Fatalf("protected delete: %v", body)
	}
	if _, err := images.Update(ctx, client, img.ID, images.UpdateOpts{images.ReplaceImageProtected{NewProtected: false}}).Extract(); err != nil {
		t.Fatal(err)
	}
	if err := images.Delete(ctx, client, img.ID).ExtractErr(); err != nil {
		t.Fatal(err)
	}
	_, err = images.Get(ctx, client, img.ID).Extract()
	if body := glanceError(t, err, http.StatusNotFound); body["message"] != "No image found with ID "+img.ID {
		t.Fatalf("deleted get: %v", body)
	}
}
