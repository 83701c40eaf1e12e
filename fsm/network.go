package fsm

import (
	"cmp"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"net/netip"
	"slices"
	"time"
)

// DefaultNetworkCIDR names addresses only inside networks shoal creates itself.
const DefaultNetworkCIDR = "10.88.0.0/16"

// DefaultNetworkID is the ID the tenant network (State.Network) is shown
// with. It is stored without one, so snapshots from before external networks
// keep their shape; no external network may take it.
const DefaultNetworkID = "default"

// Network is a flat IPv4 network whose addresses are allocated in Apply:
// always the lowest free address of its pools, deterministic on every
// replica. The cursor sits at or below the lowest free address, so
// allocation does not rescan what is taken.
//
// The tenant network (State.Network) holds the servers' fixed IPs; it has no
// stored pools (its one pool is every address but network, gateway and
// broadcast) and no ID. External networks (State.Networks) hold floating IPs,
// drawn from their AllocationPools.
type Network struct {
	ID              string            `json:"id,omitempty"`
	Name            string            `json:"name"`
	CIDR            string            `json:"cidr"`
	Gateway         string            `json:"gateway"`
	External        bool              `json:"external,omitempty"`
	AllocationPools []IPRange         `json:"allocation_pools,omitempty"`
	ProjectID       string            `json:"project_id,omitempty"`
	Created         time.Time         `json:"created,omitzero"`
	Allocated       map[string]string `json:"allocated"` // IP → instance ID (tenant) or floating IP ID (external)
	Cursor          uint32            `json:"cursor"`    // no free address below this offset
}

// IPRange is an inclusive range of IPv4 addresses (Neutron's allocation pool).
type IPRange struct {
	Start string `json:"start"`
	End   string `json:"end"`
}

// span is an IPRange as offsets from the network address.
type span struct{ lo, hi uint32 }

// NewNetwork validates an IPv4 CIDR and returns the network with the first
// usable address as its gateway.
func NewNetwork(name, cidr string) (*Network, error) {
	p, err := parseCIDR(cidr, 29)
	if err != nil {
		return nil, err
	}
	return &Network{Name: name, CIDR: p.String(), Gateway: offsetAddr(p, 1).String(),
		Allocated: map[string]string{}, Cursor: 2}, nil
}

// parseCIDR accepts an IPv4 CIDR from /8 to /maxBits and masks it.
func parseCIDR(cidr string, maxBits int) (netip.Prefix, error) {
	p, err := netip.ParsePrefix(cidr)
	if err != nil || !p.Addr().Is4() || p.Bits() > maxBits || p.Bits() < 8 {
		return netip.Prefix{}, fmt.Errorf("%w: network %q must be an IPv4 CIDR from /8 to /%d", ErrInvalid, cidr, maxBits)
	}
	return p.Masked(), nil
}

func offsetAddr(p netip.Prefix, off uint32) netip.Addr {
	b := p.Addr().As4()
	v := binary.BigEndian.Uint32(b[:]) + off
	binary.BigEndian.PutUint32(b[:], v)
	return netip.AddrFrom4(b)
}

// offsetOf is a's offset from p's network address; a must be IPv4.
func offsetOf(p netip.Prefix, a netip.Addr) uint32 {
	b, base := a.As4(), p.Addr().As4()
	return binary.BigEndian.Uint32(b[:]) - binary.BigEndian.Uint32(base[:])
}

func (n *Network) prefix() netip.Prefix { return netip.MustParsePrefix(n.CIDR) }

// size is the number of addresses in the CIDR.
func (n *Network) size() uint32 {
	return uint32(1) << (32 - n.prefix().Bits())
}

// spans are the offsets allocation draws from, in order: the stored pools,
// or for the tenant network every address but network, gateway (.1) and
// broadcast.
func (n *Network) spans() []span {
	if len(n.AllocationPools) == 0 {
		return []span{{2, n.size() - 2}}
	}
	p := n.prefix()
	out := make([]span, 0, len(n.AllocationPools))
	for _, r := range n.AllocationPools {
		out = append(out, span{offsetOf(p, netip.MustParseAddr(r.Start)), offsetOf(p, netip.MustParseAddr(r.End))})
	}
	return out
}

