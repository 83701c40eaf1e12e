package neutron_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"testing"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/external"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/layer3/floatingips"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/quotas"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/security/groups"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/security/rules"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/networks"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/ports"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/subnets"

	"github.com/shoal-project/shoal/api/apitest"
	"github.com/shoal-project/shoal/api/openstack/osapi"
	"github.com/shoal-project/shoal/fsm"
)

// networkClient is the network service of the catalog a login on the
// node returned, as every OpenStack client finds it.
func networkClient(t *testing.T, p *gophercloud.ProviderClient, base string) *gophercloud.ServiceClient {
	t.Helper()
	c, err := openstack.NewNetworkV2(p, gophercloud.EndpointOpts{Region: "RegionOne"})
	if err != nil {
		t.Fatal(err)
	}
	if c.ResourceBaseURL() != base+"/networking/v2.0/" {
		t.Fatalf("network endpoint %s", c.ResourceBaseURL())
	}
	return c
}

// neutronErrorOf is the exception type of a gophercloud error's body.
func neutronErrorOf(t *testing.T, err error, status int) string {
	t.Helper()
	var e gophercloud.ErrUnexpectedResponseCode
	if !errors.As(err, &e) || e.Actual != status {
		t.Fatalf("error %v, want a %d", err, status)
	}
	var body struct {
		NeutronError struct{ Type, Message, Detail string }
	}
	if json.Unmarshal(e.Body, &body) != nil || body.NeutronError.Message == "" {
		t.Fatalf("error body %s", e.Body)
	}
	return body.NeutronError.Type
}

