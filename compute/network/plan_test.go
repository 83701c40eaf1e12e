package network

import (
	"fmt"
	"net"
	"net/netip"
	"reflect"
	"testing"

	"github.com/shoal-project/shoal/compute/network/link"
	"github.com/shoal-project/shoal/compute/network/nft"
)

var (
	ip     = netip.MustParseAddr
	prefix = netip.MustParsePrefix
	h1, h2 = ip("10.99.0.11"), ip("10.99.0.12")
	h3     = ip("10.99.0.13")
	ext    = prefix("10.66.0.0/24")
	uplink = link.Uplink{Name: "eth0", Addr: h1}
)

// Instance IDs are 36 characters, as the FSM's; the tap takes the first 11.
const (
	idA = "aaaaaaaa-0000-4000-8000-000000000001"
	idB = "bbbbbbbb-0000-4000-8000-000000000002"
	idC = "cccccccc-0000-4000-8000-000000000003"
	idD = "dddddddd-0000-4000-8000-000000000004"
)

func mac(last byte) net.HardwareAddr { return net.HardwareAddr{0xfa, 0x16, 0x3e, 0, 0, last} }

// view is a three-host cluster seen from h1: a (here), b (on h2), both in
// the default group "dflt", with a floating IP each.
func view() View {
	return View{
		Tenant:  prefix("10.78.0.0/24"),
		Gateway: ip("10.78.0.1"),
		Hosts:   map[string]netip.Addr{"h1": h1, "h2": h2, "h3": h3},
		Instances: []Instance{
			{ID: idA, Host: "h1", IP: ip("10.78.0.2"), MAC: mac(2), Groups: []string{"dflt"}},
			{ID: idB, Host: "h2", IP: ip("10.78.0.3"), MAC: mac(3), Groups: []string{"dflt"}},
		},
		External: []netip.Prefix{ext},
		Floating: []FloatingIP{{IP: ip("10.66.0.201"), InstanceID: idA}, {IP: ip("10.66.0.202"), InstanceID: idB},
			{IP: ip("10.66.0.203")}},
		Groups: []Group{{ID: "dflt", Rules: defaultRules("dflt")}},
		Local:  Local{Bridge: "shbr1", Uplink: uplink},
	}
}

func defaultRules(id string) []nft.Rule {
	return []nft.Rule{{Ingress: true, RemoteGroup: id}, {}}
}

// desired is the plan for view() on h1, unfenced; cases edit a copy.
func desired() Desired {
	return Desired{
		Desired: link.Desired{
			Bridge: "shbr1", Uplink: "eth0",
			Routes:         []link.Route{{Dst: ip("10.78.0.3"), Via: h2}},
			ProxyNeigh:     []netip.Addr{ip("10.78.0.3")},
			FloatingAddrs:  []netip.Addr{ip("10.66.0.201")},
			ExternalRoutes: []netip.Prefix{ext},
		},
		Ruleset: nft.Ruleset{
			Tenant: prefix("10.78.0.0/24"), Gateway: ip("10.78.0.1"), Uplink: "eth0", UplinkAddr: h1,
			NAT:    []nft.NAT{{Floating: ip("10.66.0.201"), Fixed: ip("10.78.0.2")}},
			Ports:  []nft.Port{{Tap: "tapaaaaaaaa-00", MAC: mac(2), IP: ip("10.78.0.2"), Groups: []string{"dflt"}}},
			Groups: []nft.Group{{ID: "dflt", Members: []netip.Addr{ip("10.78.0.2"), ip("10.78.0.3")}, Rules: defaultRules("dflt")}},
		},
	}
}

