//go:build netns

package link_test

import (
	"errors"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mdlayher/arp"
	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"github.com/shoal-project/shoal/compute/network/link"
	"github.com/shoal-project/shoal/internal/netnstest"
)

var (
	guest    = netip.MustParseAddr("10.78.0.5")
	peerA    = netip.MustParseAddr("10.99.0.12")
	peerB    = netip.MustParseAddr("10.99.0.13")
	floating = netip.MustParseAddr("10.66.0.201")
	external = netip.MustParsePrefix("10.66.0.0/24")
)

// host is a throwaway namespace laid out like a shoal host: the tenant
// bridge br0 and the uplink up0 (10.99.0.11/24), whose veth peer sits in a
// second namespace, the underlay.
func host(t *testing.T) (underlay func(func())) {
	netnstest.Enter(t)
	other := netnstest.Other(t)
	netnstest.Bridge(t, "br0", "10.78.0.1/24")
	netnstest.Veth(t, "up0", "10.99.0.11/24", other, "peer0", "10.99.0.12/24")
	return func(f func()) { netnstest.In(t, other, f) }
}

func apply(t *testing.T, l *link.Link, d link.Desired) []string {
	t.Helper()
	changed, err := l.Apply(d)
	if err != nil {
		t.Fatalf("apply: %v", err)
	}
	return changed
}

// routeTo is the main table's route to dst/32 of protocol 250, if any.
func routeTo(t *testing.T, dst netip.Addr) (netlink.Route, bool) {
	t.Helper()
	rs, err := netlink.RouteListFiltered(netlink.FAMILY_V4, &netlink.Route{Table: unix.RT_TABLE_MAIN}, netlink.RT_FILTER_TABLE)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rs {
		if r.Dst != nil && r.Dst.IP.Equal(net.IP(dst.AsSlice())) && r.Protocol == link.Protocol {
			return r, true
		}
	}
	return netlink.Route{}, false
}

func proxied(t *testing.T, dev string) []string {
	t.Helper()
	l, err := netlink.LinkByName(dev)
	if err != nil {
		t.Fatal(err)
	}
	ns, err := netlink.NeighProxyList(l.Attrs().Index, netlink.FAMILY_V4)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, n := range ns {
		out = append(out, n.IP.String())
	}
	slices.Sort(out)
	return out
}

func TestRoutesNetns(t *testing.T) {
	host(t)
	l := link.New(link.Config{})
	t.Cleanup(l.Close)
	// Someone else's route and proxy entry: never shoal's to remove.
	foreign := netlink.Route{Dst: &net.IPNet{IP: net.IPv4(10, 78, 0, 99), Mask: net.CIDRMask(32, 32)},
		Gw: net.IP(peerA.AsSlice()), Protocol: unix.RTPROT_STATIC}
	if err := netlink.RouteAdd(&foreign); err != nil {
		t.Fatal(err)
	}
	up0, _ := netlink.LinkByName("up0")
	if err := netlink.NeighSet(&netlink.Neigh{LinkIndex: up0.Attrs().Index, Family: netlink.FAMILY_V4,
		Flags: netlink.NTF_PROXY, IP: net.IPv4(10, 99, 0, 50)}); err != nil {
		t.Fatal(err)
	}

	d := link.Desired{Bridge: "br0", Routes: []link.Route{{Dst: guest, Via: peerA}}, ProxyNeigh: []netip.Addr{guest}}
	if got := apply(t, l, d); len(got) != 2 {
		t.Fatalf("first apply changed %q, want a route and a proxy neighbour", got)
	}
	r, ok := routeTo(t, guest)
	if !ok || !r.Gw.Equal(net.IP(peerA.AsSlice())) || r.LinkIndex != up0.Attrs().Index {
		t.Fatalf("route to %s = %+v (found %v), want via %s on up0", guest, r, ok, peerA)
	}
	if got := proxied(t, "br0"); !slices.Equal(got, []string{"10.78.0.5"}) {
		t.Fatalf("proxy neighbours on br0 = %v", got)
	}
	if got := apply(t, l, d); len(got) != 0 {
		t.Fatalf("re-apply changed %q, want nothing", got)
	}

	// The instance moved to the host at peerB: the next hop follows.
	d.Routes = []link.Route{{Dst: guest, Via: peerB}}
	if got := apply(t, l, d); !slices.Equal(got, []string{"+route 10.78.0.5/32 via 10.99.0.13"}) {
		t.Fatalf("move changed %q", got)
	}
	if r, _ := routeTo(t, guest); !r.Gw.Equal(net.IP(peerB.AsSlice())) {
		t.Fatalf("after the move the route is %+v, want via %s", r, peerB)
	}

	// It moved here: no route, no proxy (the local bridge has it).
	got := apply(t, l, link.Desired{Bridge: "br0"})
	if len(got) != 2 {
		t.Fatalf("arrival changed %q, want the route and the proxy neighbour removed", got)
	}
	if _, ok := routeTo(t, guest); ok {
		t.Fatal("route to a local instance left behind")
	}
	if got := proxied(t, "br0"); len(got) != 0 {
		t.Fatalf("proxy neighbours left on br0: %v", got)
	}
	rs, _ := netlink.RouteListFiltered(netlink.FAMILY_V4, &netlink.Route{Dst: foreign.Dst}, netlink.RT_FILTER_DST)
	if len(rs) != 1 {
		t.Fatalf("someone else's route was touched: %+v", rs)
	}
	if got := proxied(t, "up0"); !slices.Equal(got, []string{"10.99.0.50"}) {
		t.Fatalf("someone else's proxy neighbour was touched: %v", got)
	}
}

