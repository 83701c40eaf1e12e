package link

import (
	"errors"
	"fmt"
	"maps"
	"net"
	"net/netip"
	"slices"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// dumpTries bounds the retries of a netlink dump the kernel interrupted
// (the table changed under it): its result may be incomplete, and acting on
// an incomplete list would add or remove the wrong things.
const dumpTries = 5

// errNoName is linkByName's answer for an interface nobody named.
var errNoName = errors.New("no interface named")

func linkByName(name string) (netlink.Link, error) {
	if name == "" {
		return nil, errNoName
	}
	return netlink.LinkByName(name)
}

// dump runs a netlink dump again while the kernel reports it interrupted.
func dump[T any](what string, f func() ([]T, error)) ([]T, error) {
	for range dumpTries - 1 {
		out, err := f()
		if !errors.Is(err, netlink.ErrDumpInterrupted) {
			if err != nil {
				return nil, fmt.Errorf("listing %s: %w", what, err)
			}
			return out, nil
		}
	}
	out, err := f()
	if err != nil {
		return nil, fmt.Errorf("listing %s: %w", what, err)
	}
	return out, nil
}

// listRoutes lists the IPv4 routes of the main table, whoever made them.
func listRoutes() ([]netlink.Route, error) {
	return dump("routes", func() ([]netlink.Route, error) {
		return netlink.RouteListFiltered(netlink.FAMILY_V4, &netlink.Route{Table: unix.RT_TABLE_MAIN}, netlink.RT_FILTER_TABLE)
	})
}

// wantedRoutes are d's routes by destination: a /32 via the peer for each
// remote instance and, with an uplink, each external CIDR on-link on it.
func wantedRoutes(d Desired, uplink netlink.Link) map[netip.Prefix]netlink.Route {
	out := map[netip.Prefix]netlink.Route{}
	for _, r := range d.Routes {
		if !r.Dst.Is4() || !r.Via.Is4() {
			continue
		}
		dst := netip.PrefixFrom(r.Dst, 32)
		out[dst] = netlink.Route{Dst: ipNet(dst), Gw: net.IP(r.Via.AsSlice()), Protocol: Protocol,
			Table: unix.RT_TABLE_MAIN, Family: netlink.FAMILY_V4}
	}
	if uplink == nil {
		return out
	}
	for _, p := range d.ExternalRoutes {
		if !p.Addr().Is4() {
			continue
		}
		p = p.Masked()
		out[p] = netlink.Route{Dst: ipNet(p), LinkIndex: uplink.Attrs().Index, Scope: netlink.SCOPE_LINK,
			Protocol: Protocol, Table: unix.RT_TABLE_MAIN, Family: netlink.FAMILY_V4}
	}
	return out
}

// sameRoute reports whether have already is want: same next hop, or the
// same device for an on-link route.
func sameRoute(have, want netlink.Route) bool {
	if want.Gw != nil {
		return have.Gw.Equal(want.Gw)
	}
	return have.Gw == nil && have.LinkIndex == want.LinkIndex && have.Scope == want.Scope
}

func dstOf(r netlink.Route) netip.Prefix {
	if r.Dst == nil {
		return netip.PrefixFrom(netip.IPv4Unspecified(), 0)
	}
	return prefixOf(r.Dst)
}

// describe names a route for the log; uplink names the device an on-link
// route is on when it is the uplink.
func describe(r netlink.Route, uplink netlink.Link) string {
	switch {
	case r.Gw != nil:
		return fmt.Sprintf("%s via %s", dstOf(r), r.Gw)
	case uplink != nil && r.LinkIndex == uplink.Attrs().Index:
		return fmt.Sprintf("%s dev %s", dstOf(r), uplink.Attrs().Name)
	default:
		return fmt.Sprintf("%s dev #%d", dstOf(r), r.LinkIndex)
	}
}

// proxies are the IPv4 proxy neighbours on link.
func proxies(link netlink.Link) ([]netip.Addr, error) {
	ns, err := dump("proxy neighbours", func() ([]netlink.Neigh, error) {
		return netlink.NeighProxyList(link.Attrs().Index, netlink.FAMILY_V4)
	})
	if err != nil {
		return nil, err
	}
	var out []netip.Addr
	for _, n := range ns {
		if a, ok := addrOf(n.IP); ok {
			out = append(out, a)
		}
	}
	return out, nil
}

func proxyNeigh(link netlink.Link, ip netip.Addr) *netlink.Neigh {
	return &netlink.Neigh{LinkIndex: link.Attrs().Index, Family: netlink.FAMILY_V4, Flags: netlink.NTF_PROXY,
		IP: net.IP(ip.AsSlice())}
}

// addrsOn are link's IPv4 addresses, whatever their prefix length.
func addrsOn(link netlink.Link) ([]netip.Addr, error) {
	as, err := dump("addresses", func() ([]netlink.Addr, error) { return netlink.AddrList(link, netlink.FAMILY_V4) })
	if err != nil {
		return nil, err
	}
	var out []netip.Addr
	for _, a := range as {
		if ip, ok := addrOf(a.IP); ok {
			out = append(out, ip)
		}
	}
	return out, nil
}

func hostAddr(ip netip.Addr) *netlink.Addr {
	return &netlink.Addr{IPNet: ipNet(netip.PrefixFrom(ip, 32))}
}

func ipNet(p netip.Prefix) *net.IPNet {
	return &net.IPNet{IP: net.IP(p.Addr().AsSlice()), Mask: net.CIDRMask(p.Bits(), p.Addr().BitLen())}
}

func prefixOf(n *net.IPNet) netip.Prefix {
	a, ok := addrOf(n.IP)
	if !ok {
		return netip.Prefix{}
	}
	ones, _ := n.Mask.Size()
	return netip.PrefixFrom(a, ones)
}

func addrOf(ip net.IP) (netip.Addr, bool) {
	a, ok := netip.AddrFromSlice(ip)
	return a.Unmap(), ok
}

// minus is the set a without b, sorted.
func minus(a, b []netip.Addr) []netip.Addr {
	set := map[netip.Addr]bool{}
	for _, x := range a {
		set[x] = true
	}
	for _, x := range b {
		delete(set, x)
	}
	return slices.SortedFunc(maps.Keys(set), func(x, y netip.Addr) int { return x.Compare(y) })
}

func sortedKeys(m map[netip.Prefix]netlink.Route) []netip.Prefix {
	return slices.SortedFunc(maps.Keys(m), func(x, y netip.Prefix) int {
		if c := x.Addr().Compare(y.Addr()); c != 0 {
			return c
		}
		return x.Bits() - y.Bits()
	})
}

// RemoveRoutes deletes every route of protocol 250 in the main table, in the
// calling thread's network namespace, whichever node of this namespace
// made it: for taking a whole cluster down (`shoal network-reset
// --routes`). It returns what it removed.
func RemoveRoutes() ([]string, error) {
	var c changes
	routes, err := listRoutes()
	c.fail(err)
	for _, r := range routes {
		if r.Protocol == Protocol {
			dev, _ := netlink.LinkByIndex(r.LinkIndex) // names an on-link route's device; nil is fine
			c.note("-route "+describe(r, dev), netlink.RouteDel(&r))
		}
	}
	return c.result()
}
