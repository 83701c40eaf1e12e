package nova_test

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/aggregates"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/availabilityzones"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/extensions"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/flavors"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/hypervisors"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/keypairs"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/limits"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/quotasets"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/servergroups"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/services"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/usage"
	"github.com/gophercloud/gophercloud/v2/pagination"

	"github.com/shoal-project/shoal/api/apitest"
)

// computeClient is a compute client from the catalog, logged in through
// the node's Keystone as gophercloud users do.
func computeClient(t *testing.T, p *gophercloud.ProviderClient) *gophercloud.ServiceClient {
	t.Helper()
	c, err := openstack.NewComputeV2(p, gophercloud.EndpointOpts{Region: "RegionOne"})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// wantFault checks err is an unexpected status carrying a Nova fault.
func wantFault(t *testing.T, what string, err error, status int, fault string) {
	t.Helper()
	var unexpected gophercloud.ErrUnexpectedResponseCode
	if !errors.As(err, &unexpected) || unexpected.Actual != status || !strings.Contains(string(unexpected.Body), `{"`+fault+`":`) {
		t.Errorf("%s: %v, want %d %s", what, err, status, fault)
	}
}

func TestGophercloudCompute(t *testing.T) {
	ctx := context.Background()
	e, alpha := computeEnv(t)
	admin := computeClient(t, e.AdminProvider(t))
	user := computeClient(t, e.TenantProvider(t, alpha))

	// Microversions: above our max is 406, malformed is 400.
	high := *user
	high.Microversion = "2.101"
	_, err := limits.Get(ctx, &high, nil).Extract()
	wantFault(t, "microversion 2.101", err, http.StatusNotAcceptable, "computeFault")
	bad := *user
	bad.Microversion = "2.x"
	_, err = limits.Get(ctx, &bad, nil).Extract()
	wantFault(t, "microversion 2.x", err, http.StatusBadRequest, "badRequest")

	// Flavors: a private one, given to alpha, with extra specs.
	disk, swap, public := 5, 256, false
	fl, err := flavors.Create(ctx, admin, flavors.CreateOpts{Name: "gc.private", RAM: 256, VCPUs: 1, Disk: &disk, Swap: &swap,
		IsPublic: &public, RxTxFactor: 1.5}).Extract()
	if err != nil || fl.IsPublic || fl.Swap != 256 || fl.RxTxFactor != 1.5 {
		t.Fatalf("flavor create: %+v %v", fl, err)
	}
	_, err = flavors.Get(ctx, user, fl.ID).Extract()
	wantFault(t, "a private flavor before access", err, http.StatusNotFound, "itemNotFound")
	if _, err := flavors.AddAccess(ctx, admin, fl.ID, flavors.AddAccessOpts{Tenant: alpha.ProjectID}).Extract(); err != nil {
		t.Errorf("add access: %v", err)
	}
	pages, err := flavors.ListAccesses(admin, fl.ID).AllPages(ctx)
	accesses, _ := flavors.ExtractAccesses(pages)
	if err != nil || len(accesses) != 1 || accesses[0].TenantID != alpha.ProjectID {
		t.Errorf("accesses: %+v %v", accesses, err)
	}
	pages, err = flavors.ListDetail(user, flavors.ListOpts{MinRAM: 256, AccessType: flavors.AllAccess}).AllPages(ctx)
	seen, _ := flavors.ExtractFlavors(pages)
	if err != nil || !slices.ContainsFunc(seen, func(f flavors.Flavor) bool { return f.ID == fl.ID }) {
		t.Errorf("alpha's flavors: %+v %v", seen, err)
	}
	if _, err := flavors.RemoveAccess(ctx, admin, fl.ID, flavors.RemoveAccessOpts{Tenant: alpha.ProjectID}).Extract(); err != nil {
		t.Errorf("remove access: %v", err)
	}
	if specs, err := flavors.CreateExtraSpecs(ctx, admin, fl.ID, flavors.ExtraSpecsOpts{"hw:cpu_policy": "shared", "k": "v"}).Extract(); err != nil || specs["k"] != "v" {
		t.Errorf("create extra specs: %v %v", specs, err)
	}
	if specs, err := flavors.ListExtraSpecs(ctx, admin, fl.ID).Extract(); err != nil || len(specs) != 2 {
		t.Errorf("extra specs: %v %v", specs, err)
	}
	if spec, err := flavors.UpdateExtraSpec(ctx, admin, fl.ID, flavors.ExtraSpecsOpts{"k": "w"}).Extract(); err != nil || spec["k"] != "w" {
		t.Errorf("update extra spec: %v %v", spec, err)
	}
	if spec, err := flavors.GetExtraSpec(ctx, admin, fl.ID, "k").Extract(); err != nil || spec["k"] != "w" {
		t.Errorf("extra spec: %v %v", spec, err)
	}
	if err := flavors.DeleteExtraSpec(ctx, admin, fl.ID, "k").ExtractErr(); err != nil {
		t.Errorf("delete extra spec: %v", err)
	}
	_, err = flavors.GetExtraSpec(ctx, admin, fl.ID, "k").Extract()
	wantFault(t, "a deleted extra spec", err, http.StatusNotFound, "itemNotFound")
	_, err = flavors.CreateExtraSpecs(ctx, user, "1", flavors.ExtraSpecsOpts{"k": "v"}).Extract()
	wantFault(t, "extra specs by a member", err, http.StatusForbidden, "forbidden")
	if err := flavors.Delete(ctx, admin, fl.ID).ExtractErr(); err != nil {
		t.Errorf("flavor delete: %v", err)
	}

	// Keypairs.
	kp, err := keypairs.Create(ctx, user, keypairs.CreateOpts{Name: "gc"}).Extract()
	if err != nil || kp.PrivateKey == "" || kp.UserID != alpha.UserID {
		t.Fatalf("keypair create: %+v %v", kp, err)
	}
	pages, err = keypairs.List(user, nil).AllPages(ctx)
	all, _ := keypairs.ExtractKeyPairs(pages)
	if err != nil || len(all) != 1 || all[0].Name != "gc" {
		t.Errorf("keypair list: %+v %v", all, err)
	}
	if got, err := keypairs.Get(ctx, user, "gc", nil).Extract(); err != nil || got.Fingerprint != kp.Fingerprint {
		t.Errorf("keypair get: %+v %v", got, err)
	}
	if err := keypairs.Delete(ctx, user, "gc", nil).ExtractErr(); err != nil {
		t.Errorf("keypair delete: %v", err)
	}
	_, err = keypairs.Get(ctx, user, "gc", nil).Extract()
	wantFault(t, "deleted keypair", err, http.StatusNotFound, "itemNotFound")

	// Server groups.
	g, err := servergroups.Create(ctx, user, servergroups.CreateOpts{Name: "g", Policies: []string{"affinity"}}).Extract()
	if err != nil || len(g.Policies) != 1 || g.Policies[0] != "affinity" {
		t.Fatalf("group create: %+v %v", g, err)
	}
	pages, err = servergroups.List(user, servergroups.ListOpts{}).AllPages(ctx)
	groups, _ := servergroups.ExtractServerGroups(pages)
	if err != nil || len(groups) != 1 {
		t.Errorf("group list: %+v %v", groups, err)
	}
	if got, err := servergroups.Get(ctx, user, g.ID).Extract(); err != nil || got.Name != "g" || got.Members == nil {
		t.Errorf("group get: %+v %v", got, err)
	}
	if err := servergroups.Delete(ctx, user, g.ID).ExtractErr(); err != nil {
		t.Errorf("group delete: %v", err)
	}

	// Services and hypervisors (an admin's).
	pages, err = services.List(admin, services.ListOpts{Binary: "nova-compute"}).AllPages(ctx)
	svcs, _ := services.ExtractServices(pages)
	if err != nil || len(svcs) != 2 || svcs[0].Binary != "nova-compute" {
		t.Errorf("services: %+v %v", svcs, err)
	}
	_, err = services.List(user, nil).AllPages(ctx)
	wantFault(t, "services as a member", err, http.StatusForbidden, "forbidden")
	pages, err = hypervisors.List(admin, nil).AllPages(ctx)
	hyps, _ := hypervisors.ExtractHypervisors(pages)
	if err != nil || len(hyps) != 2 {
		t.Fatalf("hypervisors: %+v %v", hyps, err)
	}
	var local hypervisors.Hypervisor
	for _, h := range hyps {
		if h.HypervisorHostname == apitest.NodeName {
			local = h
		}
	}
	if local.RunningVMs != 1 || local.Service.Host != apitest.NodeName || local.CPUInfo.Arch != "x86_64" {
		t.Errorf("this node's hypervisor: %+v", local)
	}
	if h, err := hypervisors.Get(ctx, admin, local.ID).Extract(); err != nil || h.HypervisorHostname != apitest.NodeName {
		t.Errorf("hypervisor get: %+v %v", h, err)
	}
	if st, err := hypervisors.GetStatistics(ctx, admin).Extract(); err != nil || st.Count != 2 || st.RunningVMs != 1 {
		t.Errorf("statistics: %+v %v", st, err)
	}
	if up, err := hypervisors.GetUptime(ctx, admin, local.ID).Extract(); err != nil || !strings.Contains(up.Uptime, " up ") {
		t.Errorf("uptime: %+v %v", up, err)
	}

	// Zones, aggregates, extensions.
	pages, err = availabilityzones.List(user).AllPages(ctx)
	zones, _ := availabilityzones.ExtractAvailabilityZones(pages)
	if err != nil || len(zones) != 1 || zones[0].ZoneName != "nova" || !zones[0].ZoneState.Available {
		t.Errorf("zones: %+v %v", zones, err)
	}
	pages, err = availabilityzones.ListDetail(admin).AllPages(ctx)
	zones, _ = availabilityzones.ExtractAvailabilityZones(pages)
	if err != nil || len(zones) != 1 || len(zones[0].Hosts) != 2 {
		t.Errorf("zones detail: %+v %v", zones, err)
	}
	pages, err = aggregates.List(admin).AllPages(ctx)
	aggs, _ := aggregates.ExtractAggregates(pages)
	if err != nil || len(aggs) != 0 {
		t.Errorf("aggregates: %+v %v", aggs, err)
	}
	pages, err = extensions.List(user).AllPages(ctx)
	exts, _ := extensions.ExtractExtensions(pages)
	if err != nil || len(exts) == 0 {
		t.Errorf("extensions: %+v %v", exts, err)
	}
	if ext, err := extensions.Get(ctx, user, "os-keypairs").Extract(); err != nil || ext.Name != "Keypairs" {
		t.Errorf("extension: %+v %v", ext, err)
	}

	// Quotas and limits.
	q, err := quotasets.Get(ctx, user, alpha.ProjectID).Extract()
	if err != nil || q.ID != alpha.ProjectID || q.Instances != 10 {
		t.Errorf("quota get: %+v %v", q, err)
	}
	if d, err := quotasets.GetDetail(ctx, user, alpha.ProjectID).Extract(); err != nil || d.Instances.InUse != 1 || d.Instances.Limit != 10 {
		t.Errorf("quota detail: %+v %v", d, err)
	}
	var defaults quotasets.GetResult
	resp, gerr := user.Get(ctx, user.ServiceURL("os-quota-sets", alpha.ProjectID, "defaults"), &defaults.Body, nil)
	_, defaults.Header, defaults.Err = gophercloud.ParseResponse(resp, gerr)
	if d, err := defaults.Extract(); err != nil || d.Instances != 10 {
		t.Errorf("quota defaults: %+v %v", d, err)
	}
	// Every 2.1 key is stored and read back, as Tempest's
	// QuotasAdminTestJSON sets them.
	instances, n := 15, 7
	all21 := quotasets.UpdateOpts{Instances: &instances, Cores: &n, RAM: &n, FloatingIPs: &n, FixedIPs: &n, MetadataItems: &n,
		KeyPairs: &n, SecurityGroups: &n, SecurityGroupRules: &n, ServerGroups: &n, ServerGroupMembers: &n,
		InjectedFiles: &n, InjectedFileContentBytes: &n, InjectedFilePathBytes: &n, Force: true}
	if q, err := quotasets.Update(ctx, admin, alpha.ProjectID, all21).Extract(); err != nil || q.Instances != 15 ||
		q.FixedIPs != 7 || q.InjectedFilePathBytes != 7 || q.SecurityGroupRules != 7 || q.MetadataItems != 7 {
		t.Errorf("quota update: %+v %v", q, err)
	}
	_, err = quotasets.Update(ctx, user, alpha.ProjectID, quotasets.UpdateOpts{Instances: &instances}).Extract()
	wantFault(t, "quota update as a member", err, http.StatusForbidden, "forbidden")
	if _, err := quotasets.Delete(ctx, admin, alpha.ProjectID).Extract(); err != nil {
		t.Errorf("quota delete: %v", err)
	}
	if l, err := limits.Get(ctx, user, nil).Extract(); err != nil || l.Absolute.MaxTotalInstances != 10 || l.Absolute.TotalInstancesUsed != 1 {
		t.Errorf("limits: %+v %v", l, err)
	}

	// Usage of the seeded server over the two hours after it was made.
	start, end := apitest.SeedTime, apitest.SeedTime.Add(2*time.Hour)
	// (AllPages cannot join pages of one object: EachPage, as gophercloud's
	// own example does.)
	var single *usage.TenantUsage
	err = usage.SingleTenant(user, alpha.ProjectID, usage.SingleTenantOpts{Start: &start, End: &end}).EachPage(ctx,
		func(_ context.Context, page pagination.Page) (bool, error) {
			single, err = usage.ExtractSingleTenant(page)
			return false, err
		})
	if err != nil || single == nil || single.TotalHours != 2 || len(single.ServerUsages) != 1 || single.TotalVCPUsUsage != 2 {
		t.Errorf("usage of alpha: %+v %v", single, err)
	}
	pages, err = usage.AllTenants(admin, usage.AllTenantsOpts{Detailed: true, Start: &start, End: &end}).AllPages(ctx)
	every, _ := usage.ExtractAllTenants(pages)
	if err != nil || len(every) != 1 || every[0].TenantID != alpha.ProjectID || len(every[0].ServerUsages) != 1 {
		t.Errorf("usage of all: %+v %v", every, err)
	}
}
