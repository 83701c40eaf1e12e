package apitest_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack"

	"github.com/shoal-project/shoal/api"
	"github.com/shoal-project/shoal/api/apitest"
	"github.com/shoal-project/shoal/fsm"
)

// echo is a module whose one route answers who called it.
type echo struct{}

func (echo) Prefix() string { return "/echo" }
func (echo) Register(r api.Router, ops *api.Ops) {
	r.Route("GET /echo/v1/whoami", api.AccessProjectReader, func(w http.ResponseWriter, r *http.Request) {
		api.WriteJSON(w, http.StatusOK, map[string]string{"project": ops.Principal(r.Context()).ProjectID})
	})
}
func (echo) WriteError(w http.ResponseWriter, _ *http.Request, status int, err error) {
	api.WriteJSON(w, status, map[string]string{"echo_error": err.Error()})
}

func TestEnv(t *testing.T) {
	e := apitest.New(t, echo{})
	img := e.SeedCompute(t)
	alpha := e.AddTenant(t, "alpha", fsm.RoleMember)
	srv := e.SeedServer(t, alpha, "5e000000-0000-4000-8000-000000000001", "vm", img.ID, apitest.NodeName)
	if srv.Host != apitest.NodeName || srv.ProjectID != alpha.ProjectID {
		t.Fatalf("seeded server %+v", srv)
	}

	resp, raw := e.Do(t, "GET", "/echo/v1/whoami", "", alpha.Token)
	if resp.StatusCode != http.StatusOK || string(raw) != `{"project":"`+alpha.ProjectID+`"}`+"\n" {
		t.Errorf("module route: %d %s", resp.StatusCode, raw)
	}
	if resp, raw := e.Do(t, "GET", "/echo/v1/nothing", "", alpha.Token); resp.StatusCode != 404 || string(raw[:14]) != `{"echo_error":` {
		t.Errorf("module 404: %d %s", resp.StatusCode, raw)
	}
	resp, raw = e.Do(t, "GET", "/v1/servers/"+srv.ID, "", alpha.Token)
	if resp.StatusCode != http.StatusOK {
		t.Errorf("native route: %d %s", resp.StatusCode, raw)
	}

	// gophercloud logs in over TLS; the catalog names the node.
	for _, p := range []*gophercloud.ProviderClient{e.AdminProvider(t), e.TenantProvider(t, alpha)} {
		compute, err := openstack.NewComputeV2(p, gophercloud.EndpointOpts{})
		if err != nil || compute.Endpoint != e.URL()+"/compute/v2.1/" {
			t.Errorf("compute endpoint: %v, %v", compute, err)
		}
	}

	// An upload through the API lands in Images and downloads again.
	resp, raw = e.Do(t, "POST", "/v1/images", `{"name":"up","disk_format":"raw","container_format":"bare"}`, alpha.Token)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("create image: %d %s", resp.StatusCode, raw)
	}
	loc := resp.Header.Get("Location")
	if resp, raw := e.Do(t, "PUT", loc+"/file", "0123456789", alpha.Token, "Content-Type", "application/octet-stream"); resp.StatusCode != 204 {
		t.Fatalf("upload: %d %s", resp.StatusCode, raw)
	}
	if resp, raw := e.Do(t, "GET", loc+"/file", "", alpha.Token, "Range", "bytes=2-4"); resp.StatusCode != 206 || string(raw) != "234" {
		t.Errorf("ranged download: %d %q", resp.StatusCode, raw)
	}

	e.Cluster.SetLeader(false)
	if resp, _ := e.Do(t, "POST", "/v1/images", `{"name":"x","disk_format":"raw","container_format":"bare"}`, alpha.Token); resp.StatusCode != 503 {
		t.Errorf("write without a leader: %d", resp.StatusCode)
	}
}

func TestConsoles(t *testing.T) {
	c := apitest.NewConsoles()
	c.Set("s", "a\nb\nc\n")
	if got, err := c.ConsoleLog(context.Background(), "s", 2); err != nil || got != "b\nc\n" {
		t.Errorf("last 2 lines: %q, %v", got, err)
	}
	if _, err := c.ConsoleLog(context.Background(), "t", 2); err == nil {
		t.Error("a log nobody set")
	}
}
