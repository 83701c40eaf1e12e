package neutron_test

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/shoal-project/shoal/api/apitest"
	"github.com/shoal-project/shoal/api/identity/identitytest"
	"github.com/shoal-project/shoal/api/openstack/neutron"
	"github.com/shoal-project/shoal/api/openstack/osapi"
	"github.com/shoal-project/shoal/fsm"
)

// IDs the fixture makes.
const (
	webID = "5e000000-0000-4000-8000-000000000001" // alice's server, running on node1
	dbID  = "5e000000-0000-4000-8000-000000000002" // bob's server, running on node2
)

// fixture is one node with the module mounted: hosts, the cirros image,
// the external network "public", projects alice (member and reader) and
// bob (member), each with a running server.
type fixture struct {
	*apitest.Env
	alice, aliceReader, bob identitytest.Tenant
	web, db                 fsm.Instance
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	e := apitest.New(t, neutron.New())
	img := e.SeedCompute(t)
	e.SeedExternalNetwork(t)
	f := &fixture{Env: e}
	f.alice = e.AddTenant(t, "alice", fsm.RoleMember)
	f.aliceReader = e.AddTenant(t, "alice", fsm.RoleReader)
	f.bob = e.AddTenant(t, "bob", fsm.RoleMember)
	f.web = e.SeedServer(t, f.alice, webID, "web", img.ID, apitest.NodeName)
	f.db = e.SeedServer(t, f.bob, dbID, "db", img.ID, "node2")
	return f
}

// tenantNet is the tenant network's Neutron ID.
func (f *fixture) tenantNet() string { return osapi.TenantNetworkID(apitest.ClusterID) }

// portOf is the Neutron ID of a server's one port.
func portOf(inst fsm.Instance) string { return osapi.PortID(inst.ID, inst.Addresses[0].MAC) }

// call sends a request and decodes the JSON answer (nil for none).
func (f *fixture) call(t *testing.T, method, path, body, token string) (int, map[string]any) {
	t.Helper()
	resp, raw := f.Do(t, method, path, body, token, "Content-Type", "application/json")
	var out map[string]any
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &out); err != nil {
			t.Fatalf("%s %s: %d, body is not JSON: %q", method, path, resp.StatusCode, raw)
		}
	}
	return resp.StatusCode, out
}

// mustCall is call that fails t unless the status is want.
func (f *fixture) mustCall(t *testing.T, want int, method, path, body, token string) map[string]any {
	t.Helper()
	status, out := f.call(t, method, path, body, token)
	if status != want {
		t.Fatalf("%s %s: %d %v, want %d", method, path, status, out, want)
	}
	return out
}

// neutronError is the type and message of a NeutronError body, or
// fails t for any other body.
func neutronError(t *testing.T, body map[string]any) (typ, msg string) {
	t.Helper()
	e, ok := body["NeutronError"].(map[string]any)
	if !ok || len(body) != 1 {
		t.Fatalf("not a Neutron error body: %v", body)
	}
	typ, _ = e["type"].(string)
	msg, _ = e["message"].(string)
	if d, ok := e["detail"].(string); !ok || d != "" || typ == "" || msg == "" {
		t.Fatalf("Neutron error body %v: want type, message and an empty detail", body)
	}
	return typ, msg
}

// v2 is the root of the versioned routes.
const v2 = "/networking/v2.0"

// ids are the "id"s of a list's members.
func ids(list any) []string {
	var out []string
	for _, o := range list.([]any) {
		out = append(out, o.(map[string]any)["id"].(string))
	}
	return out
}

// status is a short name for an HTTP status in tables.
const (
	ok        = http.StatusOK
	created   = http.StatusCreated
	noContent = http.StatusNoContent
	bad       = http.StatusBadRequest
	unauth    = http.StatusUnauthorized
	forbidden = http.StatusForbidden
	notFound  = http.StatusNotFound
	conflict  = http.StatusConflict
)
