package metadata

import (
	"errors"
	"fmt"
	"net"
	"net/netip"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// ErrNoNeighbour is an address the bridge has no usable neighbour entry
// for: the host has not resolved it, or it failed to.
var ErrNoNeighbour = errors.New("metadata: no neighbour entry")

// NeighbourResolver reads the tenant bridge's IPv4 neighbour table through
// netlink. A guest that opened a TCP connection has an entry: the host
// resolved its address to answer it.
type NeighbourResolver struct {
	bridge func() (string, error)
	h      *netlink.Handle
}

// NewNeighbourResolver opens a netlink socket in the calling thread's
// network namespace (the host's, in the agent); requests are answered
// through it from any goroutine. bridge names the tenant bridge.
func NewNeighbourResolver(bridge func() (string, error)) (*NeighbourResolver, error) {
	h, err := netlink.NewHandle(unix.NETLINK_ROUTE)
	if err != nil {
		return nil, fmt.Errorf("metadata: netlink: %w", err)
	}
	return &NeighbourResolver{bridge: bridge, h: h}, nil
}

// Close closes the netlink socket.
func (n *NeighbourResolver) Close() { n.h.Close() }

// usable are the states of an entry that holds a MAC the host uses or
// has used (not INCOMPLETE, FAILED or NONE).
const usable = netlink.NUD_REACHABLE | netlink.NUD_STALE | netlink.NUD_DELAY | netlink.NUD_PROBE |
	netlink.NUD_PERMANENT

// MAC implements Resolver.
func (n *NeighbourResolver) MAC(ip netip.Addr) (net.HardwareAddr, error) {
	name, err := n.bridge()
	if err != nil {
		return nil, fmt.Errorf("metadata: tenant bridge: %w", err)
	}
	l, err := n.h.LinkByName(name)
	if err != nil {
		return nil, fmt.Errorf("metadata: tenant bridge %s: %w", name, err)
	}
	neighs, err := n.h.NeighList(l.Attrs().Index, unix.AF_INET)
	if err != nil {
		return nil, fmt.Errorf("metadata: neighbours of %s: %w", name, err)
	}
	for _, ne := range neighs {
		a, ok := netip.AddrFromSlice(ne.IP)
		if !ok || a.Unmap() != ip.Unmap() || ne.State&usable == 0 || ne.Flags&netlink.NTF_PROXY != 0 ||
			len(ne.HardwareAddr) != 6 {
			continue
		}
		return ne.HardwareAddr, nil
	}
	return nil, fmt.Errorf("%w for %s on %s", ErrNoNeighbour, ip, name)
}