// TestRemoveRoutesNetns: RemoveRoutes (network-reset --routes) deletes every
// route of protocol 250 and nothing else.
func TestRemoveRoutesNetns(t *testing.T) {
	host(t)
	l := link.New(link.Config{})
	t.Cleanup(l.Close)
	foreign := netlink.Route{Dst: &net.IPNet{IP: net.IPv4(10, 78, 0, 99), Mask: net.CIDRMask(32, 32)},
		Gw: net.IP(peerA.AsSlice()), Protocol: unix.RTPROT_STATIC}
	if err := netlink.RouteAdd(&foreign); err != nil {
		t.Fatal(err)
	}
	apply(t, l, link.Desired{Uplink: "up0", Routes: []link.Route{{Dst: guest, Via: peerA}},
		ExternalRoutes: []netip.Prefix{external}})
	got, err := link.RemoveRoutes()
	if err != nil || !slices.Equal(got, []string{"-route 10.66.0.0/24 dev up0", "-route 10.78.0.5/32 via 10.99.0.12"}) {
		t.Fatalf("RemoveRoutes = %q, %v", got, err)
	}
	if _, ok := routeTo(t, guest); ok {
		t.Error("a route of protocol 250 is left")
	}
	rs, _ := netlink.RouteListFiltered(netlink.FAMILY_V4, &netlink.Route{Dst: foreign.Dst}, netlink.RT_FILTER_DST)
	if len(rs) != 1 {
		t.Errorf("someone else's route was touched: %+v", rs)
	}
}

// TestMissingBridgeNetns: before libvirt made the bridge, routes are still
// programmed and the proxy neighbours wait without an error.
func TestMissingBridgeNetns(t *testing.T) {
	host(t)
	l := link.New(link.Config{})
	t.Cleanup(l.Close)
	d := link.Desired{Bridge: "nosuchbr", Routes: []link.Route{{Dst: guest, Via: peerA}}, ProxyNeigh: []netip.Addr{guest}}
	if got := apply(t, l, d); len(got) != 1 {
		t.Fatalf("changed %q, want the route only", got)
	}
}

