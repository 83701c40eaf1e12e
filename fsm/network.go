package fsm

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"net/netip"
)

// DefaultNetworkCIDR names addresses only inside networks shoal creates itself.
const DefaultNetworkCIDR = "10.88.0.0/16"

// Network is a flat network with fixed IPs allocated in Apply: always the
// lowest free address, deterministic on every replica. The cursor sits at or
// below the lowest free address, so allocation does not rescan what is taken.
type Network struct {
	Name      string            `json:"name"`
	CIDR      string            `json:"cidr"`
	Gateway   string            `json:"gateway"`
	Allocated map[string]string `json:"allocated"` // IP → instance ID
	Cursor    uint32            `json:"cursor"`    // no free address below this offset
}

// NewNetwork validates an IPv4 CIDR and returns the network with the first
// usable address as its gateway.
func NewNetwork(name, cidr string) (*Network, error) {
	p, err := netip.ParsePrefix(cidr)
	if err != nil || !p.Addr().Is4() || p.Bits() > 29 || p.Bits() < 8 {
		return nil, fmt.Errorf("%w: network %q must be an IPv4 CIDR from /8 to /29", ErrInvalid, cidr)
	}
	p = p.Masked()
	return &Network{Name: name, CIDR: p.String(), Gateway: offsetAddr(p, 1).String(),
		Allocated: map[string]string{}, Cursor: 2}, nil
}

func offsetAddr(p netip.Prefix, off uint32) netip.Addr {
	b := p.Addr().As4()
	v := binary.BigEndian.Uint32(b[:]) + off
	binary.BigEndian.PutUint32(b[:], v)
	return netip.AddrFrom4(b)
}

// size is the number of addresses in the CIDR; all but network, gateway and
// broadcast are assignable.
func (n *Network) size() uint32 {
	p := netip.MustParsePrefix(n.CIDR)
	return uint32(1) << (32 - p.Bits())
}

// allocate gives instanceID the next free address.
func (n *Network) allocate(instanceID string) (string, error) {
	size := n.size()
	usable := int(size) - 3
	if len(n.Allocated) >= usable {
		return "", fmt.Errorf("%w: network %s (%s) has no free fixed IP: all %d are allocated", ErrConflict, n.Name, n.CIDR, usable)
	}
	p := netip.MustParsePrefix(n.CIDR)
	for range size {
		off := n.Cursor
		if off < 2 || off >= size-1 {
			off = 2
		}
		n.Cursor = off + 1
		ip := offsetAddr(p, off).String()
		if _, taken := n.Allocated[ip]; !taken {
			n.Allocated[ip] = instanceID
			return ip, nil
		}
	}
	return "", fmt.Errorf("%w: network %s has no free fixed IP", ErrConflict, n.Name)
}

// release frees ip if instanceID holds it, and lowers the cursor to it.
func (n *Network) release(ip, instanceID string) {
	if n.Allocated[ip] != instanceID {
		return
	}
	delete(n.Allocated, ip)
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return
	}
	p := netip.MustParsePrefix(n.CIDR)
	b, base := a.As4(), p.Addr().As4()
	if off := binary.BigEndian.Uint32(b[:]) - binary.BigEndian.Uint32(base[:]); off < n.Cursor {
		n.Cursor = off
	}
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
