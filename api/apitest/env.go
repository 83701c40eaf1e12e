package apitest

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack"

	"github.com/shoal-project/shoal/api"
	"github.com/shoal-project/shoal/api/identity/identitytest"
	"github.com/shoal-project/shoal/fsm"
)

// AdminToken is the bootstrap admin's token (project admin, role admin).
var AdminToken = identitytest.AdminToken

// Password is every test user's password (AddTenant's users and admin).
const Password = identitytest.Password

// Env is one node's API over a fake cluster, served over HTTPS on a
// loopback port, with the given modules mounted.
type Env struct {
	Cluster  *Cluster
	FSM      *fsm.FSM
	Server   *api.Server
	TS       *httptest.Server // TLS; TS.Client() trusts it
	Images   *Images
	Consoles *Consoles
}

// Options are what New leaves at their defaults.
type Options struct {
	Modules []api.Module
	// MaxImageBytes bounds an upload (0: the API's default).
	MaxImageBytes int64
	// Config, when set, may change the api.Config before the Server is
	// built (Images and Consoles are set already).
	Config func(*api.Config)
}

// New serves an Env with modules mounted.
func New(t testing.TB, modules ...api.Module) *Env {
	t.Helper()
	return NewWith(t, Options{Modules: modules})
}

// NewWith serves an Env as opts say.
func NewWith(t testing.TB, opts Options) *Env {
	t.Helper()
	c := NewCluster(t)
	e := &Env{Cluster: c, FSM: c.FSM, Images: NewImages(), Consoles: NewConsoles()}
	cfg := api.Config{State: c.FSM, Cluster: c, NodeName: NodeName, Images: e.Images, Consoles: e.Consoles,
		MaxImageBytes: opts.MaxImageBytes, Auth: api.Auth{Signer: identitytest.Signer}, Modules: opts.Modules}
	if opts.Config != nil {
		opts.Config(&cfg)
	}
	e.Server = api.New(cfg)
	e.TS = httptest.NewTLSServer(e.Server.Handler())
	t.Cleanup(e.TS.Close)
	c.SetInternalClient(e.TS.Client())
	return e
}

// URL is the node's root, https://127.0.0.1:port.
func (e *Env) URL() string { return e.TS.URL }

// Ops is the facade the modules were given.
func (e *Env) Ops() *api.Ops { return e.Server.Ops() }

// Apply commits cmds in order, failing t at the first error, and returns
// the index of the last.
func (e *Env) Apply(t testing.TB, cmds ...fsm.Command) uint64 {
	t.Helper()
	return e.Cluster.MustApply(t, cmds...)
}

// AddTenant creates project (when absent) with user "<project>-<role>"
// (password Password) holding role on it, and returns it with a token.
func (e *Env) AddTenant(t testing.TB, project, role string) identitytest.Tenant {
	t.Helper()
	cmds, tenant := identitytest.TenantCommands(e.FSM, project, role)
	e.Apply(t, cmds...)
	return tenant
}

// Do sends method path (relative to URL) with body ("" for none) and
// token ("" for none), and more headers as name, value pairs; it returns
// the response (its body closed) and the body read. No Content-Type is
// set unless given.
func (e *Env) Do(t testing.TB, method, path, body, token string, headers ...string) (*http.Response, []byte) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, e.TS.URL+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set(api.HeaderAuthToken, token)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := e.TS.Client().Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: reading the body: %v", method, path, err)
	}
	return resp, b
}

// IdentityURL is the node's Keystone, the auth URL clients are given.
func (e *Env) IdentityURL() string { return e.TS.URL + "/identity/v3" }

// Provider logs user (a name in the Default domain) in with password,
// scoped to project (a name), through the node's Keystone over TLS, as
// gophercloud's AuthenticatedClient does; the client trusts the node.
// Service clients come from its catalog: openstack.NewComputeV2(p,
// gophercloud.EndpointOpts{}) and the like.
func (e *Env) Provider(t testing.TB, user, password, project string) *gophercloud.ProviderClient {
	t.Helper()
	p, err := openstack.NewClient(e.IdentityURL())
	if err != nil {
		t.Fatal(err)
	}
	p.HTTPClient = *e.TS.Client()
	opts := gophercloud.AuthOptions{IdentityEndpoint: e.IdentityURL(), Username: user, Password: password,
		DomainName: "Default", TenantName: project}
	if err := openstack.Authenticate(context.Background(), p, opts); err != nil {
		t.Fatalf("gophercloud login as %s on %s: %v", user, project, err)
	}
	return p
}

// AdminProvider is Provider for the bootstrap admin on project admin.
func (e *Env) AdminProvider(t testing.TB) *gophercloud.ProviderClient {
	t.Helper()
	return e.Provider(t, "admin", Password, "admin")
}

// TenantProvider is Provider for a tenant AddTenant made.
func (e *Env) TenantProvider(t testing.TB, tenant identitytest.Tenant) *gophercloud.ProviderClient {
	t.Helper()
	p, err := e.FSM.Project(tenant.ProjectID)
	if err != nil {
		t.Fatal(err)
	}
	return e.Provider(t, tenant.UserName, Password, p.Name)
}
