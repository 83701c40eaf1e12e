package network

import (
	"net"
	"net/netip"

	"github.com/shoal-project/shoal/compute/network/link"
	"github.com/shoal-project/shoal/compute/network/nft"
)

// View is what Plan reads: the network as this host's replica says it is
// (FromFSM builds it from one consistent FSM read), and Local, the few facts
// only this host knows. Plan reads nothing else, so what a host programs is
// a function of its replica and its fence.
type View struct {
	Tenant    netip.Prefix          // the tenant network
	Gateway   netip.Addr            // its gateway, every host's bridge address (zero: none, or not in Tenant)
	Hosts     map[string]netip.Addr // each host's underlay address (its advertise address)
	Instances []Instance
	External  []netip.Prefix // the external networks' CIDRs
	Floating  []FloatingIP
	Groups    []Group // the stored security groups
	Local     Local
}

// Instance is a server as the data plane needs it.
type Instance struct {
	ID     string
	Host   string           // "" while it runs nowhere
	IP     netip.Addr       // its fixed IP on the tenant network; zero if it has none
	MAC    net.HardwareAddr // its port's MAC
	Groups []string         // the security groups its port is in
}

// FloatingIP is a floating IP and the server it is translated to ("" if
// none); the server's host answers for it.
type FloatingIP struct {
	IP         netip.Addr
	InstanceID string
}

// Group is a security group: its ID and its rules, already in the filter's
// terms.
type Group struct {
	ID    string
	Rules []nft.Rule
}

// Local is what this host found on itself, not in the replica.
type Local struct {
	Bridge string      // the tenant bridge (the libvirt network's)
	Uplink link.Uplink // zero when it has none: then no floating IP, NAT or external route
	// MetadataPort is where this node's metadata service listens on the
	// gateway; 0: no metadata DNAT.
	MetadataPort uint16
}
