package client

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/shoal-project/shoal/api"
	"github.com/shoal-project/shoal/fsm"
)

// TestNetworking: every networking method against the real API, and its
// refusals as fsm's sentinels.
func TestNetworking(t *testing.T) {
	c, cl := newTestClient(t)
	ctx := context.Background()

	public, err := cl.CreateNetwork(ctx, api.NetworkCreate{Name: "public", External: true, CIDR: "10.66.0.0/24",
		Gateway: "10.66.0.1", AllocationPools: []fsm.IPRange{{Start: "10.66.0.200", End: "10.66.0.240"}}})
	if err != nil || !public.External || public.AllocationPools[0].Start != "10.66.0.200" {
		t.Fatalf("CreateNetwork = %+v, %v", public, err)
	}
	if _, err := cl.CreateNetwork(ctx, api.NetworkCreate{Name: "clash", External: true, CIDR: "10.66.0.0/16"}); !errors.Is(err, fsm.ErrConflict) {
		t.Errorf("overlapping network: %v", err)
	}
	if got, err := cl.Network(ctx, "public"); err != nil || !reflect.DeepEqual(got, public) {
		t.Errorf("Network = %+v, %v", got, err)
	}
	if list, err := cl.Networks(ctx); err != nil || len(list) != 2 || list[0].ID != fsm.DefaultNetworkID {
		t.Errorf("Networks = %+v, %v", list, err)
	}

	fip, err := cl.CreateFloatingIP(ctx, "public")
	if err != nil || fip.IP != "10.66.0.200" || fip.Network != public.ID {
		t.Fatalf("CreateFloatingIP = %+v, %v", fip, err)
	}
	if got, err := cl.FloatingIP(ctx, fip.IP); err != nil || got != fip {
		t.Errorf("FloatingIP = %+v, %v", got, err)
	}
	if list, err := cl.FloatingIPs(ctx); err != nil || len(list) != 1 {
		t.Errorf("FloatingIPs = %+v, %v", list, err)
	}

	web, err := cl.CreateSecurityGroup(ctx, "web", "HTTP")
	if err != nil || web.Name != "web" || len(web.Rules) != 1 {
		t.Fatalf("CreateSecurityGroup = %+v, %v", web, err)
	}
	port := 80
	rule, err := cl.CreateSecurityGroupRule(ctx, api.SecurityGroupRuleCreate{SecurityGroupID: web.ID, Direction: "ingress",
		Protocol: "tcp", PortRangeMin: &port, PortRangeMax: &port})
	if err != nil || rule.SecurityGroupID != web.ID || *rule.Protocol != "tcp" {
		t.Fatalf("CreateSecurityGroupRule = %+v, %v", rule, err)
	}
	backwards := 79
	if _, err := cl.CreateSecurityGroupRule(ctx, api.SecurityGroupRuleCreate{SecurityGroupID: web.ID, Direction: "ingress",
		Protocol: "tcp", PortRangeMin: &port, PortRangeMax: &backwards}); !errors.Is(err, fsm.ErrInvalid) {
		t.Errorf("min > max: %v", err)
	}
	if got, err := cl.SecurityGroup(ctx, web.ID); err != nil || len(got.Rules) != 2 {
		t.Errorf("SecurityGroup = %+v, %v", got, err)
	}
	if list, err := cl.SecurityGroups(ctx); err != nil || len(list) != 2 {
		t.Errorf("SecurityGroups = %+v, %v", list, err)
	}

	// A server in web, with the floating IP, then without either.
	c.MustApply(t, &fsm.UpdateHostInventory{Name: "node1", Inventory: fsm.Inventory{VCPUs: 4, MemoryMiB: 8192, DiskGiB: 50, HypervisorType: "QEMU"}})
	img, err := cl.CreateImage(ctx, api.ImageCreate{Name: "cirros", DiskFormat: "qcow2", ContainerFormat: "bare"})
	if err != nil {
		t.Fatal(err)
	}
	c.MustApply(t, &fsm.ImageUploaded{ID: img.ID, Node: "node1", Size: 1 << 20, Checksum: strings.Repeat("ab", 32), Time: time.Now().UTC()})
	vms, err := cl.CreateServer(ctx, api.ServerCreate{Name: "vm", Flavor: "m1.tiny", Image: "cirros",
		SecurityGroups: []api.SecurityGroupRef{{Name: "web"}}})
	if err != nil || !reflect.DeepEqual(vms[0].SecurityGroups, []api.SecurityGroupRef{{Name: "web"}}) {
		t.Fatalf("CreateServer = %+v, %v", vms, err)
	}
	vm := vms[0]
	got, err := cl.AddFloatingIP(ctx, vm.ID, fip.IP)
	if err != nil || len(got.Addresses) != 2 || got.Addresses[1].IP != fip.IP || got.Addresses[1].Type != api.AddressFloating {
		t.Errorf("AddFloatingIP = %+v, %v", got.Addresses, err)
	}
	if got, err = cl.AddSecurityGroup(ctx, vm.ID, "default"); err != nil || len(got.SecurityGroups) != 2 {
		t.Errorf("AddSecurityGroup = %+v, %v", got.SecurityGroups, err)
	}
	if err := cl.DeleteSecurityGroup(ctx, web.ID); !errors.Is(err, fsm.ErrConflict) {
		t.Errorf("deleting a group in use: %v", err)
	}
	if got, err = cl.RemoveSecurityGroup(ctx, vm.ID, "web"); err != nil || !reflect.DeepEqual(got.SecurityGroups, []api.SecurityGroupRef{{Name: "default"}}) {
		t.Errorf("RemoveSecurityGroup = %+v, %v", got.SecurityGroups, err)
	}
	if got, err = cl.RemoveFloatingIP(ctx, vm.ID, fip.IP); err != nil || len(got.Addresses) != 1 {
		t.Errorf("RemoveFloatingIP = %+v, %v", got.Addresses, err)
	}
	if _, err := cl.RemoveFloatingIP(ctx, vm.ID, fip.IP); !errors.Is(err, fsm.ErrConflict) {
		t.Errorf("removing a detached floating IP: %v", err)
	}

	for _, err := range []error{
		cl.DeleteSecurityGroupRule(ctx, rule.ID), cl.DeleteSecurityGroup(ctx, web.ID),
		cl.DeleteFloatingIP(ctx, fip.ID), cl.DeleteNetwork(ctx, "public"),
	} {
		if err != nil {
			t.Fatal(err)
		}
	}
	if _, err := cl.FloatingIP(ctx, fip.ID); !errors.Is(err, fsm.ErrNotFound) {
		t.Errorf("released floating IP: %v", err)
	}
	for _, err := range []error{cl.DeleteNetwork(ctx, ""), cl.DeleteFloatingIP(ctx, ""), cl.DeleteSecurityGroup(ctx, ""),
		cl.DeleteSecurityGroupRule(ctx, "")} {
		if !errors.Is(err, fsm.ErrInvalid) {
			t.Errorf("empty ref: %v", err)
		}
	}
}
