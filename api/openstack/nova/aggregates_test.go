package nova_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/aggregates"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/availabilityzones"

	"github.com/shoal-project/shoal/api/apitest"
	"github.com/shoal-project/shoal/api/openstack/nova"
)

// Aggregates through gophercloud: CRUD, hosts, metadata; the zone of an
// aggregate is its hosts' zone in the zone list and the services.
func TestGophercloudAggregates(t *testing.T) {
	ctx := context.Background()
	e, _ := computeEnv(t)
	admin := computeClient(t, e.AdminProvider(t))

	plain, err := aggregates.Create(ctx, admin, aggregates.CreateOpts{Name: "plain"}).Extract()
	if err != nil || plain.ID != 1 || plain.Name != "plain" || plain.AvailabilityZone != "" || plain.UUID != "" || plain.CreatedAt.IsZero() {
		t.Fatalf("create: %+v %v", plain, err)
	}
	zoned, err := aggregates.Create(ctx, admin, aggregates.CreateOpts{Name: "zoned", AvailabilityZone: "az1"}).Extract()
	if err != nil || zoned.AvailabilityZone != "az1" {
		t.Fatalf("create in a zone: %+v %v", zoned, err)
	}
	_, err = aggregates.Create(ctx, admin, aggregates.CreateOpts{Name: "plain"}).Extract()
	wantFault(t, "a name taken", err, http.StatusConflict, "conflictingRequest")

	a, err := aggregates.AddHost(ctx, admin, zoned.ID, aggregates.AddHostOpts{Host: "node2"}).Extract()
	if err != nil || len(a.Hosts) != 1 || a.Hosts[0] != "node2" {
		t.Errorf("add host: %+v %v", a, err)
	}
	_, err = aggregates.AddHost(ctx, admin, zoned.ID, aggregates.AddHostOpts{Host: "nohost"}).Extract()
	wantFault(t, "an unknown host", err, http.StatusNotFound, "itemNotFound")
	_, err = aggregates.AddHost(ctx, admin, zoned.ID, aggregates.AddHostOpts{Host: "node2"}).Extract()
	wantFault(t, "a host twice", err, http.StatusConflict, "conflictingRequest")

	// node2 is now in az1: the zone list and its service say so.
	pages, err := availabilityzones.ListDetail(admin).AllPages(ctx)
	zones, _ := availabilityzones.ExtractAvailabilityZones(pages)
	names := []string{}
	for _, z := range zones {
		names = append(names, z.ZoneName)
	}
	if err != nil || strings.Join(names, ",") != "az1,nova" {
		t.Errorf("zones: %v %v", names, err)
	}
	if raw := get(t, e, "/compute/v2.1/os-services?host=node2", apitest.AdminToken); !strings.Contains(string(raw), `"zone":"az1"`) {
		t.Errorf("node2's service: %s", raw)
	}
	if raw := get(t, e, "/compute/v2.1/os-hosts", apitest.AdminToken); !strings.Contains(string(raw), `{"host_name":"node2","service":"compute","zone":"az1"}`) {
		t.Errorf("os-hosts: %s", raw)
	}
	// node1 has a server: it may not move to az2.
	other, _ := aggregates.Create(ctx, admin, aggregates.CreateOpts{Name: "other", AvailabilityZone: "az2"}).Extract()
	_, err = aggregates.AddHost(ctx, admin, other.ID, aggregates.AddHostOpts{Host: apitest.NodeName}).Extract()
	wantFault(t, "a host whose server would change zone", err, http.StatusConflict, "conflictingRequest")
	_, err = aggregates.AddHost(ctx, admin, other.ID, aggregates.AddHostOpts{Host: "node2"}).Extract()
	wantFault(t, "a host in another zone", err, http.StatusConflict, "conflictingRequest")

	a, err = aggregates.SetMetadata(ctx, admin, plain.ID, aggregates.SetMetadataOpts{Metadata: map[string]any{"ssd": "yes", "gpu": "no"}}).Extract()
	if err != nil || len(a.Metadata) != 2 || a.Metadata["ssd"] != "yes" {
		t.Errorf("set metadata: %+v %v", a, err)
	}
	a, err = aggregates.SetMetadata(ctx, admin, plain.ID, aggregates.SetMetadataOpts{Metadata: map[string]any{"gpu": nil}}).Extract()
	if err != nil || len(a.Metadata) != 1 {
		t.Errorf("remove a key: %+v %v", a, err)
	}
	a, err = aggregates.Update(ctx, admin, plain.ID, aggregates.UpdateOpts{Name: "renamed"}).Extract()
	if err != nil || a.Name != "renamed" || a.UpdatedAt.IsZero() {
		t.Errorf("update: %+v %v", a, err)
	}
	_, err = aggregates.Update(ctx, admin, plain.ID, aggregates.UpdateOpts{Name: "zoned"}).Extract()
	wantFault(t, "rename to a name taken", err, http.StatusConflict, "conflictingRequest")

	pages, err = aggregates.List(admin).AllPages(ctx)
	all, _ := aggregates.ExtractAggregates(pages)
	if err != nil || len(all) != 3 || all[0].Name != "renamed" || all[1].Hosts[0] != "node2" {
		t.Errorf("list: %+v %v", all, err)
	}

	err = aggregates.Delete(ctx, admin, zoned.ID).ExtractErr()
	wantFault(t, "delete with hosts", err, http.StatusBadRequest, "badRequest")
	if a, err := aggregates.RemoveHost(ctx, admin, zoned.ID, aggregates.RemoveHostOpts{Host: "node2"}).Extract(); err != nil || len(a.Hosts) != 0 {
		t.Errorf("remove host: %+v %v", a, err)
	}
	_, err = aggregates.RemoveHost(ctx, admin, zoned.ID, aggregates.RemoveHostOpts{Host: "node2"}).Extract()
	wantFault(t, "remove a host not in it", err, http.StatusNotFound, "itemNotFound")
	if err := aggregates.Delete(ctx, admin, zoned.ID).ExtractErr(); err != nil {
		t.Errorf("delete: %v", err)
	}
	_, err = aggregates.Get(ctx, admin, zoned.ID).Extract()
	wantFault(t, "get deleted", err, http.StatusNotFound, "itemNotFound")
}

