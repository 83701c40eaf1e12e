package nova_test

import (
	"encoding/json"
	"testing"

	"github.com/shoal-project/shoal/api/apitest"
	"github.com/shoal-project/shoal/api/identity/identitytest"
	"github.com/shoal-project/shoal/api/openstack/nova"
	"github.com/shoal-project/shoal/fsm"
)

// serversEnv is a node serving the compute module with what servers need
// (two hosts up, the cirros image, the default flavors) and two projects:
// alpha (a member) and beta (a member, to be refused alpha's servers).
type serversEnv struct {
	*apitest.Env
	alpha, beta identitytest.Tenant
	reader      identitytest.Tenant // a reader of alpha
}

func newServersEnv(t *testing.T) *serversEnv {
	t.Helper()
	return newServersEnvWith(t, nova.New())
}

// newServersEnvWith is newServersEnv serving module m (nova.NewUpTo for
// the changes of later microversions).
func newServersEnvWith(t *testing.T, m *nova.Module) *serversEnv {
	t.Helper()
	e := &serversEnv{Env: apitest.New(t, m)}
	e.SeedCompute(t)
	// Room for the many servers the tests make on this node.
	big := apitest.Inventory
	big.VCPUs, big.MemoryMiB, big.DiskGiB = 1024, 1<<22, 1<<20
	e.Apply(t, &fsm.UpdateHostInventory{Name: apitest.NodeName, Inventory: big, Time: apitest.SeedTime})
	e.alpha = e.AddTenant(t, "alpha", "member")
	e.reader = e.AddTenant(t, "alpha", "reader")
	e.beta = e.AddTenant(t, "beta", "member")
	unlimited := -1
	for _, p := range []string{e.alpha.ProjectID, e.beta.ProjectID} {
		e.Apply(t, &fsm.SetQuota{ProjectID: p, Quota: fsm.QuotaOverride{Instances: &unlimited, Cores: &unlimited, RAM: &unlimited}})
	}
	return e
}

// call sends a request to the compute API (path below /compute/v2.1) and
// returns the status and body.
func (e *serversEnv) call(t *testing.T, method, path, body, token string, headers ...string) (int, []byte) {
	t.Helper()
	if body != "" {
		headers = append(headers, "Content-Type", "application/json")
	}
	resp, raw := e.Do(t, method, "/compute/v2.1"+path, body, token, headers...)
	return resp.StatusCode, raw
}

// decode unmarshals raw into v or fails t.
func decode(t *testing.T, raw []byte, v any) {
	t.Helper()
	if err := json.Unmarshal(raw, v); err != nil {
		t.Fatalf("%v: %s", err, raw)
	}
}

// fault is a Nova fault body's one member.
func fault(t *testing.T, raw []byte) (name string, code int, message string) {
	t.Helper()
	var body map[string]struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	}
	decode(t, raw, &body)
	if len(body) != 1 {
		t.Fatalf("not a Nova fault: %s", raw)
	}
	for k, v := range body {
		return k, v.Code, v.Message
	}
	return "", 0, ""
}
