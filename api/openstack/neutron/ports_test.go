package neutron_test

import (
	"bytes"

	"io"
	"reflect"
	"testing"

	"github.com/shoal-project/shoal/api"
	"github.com/shoal-project/shoal/api/apitest"
	"github.com/shoal-project/shoal/api/openstack/neutron"
	"github.com/shoal-project/shoal/api/openstack/osapi"
	"github.com/shoal-project/shoal/fsm"
)

func TestPorts(t *testing.T) {
	f := newFixture(t)
	web := f.web
	port := portOf(web)

	out := f.mustCall(t, ok, "GET", v2+"/ports", "", f.alice.Token)
	if got := ids(out["ports"]); !reflect.DeepEqual(got, []string{port}) {
		t.Fatalf("alice's ports %v, want her server's one", got)
	}
	p := out["ports"].([]any)[0].(map[string]any)
	defaultGroup := fsm.DefaultSecurityGroupID(f.alice.ProjectID)
	want := map[string]any{"network_id": f.tenantNet(), "device_id": web.ID, "device_owner": "compute:nova",
		"mac_address": web.Addresses[0].MAC, "status": "ACTIVE", "admin_state_up": true,
		"fixed_ips":       []any{map[string]any{"subnet_id": osapi.SubnetID(f.tenantNet()), "ip_address": web.Addresses[0].IP}},
		"security_groups": []any{defaultGroup}, "project_id": f.alice.ProjectID, "tenant_id": f.alice.ProjectID}
	for k, v := range want {
		if !reflect.DeepEqual(p[k], v) {
			t.Errorf("port %s = %v, want %v", k, p[k], v)
		}
	}
	if _, ok := p["binding:host_id"]; ok {
		t.Errorf("a member sees binding:host_id: %v", p)
	}

	for _, c := range []struct {
		query string
		want  []string
	}{
		{"device_id=" + web.ID, []string{port}},
		{"device_id=" + f.db.ID, nil}, // bob's server: not alice's to see
		{"network_id=" + f.tenantNet(), []string{port}},
		{"mac_address=" + web.Addresses[0].MAC, []string{port}},
		{"fixed_ips=ip_address%3D" + web.Addresses[0].IP, []string{port}},
		{"fixed_ips=ip_address%3D10.1.2.3", nil},
		{"binding:host_id=elsewhere", []string{port}}, // not shown to a member: filters nothing
	} {
		got := ids(f.mustCall(t, ok, "GET", v2+"/ports?"+c.query, "", f.alice.Token)["ports"])
		if !reflect.DeepEqual(got, c.want) {
			t.Errorf("?%s: %v, want %v", c.query, got, c.want)
		}
	}
	f.mustCall(t, ok, "GET", v2+"/ports/"+port, "", f.aliceReader.Token)
	status, body := f.call(t, "GET", v2+"/ports/"+portOf(f.db), "", f.alice.Token)
	if typ, _ := neutronError(t, body); status != notFound || typ != "PortNotFound" {
		t.Errorf("bob's port for alice: %d %s", status, typ)
	}

	admin := f.mustCall(t, ok, "GET", v2+"/ports?binding:host_id=node2", "", apitest.AdminToken)
	if got := ids(admin["ports"]); !reflect.DeepEqual(got, []string{portOf(f.db)}) {
		t.Errorf("admin ?binding:host_id=node2: %v", got)
	}

	// A stopped server's port is DOWN, with the same ID.
	f.Apply(t, &fsm.ReportInstances{Host: apitest.NodeName, Time: apitest.SeedTime, Reports: []fsm.InstanceReport{
		{ID: web.ID, PowerState: fsm.PowerShutdown}}})
	p = f.mustCall(t, ok, "GET", v2+"/ports/"+port, "", f.alice.Token)["port"].(map[string]any)
	if p["status"] != "DOWN" {
		t.Errorf("stopped server's port %v", p)
	}
}

// TestPortIDsAreReplicated shows a port's ID is a function of replicated
// data alone: a node restored from another's snapshot (a follower
// catching up, or a node after a restart) lists the same ports, and they
// are osapi.PortID of each server and MAC.
func TestPortIDsAreReplicated(t *testing.T) {
	f := newFixture(t)
	before := f.mustCall(t, ok, "GET", v2+"/ports", "", apitest.AdminToken)

	restored := fsm.New()
	if err := restored.Restore(io.NopCloser(bytes.NewReader(snapshot(t, f.FSM)))); err != nil {
		t.Fatal(err)
	}
	other := apitest.NewWith(t, apitest.Options{Modules: []api.Module{neutron.New()},
		Config: func(c *api.Config) { c.State = restored }})
	resp, _ := other.Do(t, "GET", v2+"/ports", "", apitest.AdminToken)
	after := (&fixture{Env: other}).mustCall(t, ok, "GET", v2+"/ports", "", apitest.AdminToken)
	if !reflect.DeepEqual(before, after) {
		t.Errorf("ports differ across nodes:\n%v\n%v", before, after)
	}
	want := []string{portOf(f.web), portOf(f.db)}
	if got := ids(after["ports"]); !reflect.DeepEqual(got, want) || resp.StatusCode != ok {
		t.Errorf("ports %v, want %v", got, want)
	}
}

// snapshot is state as Raft would ship it.
func snapshot(t *testing.T, state *fsm.FSM) []byte {
	t.Helper()
	snap, err := state.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if _, err := snap.WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}