func TestFloatingAddrNetns(t *testing.T) {
	underlay := host(t)
	// The underlay's side of the link listens for ARP (an AF_PACKET socket
	// opened in the peer namespace, so it stays there).
	var listener *arp.Client
	underlay(func() {
		ifi, err := net.InterfaceByName("peer0")
		if err != nil {
			t.Fatal(err)
		}
		if listener, err = arp.Dial(ifi); err != nil {
			t.Fatal(err)
		}
	})
	t.Cleanup(func() { listener.Close() })
	l := link.New(link.Config{Announce: []time.Duration{0, 10 * time.Millisecond, 20 * time.Millisecond},
		StateFile: filepath.Join(t.TempDir(), link.StateFile)})
	t.Cleanup(l.Close)
	netnstest.Addr(t, "up0", "192.0.2.7/32") // a /32 outside every external network: not a floating IP
	// Inside the external network, but not recorded: another node's (one
	// sharing this namespace), never this one's to withdraw.
	netnstest.Addr(t, "up0", "10.66.0.250/32")

	d := link.Desired{Uplink: "up0", FloatingAddrs: []netip.Addr{floating}, ExternalRoutes: []netip.Prefix{external}}
	if got := apply(t, l, d); len(got) != 2 {
		t.Fatalf("first apply changed %q, want the address and the external route", got)
	}
	if got, want := netnstest.Addrs(t, "up0"), []string{"10.66.0.201/32", "10.66.0.250/32", "10.99.0.11/24", "192.0.2.7/32"}; !slices.Equal(got, want) {
		t.Fatalf("up0 holds %v, want %v", got, want)
	}
	rs, _ := netlink.RouteListFiltered(netlink.FAMILY_V4, &netlink.Route{Dst: &net.IPNet{IP: net.IPv4(10, 66, 0, 0),
		Mask: net.CIDRMask(24, 32)}}, netlink.RT_FILTER_DST)
	up0 := netnstest.HardwareAddr(t, "up0")
	if len(rs) != 1 || rs[0].Protocol != link.Protocol || rs[0].Scope != netlink.SCOPE_LINK || rs[0].Gw != nil {
		t.Fatalf("external route = %+v, want one on-link route of protocol 250", rs)
	}

	// Three gratuitous ARPs reach the underlay: sender and target the
	// floating IP, sender MAC the uplink's.
	if err := listener.SetReadDeadline(time.Now().Add(10 * time.Second)); err != nil {
		t.Fatal(err)
	}
	for seen := 0; seen < 3; {
		p, eth, err := listener.Read()
		if err != nil {
			t.Fatalf("after %d gratuitous ARPs: %v", seen, err)
		}
		if p.SenderIP != floating {
			continue // the kernel's own ARP traffic, if any
		}
		if p.TargetIP != floating || p.Operation != arp.OperationRequest || p.SenderHardwareAddr.String() != up0.String() ||
			eth.Destination.String() != "ff:ff:ff:ff:ff:ff" {
			t.Fatalf("gratuitous ARP %+v in frame to %s", p, eth.Destination)
		}
		seen++
	}
	if got := apply(t, l, d); len(got) != 0 {
		t.Fatalf("re-apply changed %q, want nothing", got)
	}

	// Fenced: the plan keeps no floating IP; the address goes, the
	// foreign /32s stay.
	d.FloatingAddrs = nil
	if got := apply(t, l, d); !slices.Equal(got, []string{"-floating 10.66.0.201 on up0"}) {
		t.Fatalf("fencing changed %q", got)
	}
	if got, want := netnstest.Addrs(t, "up0"), []string{"10.66.0.250/32", "10.99.0.11/24", "192.0.2.7/32"}; !slices.Equal(got, want) {
		t.Fatalf("up0 holds %v, want %v", got, want)
	}

	// A floating IP this Link added stays its own after its network is
	// gone, and goes with it.
	d = link.Desired{Uplink: "up0", FloatingAddrs: []netip.Addr{floating}, ExternalRoutes: []netip.Prefix{external}}
	apply(t, l, d)
	if got := apply(t, l, link.Desired{Uplink: "up0"}); len(got) != 2 {
		t.Fatalf("network gone changed %q, want the address and the route removed", got)
	}
	if got, want := netnstest.Addrs(t, "up0"), []string{"10.66.0.250/32", "10.99.0.11/24", "192.0.2.7/32"}; !slices.Equal(got, want) {
		t.Fatalf("up0 holds %v, want %v", got, want)
	}
}

