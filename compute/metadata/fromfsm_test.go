package metadata

import (
	"encoding/base64"
	"net/netip"
	"reflect"
	"testing"

	"github.com/shoal-project/shoal/fsm"
)

// replica is a fixed NetworkView.
type replica fsm.NetworkView

func (r replica) NetworkView() fsm.NetworkView { return fsm.NetworkView(r) }

// view is a replica with two hosts: web (everything: key, user data, two
// groups, properties, two floating IPs, zone of its own) on h1, bare (none
// of it, zone from its host) on h2, and gone (deleted) on h1.
func view() fsm.NetworkView {
	web := fsm.Instance{ID: fullUUID, Name: "Web Server_1", Host: "h1", VMState: fsm.VMActive, ProjectID: "p-1",
		ImageID: "img-1", Flavor: fsm.FlavorSpec{Name: "m1.tiny"}, AvailabilityZone: "zone-a",
		KeyName: "alice", KeyData: pubKey, UserData: base64.StdEncoding.EncodeToString([]byte("#!/bin/sh\n")),
		Metadata:       map[string]string{"role": "web"},
		SecurityGroups: []string{"sg-web", fsm.DefaultSecurityGroupID("p-1")},
		Addresses:      []fsm.Address{{Network: "tenant", IP: "10.0.0.5", MAC: "fa:16:3e:12:34:56"}}}
	bare := fsm.Instance{ID: bareUUID, Name: "☃", Host: "h2", VMState: fsm.VMActive, ProjectID: "p-2",
		ImageID: "img-2", Flavor: fsm.FlavorSpec{Name: "m1.small"},
		Addresses: []fsm.Address{{Network: "tenant", IP: "10.0.0.6", MAC: "fa:16:3e:00:00:02"}}}
	gone := fsm.Instance{ID: "dead", Name: "gone", Host: "h1", VMState: fsm.VMDeleted,
		Addresses: []fsm.Address{{Network: "tenant", IP: "10.0.0.7", MAC: "fa:16:3e:00:00:03"}}}
	return fsm.NetworkView{
		Tenant: &fsm.Network{ID: "net-1", Name: "tenant", CIDR: "10.0.0.0/24", Gateway: "10.0.0.1"},
		Hosts: []fsm.Host{{Name: "h1", Inventory: fsm.Inventory{Zone: "nova"}},
			{Name: "h2", Inventory: fsm.Inventory{Zone: "zone-b"}}},
		Instances: []fsm.Instance{web, bare, gone},
		FloatingIPs: []fsm.FloatingIP{{IP: "203.0.113.9", InstanceID: fullUUID},
			{IP: "203.0.113.7", InstanceID: fullUUID}, {IP: "203.0.113.8"}},
		SecurityGroups: []fsm.SecurityGroup{{ID: "sg-web", Name: "web"}},
	}
}

func TestFromFSM(t *testing.T) {
	nv := view()
	got := FromFSM(nv, nv.Instances[0])
	want := Instance{UUID: fullUUID, Name: "Web Server_1", Hostname: "web-server-1", AvailabilityZone: "zone-a",
		ProjectID: "p-1", ImageID: "img-1", Flavor: "m1.tiny", KeyName: "alice", KeyData: pubKey,
		Meta: map[string]string{"role": "web"}, UserData: []byte("#!/bin/sh\n"),
		SecurityGroups: []string{"web", "default"},
		Port: Port{MAC: mustMAC("fa:16:3e:12:34:56"), IP: netip.MustParseAddr("10.0.0.5"),
			Network: netip.MustParsePrefix("10.0.0.0/24"), Gateway: netip.MustParseAddr("10.0.0.1"), NetworkID: "net-1"},
		FloatingIP: netip.MustParseAddr("203.0.113.7")}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("web:\n got %+v\nwant %+v", got, want)
	}
	got = FromFSM(nv, nv.Instances[1])
	want = Instance{UUID: bareUUID, Name: "☃", Hostname: "Server-" + bareUUID, AvailabilityZone: "zone-b",
		ProjectID: "p-2", ImageID: "img-2", Flavor: "m1.small", SecurityGroups: []string{"default"},
		Port: Port{MAC: mustMAC("fa:16:3e:00:00:02"), IP: netip.MustParseAddr("10.0.0.6"),
			Network: netip.MustParsePrefix("10.0.0.0/24"), Gateway: netip.MustParseAddr("10.0.0.1"), NetworkID: "net-1"}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("bare:\n got %+v\nwant %+v", got, want)
	}
	// Without a tenant network there is no port.
	nv.Tenant = nil
	if p := FromFSM(nv, nv.Instances[0]).Port; p.IP.IsValid() {
		t.Errorf("a port without a tenant network: %+v", p)
	}
}

// TestReplicaGuests: a host finds only the guests its replica places on
// it, by fixed IP, and none that is deleted; when the replica moves a
// guest (evacuation), the new host answers for it and the old one does not.
func TestReplicaGuests(t *testing.T) {
	nv := view()
	h1, h2 := ReplicaGuests{Replica: replica(nv), Host: "h1"}, ReplicaGuests{Replica: replica(nv), Host: "h2"}
	for _, tc := range []struct {
		g    ReplicaGuests
		ip   string
		want string // UUID, "" for none
	}{
		{h1, "10.0.0.5", fullUUID},
		{h1, "::ffff:10.0.0.5", fullUUID},
		{h1, "10.0.0.6", ""}, // bare runs on h2
		{h2, "10.0.0.6", bareUUID},
		{h2, "10.0.0.5", ""},
		{h1, "10.0.0.7", ""}, // deleted
		{h1, "10.0.0.1", ""}, // the gateway
	} {
		inst, ok := tc.g.Guest(netip.MustParseAddr(tc.ip))
		if ok != (tc.want != "") || inst.UUID != tc.want {
			t.Errorf("%s asked for %s: %q %v, want %q", tc.g.Host, tc.ip, inst.UUID, ok, tc.want)
		}
	}
	nv.Instances[0].Host = "h2"
	h1.Replica, h2.Replica = replica(nv), replica(nv)
	if _, ok := h1.Guest(netip.MustParseAddr("10.0.0.5")); ok {
		t.Error("the old host still answers for an evacuated guest")
	}
	if inst, ok := h2.Guest(netip.MustParseAddr("10.0.0.5")); !ok || inst.AvailabilityZone != "zone-a" {
		t.Errorf("the new host: %+v %v", inst, ok)
	}
}
