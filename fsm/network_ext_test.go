package fsm_test

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/shoal-project/shoal/fsm"
)

func TestCreateNetwork(t *testing.T) {
	w := netWorld(t)
	want := fsm.Network{ID: "ext", Name: "public-ext", CIDR: extCIDR, Gateway: "10.66.0.1", External: true,
		AllocationPools: []fsm.IPRange{{Start: "10.66.0.10", End: "10.66.0.11"}, {Start: "10.66.0.20", End: "10.66.0.20"}},
		ProjectID:       "p-admin", Created: t1, Allocated: map[string]string{}, Cursor: 10}
	if got, err := w.f.NetworkByID("ext"); err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("NetworkByID(ext) = %+v, %v\nwant %+v", got, err, want)
	}

	// No gateway and no pools: .1 is the gateway, the rest a pool; a gateway
	// in the middle splits the default pool around it; the CIDR is masked.
	w.must(&fsm.CreateNetwork{ID: "n2", Name: "other", CIDR: "10.67.0.9/29", External: true, Time: t1},
		&fsm.CreateNetwork{ID: "n3", Name: "third", CIDR: "10.68.0.0/29", Gateway: "10.68.0.3", External: true, Time: t1})
	n2, _ := w.f.NetworkByID("n2")
	if n2.CIDR != "10.67.0.8/29" || n2.Gateway != "10.67.0.9" ||
		!reflect.DeepEqual(n2.AllocationPools, []fsm.IPRange{{Start: "10.67.0.10", End: "10.67.0.14"}}) {
		t.Errorf("n2 = %+v", n2)
	}
	n3, _ := w.f.NetworkByID("n3")
	if want := []fsm.IPRange{{Start: "10.68.0.1", End: "10.68.0.2"}, {Start: "10.68.0.4", End: "10.68.0.6"}}; !reflect.DeepEqual(n3.AllocationPools, want) {
		t.Errorf("n3 pools = %+v, want %+v", n3.AllocationPools, want)
	}

	// The tenant network is shown as "default" with its implicit pool, first.
	tenant, err := w.f.NetworkByID(fsm.DefaultNetworkID)
	if err != nil || tenant.ID != "default" || tenant.External || tenant.CIDR != testCIDR ||
		!reflect.DeepEqual(tenant.AllocationPools, []fsm.IPRange{{Start: "10.20.0.2", End: "10.20.0.254"}}) {
		t.Errorf("NetworkByID(default) = %+v, %v", tenant, err)
	}
	var names []string
	for _, n := range w.f.Networks() {
		names = append(names, n.ID)
	}
	if strings.Join(names, ",") != "default,n2,ext,n3" { // then by name: other, public-ext, third
		t.Errorf("Networks() = %v", names)
	}
	if got := w.f.ExternalNetworks(); len(got) != 3 || got[0].ID != "n2" {
		t.Errorf("ExternalNetworks() = %+v", got)
	}
	if _, err := w.f.NetworkByID("nope"); !errors.Is(err, fsm.ErrNotFound) {
		t.Errorf("NetworkByID(nope) = %v, want ErrNotFound", err)
	}
	// Readers get copies.
	got, _ := w.f.NetworkByID("ext")
	got.AllocationPools[0].Start = "changed"
	got.Allocated["x"] = "y"
	if again, _ := w.f.NetworkByID("ext"); !reflect.DeepEqual(again, want) {
		t.Errorf("a reader's change leaked into the state: %+v", again)
	}
	checkDerived(t, w.f)
}