func TestPlan(t *testing.T) {
	for _, c := range []struct {
		name   string
		me     string
		fenced bool
		view   func(v *View)
		want   func(d *Desired)
	}{
		{name: "local and remote instance", me: "h1"},
		{name: "seen from the other host", me: "h2", want: func(d *Desired) {
			d.Routes = []link.Route{{Dst: ip("10.78.0.2"), Via: h1}}
			d.ProxyNeigh = []netip.Addr{ip("10.78.0.2")}
			d.FloatingAddrs = []netip.Addr{ip("10.66.0.202")}
			d.Ruleset.NAT = []nft.NAT{{Floating: ip("10.66.0.202"), Fixed: ip("10.78.0.3")}}
			d.Ruleset.Ports = []nft.Port{{Tap: "tapbbbbbbbb-00", MAC: mac(3), IP: ip("10.78.0.3"), Groups: []string{"dflt"}}}
		}},
		{name: "remote instance moved to another host: the next hop follows", me: "h1",
			view: func(v *View) { v.Instances[1].Host = "h3" },
			want: func(d *Desired) { d.Routes = []link.Route{{Dst: ip("10.78.0.3"), Via: h3}} }},
		{name: "remote instance moved here: no route, a port and its floating IP", me: "h1",
			view: func(v *View) { v.Instances[1].Host = "h1" },
			want: func(d *Desired) {
				d.Routes, d.ProxyNeigh = nil, nil
				d.FloatingAddrs = []netip.Addr{ip("10.66.0.201"), ip("10.66.0.202")}
				d.Ruleset.NAT = append(d.Ruleset.NAT, nft.NAT{Floating: ip("10.66.0.202"), Fixed: ip("10.78.0.3")})
				d.Ruleset.Ports = append(d.Ruleset.Ports,
					nft.Port{Tap: "tapbbbbbbbb-00", MAC: mac(3), IP: ip("10.78.0.3"), Groups: []string{"dflt"}})
			}},
		{name: "local instance moved away: its floating IP goes with it", me: "h1",
			view: func(v *View) { v.Instances[0].Host = "h2" },
			want: func(d *Desired) {
				d.Routes = []link.Route{{Dst: ip("10.78.0.2"), Via: h2}, {Dst: ip("10.78.0.3"), Via: h2}}
				d.ProxyNeigh = []netip.Addr{ip("10.78.0.2"), ip("10.78.0.3")}
				d.FloatingAddrs, d.Ruleset.NAT, d.Ruleset.Ports, d.Ruleset.Groups = nil, nil, nil, nil
			}},
		{name: "metadata port: guests' 169.254.169.254 is the service on the gateway", me: "h1",
			view: func(v *View) { v.Local.MetadataPort = 8775 },
			want: func(d *Desired) { d.Ruleset.MetadataPort = 8775 }},
		{name: "metadata stays while fenced: it answers only this host's guests", me: "h1", fenced: true,
			view: func(v *View) { v.Local.MetadataPort = 8775 },
			want: func(d *Desired) {
				d.FloatingAddrs, d.Ruleset.NAT = nil, nil
				d.Ruleset.MetadataPort = 8775
			}},
		{name: "no metadata (and no hairpin) without a gateway", me: "h1",
			view: func(v *View) { v.Gateway, v.Local.MetadataPort = netip.Addr{}, 8775 },
			want: func(d *Desired) { d.Ruleset.Gateway = netip.Addr{} }},
		{name: "fenced: no floating IP, no NAT; routes and filters stay", me: "h1", fenced: true,
			want: func(d *Desired) { d.FloatingAddrs, d.Ruleset.NAT = nil, nil }},
		{name: "no uplink: no floating IP, no NAT", me: "h1",
			view: func(v *View) { v.Local.Uplink = link.Uplink{} },
			want: func(d *Desired) {
				d.Uplink, d.Ruleset.Uplink, d.Ruleset.UplinkAddr = "", "", netip.Addr{}
				d.FloatingAddrs, d.Ruleset.NAT = nil, nil
			}},
		{name: "instance without host or fixed IP is skipped", me: "h1",
			view: func(v *View) {
				v.Instances = append(v.Instances,
					Instance{ID: idC, IP: ip("10.78.0.4"), MAC: mac(4), Groups: []string{"dflt"}},
					Instance{ID: idD, Host: "h2", MAC: mac(5), Groups: []string{"dflt"}})
				v.Floating = append(v.Floating, FloatingIP{IP: ip("10.66.0.204"), InstanceID: idC})
			}},
		{name: "unknown host, or a host at this host's own address, gets no route", me: "h1",
			view: func(v *View) {
				v.Hosts["h3"] = h1
				v.Instances = append(v.Instances,
					Instance{ID: idC, Host: "h3", IP: ip("10.78.0.4"), MAC: mac(4)},
					Instance{ID: idD, Host: "h9", IP: ip("10.78.0.5"), MAC: mac(5)})
			}},
		{name: "hosts on loopback share this namespace: no route to their guests", me: "h1",
			view: func(v *View) {
				v.Hosts["h2"], v.Hosts["h3"] = ip("127.0.0.1"), ip("127.0.0.2")
				v.Instances = append(v.Instances, Instance{ID: idC, Host: "h3", IP: ip("10.78.0.4"), MAC: mac(4)})
			},
			want: func(d *Desired) { d.Routes, d.ProxyNeigh = nil, nil }},
		{name: "floating IP outside every external network is not taken", me: "h1",
			view: func(v *View) { v.Floating[0].IP = ip("192.0.2.1") },
			want: func(d *Desired) { d.FloatingAddrs, d.Ruleset.NAT = nil, nil }},
		{name: "a fixed IP takes one floating IP", me: "h1",
			view: func(v *View) { v.Floating[1].InstanceID = idA },
			want: func(d *Desired) {}},
		{name: "external networks in order, once each", me: "h1",
			view: func(v *View) { v.External = []netip.Prefix{prefix("10.67.0.9/24"), ext, prefix("10.66.0.0/24")} },
			want: func(d *Desired) { d.ExternalRoutes = []netip.Prefix{ext, prefix("10.67.0.0/24")} }},
		{name: "a group's members cluster-wide; a remote group carries its members only", me: "h1",
			view: func(v *View) {
				v.Instances[0].Groups = []string{"web", "dflt", "web", "gone"}
				v.Instances = append(v.Instances,
					Instance{ID: idC, Host: "h3", IP: ip("10.78.0.4"), MAC: mac(4), Groups: []string{"db"}},
					Instance{ID: idD, Host: "h2", IP: ip("10.78.0.5"), MAC: mac(5), Groups: []string{"web", "db"}})
				v.Groups = append(v.Groups,
					Group{ID: "web", Rules: []nft.Rule{{Ingress: true, Protocol: "tcp", PortMin: 80, PortMax: 80},
						{Ingress: true, Protocol: "tcp", PortMin: 5432, PortMax: 5432, RemoteGroup: "db"},
						{Ingress: true, RemoteGroup: "deleted"}}},
					Group{ID: "db", Rules: []nft.Rule{{Ingress: true, RemoteGroup: "admin"}}})
			},
			want: func(d *Desired) {
				d.Routes = []link.Route{{Dst: ip("10.78.0.3"), Via: h2}, {Dst: ip("10.78.0.4"), Via: h3}, {Dst: ip("10.78.0.5"), Via: h2}}
				d.ProxyNeigh = []netip.Addr{ip("10.78.0.3"), ip("10.78.0.4"), ip("10.78.0.5")}
				d.Ruleset.Ports[0].Groups = []string{"dflt", "web"}
				d.Ruleset.Groups = []nft.Group{
					{ID: "db", Members: []netip.Addr{ip("10.78.0.4"), ip("10.78.0.5")}},
					{ID: "dflt", Members: []netip.Addr{ip("10.78.0.2"), ip("10.78.0.3")}, Rules: defaultRules("dflt")},
					{ID: "web", Members: []netip.Addr{ip("10.78.0.2"), ip("10.78.0.5")}, Rules: []nft.Rule{
						{Ingress: true, Protocol: "tcp", PortMin: 80, PortMax: 80},
						{Ingress: true, Protocol: "tcp", PortMin: 5432, PortMax: 5432, RemoteGroup: "db"}}},
				}
			}},
	} {
		t.Run(c.name, func(t *testing.T) {
			v := view()
			if c.view != nil {
				c.view(&v)
			}
			want := desired()
			if c.want != nil {
				c.want(&want)
			}
			got := Plan(v, c.me, c.fenced)
			if !reflect.DeepEqual(got, want) {
				t.Errorf("Plan:\n got %s\nwant %s", show(got), show(want))
			}
			if again := Plan(v, c.me, c.fenced); !reflect.DeepEqual(again, got) {
				t.Errorf("Plan is not deterministic:\n%s\n%s", show(got), show(again))
			}
		})
	}
}

func show(d Desired) string {
	return fmt.Sprintf("%+v\n     %+v", d.Desired, d.Ruleset)
}
