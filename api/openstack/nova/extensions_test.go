package nova_test

import (
	"context"
	"net/http"
	"slices"
	"testing"

	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/extensions"

	"github.com/shoal-project/shoal/api/apitest"
	"github.com/shoal-project/shoal/api/openstack/nova"
	"github.com/shoal-project/shoal/fsm"
)

// Nova's extension list is static: every alias of its extension_info.py,
// sorted, whatever is served (Tempest's ExtensionsTest looks for os-consoles
// and Hosts).
func TestExtensionsAreNovasList(t *testing.T) {
	ctx := context.Background()
	e := apitest.New(t, nova.New())
	user := computeClient(t, e.TenantProvider(t, e.AddTenant(t, "alpha", fsm.RoleMember)))

	pages, err := extensions.List(user).AllPages(ctx)
	exts, _ := extensions.ExtractExtensions(pages)
	if err != nil || len(exts) != 99 {
		t.Fatalf("extensions: %d %v", len(exts), err)
	}
	var aliases, names []string
	for _, x := range exts {
		aliases, names = append(aliases, x.Alias), append(names, x.Name)
		if x.Namespace != "http://docs.openstack.org/compute/ext/fake_xml" || x.Updated != "2014-12-03T00:00:00Z" || x.Links == nil {
			t.Errorf("extension %+v", x)
		}
	}
	if !slices.IsSorted(aliases) || aliases[0] != "NMN" {
		t.Errorf("aliases not Nova's order: %v", aliases)
	}
	for _, want := range []string{"os-consoles", "os-hosts", "os-aggregates", "os-quota-class-sets"} {
		if !slices.Contains(aliases, want) {
			t.Errorf("no alias %s", want)
		}
	}
	if !slices.Contains(names, "Hosts") {
		t.Errorf("no extension named Hosts")
	}
	if x, err := extensions.Get(ctx, user, "os-consoles").Extract(); err != nil || x.Name != "Consoles" ||
		x.Description != "Interactive Console support." {
		t.Errorf("os-consoles: %+v %v", x, err)
	}
	_, err = extensions.Get(ctx, user, "os-nothing").Extract()
	wantFault(t, "unknown alias", err, http.StatusNotFound, "itemNotFound")
	resp, raw := e.Do(t, "GET", "/compute/v2.1/extensions/os-nothing", "", apitest.AdminToken)
	if resp.StatusCode != 404 || faultMessage(t, raw) != "The resource could not be found." {
		t.Errorf("unknown alias: %d %s", resp.StatusCode, raw)
	}
}
