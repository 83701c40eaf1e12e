package network

import (
	"net/netip"
	"reflect"
	"testing"

	"github.com/shoal-project/shoal/compute/network/nft"
	"github.com/shoal-project/shoal/fsm"
)

func intp(v int) *int { return &v }

func TestFromFSM(t *testing.T) {
	nv := fsm.NetworkView{
		Tenant:   &fsm.Network{Name: "default", CIDR: "10.78.0.0/24", Gateway: "10.78.0.1"},
		External: []fsm.Network{{ID: "n1", CIDR: "10.66.0.0/24", External: true}, {ID: "bad", CIDR: "nonsense"}},
		Hosts: []fsm.Host{{Name: "h1", RaftAddress: "10.99.0.11:7947"}, {Name: "h2", RaftAddress: "10.99.0.12:7947"},
			{Name: "named", RaftAddress: "node3.example:7947"}},
		Instances: []fsm.Instance{
			{ID: idA, Host: "h1", ProjectID: "p1", SecurityGroups: []string{"g1"},
				Addresses: []fsm.Address{{Network: "default", IP: "10.78.0.2", MAC: "fa:16:3e:00:00:02"}}},
			{ID: idB, ProjectID: "p1"}, // made before security groups, not placed, no address
		},
		FloatingIPs: []fsm.FloatingIP{{ID: "f1", IP: "10.66.0.201", InstanceID: idA, FixedIP: "10.78.0.2"}, {ID: "f2", IP: "10.66.0.202"}},
		SecurityGroups: []fsm.SecurityGroup{{ID: "g1", Rules: []fsm.SecurityGroupRule{
			{Direction: "ingress", Ethertype: "IPv4", Protocol: "tcp", PortMin: intp(80), PortMax: intp(81)},
			{Direction: "ingress", Protocol: "udp", PortMin: intp(53)},
			{Direction: "ingress", Ethertype: "IPv4", Protocol: "tcp"},
			{Direction: "ingress", Ethertype: "IPv4", Protocol: "icmp", PortMin: intp(8)},
			{Direction: "ingress", Ethertype: "IPv4", Protocol: "icmp"},
			{Direction: "ingress", Ethertype: "IPv4", RemoteIPPrefix: "192.0.2.7/24"},
			{Direction: "ingress", Ethertype: "IPv4", RemoteGroupID: "g1"},
			{Direction: "egress", Ethertype: "IPv4"},
			{Direction: "ingress", Ethertype: "IPv6"},
			{Direction: "ingress", Ethertype: "IPv4", Protocol: "sctp"},
			{Direction: "sideways", Ethertype: "IPv4"},
			{Direction: "ingress", Ethertype: "IPv4", RemoteIPPrefix: "2001:db8::/32"},
		}}},
	}
	local := Local{Bridge: "shbr1", Uplink: uplink}
	want := View{
		Tenant:  prefix("10.78.0.0/24"),
		Gateway: ip("10.78.0.1"),
		Hosts:   map[string]netip.Addr{"h1": h1, "h2": h2},
		Instances: []Instance{
			{ID: idA, Host: "h1", IP: ip("10.78.0.2"), MAC: mac(2), Groups: []string{"g1"}},
			{ID: idB, Groups: []string{fsm.DefaultSecurityGroupID("p1")}},
		},
		External: []netip.Prefix{ext},
		Floating: []FloatingIP{{IP: ip("10.66.0.201"), InstanceID: idA}, {IP: ip("10.66.0.202")}},
		Groups: []Group{{ID: "g1", Rules: []nft.Rule{
			{Ingress: true, Protocol: "tcp", PortMin: 80, PortMax: 81},
			{Ingress: true, Protocol: "udp", PortMin: 53, PortMax: 53},
			{Ingress: true, Protocol: "tcp"},
			{Ingress: true, Protocol: "icmp", PortMin: 8, PortMax: -1},
			{Ingress: true, Protocol: "icmp", PortMin: -1, PortMax: -1},
			{Ingress: true, Remote: prefix("192.0.2.0/24")},
			{Ingress: true, RemoteGroup: "g1"},
			{},
		}}},
		Local: local,
	}
	if got := FromFSM(nv, local); !reflect.DeepEqual(got, want) {
		t.Errorf("FromFSM:\n got %+v\nwant %+v", got, want)
	}
	if got := FromFSM(fsm.NetworkView{}, local); got.Tenant.IsValid() || len(got.Instances) != 0 {
		t.Errorf("FromFSM of a cluster without a network = %+v", got)
	}
}
