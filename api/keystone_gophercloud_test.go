package api

import (
	"context"
	"strings"
	"testing"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack"
	"github.com/gophercloud/gophercloud/v2/openstack/identity/v3/domains"
	"github.com/gophercloud/gophercloud/v2/openstack/identity/v3/projects"
	"github.com/gophercloud/gophercloud/v2/openstack/identity/v3/roles"
	"github.com/gophercloud/gophercloud/v2/openstack/identity/v3/tokens"
	"github.com/gophercloud/gophercloud/v2/openstack/identity/v3/users"

	"github.com/shoal-project/shoal/api/identity/identitytest"
)

// TestGophercloudKeystone proves the Keystone subset with OpenStack's Go
// client, through its real calls, over HTTPS as nodes serve it: log in, find
// Keystone in the catalog (an https endpoint), manage projects, users and
// roles, validate and revoke tokens.
func TestGophercloudKeystone(t *testing.T) {
	k := newKeystoneTLSServer(t)
	ctx := context.Background()
	authURL := k.ts.URL + "/identity/v3"
	if !strings.HasPrefix(authURL, "https://") {
		t.Fatalf("not over TLS: %s", authURL)
	}
	// openstack.AuthenticatedClient, with a client that trusts the node.
	login := func(ctx context.Context, opts gophercloud.AuthOptions) (*gophercloud.ProviderClient, error) {
		p, err := openstack.NewClient(opts.IdentityEndpoint)
		if err != nil {
			return nil, err
		}
		p.HTTPClient = *k.ts.Client()
		return p, openstack.Authenticate(ctx, p, opts)
	}

	admin, err := login(ctx, gophercloud.AuthOptions{IdentityEndpoint: authURL,
		Username: "admin", Password: identitytest.Password, DomainName: "Default", TenantName: "admin"})
	if err != nil {
		t.Fatalf("admin login: %v", err)
	}
	keystone, err := openstack.NewIdentityV3(admin, gophercloud.EndpointOpts{Region: regionName})
	if err != nil {
		t.Fatalf("keystone from the catalog: %v", err)
	}
	if want := authURL + "/"; keystone.Endpoint != want {
		t.Errorf("keystone endpoint %q, want %q", keystone.Endpoint, want)
	}
	// The OpenStack APIs the modules serve are in the catalog, where
	// gophercloud's locator finds them (its NewImageV2 and NewNetworkV2 go
	// on to fetch the version documents, which the modules serve).
	for typ, want := range map[string]string{"compute": k.ts.URL + "/compute/v2.1/",
		"image": k.ts.URL + "/image/", "network": k.ts.URL + "/networking/"} {
		for _, iface := range []gophercloud.Availability{gophercloud.AvailabilityPublic, gophercloud.AvailabilityInternal, gophercloud.AvailabilityAdmin} {
			if got, err := admin.EndpointLocator(gophercloud.EndpointOpts{Type: typ, Region: regionName, Availability: iface}); err != nil || got != want {
				t.Errorf("%s %s endpoint %q, %v; want %q", typ, iface, got, err, want)
			}
		}
	}

	project, err := projects.Create(ctx, keystone, projects.CreateOpts{Name: "gopher", Description: "made by gophercloud"}).Extract()
	if err != nil || project.Name != "gopher" || !project.Enabled || project.DomainID != "default" {
		t.Fatalf("projects.Create: %+v, %v", project, err)
	}
	pages, err := projects.List(keystone, projects.ListOpts{Name: "gopher"}).AllPages(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if found, err := projects.ExtractProjects(pages); err != nil || len(found) != 1 || found[0].ID != project.ID {
		t.Fatalf("projects.List: %+v, %v", found, err)
	}

	enabled := true
	user, err := users.Create(ctx, keystone, users.CreateOpts{Name: "gopher-user", Password: "first password",
		DefaultProjectID: project.ID, DomainID: "default", Enabled: &enabled}).Extract()
	if err != nil || user.Name != "gopher-user" || user.DefaultProjectID != project.ID {
		t.Fatalf("users.Create: %+v, %v", user, err)
	}
	if _, err := users.Update(ctx, keystone, user.ID, users.UpdateOpts{Name: "gopher"}).Extract(); err != nil {
		t.Fatalf("users.Update: %v", err)
	}
	if err := roles.Assign(ctx, keystone, identitytest.MemberRoleID, roles.AssignOpts{UserID: user.ID, ProjectID: project.ID}).ExtractErr(); err != nil {
		t.Fatalf("roles.Assign: %v", err)
	}
	pages, err = roles.ListAssignments(keystone, roles.ListAssignmentsOpts{UserID: user.ID, ScopeProjectID: project.ID}).AllPages(ctx)
	if err != nil {
		t.Fatal(err)
	}
	assignments, err := roles.ExtractRoleAssignments(pages)
	if err != nil || len(assignments) != 1 || assignments[0].Role.ID != identitytest.MemberRoleID ||
		assignments[0].Scope.Project.ID != project.ID || assignments[0].User.ID != user.ID {
		t.Fatalf("roles.ListAssignments: %+v, %v", assignments, err)
	}

	// The new user logs in by domain ID, scoped by project ID.
	userLogin := func(password string) *gophercloud.ProviderClient {
		t.Helper()
		p, err := login(ctx, gophercloud.AuthOptions{IdentityEndpoint: authURL,
			Username: "gopher", Password: password, DomainID: "default", Scope: &gophercloud.AuthScope{ProjectID: project.ID}})
		if err != nil {
			t.Fatalf("user login: %v", err)
		}
		return p
	}
	first := userLogin("first password")
	valid, err := tokens.Validate(ctx, keystone, first.Token())
	if err != nil || !valid {
		t.Fatalf("tokens.Validate of a fresh token: %v, %v", valid, err)
	}
	if err := tokens.Revoke(ctx, keystone, first.Token()).Err; err != nil {
		t.Fatalf("tokens.Revoke: %v", err)
	}
	if valid, err := tokens.Validate(ctx, keystone, first.Token()); err != nil || valid {
		t.Fatalf("tokens.Validate of a revoked token: %v, %v", valid, err)
	}

	second := userLogin("first password")
	own, err := openstack.NewIdentityV3(second, gophercloud.EndpointOpts{})
	if err != nil {
		t.Fatal(err)
	}
	if err := users.ChangePassword(ctx, own, user.ID, users.ChangePasswordOpts{OriginalPassword: "first password",
		Password: "second password"}).ExtractErr(); err != nil {
		t.Fatalf("users.ChangePassword: %v", err)
	}
	if valid, err := tokens.Validate(ctx, keystone, second.Token()); err != nil || valid {
		t.Fatalf("a token from before the password change: valid %v, %v", valid, err)
	}
	userLogin("second password")
}

// TestGophercloudDomains: the one domain, listed by name (Tempest's
// credential provider finds where to make accounts so) and shown by ID;
// another name lists nothing, another ID is 404.
func TestGophercloudDomains(t *testing.T) {
	k := newKeystoneTLSServer(t)
	ctx := context.Background()
	p, err := openstack.NewClient(k.ts.URL + "/identity/v3")
	if err != nil {
		t.Fatal(err)
	}
	p.HTTPClient = *k.ts.Client()
	if err := openstack.Authenticate(ctx, p, gophercloud.AuthOptions{IdentityEndpoint: k.ts.URL + "/identity/v3",
		Username: "admin", Password: identitytest.Password, DomainName: "Default", TenantName: "admin"}); err != nil {
		t.Fatalf("admin login: %v", err)
	}
	keystone, err := openstack.NewIdentityV3(p, gophercloud.EndpointOpts{Region: regionName})
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]int{"Default": 1, "": 1, "Other": 0} {
		pages, err := domains.List(keystone, domains.ListOpts{Name: name}).AllPages(ctx)
		if err != nil {
			t.Fatalf("list %q: %v", name, err)
		}
		got, err := domains.ExtractDomains(pages)
		if err != nil || len(got) != want || want == 1 && (got[0].ID != "default" || got[0].Name != "Default" || !got[0].Enabled) {
			t.Errorf("list %q = %+v, %v; want %d", name, got, err, want)
		}
	}
	if d, err := domains.Get(ctx, keystone, "default").Extract(); err != nil || d.Name != "Default" {
		t.Errorf("get default = %+v, %v", d, err)
	}
	if _, err := domains.Get(ctx, keystone, "Default").Extract(); !gophercloud.ResponseCodeIs(err, 404) {
		t.Errorf("get by name = %v, want 404 (by ID only)", err)
	}
}
