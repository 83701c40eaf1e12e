package neutron_test

import (
	"reflect"
	"testing"

	"github.com/shoal-project/shoal/api/apitest"
	"github.com/shoal-project/shoal/api/openstack/osapi"
)

func TestNetworks(t *testing.T) {
	f := newFixture(t)
	tenant, public := f.tenantNet(), apitest.PublicNetworkID

	out := f.mustCall(t, ok, "GET", v2+"/networks", "", f.alice.Token)
	if got := ids(out["networks"]); !reflect.DeepEqual(got, []string{tenant, public}) {
		t.Fatalf("networks %v, want the tenant network then public", got)
	}
	n := out["networks"].([]any)[0].(map[string]any)
	want := map[string]any{"id": tenant, "name": "default", "status": "ACTIVE", "admin_state_up": true, "shared": true,
		"router:external": false, "subnets": []any{osapi.SubnetID(tenant)}, "description": "", "tags": []any{}}
	for k, v := range want {
		if !reflect.DeepEqual(n[k], v) {
			t.Errorf("tenant network %s = %v, want %v", k, n[k], v)
		}
	}
	for _, k := range []string{"project_id", "tenant_id", "created_at", "updated_at", "revision_number", "availability_zones"} {
		if _, ok := n[k]; !ok {
			t.Errorf("tenant network lacks %s: %v", k, n)
		}
	}
	ext := out["networks"].([]any)[1].(map[string]any)
	if ext["router:external"] != true || ext["shared"] != false || ext["name"] != "public" {
		t.Errorf("external network %v", ext)
	}

	for _, c := range []struct {
		query string
		want  []string
	}{
		{"router:external=true", []string{public}},
		{"router:external=False", []string{tenant}},
		{"name=default", []string{tenant}},
		{"id=" + public, []string{public}},
		{"shared=true", []string{tenant}},
		{"name=public&name=default", []string{tenant, public}},
		{"no_such_filter=1", []string{tenant, public}}, // unknown filters are ignored
		{"limit=1", []string{tenant}},
		{"limit=1&marker=" + tenant, []string{public}},
	} {
		out := f.mustCall(t, ok, "GET", v2+"/networks?"+c.query, "", f.alice.Token)
		if got := ids(out["networks"]); !reflect.DeepEqual(got, c.want) {
			t.Errorf("?%s: %v, want %v", c.query, got, c.want)
		}
	}
	paged := f.mustCall(t, ok, "GET", v2+"/networks?limit=1", "", f.alice.Token)
	if links, _ := paged["networks_links"].([]any); len(links) != 1 {
		t.Errorf("a first page has no next link: %v", paged)
	}
	trimmed := f.mustCall(t, ok, "GET", v2+"/networks?fields=id&fields=name", "", f.alice.Token)
	if n := trimmed["networks"].([]any)[0].(map[string]any); len(n) != 2 || n["name"] != "default" {
		t.Errorf("fields=id,name: %v", n)
	}

	// The tenant network answers to its Neutron ID and to shoal's; a name
	// is no ID (the SDK then lists with ?name=).
	for _, id := range []string{tenant, "default"} {
		if got := f.mustCall(t, ok, "GET", v2+"/networks/"+id, "", f.alice.Token); got["network"].(map[string]any)["id"] != tenant {
			t.Errorf("GET networks/%s = %v", id, got)
		}
	}
	status, body := f.call(t, "GET", v2+"/networks/public", "", f.alice.Token)
	if typ, msg := neutronError(t, body); status != notFound || typ != "NetworkNotFound" || msg != "Network public could not be found." {
		t.Errorf("network by name: %d %s %q", status, typ, msg)
	}

	// An admin makes an external network with its subnet, and deletes it.
	created := f.mustCall(t, created, "POST", v2+"/networks",
		`{"network":{"name":"ext2","router:external":true,"cidr":"10.77.0.0/24","gateway_ip":"10.77.0.1",
		  "allocation_pools":[{"start":"10.77.0.10","end":"10.77.0.20"}]}}`, apitest.AdminToken)["network"].(map[string]any)
	id := created["id"].(string)
	if created["router:external"] != true || created["name"] != "ext2" {
		t.Errorf("created network %v", created)
	}
	sub := f.mustCall(t, ok, "GET", v2+"/subnets/"+osapi.SubnetID(id), "", f.alice.Token)["subnet"].(map[string]any)
	if sub["cidr"] != "10.77.0.0/24" || sub["gateway_ip"] != "10.77.0.1" ||
		!reflect.DeepEqual(sub["allocation_pools"], []any{map[string]any{"start": "10.77.0.10", "end": "10.77.0.20"}}) {
		t.Errorf("its subnet %v", sub)
	}
	f.mustCall(t, noContent, "DELETE", v2+"/networks/"+id, "", apitest.AdminToken)
	f.mustCall(t, notFound, "GET", v2+"/networks/"+id, "", apitest.AdminToken)
}

func TestSubnets(t *testing.T) {
	f := newFixture(t)
	tenant := f.tenantNet()
	out := f.mustCall(t, ok, "GET", v2+"/subnets", "", f.alice.Token)
	if got := ids(out["subnets"]); !reflect.DeepEqual(got, []string{osapi.SubnetID(tenant), osapi.SubnetID(apitest.PublicNetworkID)}) {
		t.Fatalf("subnets %v", got)
	}
	s := f.mustCall(t, ok, "GET", v2+"/subnets/"+osapi.SubnetID(tenant), "", f.alice.Token)["subnet"].(map[string]any)
	want := map[string]any{"network_id": tenant, "cidr": "10.88.0.0/16", "gateway_ip": "10.88.0.1", "ip_version": 4.0,
		"enable_dhcp": true, "dns_nameservers": []any{}, "host_routes": []any{}, "name": "default",
		"allocation_pools": []any{map[string]any{"start": "10.88.0.2", "end": "10.88.255.254"}}}
	for k, v := range want {
		if !reflect.DeepEqual(s[k], v) {
			t.Errorf("tenant subnet %s = %v, want %v", k, s[k], v)
		}
	}
	byNet := f.mustCall(t, ok, "GET", v2+"/subnets?network_id="+apitest.PublicNetworkID, "", f.alice.Token)
	if got := ids(byNet["subnets"]); len(got) != 1 || got[0] != osapi.SubnetID(apitest.PublicNetworkID) {
		t.Errorf("?network_id=public: %v", got)
	}
	status, body := f.call(t, "GET", v2+"/subnets/"+tenant, "", f.alice.Token)
	if typ, _ := neutronError(t, body); status != notFound || typ != "SubnetNotFound" {
		t.Errorf("a network's ID as a subnet's: %d %s", status, typ)
	}
}