// Nova's answers to bad input, the 2.41 uuid, and admin only.
func TestAggregatesWire(t *testing.T) {
	e := apitest.New(t, nova.NewUpTo("2.41"))
	e.SeedHosts(t, apitest.NodeName)
	admin := apitest.AdminToken
	const base = "/compute/v2.1/os-aggregates"
	resp, raw := e.Do(t, "POST", base, `{"aggregate":{"name":"a1","availability_zone":null}}`, admin)
	if resp.StatusCode != 200 || !strings.Contains(string(raw), `"availability_zone":null`) || strings.Contains(string(raw), "hosts") ||
		strings.Contains(string(raw), "uuid") || !strings.Contains(string(raw), `"deleted_at":null,"deleted":false`) {
		t.Errorf("create: %d %s", resp.StatusCode, raw)
	}
	resp, raw = e.Do(t, "GET", base+"/1", "", admin, "X-OpenStack-Nova-API-Version", "2.41")
	if resp.StatusCode != 200 || !strings.Contains(string(raw), `"uuid":"`) || !strings.Contains(string(raw), `"hosts":[],"metadata":{}`) {
		t.Errorf("show at 2.41: %d %s", resp.StatusCode, raw)
	}
	_, before := e.Do(t, "GET", base+"/1", "", admin)
	for _, c := range []struct {
		method, path, body string
		status             int
		message            string
	}{
		{"GET", "/x", "", 400, "Invalid input received: id must be an integer"},
		{"GET", "/9", "", 404, "Aggregate 9 could not be found."},
		{"GET", "/-1", "", 404, "Aggregate -1 could not be found."},
		{"DELETE", "/-1", "", 404, "Aggregate -1 could not be found."},
		{"DELETE", "/9", "", 404, "Aggregate 9 could not be found."},
		{"POST", "", `{"aggregate":{}}`, 400, "Invalid input for field/attribute aggregate. Value: {}. 'name' is a required property"},
		{"POST", "", `{"aggregate":{"name":" a"}}`, 400, "An invalid 'name' value was provided. The name must be: printable characters. Can not start or end with whitespace."},
		{"POST", "", `{"aggregate":{"name":"a2","x":1}}`, 400, "Invalid input for field/attribute aggregate. Value: {\"name\":\"a2\",\"x\":1}. Additional properties are not allowed ('x' was unexpected)"},
		{"POST", "", `{"aggregate":{"name":"a1"}}`, 409, "Aggregate a1 already exists."},
		{"PUT", "/1", `{"aggregate":{}}`, 400, "Invalid input for field/attribute aggregate. Value: {}. {} is not valid under any of the given schemas"},
		{"PUT", "/1", `{"aggregate":{"availability_zone":null}}`, 400, "Cannot update aggregate 1. Reason: Aggregate a1 does not support empty named availability zone."},
		{"POST", "/1/action", `{"add_host":{"host":"nohost"}}`, 404, "Compute host nohost could not be found."},
		{"POST", "/1/action", `{"add_host":{"host":"bad host"}}`, 400, "Invalid input for field/attribute add_host/host. Value: \"bad host\". 'bad host' does not match '^[a-zA-Z0-9-._]*$'"},
		{"POST", "/1/action", `{"remove_host":{"host":"node1"}}`, 404, "Cannot remove host node1 in aggregate 1"},
		{"POST", "/1/action", `{"set_metadata":{"metadata":{"availability_zone":""}}}`, 400,
			"Cannot update metadata of aggregate 1. Reason: Aggregate a1 does not support empty named availability zone."},
		{"POST", "/1/action", `{"set_metadata":{}}`, 400, "Invalid input for field/attribute set_metadata. Value: {}. 'metadata' is a required property"},
		{"POST", "/1/action", `{"nothing":{}}`, 400, "There is no such action: {\"nothing\":{}}"},
	} {
		resp, raw := e.Do(t, c.method, base+c.path, c.body, admin)
		if resp.StatusCode != c.status || faultMessage(t, raw) != c.message {
			t.Errorf("%s %s %s: %d %s", c.method, c.path, c.body, resp.StatusCode, raw)
		}
	}
	if _, after := e.Do(t, "GET", base+"/1", "", admin); string(after) != string(before) {
		t.Errorf("refused requests changed the aggregate: %s → %s", before, after)
	}
	alpha := e.AddTenant(t, "alpha", "member")
	if resp, _ := e.Do(t, "POST", base, `{"aggregate":{"name":"x"}}`, alpha.Token); resp.StatusCode != 403 {
		t.Errorf("member create: %d", resp.StatusCode)
	}
	if resp, _ := e.Do(t, "DELETE", base+"/1", "", admin); resp.StatusCode != 200 {
		t.Errorf("delete: %d", resp.StatusCode)
	}
}
