package network

import (
	"cmp"
	"maps"
	"net/netip"
	"slices"
	"strings"

	"github.com/shoal-project/shoal/compute/libvirt"
	"github.com/shoal-project/shoal/compute/network/link"
	"github.com/shoal-project/shoal/compute/network/nft"
)

// Desired is what one host should hold: kernel state (routes, proxy
// neighbours, floating IPs, external routes) and its nftables ruleset.
type Desired struct {
	link.Desired
	Ruleset nft.Ruleset
}

// Plan is what host me should hold given v, fenced or not. It is pure: the
// same view gives the same plan on every pass, so applying it twice changes
// nothing the second time.
//
//   - An instance runs where its Host says; one with no host or no fixed IP
//     on the tenant network runs nowhere and is skipped everywhere.
//   - Every instance on another host (whose underlay address is known, is
//     not this host's and is not a loopback address) gets a /32 route via
//     that host and a proxy neighbour on the bridge; an instance here gets
//     neither (it is on the bridge itself). Hosts on a loopback address, or
//     on this host's own, share this host's namespace (a development
//     cluster on one machine) and its bridge: their guests are on the
//     bridge already, and a route via lo would take their traffic away.
//   - Floating IPs go on this host only for servers its replica says run
//     here, only inside a known external network, only with an uplink, and
//     never while fenced: a fenced host may have been evacuated already, and
//     two hosts answering for one address would split its traffic.
//   - The ruleset has a port for each instance here, its groups, and every
//     group their rules name as remote group (members only: no local port
//     uses its rules). Members are fixed IPs of instances cluster-wide.
//   - With a metadata port and a gateway, this host's guests' (only
//     theirs: co-located nodes share a bridge) 169.254.169.254:80 is this
//     node's metadata service on the gateway (fenced or not: it answers
//     only for the guests the replica places here).
func Plan(v View, me string, fenced bool) Desired {
	byID := placed(v)
	var mine []Instance
	d := Desired{
		Desired: link.Desired{Bridge: v.Local.Bridge, Uplink: v.Local.Uplink.Name},
		Ruleset: nft.Ruleset{Tenant: v.Tenant, Gateway: v.Gateway, Uplink: v.Local.Uplink.Name, UplinkAddr: v.Local.Uplink.Addr},
	}
	self, selfKnown := v.Hosts[me]
	for _, i := range sortedInstances(byID) {
		if i.Host == me {
			mine = append(mine, i)
			continue
		}
		via, ok := v.Hosts[i.Host]
		if !ok || !via.Is4() || via.IsLoopback() || (selfKnown && via == self) {
			continue
		}
		d.Routes = append(d.Routes, link.Route{Dst: i.IP, Via: via})
		d.ProxyNeigh = append(d.ProxyNeigh, i.IP)
	}
	d.ExternalRoutes = externalRoutes(v.External)
	if !fenced && v.Local.Uplink.Name != "" {
		d.FloatingAddrs, d.Ruleset.NAT = floating(v, me, byID, d.ExternalRoutes)
	}
	d.Ruleset.Ports, d.Ruleset.Groups = ports(v, mine, byID)
	if v.Gateway.IsValid() {
		d.Ruleset.MetadataPort = v.Local.MetadataPort
	}
	return d
}

// placed are the instances that run somewhere, by ID.
func placed(v View) map[string]Instance {
	byID := map[string]Instance{}
	for _, i := range v.Instances {
		if i.Host != "" && i.IP.Is4() && v.Tenant.Contains(i.IP) {
			byID[i.ID] = i
		}
	}
	return byID
}

func sortedInstances(byID map[string]Instance) []Instance {
	return slices.SortedFunc(maps.Values(byID), func(a, b Instance) int { return strings.Compare(a.ID, b.ID) })
}

// externalRoutes are the external CIDRs, masked, once each, in order.
func externalRoutes(ext []netip.Prefix) []netip.Prefix {
	var out []netip.Prefix
	for _, p := range ext {
		if p.Addr().Is4() {
			out = append(out, p.Masked())
		}
	}
	slices.SortFunc(out, comparePrefix)
	return slices.Compact(out)
}

// floating are this host's floating IPs and their NAT, by floating IP. A
// fixed IP takes one floating IP (the lowest, should the replica ever hold
// two): its outgoing traffic can be translated to only one.
func floating(v View, me string, byID map[string]Instance, ext []netip.Prefix) ([]netip.Addr, []nft.NAT) {
	var addrs []netip.Addr
	var nat []nft.NAT
	taken := map[netip.Addr]bool{}
	fips := slices.Clone(v.Floating)
	slices.SortFunc(fips, func(a, b FloatingIP) int { return a.IP.Compare(b.IP) })
	for _, f := range fips {
		i, ok := byID[f.InstanceID]
		if !ok || i.Host != me || !f.IP.Is4() || taken[i.IP] || slices.Contains(addrs, f.IP) ||
			!slices.ContainsFunc(ext, func(p netip.Prefix) bool { return p.Contains(f.IP) }) {
			continue
		}
		taken[i.IP] = true
		addrs = append(addrs, f.IP)
		nat = append(nat, nft.NAT{Floating: f.IP, Fixed: i.IP})
	}
	return addrs, nat
}

// ports are this host's guest ports and the groups the filter needs.
func ports(v View, mine []Instance, byID map[string]Instance) ([]nft.Port, []nft.Group) {
	groups := map[string]Group{}
	for _, g := range v.Groups {
		groups[g.ID] = g
	}
	used := map[string]bool{} // groups a local port is in
	var ps []nft.Port
	for _, i := range mine {
		p := nft.Port{Tap: libvirt.TapName(i.ID), MAC: i.MAC, IP: i.IP}
		for _, g := range i.Groups {
			if _, ok := groups[g]; ok && !slices.Contains(p.Groups, g) {
				p.Groups = append(p.Groups, g)
				used[g] = true
			}
		}
		slices.Sort(p.Groups)
		ps = append(ps, p)
	}
	remote := map[string]bool{} // groups only named as remote groups
	rules := map[string][]nft.Rule{}
	for g := range used {
		for _, r := range groups[g].Rules {
			if r.RemoteGroup != "" {
				if _, ok := groups[r.RemoteGroup]; !ok {
					continue // names a group that is gone: matches nobody
				}
				if !used[r.RemoteGroup] {
					remote[r.RemoteGroup] = true
				}
			}
			rules[g] = append(rules[g], r)
		}
	}
	members := map[string][]netip.Addr{}
	for _, i := range sortedInstances(byID) {
		for _, g := range i.Groups {
			if (used[g] || remote[g]) && !slices.Contains(members[g], i.IP) {
				members[g] = append(members[g], i.IP)
			}
		}
	}
	var gs []nft.Group
	for _, id := range slices.Sorted(maps.Keys(used)) {
		gs = append(gs, nft.Group{ID: id, Members: sortedAddrs(members[id]), Rules: rules[id]})
	}
	for _, id := range slices.Sorted(maps.Keys(remote)) {
		gs = append(gs, nft.Group{ID: id, Members: sortedAddrs(members[id])})
	}
	slices.SortFunc(gs, func(a, b nft.Group) int { return strings.Compare(a.ID, b.ID) })
	return ps, gs
}

func sortedAddrs(a []netip.Addr) []netip.Addr {
	slices.SortFunc(a, netip.Addr.Compare)
	return a
}

func comparePrefix(a, b netip.Prefix) int {
	return cmp.Or(a.Addr().Compare(b.Addr()), cmp.Compare(a.Bits(), b.Bits()))
}
