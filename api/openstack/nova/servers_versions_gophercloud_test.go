package nova_test

import (
	"context"
	"slices"
	"testing"

	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/servers"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/tags"

	"github.com/shoal-project/shoal/api/apitest"
	"github.com/shoal-project/shoal/api/openstack/nova"
)

// TestGophercloudServerMicroversions: gophercloud v2 at 2.90 creates a
// tagged server, reads the later fields and drives the tags API.
func TestGophercloudServerMicroversions(t *testing.T) {
	ctx := context.Background()
	e := newServersEnvWith(t, nova.NewUpTo("2.100"))
	c := e.compute(t, false)
	c.Microversion = "2.90"
	s, err := servers.Create(ctx, c, servers.CreateOpts{Name: "gc", ImageRef: apitest.CirrosID, FlavorRef: "1",
		Networks: "auto", Tags: []string{"one"}, Hostname: "gc-host"}, nil).Extract()
	if err != nil {
		t.Fatal(err)
	}
	got, err := servers.Get(ctx, c, s.ID).Extract()
	if err != nil {
		t.Fatal(err)
	}
	if got.Tags == nil || !slices.Equal(*got.Tags, []string{"one"}) || got.Locked == nil || *got.Locked ||
		got.Hostname == nil || *got.Hostname != "gc-host" || got.Flavor["original_name"] == nil {
		t.Errorf("server at 2.90: %+v", got)
	}
	list, err := tags.List(ctx, c, s.ID).Extract()
	if err != nil || !slices.Equal(list, []string{"one"}) {
		t.Errorf("tags.List: %v %v", list, err)
	}
	// The server is building: Nova takes no tag changes then (409).
	if err := tags.Add(ctx, c, s.ID, "two").ExtractErr(); err == nil {
		t.Error("tag added to a building server")
	}
	id := "a0000000-0000-4000-8000-0000000000c1"
	e.SeedServer(t, e.alpha, id, "active", apitest.CirrosID, apitest.NodeName)
	if err := tags.Add(ctx, c, id, "two").ExtractErr(); err != nil {
		t.Fatal(err)
	}
	if ok, err := tags.Check(ctx, c, id, "two").Extract(); err != nil || !ok {
		t.Errorf("tags.Check: %v %v", ok, err)
	}
	if replaced, err := tags.ReplaceAll(ctx, c, id, tags.ReplaceAllOpts{Tags: []string{"b", "a"}}).Extract(); err != nil ||
		!slices.Equal(replaced, []string{"a", "b"}) {
		t.Errorf("tags.ReplaceAll: %v %v", replaced, err)
	}
	if err := tags.Delete(ctx, c, id, "a").ExtractErr(); err != nil {
		t.Error(err)
	}
	if err := tags.DeleteAll(ctx, c, id).ExtractErr(); err != nil {
		t.Error(err)
	}
	pages, err := servers.List(c, servers.ListOpts{Tags: "b"}).AllPages(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if all, _ := servers.ExtractServers(pages); len(all) != 0 {
		t.Errorf("servers tagged b after delete all: %d", len(all))
	}
}