func TestGophercloud(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	c := networkClient(t, f.TenantProvider(t, f.alice), f.URL())
	admin := networkClient(t, f.AdminProvider(t), f.URL())

	// Networks, with the external attribute.
	type network struct {
		networks.Network
		external.NetworkExternalExt
	}
	var nets []network
	page, err := networks.List(c, networks.ListOpts{}).AllPages(ctx)
	if err == nil {
		err = networks.ExtractNetworksInto(page, &nets)
	}
	if err != nil || len(nets) != 2 || nets[0].ID != f.tenantNet() || nets[0].External || !nets[1].External ||
		nets[1].ID != apitest.PublicNetworkID || nets[0].CreatedAt.IsZero() {
		t.Fatalf("networks %+v, %v", nets, err)
	}
	var one network
	if err := networks.Get(ctx, c, apitest.PublicNetworkID).ExtractInto(&one); err != nil || one.Name != "public" || !one.External {
		t.Errorf("network get %+v, %v", one, err)
	}
	if _, err := networks.Get(ctx, c, "nope").Extract(); neutronErrorOf(t, err, http.StatusNotFound) != "NetworkNotFound" {
		t.Errorf("unknown network: %v", err)
	}

	// Subnets.
	page, err = subnets.List(c, subnets.ListOpts{NetworkID: f.tenantNet()}).AllPages(ctx)
	subs, _ := subnets.ExtractSubnets(page)
	if err != nil || len(subs) != 1 || subs[0].ID != osapi.SubnetID(f.tenantNet()) || subs[0].CIDR != "10.88.0.0/16" {
		t.Fatalf("subnets %+v, %v", subs, err)
	}
	if s, err := subnets.Get(ctx, c, subs[0].ID).Extract(); err != nil || s.GatewayIP != "10.88.0.1" || !s.EnableDHCP {
		t.Errorf("subnet get %+v, %v", s, err)
	}

	// Ports, as the CLI finds a server's.
	page, err = ports.List(c, ports.ListOpts{DeviceID: f.web.ID}).AllPages(ctx)
	ps, _ := ports.ExtractPorts(page)
	if err != nil || len(ps) != 1 || ps[0].ID != portOf(f.web) || ps[0].FixedIPs[0].IPAddress != f.web.Addresses[0].IP {
		t.Fatalf("ports %+v, %v", ps, err)
	}
	if p, err := ports.Get(ctx, c, ps[0].ID).Extract(); err != nil || p.DeviceOwner != "compute:nova" || p.Status != "ACTIVE" {
		t.Errorf("port get %+v, %v", p, err)
	}

	// Floating IPs: create, associate by port, list, get, detach, delete.
	fip, err := floatingips.Create(ctx, c, floatingips.CreateOpts{FloatingNetworkID: apitest.PublicNetworkID}).Extract()
	if err != nil || fip.FloatingIP == "" || fip.PortID != "" || fip.Status != "DOWN" {
		t.Fatalf("floating IP create %+v, %v", fip, err)
	}
	portID := ps[0].ID
	fip, err = floatingips.Update(ctx, c, fip.ID, floatingips.UpdateOpts{PortID: &portID}).Extract()
	if err != nil || fip.PortID != portID || fip.FixedIP != f.web.Addresses[0].IP || fip.Status != "ACTIVE" {
		t.Fatalf("associate %+v, %v", fip, err)
	}
	page, err = floatingips.List(c, floatingips.ListOpts{FloatingIP: fip.FloatingIP}).AllPages(ctx)
	fips, _ := floatingips.ExtractFloatingIPs(page)
	if err != nil || len(fips) != 1 || fips[0].ID != fip.ID {
		t.Errorf("floating IP list %+v, %v", fips, err)
	}
	if got, err := floatingips.Get(ctx, c, fip.ID).Extract(); err != nil || got.PortID != portID || got.CreatedAt.IsZero() {
		t.Errorf("floating IP get %+v, %v", got, err)
	}
	none := ""
	if got, err := floatingips.Update(ctx, c, fip.ID, floatingips.UpdateOpts{PortID: &none}).Extract(); err != nil || got.PortID != "" || got.Status != "DOWN" {
		t.Errorf("disassociate %+v, %v", got, err)
	}
	if err := floatingips.Delete(ctx, c, fip.ID).ExtractErr(); err != nil {
		t.Errorf("floating IP delete: %v", err)
	}
	if _, err := floatingips.Get(ctx, c, fip.ID).Extract(); neutronErrorOf(t, err, http.StatusNotFound) != "FloatingIPNotFound" {
		t.Errorf("deleted floating IP: %v", err)
	}

	// Security groups and rules.
	g, err := groups.Create(ctx, c, groups.CreateOpts{Name: "web", Description: "http"}).Extract()
	if err != nil || g.Name != "web" || len(g.Rules) != 1 || g.ProjectID != f.alice.ProjectID {
		t.Fatalf("group create %+v, %v", g, err)
	}
	page, err = groups.List(c, groups.ListOpts{Name: "web"}).AllPages(ctx)
	gs, _ := groups.ExtractGroups(page)
	if err != nil || len(gs) != 1 || gs[0].ID != g.ID {
		t.Errorf("group list %+v, %v", gs, err)
	}
	if got, err := groups.Get(ctx, c, g.ID).Extract(); err != nil || got.Description != "http" {
		t.Errorf("group get %+v, %v", got, err)
	}
	desc := "http and https"
	if got, err := groups.Update(ctx, c, g.ID, groups.UpdateOpts{Name: "www", Description: &desc}).Extract(); err != nil ||
		got.Name != "www" || got.Description != desc || len(got.Rules) != 1 {
		t.Errorf("group update %+v, %v", got, err)
	}
	def := fsm.DefaultSecurityGroupID(f.alice.ProjectID)
	if _, err := groups.Update(ctx, c, def, groups.UpdateOpts{Name: "mine"}).Extract(); neutronErrorOf(t, err, http.StatusConflict) != "SecurityGroupCannotUpdateDefault" {
		t.Errorf("renaming the default group: %v", err)
	}
	r, err := rules.Create(ctx, c, rules.CreateOpts{Direction: rules.DirIngress, EtherType: rules.EtherType4, SecGroupID: g.ID,
		Protocol: rules.ProtocolTCP, PortRangeMin: 22, PortRangeMax: 22, RemoteIPPrefix: "0.0.0.0/0"}).Extract()
	if err != nil || r.PortRangeMin != 22 || r.Protocol != "tcp" || r.SecGroupID != g.ID {
		t.Fatalf("rule create %+v, %v", r, err)
	}
	page, err = rules.List(c, rules.ListOpts{SecGroupID: g.ID}).AllPages(ctx)
	rs, _ := rules.ExtractRules(page)
	if err != nil || len(rs) != 2 || !slices.ContainsFunc(rs, func(x rules.SecGroupRule) bool { return x.ID == r.ID }) {
		t.Errorf("rule list %+v, %v", rs, err)
	}
	if _, err := rules.Create(ctx, c, rules.CreateOpts{Direction: rules.DirIngress, EtherType: rules.EtherType6,
		SecGroupID: g.ID}).Extract(); neutronErrorOf(t, err, http.StatusBadRequest) != "BadRequest" {
		t.Errorf("IPv6 rule: %v", err)
	}
	if err := rules.Delete(ctx, c, r.ID).ExtractErr(); err != nil {
		t.Errorf("rule delete: %v", err)
	}
	if err := groups.Delete(ctx, c, g.ID).ExtractErr(); err != nil {
		t.Errorf("group delete: %v", err)
	}

	// Quotas: a project reads its own, an admin sets floatingip.
	q, err := quotas.Get(ctx, c, f.alice.ProjectID).Extract()
	if err != nil || q.FloatingIP != 10 || q.Network != -1 {
		t.Errorf("quota get %+v, %v", q, err)
	}
	three := 3
	if q, err := quotas.Update(ctx, admin, f.alice.ProjectID, quotas.UpdateOpts{FloatingIP: &three}).Extract(); err != nil || q.FloatingIP != 3 {
		t.Errorf("quota update %+v, %v", q, err)
	}
	if _, err := quotas.Update(ctx, c, f.alice.ProjectID, quotas.UpdateOpts{FloatingIP: &three}).Extract(); neutronErrorOf(t, err, http.StatusForbidden) != "PolicyNotAuthorized" {
		t.Errorf("a member's quota update: %v", err)
	}
	if d, err := quotas.GetDetail(ctx, c, f.alice.ProjectID).Extract(); err != nil || d.FloatingIP.Limit != 3 || d.Port.Used != 1 {
		t.Errorf("quota details %+v, %v", d, err)
	}

	// Extensions.
	page, err = extensions.List(c).AllPages(ctx)
	exts, _ := extensions.ExtractExtensions(page)
	if err != nil || !slices.ContainsFunc(exts, func(e extensions.Extension) bool { return e.Alias == "external-net" }) {
		t.Errorf("extensions %+v, %v", exts, err)
	}
}