// pools are the network's allocation pools as Neutron shows them: the
// tenant network's implicit one included.
func (n *Network) pools() []IPRange {
	if len(n.AllocationPools) > 0 {
		return slices.Clone(n.AllocationPools)
	}
	p := n.prefix()
	return []IPRange{{Start: offsetAddr(p, 2).String(), End: offsetAddr(p, n.size()-2).String()}}
}

// what names the addresses a network hands out, for messages.
func (n *Network) what() string {
	if n.External {
		return "floating IP"
	}
	return "fixed IP"
}

// allocate gives holder the lowest free address of the pools.
func (n *Network) allocate(holder string) (string, error) {
	spans := n.spans()
	usable := 0
	for _, sp := range spans {
		usable += int(sp.hi-sp.lo) + 1
	}
	if len(n.Allocated) >= usable {
		return "", fmt.Errorf("%w: network %s (%s) has no free %s: all %d are allocated", ErrConflict, n.Name, n.CIDR, n.what(), usable)
	}
	p := n.prefix()
	// The first pass starts at the cursor; the second, from the start, only
	// matters if the cursor ever overshot a free address.
	for pass := range 2 {
		for _, sp := range spans {
			lo := sp.lo
			if pass == 0 {
				lo = max(lo, n.Cursor)
			}
			for off := lo; off <= sp.hi; off++ {
				ip := offsetAddr(p, off).String()
				if _, taken := n.Allocated[ip]; !taken {
					n.Allocated[ip] = holder
					n.Cursor = off + 1
					return ip, nil
				}
			}
		}
	}
	return "", fmt.Errorf("%w: network %s has no free %s", ErrConflict, n.Name, n.what())
}

// allocateIP gives holder the address ip, which must be free and in a pool.
func (n *Network) allocateIP(ip, holder string) (string, error) {
	a, err := netip.ParseAddr(ip)
	if err != nil || !a.Is4() || !n.prefix().Contains(a) {
		return "", fmt.Errorf("%w: %q is not an address of network %s (%s)", ErrInvalid, ip, n.Name, n.CIDR)
	}
	off := offsetOf(n.prefix(), a)
	if !slices.ContainsFunc(n.spans(), func(sp span) bool { return sp.lo <= off && off <= sp.hi }) {
		return "", fmt.Errorf("%w: %s is outside the allocation pools of network %s", ErrInvalid, a, n.Name)
	}
	if _, taken := n.Allocated[a.String()]; taken {
		return "", fmt.Errorf("%w: %s on network %s is already allocated", ErrConflict, a, n.Name)
	}
	n.Allocated[a.String()] = holder
	return a.String(), nil
}

// release frees ip if holder holds it, and lowers the cursor to it.
func (n *Network) release(ip, holder string) {
	if n.Allocated[ip] != holder {
		return
	}
	delete(n.Allocated, ip)
	a, err := netip.ParseAddr(ip)
	if err != nil || !a.Is4() {
		return
	}
	if off := offsetOf(n.prefix(), a); off < n.Cursor {
		n.Cursor = off
	}
}

// overlaps reports whether two CIDRs share an address.
func overlaps(a, b string) bool {
	p, errP := netip.ParsePrefix(a)
	q, errQ := netip.ParsePrefix(b)
	return errP == nil && errQ == nil && p.Overlaps(q)
}

// clone copies a network so readers never share its tables with the state;
// the tenant network is shown with its ID and implicit pool.
func (n *Network) clone() Network {
	c := *n
	c.Allocated = make(map[string]string, len(n.Allocated))
	for k, v := range n.Allocated {
		c.Allocated[k] = v
	}
	c.AllocationPools = n.pools()
	if !n.External && c.ID == "" {
		c.ID = DefaultNetworkID
	}
	return c
}

func compareAddrs(a, b string) int {
	x, errX := netip.ParseAddr(a)
	y, errY := netip.ParseAddr(b)
	if errX != nil || errY != nil {
		return cmp.Compare(a, b)
	}
	return x.Compare(y)
}

// deriveMAC makes a stable MAC for an instance's port from its ID, in
// OpenStack's fa:16:3e prefix; taken tells which are in use.
func deriveMAC(instanceID string, taken map[string]bool) string {
	for salt := 0; ; salt++ {
		sum := sha256.Sum256(fmt.Appendf(nil, "%s/%d", instanceID, salt))
		mac := fmt.Sprintf("fa:16:3e:%02x:%02x:%02x", sum[0], sum[1], sum[2])
		if !taken[mac] {
			return mac
		}
	}
}
