package nova_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/keypairs"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/limits"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/quotasets"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/servergroups"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/usage"
	"github.com/gophercloud/gophercloud/v2/pagination"

	"github.com/shoal-project/shoal/api/apitest"
	"github.com/shoal-project/shoal/api/openstack/nova"
	"github.com/shoal-project/shoal/fsm"
)

// atVersion is a copy of c asking for microversion v.
func atVersion(c *gophercloud.ServiceClient, v string) *gophercloud.ServiceClient {
	out := *c
	out.Microversion = v
	return &out
}

// TestGophercloudRestMicroversions drives keypairs, server groups, quota
// sets, limits and tenant usage above 2.1 with gophercloud, as a client
// that negotiated those versions would.
func TestGophercloudRestMicroversions(t *testing.T) {
	ctx := context.Background()
	e := apitest.New(t, nova.NewUpTo("2.100"))
	img := e.SeedCompute(t)
	alpha := e.AddTenant(t, "alpha", fsm.RoleMember)
	e.SeedServer(t, alpha, "5e000000-0000-4000-8000-000000000001", "vm-a", img.ID, apitest.NodeName)
	e.SeedServer(t, alpha, "5e000000-0000-4000-8000-000000000002", "vm-b", img.ID, apitest.NodeName)
	admin := computeClient(t, e.AdminProvider(t))
	user := computeClient(t, e.TenantProvider(t, alpha))

	// Keypairs: 2.2's type, 2.10's user_id, 2.92's required public key.
	kp, err := keypairs.Create(ctx, atVersion(user, "2.2"), keypairs.CreateOpts{Name: "gc", Type: "ssh", PublicKey: publicKey(t)}).Extract()
	if err != nil || kp.Type != "ssh" {
		t.Fatalf("keypair create at 2.2: %+v %v", kp, err)
	}
	theirs, err := keypairs.Create(ctx, atVersion(admin, "2.10"), keypairs.CreateOpts{Name: "for-alpha", UserID: alpha.UserID,
		PublicKey: publicKey(t)}).Extract()
	if err != nil || theirs.UserID != alpha.UserID {
		t.Fatalf("keypair create for another user at 2.10: %+v %v", theirs, err)
	}
	got, err := keypairs.Get(ctx, atVersion(admin, "2.10"), "for-alpha", keypairs.GetOpts{UserID: alpha.UserID}).Extract()
	if err != nil || got.Type != "ssh" || got.UserID != alpha.UserID {
		t.Errorf("keypair get at 2.10: %+v %v", got, err)
	}
	pages, err := keypairs.List(atVersion(admin, "2.35"), keypairs.ListOpts{UserID: alpha.UserID}).AllPages(ctx)
	all, _ := keypairs.ExtractKeyPairs(pages)
	if err != nil || len(all) != 2 || all[0].Type != "ssh" {
		t.Errorf("keypair list at 2.35: %+v %v", all, err)
	}
	if err := keypairs.Delete(ctx, atVersion(admin, "2.10"), "for-alpha", keypairs.DeleteOpts{UserID: alpha.UserID}).ExtractErr(); err != nil {
		t.Errorf("keypair delete at 2.10: %v", err)
	}
	_, err = keypairs.Create(ctx, atVersion(user, "2.92"), keypairs.CreateOpts{Name: "gen"}).Extract()
	wantFault(t, "keypair generation at 2.92", err, http.StatusBadRequest, "badRequest")
	if _, err := keypairs.Create(ctx, atVersion(user, "2.92"), keypairs.CreateOpts{Name: "me@example.org", PublicKey: publicKey(t)}).Extract(); err != nil {
		t.Errorf("keypair named with @ and . at 2.92: %v", err)
	}

	// Server groups: 2.64's policy and rules, 2.13's owner.
	sg, err := servergroups.Create(ctx, atVersion(user, "2.64"), servergroups.CreateOpts{Name: "spread", Policy: "anti-affinity",
		Rules: &servergroups.Rules{MaxServerPerHost: 3}}).Extract()
	if err != nil || sg.Policy == nil || *sg.Policy != "anti-affinity" || sg.Rules == nil || sg.Rules.MaxServerPerHost != 3 ||
		sg.ProjectID != alpha.ProjectID || sg.UserID != alpha.UserID {
		t.Fatalf("server group create at 2.64: %+v %v", sg, err)
	}
	soft, err := servergroups.Create(ctx, atVersion(user, "2.15"), servergroups.CreateOpts{Name: "near", Policies: []string{"soft-affinity"}}).Extract()
	if err != nil || len(soft.Policies) != 1 || soft.Policies[0] != "soft-affinity" {
		t.Errorf("soft server group at 2.15: %+v %v", soft, err)
	}
	pages, err = servergroups.List(atVersion(user, "2.75"), servergroups.ListOpts{Limit: 1}).AllPages(ctx)
	groups, _ := servergroups.ExtractServerGroups(pages)
	if err != nil || len(groups) != 1 {
		t.Errorf("server groups limit 1 at 2.75: %+v %v", groups, err)
	}

	// Quota sets and limits at 2.57: the network and injected keys are gone.
	qs, err := quotasets.Get(ctx, atVersion(user, "2.57"), alpha.ProjectID).Extract()
	if err != nil || qs.Instances == 0 || qs.FloatingIPs != 0 || qs.InjectedFiles != 0 {
		t.Errorf("quota set at 2.57: %+v %v", qs, err)
	}
	files := 3
	_, err = quotasets.Update(ctx, atVersion(admin, "2.57"), alpha.ProjectID, quotasets.UpdateOpts{InjectedFiles: &files}).Extract()
	wantFault(t, "injected_files at 2.57", err, http.StatusBadRequest, "badRequest")
	if _, err := quotasets.Update(ctx, atVersion(admin, "2.56"), alpha.ProjectID, quotasets.UpdateOpts{InjectedFiles: &files}).Extract(); err != nil {
		t.Errorf("injected_files at 2.56: %v", err)
	}
	l, err := limits.Get(ctx, atVersion(user, "2.57"), nil).Extract()
	if err != nil || l.Absolute.MaxTotalInstances == 0 || l.Absolute.TotalInstancesUsed != 2 || l.Absolute.MaxPersonality != 0 {
		t.Errorf("limits at 2.57: %+v %v", l, err)
	}

	// Tenant usage at 2.40: one server a page, followed through the links.
	start, end := apitest.SeedTime, apitest.SeedTime.Add(time.Hour)
	servers := 0
	err = usage.AllTenants(atVersion(admin, "2.40"), usage.AllTenantsOpts{Detailed: true, Start: &start, End: &end, Limit: 1}).
		EachPage(ctx, func(_ context.Context, p pagination.Page) (bool, error) {
			u, err := usage.ExtractAllTenants(p)
			for _, tu := range u {
				servers += len(tu.ServerUsages)
			}
			return true, err
		})
	if err != nil || servers != 2 {
		t.Errorf("usage pages at 2.40: %d servers, %v", servers, err)
	}
	servers = 0
	err = usage.SingleTenant(atVersion(user, "2.40"), alpha.ProjectID, usage.SingleTenantOpts{Start: &start, End: &end, Limit: 1}).
		EachPage(ctx, func(_ context.Context, p pagination.Page) (bool, error) {
			u, err := usage.ExtractSingleTenant(p)
			servers += len(u.ServerUsages)
			return true, err
		})
	if err != nil || servers != 2 {
		t.Errorf("single tenant usage pages at 2.40: %d servers, %v", servers, err)
	}
}
