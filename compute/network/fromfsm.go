package network

import (
	"net"
	"net/netip"

	"github.com/shoal-project/shoal/compute/network/nft"
	"github.com/shoal-project/shoal/fsm"
)

// FromFSM turns one consistent read of the replica into a View, with local
// as this host's own facts. What cannot be read (an address that does not
// parse, a rule of a kind the filter does not know) is left out: leaving a
// rule out allows less, never more.
func FromFSM(nv fsm.NetworkView, local Local) View {
	v := View{Hosts: map[string]netip.Addr{}, Local: local}
	if nv.Tenant != nil {
		if p, err := netip.ParsePrefix(nv.Tenant.CIDR); err == nil {
			v.Tenant = p.Masked()
		}
		if g, err := netip.ParseAddr(nv.Tenant.Gateway); err == nil && v.Tenant.Contains(g) {
			v.Gateway = g
		}
	}
	for _, h := range nv.Hosts {
		if a, ok := underlay(h); ok {
			v.Hosts[h.Name] = a
		}
	}
	for _, i := range nv.Instances {
		v.Instances = append(v.Instances, instance(i))
	}
	for _, n := range nv.External {
		if p, err := netip.ParsePrefix(n.CIDR); err == nil {
			v.External = append(v.External, p.Masked())
		}
	}
	for _, f := range nv.FloatingIPs {
		if a, err := netip.ParseAddr(f.IP); err == nil {
			v.Floating = append(v.Floating, FloatingIP{IP: a, InstanceID: f.InstanceID})
		}
	}
	for _, g := range nv.SecurityGroups {
		v.Groups = append(v.Groups, group(g))
	}
	return v
}

// underlay is a host's underlay address: the host part of its Raft
// address, which is its advertise address (spec: no field of its own).
func underlay(h fsm.Host) (netip.Addr, bool) {
	host, _, err := net.SplitHostPort(h.RaftAddress)
	if err != nil {
		return netip.Addr{}, false
	}
	a, err := netip.ParseAddr(host)
	if err != nil {
		return netip.Addr{}, false
	}
	return a.Unmap(), true
}

func instance(i fsm.Instance) Instance {
	out := Instance{ID: i.ID, Host: i.Host, Groups: i.SecurityGroups}
	if len(out.Groups) == 0 {
		// Made before security groups: its project's default group, as a
		// server created without any is in it.
		out.Groups = []string{fsm.DefaultSecurityGroupID(i.ProjectID)}
	}
	if a, ok := i.FixedAddress(); ok {
		ip, err1 := netip.ParseAddr(a.IP)
		mac, err2 := net.ParseMAC(a.MAC)
		if err1 == nil && err2 == nil {
			out.IP, out.MAC = ip, mac
		}
	}
	return out
}

func group(g fsm.SecurityGroup) Group {
	out := Group{ID: g.ID}
	for _, r := range g.Rules {
		if nr, ok := rule(r); ok {
			out.Rules = append(out.Rules, nr)
		}
	}
	return out
}

// rule is an FSM rule in the filter's terms: ports 0 (any) for tcp/udp
// without a range, icmp type and code -1 (any) when not given.
func rule(r fsm.SecurityGroupRule) (nft.Rule, bool) {
	if r.Ethertype != "" && r.Ethertype != fsm.EthertypeIPv4 {
		return nft.Rule{}, false
	}
	out := nft.Rule{Protocol: r.Protocol, RemoteGroup: r.RemoteGroupID}
	switch r.Direction {
	case fsm.DirectionIngress:
		out.Ingress = true
	case fsm.DirectionEgress:
	default:
		return nft.Rule{}, false
	}
	switch r.Protocol {
	case "":
	case fsm.ProtocolTCP, fsm.ProtocolUDP:
		if r.PortMin != nil {
			out.PortMin, out.PortMax = *r.PortMin, *r.PortMin
			if r.PortMax != nil {
				out.PortMax = *r.PortMax
			}
		}
	case fsm.ProtocolICMP:
		out.PortMin, out.PortMax = -1, -1
		if r.PortMin != nil {
			out.PortMin = *r.PortMin
		}
		if r.PortMax != nil {
			out.PortMax = *r.PortMax
		}
	default:
		return nft.Rule{}, false
	}
	if r.RemoteIPPrefix != "" {
		p, err := netip.ParsePrefix(r.RemoteIPPrefix)
		if err != nil || !p.Addr().Is4() {
			return nft.Rule{}, false
		}
		out.Remote = p.Masked()
	}
	return out, true
}
