package link

import (
	"fmt"
	"net/netip"

	"github.com/vishvananda/netlink"
)

// Uplink is the interface that carries this host's floating IPs and its
// guests' traffic to the outside, and the address guests without a floating
// IP are translated to.
type Uplink struct {
	Name string
	Addr netip.Addr
}

// FindUplink finds the uplink: the interface named name if one is given
// (--external-interface), else the interface holding addr (the node's
// advertise address). A named interface's address is its first IPv4 address
// that is not a /32 (floating IPs are). A loopback or unspecified addr names
// no uplink: a node that talks to its peers over loopback has no outside.
func FindUplink(name string, addr netip.Addr) (Uplink, error) {
	if name != "" {
		l, err := netlink.LinkByName(name)
		if err != nil {
			return Uplink{}, fmt.Errorf("%w: interface %s: %w", ErrNoUplink, name, err)
		}
		as, err := dump("addresses", func() ([]netlink.Addr, error) { return netlink.AddrList(l, netlink.FAMILY_V4) })
		if err != nil {
			return Uplink{}, err
		}
		for _, a := range as {
			if p := prefixOf(a.IPNet); p.Bits() < 32 && a.Scope == int(netlink.SCOPE_UNIVERSE) {
				return Uplink{Name: name, Addr: p.Addr()}, nil
			}
		}
		return Uplink{}, fmt.Errorf("%w: interface %s has no IPv4 address of its own", ErrNoUplink, name)
	}
	addr = addr.Unmap()
	if !addr.Is4() || addr.IsLoopback() || addr.IsUnspecified() {
		return Uplink{}, fmt.Errorf("%w: address %s is on no outside interface (give --external-interface)", ErrNoUplink, addr)
	}
	as, err := dump("addresses", func() ([]netlink.Addr, error) { return netlink.AddrList(nil, netlink.FAMILY_V4) })
	if err != nil {
		return Uplink{}, err
	}
	for _, a := range as {
		if ip, ok := addrOf(a.IP); ok && ip == addr {
			l, err := netlink.LinkByIndex(a.LinkIndex)
			if err != nil {
				return Uplink{}, fmt.Errorf("%w: interface #%d: %w", ErrNoUplink, a.LinkIndex, err)
			}
			return Uplink{Name: l.Attrs().Name, Addr: addr}, nil
		}
	}
	return Uplink{}, fmt.Errorf("%w: no interface holds %s (give --external-interface)", ErrNoUplink, addr)
}