func TestCreateNetworkRefused(t *testing.T) {
	pool := func(a, b string) []fsm.IPRange { return []fsm.IPRange{{Start: a, End: b}} }
	for _, tc := range []struct {
		name string
		edit func(c *fsm.CreateNetwork)
		want error
	}{
		{"no ID", func(c *fsm.CreateNetwork) { c.ID = "" }, fsm.ErrInvalid},
		{"the tenant network's ID", func(c *fsm.CreateNetwork) { c.ID = fsm.DefaultNetworkID }, fsm.ErrInvalid},
		{"not external", func(c *fsm.CreateNetwork) { c.External = false }, fsm.ErrInvalid},
		{"no name", func(c *fsm.CreateNetwork) { c.Name = "" }, fsm.ErrInvalid},
		{"control character in name", func(c *fsm.CreateNetwork) { c.Name = "a\nb" }, fsm.ErrInvalid},
		{"bad CIDR", func(c *fsm.CreateNetwork) { c.CIDR = "10.70.0.0" }, fsm.ErrInvalid},
		{"IPv6", func(c *fsm.CreateNetwork) { c.CIDR = "fd00::/64" }, fsm.ErrInvalid},
		{"/31", func(c *fsm.CreateNetwork) { c.CIDR = "10.70.0.0/31" }, fsm.ErrInvalid},
		{"/7", func(c *fsm.CreateNetwork) { c.CIDR = "10.0.0.0/7" }, fsm.ErrInvalid},
		{"gateway outside", func(c *fsm.CreateNetwork) { c.Gateway = "10.71.0.1" }, fsm.ErrInvalid},
		{"gateway not an address", func(c *fsm.CreateNetwork) { c.Gateway = "gw" }, fsm.ErrInvalid},
		{"gateway is the network address", func(c *fsm.CreateNetwork) { c.Gateway = "10.70.0.0" }, fsm.ErrInvalid},
		{"gateway is the broadcast address", func(c *fsm.CreateNetwork) { c.Gateway = "10.70.0.255" }, fsm.ErrInvalid},
		{"pool outside", func(c *fsm.CreateNetwork) { c.AllocationPools = pool("10.70.0.200", "10.70.1.10") }, fsm.ErrInvalid},
		{"pool start after end", func(c *fsm.CreateNetwork) { c.AllocationPools = pool("10.70.0.20", "10.70.0.10") }, fsm.ErrInvalid},
		{"pool holds the gateway", func(c *fsm.CreateNetwork) { c.AllocationPools = pool("10.70.0.1", "10.70.0.10") }, fsm.ErrInvalid},
		{"pool holds a given gateway", func(c *fsm.CreateNetwork) {
			c.Gateway, c.AllocationPools = "10.70.0.5", pool("10.70.0.2", "10.70.0.10")
		}, fsm.ErrInvalid},
		{"pool holds the broadcast address", func(c *fsm.CreateNetwork) { c.AllocationPools = pool("10.70.0.200", "10.70.0.255") }, fsm.ErrInvalid},
		{"pool not an address", func(c *fsm.CreateNetwork) { c.AllocationPools = pool("x", "10.70.0.9") }, fsm.ErrInvalid},
		{"pools overlap", func(c *fsm.CreateNetwork) {
			c.AllocationPools = []fsm.IPRange{{Start: "10.70.0.50", End: "10.70.0.60"}, {Start: "10.70.0.10", End: "10.70.0.50"}}
		}, fsm.ErrInvalid},
		{"overlaps the tenant network", func(c *fsm.CreateNetwork) { c.CIDR = "10.20.0.128/25" }, fsm.ErrConflict},
		{"holds the tenant network", func(c *fsm.CreateNetwork) { c.CIDR = "10.0.0.0/8" }, fsm.ErrConflict},
		{"overlaps an external network", func(c *fsm.CreateNetwork) { c.CIDR = "10.66.0.64/26" }, fsm.ErrConflict},
		{"ID taken", func(c *fsm.CreateNetwork) { c.ID, c.CIDR = "ext", "10.70.0.0/24" }, fsm.ErrConflict},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := netWorld(t)
			c := &fsm.CreateNetwork{ID: "n", Name: "n", CIDR: "10.70.0.0/24", External: true, Time: t2}
			tc.edit(c)
			if tc.want == fsm.ErrInvalid {
				if err := c.Validate(); !errors.Is(err, fsm.ErrInvalid) {
					t.Errorf("Validate() = %v, want ErrInvalid", err)
				}
			}
			w.refuse(c, tc.want)
		})
	}
}

func TestDeleteNetwork(t *testing.T) {
	w := netWorld(t)
	w.refuse(&fsm.DeleteNetwork{ID: fsm.DefaultNetworkID}, fsm.ErrConflict)
	w.refuse(&fsm.DeleteNetwork{ID: "nope"}, fsm.ErrNotFound)
	w.must(allocFIP("f1", "ext", "p1"))
	w.refuse(&fsm.DeleteNetwork{ID: "ext"}, fsm.ErrConflict)
	w.must(&fsm.ReleaseFloatingIP{ID: "f1"}, &fsm.DeleteNetwork{ID: "ext"})
	if _, err := w.f.NetworkByID("ext"); !errors.Is(err, fsm.ErrNotFound) {
		t.Errorf("NetworkByID(ext) after delete = %v", err)
	}
	// Its CIDR is free again.
	w.must(extNet("ext2", extCIDR))
	checkDerived(t, w.f)
}