// TestFloatingRecordNetns: the floating IPs a node added are recorded in its
// state file before they arrive; a restarted agent (a new Link on the same
// file) withdraws what its predecessor added, two nodes on one uplink
// withdraw only their own, and WithdrawOwned (the fence guard) takes away
// everything recorded and empties the record.
func TestFloatingRecordNetns(t *testing.T) {
	host(t)
	dir := t.TempDir()
	fileA, fileB := filepath.Join(dir, "a-"+link.StateFile), filepath.Join(dir, "b-"+link.StateFile)
	a := link.New(link.Config{Announce: []time.Duration{}, StateFile: fileA})
	b := link.New(link.Config{Announce: []time.Duration{}, StateFile: fileB})
	t.Cleanup(b.Close)
	fipA, fipB := floating, netip.MustParseAddr("10.66.0.202")
	ext := []netip.Prefix{external}
	apply(t, a, link.Desired{Uplink: "up0", FloatingAddrs: []netip.Addr{fipA}, ExternalRoutes: ext})
	apply(t, b, link.Desired{Uplink: "up0", FloatingAddrs: []netip.Addr{fipB}, ExternalRoutes: ext})
	record := func(path string) string {
		t.Helper()
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		return strings.Join(strings.Fields(string(b)), "")
	}
	if got := record(fileA); got != `{"floating":[{"addr":"10.66.0.201","link":"up0"}]}` {
		t.Fatalf("node a's record = %s", got)
	}
	// Node a's passes leave b's floating IP be, and b's leave a's.
	if got := apply(t, a, link.Desired{Uplink: "up0", FloatingAddrs: []netip.Addr{fipA}, ExternalRoutes: ext}); len(got) != 0 {
		t.Fatalf("a's second pass changed %q", got)
	}
	if got := apply(t, b, link.Desired{Uplink: "up0", FloatingAddrs: []netip.Addr{fipB}, ExternalRoutes: ext}); len(got) != 0 {
		t.Fatalf("b's second pass changed %q", got)
	}

	// Node a restarts (a new Link, the same record) and is fenced: it
	// withdraws what its predecessor added, and only that.
	a.Close()
	a = link.New(link.Config{Announce: []time.Duration{}, StateFile: fileA})
	t.Cleanup(a.Close)
	if got := apply(t, a, link.Desired{Uplink: "up0", ExternalRoutes: ext}); !slices.Equal(got, []string{"-floating 10.66.0.201 on up0"}) {
		t.Fatalf("restarted a, fenced, changed %q", got)
	}
	if got, want := netnstest.Addrs(t, "up0"), []string{"10.66.0.202/32", "10.99.0.11/24"}; !slices.Equal(got, want) {
		t.Fatalf("up0 holds %v, want %v", got, want)
	}

	// b's guard fires: b's floating IPs go, the record empties, a's new
	// floating IP stays.
	apply(t, a, link.Desired{Uplink: "up0", FloatingAddrs: []netip.Addr{fipA}, ExternalRoutes: ext})
	got, err := link.WithdrawOwned(fileB)
	if err != nil || !slices.Equal(got, []string{"-floating 10.66.0.202 on up0"}) {
		t.Fatalf("WithdrawOwned = %q, %v", got, err)
	}
	if got := record(fileB); got != `{"floating":[]}` {
		t.Fatalf("b's record after WithdrawOwned = %s", got)
	}
	if got, want := netnstest.Addrs(t, "up0"), []string{"10.66.0.201/32", "10.99.0.11/24"}; !slices.Equal(got, want) {
		t.Fatalf("up0 holds %v, want %v", got, want)
	}
	// Again: nothing recorded, nothing to do.
	if got, err := link.WithdrawOwned(fileB); err != nil || len(got) != 0 {
		t.Fatalf("second WithdrawOwned = %q, %v", got, err)
	}
}

// TestExternalRouteOfSomeoneElseNetns: an external CIDR the host already
// routes (the uplink's own subnet) is left to its owner.
func TestExternalRouteOfSomeoneElseNetns(t *testing.T) {
	host(t)
	l := link.New(link.Config{})
	t.Cleanup(l.Close)
	d := link.Desired{Uplink: "up0", ExternalRoutes: []netip.Prefix{netip.MustParsePrefix("10.99.0.0/24")}}
	if got := apply(t, l, d); len(got) != 0 {
		t.Fatalf("changed %q, want nothing", got)
	}
	rs, _ := netlink.RouteListFiltered(netlink.FAMILY_V4, &netlink.Route{Dst: &net.IPNet{IP: net.IPv4(10, 99, 0, 0),
		Mask: net.CIDRMask(24, 32)}}, netlink.RT_FILTER_DST)
	if len(rs) != 1 || rs[0].Protocol != unix.RTPROT_KERNEL {
		t.Fatalf("the uplink's own subnet route = %+v", rs)
	}
}

func TestFindUplinkNetns(t *testing.T) {
	host(t)
	for _, c := range []struct {
		name string
		addr netip.Addr
		want link.Uplink
		err  error
	}{
		{addr: netip.MustParseAddr("10.99.0.11"), want: link.Uplink{Name: "up0", Addr: netip.MustParseAddr("10.99.0.11")}},
		{name: "br0", addr: netip.MustParseAddr("10.99.0.11"), want: link.Uplink{Name: "br0", Addr: netip.MustParseAddr("10.78.0.1")}},
		{addr: netip.MustParseAddr("127.0.0.1"), err: link.ErrNoUplink},
		{addr: netip.MustParseAddr("10.99.0.99"), err: link.ErrNoUplink},
		{name: "nosuch", err: link.ErrNoUplink},
	} {
		got, err := link.FindUplink(c.name, c.addr)
		if got != c.want || !errors.Is(err, c.err) || (c.err == nil && err != nil) {
			t.Errorf("FindUplink(%q, %s) = %+v, %v; want %+v, %v", c.name, c.addr, got, err, c.want, c.err)
		}
	}
}

func TestMain(m *testing.M) {
	if os.Geteuid() != 0 {
		// Not a skip: the netns tag promises root tests.
		println("tests tagged netns need root (they make network namespaces)")
		os.Exit(1)
	}
	os.Exit(m.Run())
}
