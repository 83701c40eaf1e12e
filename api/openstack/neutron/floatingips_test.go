package neutron_test

import (
	"reflect"
	"testing"

	"github.com/shoal-project/shoal/api/apitest"
	"github.com/shoal-project/shoal/api/openstack/osapi"
)

func TestFloatingIPs(t *testing.T) {
	f := newFixture(t)
	port, fixed := portOf(f.web), f.web.Addresses[0].IP
	public := apitest.PublicNetworkID

	fip := f.mustCall(t, created, "POST", v2+"/floatingips",
		`{"floatingip":{"floating_network_id":"`+public+`"}}`, f.alice.Token)["floatingip"].(map[string]any)
	id := fip["id"].(string)
	want := map[string]any{"floating_ip_address": "10.66.0.200", "floating_network_id": public, "port_id": nil,
		"fixed_ip_address": nil, "router_id": nil, "status": "DOWN", "description": "", "tags": []any{},
		"project_id": f.alice.ProjectID, "tenant_id": f.alice.ProjectID}
	for k, v := range want {
		if !reflect.DeepEqual(fip[k], v) {
			t.Errorf("new floating IP %s = %v, want %v", k, fip[k], v)
		}
	}

	// The CLI's `server add floating ip`: find the port by device_id, PUT it.
	ports := ids(f.mustCall(t, ok, "GET", v2+"/ports?device_id="+f.web.ID, "", f.alice.Token)["ports"])
	if len(ports) != 1 || ports[0] != port {
		t.Fatalf("ports of web %v", ports)
	}
	put := f.mustCall(t, ok, "PUT", v2+"/floatingips/"+id, `{"floatingip":{"port_id":"`+port+`"}}`, f.alice.Token)["floatingip"].(map[string]any)
	if put["port_id"] != port || put["fixed_ip_address"] != fixed || put["status"] != "ACTIVE" {
		t.Errorf("associated floating IP %v", put)
	}
	server, _ := f.FSM.Instance(f.web.ID)
	if fips := f.mustCall(t, ok, "GET", v2+"/floatingips?port_id="+port, "", f.alice.Token)["floatingips"]; len(ids(fips)) != 1 {
		t.Errorf("?port_id= lists %v", fips)
	}
	if got, _ := f.FSM.FloatingIP(id); got.InstanceID != server.ID {
		t.Errorf("state: floating IP on %q", got.InstanceID)
	}
	// Again to the same port: nothing to do, 200.
	f.mustCall(t, ok, "PUT", v2+"/floatingips/"+id, `{"floatingip":{"port_id":"`+port+`","fixed_ip_address":"`+fixed+`"}}`, f.alice.Token)

	// The SDK's find_ip: GET by address is 404, then a list filtered by it.
	status, body := f.call(t, "GET", v2+"/floatingips/10.66.0.200", "", f.alice.Token)
	if typ, _ := neutronError(t, body); status != notFound || typ != "FloatingIPNotFound" {
		t.Errorf("GET by address: %d %s", status, typ)
	}
	byAddr := f.mustCall(t, ok, "GET", v2+"/floatingips?floating_ip_address=10.66.0.200", "", f.alice.Token)
	if got := ids(byAddr["floatingips"]); !reflect.DeepEqual(got, []string{id}) {
		t.Errorf("?floating_ip_address=: %v", got)
	}
	if got := ids(f.mustCall(t, ok, "GET", v2+"/floatingips", "", f.bob.Token)["floatingips"]); got != nil {
		t.Errorf("bob lists alice's floating IPs: %v", got)
	}
	f.mustCall(t, notFound, "GET", v2+"/floatingips/"+id, "", f.bob.Token)

	// Detach (twice: the second changes nothing), then delete.
	for range 2 {
		put = f.mustCall(t, ok, "PUT", v2+"/floatingips/"+id, `{"floatingip":{"port_id":null}}`, f.alice.Token)["floatingip"].(map[string]any)
		if put["port_id"] != nil || put["fixed_ip_address"] != nil || put["status"] != "DOWN" {
			t.Errorf("detached floating IP %v", put)
		}
	}
	f.mustCall(t, noContent, "DELETE", v2+"/floatingips/"+id, "", f.alice.Token)
	f.mustCall(t, notFound, "GET", v2+"/floatingips/"+id, "", f.alice.Token)

	// Created on a port at once; moved to another server's port by PUT.
	fip = f.mustCall(t, created, "POST", v2+"/floatingips",
		`{"floatingip":{"floating_network_id":"`+public+`","subnet_id":"`+osapi.SubnetID(public)+`","port_id":"`+port+`"}}`,
		f.alice.Token)["floatingip"].(map[string]any)
	if fip["port_id"] != port || fip["status"] != "ACTIVE" {
		t.Errorf("created on a port: %v", fip)
	}
	second := f.SeedServer(t, f.alice, "5e000000-0000-4000-8000-000000000003", "web2", apitest.CirrosID, apitest.NodeName)
	moved := f.mustCall(t, ok, "PUT", v2+"/floatingips/"+fip["id"].(string),
		`{"floatingip":{"port_id":"`+portOf(second)+`"}}`, f.alice.Token)["floatingip"].(map[string]any)
	if moved["port_id"] != portOf(second) || moved["fixed_ip_address"] != second.Addresses[0].IP {
		t.Errorf("moved floating IP %v", moved)
	}

	// An admin chooses the address; a member may not.
	mine := f.mustCall(t, created, "POST", v2+"/floatingips",
		`{"floatingip":{"floating_network_id":"`+public+`","floating_ip_address":"10.66.0.230"}}`, apitest.AdminToken)
	if mine["floatingip"].(map[string]any)["floating_ip_address"] != "10.66.0.230" {
		t.Errorf("admin's chosen address: %v", mine)
	}
	all := f.mustCall(t, ok, "GET", v2+"/floatingips", "", apitest.AdminToken)
	if n := len(ids(all["floatingips"])); n != 2 {
		t.Errorf("admin lists %d floating IPs, want every project's 2", n)
	}
}
