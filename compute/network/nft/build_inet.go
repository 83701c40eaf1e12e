package nft

import (
	"maps"
	"net/netip"
	"slices"
	"strings"

	"github.com/google/nftables"
	"github.com/google/nftables/binaryutil"
	"github.com/google/nftables/expr"
	"golang.org/x/sys/unix"
)

// inetTable is table inet shoal for rs (validated): NAT and the stateful
// security groups.
func inetTable(rs Ruleset) table {
	t := table{family: nftables.TableFamilyINet}
	r := func(groups ...[]expr.Any) rule { return newRule(t.family, cat(groups...)...) }

	dnat := r(nfprotoIPv4(), natByMap(offIPDaddr, mapFIPDNAT, expr.NATTypeDestNAT))
	pre := []rule{dnat}
	if rs.MetadataPort != 0 {
		// From this node's guests only (set guests): the host is no guest,
		// and a co-located node's guest on the same bridge is that node's
		// to answer, by its own table's rule (a connection takes the first
		// DNAT any table gives it). validate put the gateway in the tenant
		// network.
		pre = []rule{r(nfprotoIPv4(), inSet(offIPSaddr, setGuests), toMetadata(),
			one(&expr.Immediate{Register: reg1, Data: rs.Gateway.AsSlice()},
				&expr.Immediate{Register: reg2, Data: binaryutil.BigEndian.PutUint16(rs.MetadataPort)},
				&expr.NAT{Type: expr.NATTypeDestNAT, Family: unix.NFPROTO_IPV4, RegAddrMin: reg1,
					RegProtoMin: reg2, Specified: true})), dnat}
	}
	// A guest with a floating IP leaves the tenant network as that IP; any
	// other guest leaves through the uplink as the host. Nothing is NATed
	// without a tenant network (validate allows that only without NAT).
	//
	// The two are chains of their own, the uplink's after the floating
	// IPs' (srcnat+10), because several nodes' tables may share one
	// namespace and a connection takes the first SNAT any NAT chain gives
	// it: every node's floating IP SNAT must have had its look before any
	// node's uplink SNAT, which matches every guest of the tenant network.
	var post, masq []rule
	if rs.Tenant.IsValid() {
		post = append(post, r(nfprotoIPv4(), ipPrefix(offIPDaddr, rs.Tenant, expr.CmpOpNeq),
			natByMap(offIPSaddr, mapFIPSNAT, expr.NATTypeSourceNAT)))
	}
	// Hairpin: a guest that reaches a floating IP whose server is on this
	// host's bridge is DNATed to a neighbour on its own link, which would
	// answer it directly, from the fixed IP the client never asked. From
	// the gateway instead, the answer comes back through the host and is
	// un-NATed. Any node's table may take it: every gateway is the same.
	if rs.Gateway.IsValid() {
		post = append(post, r(nfprotoIPv4(), ctStatus(ctStatusDNAT),
			ipPrefix(offIPSaddr, rs.Tenant, expr.CmpOpEq),
			ipPrefix(offIPDaddr, rs.Tenant, expr.CmpOpEq),
			one(&expr.Immediate{Register: reg1, Data: rs.Gateway.AsSlice()},
				&expr.NAT{Type: expr.NATTypeSourceNAT, Family: unix.NFPROTO_IPV4, RegAddrMin: reg1})))
	}
	if rs.Tenant.IsValid() && rs.UplinkAddr.IsValid() {
		masq = append(masq, r(nfprotoIPv4(),
			ipPrefix(offIPSaddr, rs.Tenant, expr.CmpOpEq),
			ipPrefix(offIPDaddr, rs.Tenant, expr.CmpOpNeq),
			one(meta(expr.MetaKeyOIFNAME), cmp(expr.CmpOpEq, ifname(rs.Uplink))),
			one(&expr.Immediate{Register: reg1, Data: rs.UplinkAddr.AsSlice()},
				&expr.NAT{Type: expr.NATTypeSourceNAT, Family: unix.NFPROTO_IPV4, RegAddrMin: reg1})))
	}
	// Established flows pass first, so only a flow's first packet meets the
	// groups; a port's egress chain returns on allow, so guest-to-guest
	// traffic then meets the destination's ingress chain as well.
	filter := []rule{
		r(ctState(expr.CtStateBitESTABLISHED|expr.CtStateBitRELATED), one(accept())),
		r(nfprotoIPv4(), one(load(expr.PayloadBaseNetworkHeader, offIPSaddr, 4), vmap(mapEgress))),
		r(nfprotoIPv4(), one(load(expr.PayloadBaseNetworkHeader, offIPDaddr, 4), vmap(mapIngress))),
	}
	t.chains = []chain{
		{name: chainPrerouting, hook: natHook(nftables.ChainHookPrerouting, nftables.ChainPriorityNATDest), rules: pre},
		{name: chainOutput, hook: natHook(nftables.ChainHookOutput, nftables.ChainPriorityNATDest), rules: []rule{dnat}},
		{name: chainPostrouting, hook: natHook(nftables.ChainHookPostrouting, nftables.ChainPriorityNATSource), rules: post},
		{name: chainUplinkSNAT, hook: natHook(nftables.ChainHookPostrouting, uplinkSNATPriority()), rules: masq},
		{name: chainForward, hook: filterHook(nftables.ChainHookForward, *nftables.ChainPriorityFilter), rules: filter},
		{name: chainInput, hook: filterHook(nftables.ChainHookInput, *nftables.ChainPriorityFilter), rules: filter},
	}

	ipv4 := nftables.TypeIPAddr
	fipDNAT := set{name: mapFIPDNAT, key: ipv4, data: ipv4}
	fipSNAT := set{name: mapFIPSNAT, key: ipv4, data: ipv4}
	for _, n := range rs.NAT {
		fipDNAT.elems = append(fipDNAT.elems, elem{key: n.Floating.AsSlice(), val: n.Fixed.AsSlice()})
		fipSNAT.elems = append(fipSNAT.elems, elem{key: n.Fixed.AsSlice(), val: n.Floating.AsSlice()})
	}
	egress := set{name: mapEgress, key: ipv4, verdict: true}
	ingress := set{name: mapIngress, key: ipv4, verdict: true}
	groups := groupsByID(rs.Groups)
	var metadata netip.AddrPort // zero: no metadata DNAT
	if rs.MetadataPort != 0 {
		metadata = netip.AddrPortFrom(rs.Gateway, rs.MetadataPort)
	}
	guests := set{name: setGuests, key: ipv4}
	for _, p := range sortedPorts(rs.Ports) {
		eg, in := portChains(t.family, p, groups, metadata)
		t.chains = append(t.chains, eg, in)
		egress.elems = append(egress.elems, elem{key: p.IP.AsSlice(), jump: eg.name})
		ingress.elems = append(ingress.elems, elem{key: p.IP.AsSlice(), jump: in.name})
		guests.elems = append(guests.elems, elem{key: p.IP.AsSlice()})
	}
	t.sets = []set{fipDNAT, fipSNAT, egress, ingress}
	if rs.MetadataPort != 0 {
		t.sets = append(t.sets, guests)
	}
	for _, id := range slices.Sorted(maps.Keys(groups)) {
		s := set{name: groupSet(id), key: ipv4}
		for _, m := range groups[id].Members {
			s.elems = append(s.elems, elem{key: m.AsSlice()})
		}
		t.sets = append(t.sets, s)
	}
	return t
}

// portChains builds eg-<tap> and in-<tap>: every rule of every group the
// port is in, each returning (allow) on match, then drop. The metadata
// service is always allowed: as the guest addressed it (forwarded) and,
// once DNATed, where it listens (the input hook sees the new address).
func portChains(f nftables.TableFamily, p Port, groups map[string]Group, metadata netip.AddrPort) (eg, in chain) {
	r := func(groups ...[]expr.Any) rule { return newRule(f, cat(groups...)...) }
	ctInvalid := r(ctState(expr.CtStateBitINVALID), one(drop()))
	eg = chain{name: egressChain(p.Tap), rules: []rule{
		ctInvalid,
		r(nfprotoIPv4(), ipAddr(offIPDaddr, netip.MustParseAddr(MetadataAddr), expr.CmpOpEq), one(ret())),
		// DHCP requests to the host (a discover from 0.0.0.0 is not in the
		// egress map at all); the host's replies are its own output, which
		// these hooks do not see.
		r(l4proto(unix.IPPROTO_UDP), thPorts(offTHSport, 68, 68), thPorts(offTHDport, 67, 67), one(ret())),
	}}
	if metadata.IsValid() {
		eg.rules = slices.Insert(eg.rules, 2, r(nfprotoIPv4(), ipAddr(offIPDaddr, metadata.Addr(), expr.CmpOpEq),
			l4proto(unix.IPPROTO_TCP), thPorts(offTHDport, metadata.Port(), metadata.Port()), one(ret())))
	}
	in = chain{name: ingressChain(p.Tap), rules: []rule{ctInvalid}}
	ids := slices.Clone(p.Groups)
	slices.Sort(ids)
	seen := map[string]bool{} // two groups may allow the same thing
	for _, id := range slices.Compact(ids) {
		for _, gr := range groups[id].Rules {
			x := r(ruleMatch(gr), one(ret()))
			to := &eg
			if gr.Ingress {
				to = &in
			}
			if !seen[to.name+" "+x.id] {
				seen[to.name+" "+x.id] = true
				to.rules = append(to.rules, x)
			}
		}
	}
	eg.rules = append(eg.rules, r(one(drop())))
	in.rules = append(in.rules, r(one(drop())))
	return eg, in
}

// ruleMatch compiles a group rule's match: the remote side (daddr for
// egress, saddr for ingress), then protocol and ports.
func ruleMatch(gr Rule) []expr.Any {
	off := uint32(offIPDaddr)
	if gr.Ingress {
		off = offIPSaddr
	}
	// Only IPv4 reaches a port chain; the nfproto guard is for the reader
	// (`nft list` shows "ip saddr" instead of a raw header offset).
	var m []expr.Any
	switch {
	case gr.RemoteGroup != "":
		m = cat(nfprotoIPv4(), inSet(off, groupSet(gr.RemoteGroup)))
	case gr.Remote.IsValid() && gr.Remote.Bits() > 0:
		m = cat(nfprotoIPv4(), ipPrefix(off, gr.Remote, expr.CmpOpEq))
	}
	switch gr.Protocol {
	case "tcp", "udp":
		proto := byte(unix.IPPROTO_TCP)
		if gr.Protocol == "udp" {
			proto = unix.IPPROTO_UDP
		}
		m = cat(m, l4proto(proto))
		if gr.PortMin > 0 {
			hi := gr.PortMax
			if hi == 0 {
				hi = gr.PortMin
			}
			m = cat(m, thPorts(offTHDport, uint16(gr.PortMin), uint16(hi)))
		}
	case "icmp":
		m = cat(m, l4proto(unix.IPPROTO_ICMP))
		if gr.PortMin >= 0 {
			m = cat(m, thByte(0, byte(gr.PortMin)))
		}
		if gr.PortMax >= 0 {
			m = cat(m, thByte(1, byte(gr.PortMax)))
		}
	}
	return m
}

// uplinkSNATPriority runs the uplink SNAT after every table's floating IP
// SNAT (srcnat, 100).
func uplinkSNATPriority() *nftables.ChainPriority {
	return nftables.ChainPriorityRef(*nftables.ChainPriorityNATSource + 10)
}

// toMetadata matches the metadata service as guests address it.
func toMetadata() []expr.Any {
	return cat(ipAddr(offIPDaddr, netip.MustParseAddr(MetadataAddr), expr.CmpOpEq),
		l4proto(unix.IPPROTO_TCP), thPorts(offTHDport, MetadataPort, MetadataPort))
}

// natByMap rewrites the address at off through the map name.
func natByMap(off uint32, name string, typ expr.NATType) []expr.Any {
	return []expr.Any{
		load(expr.PayloadBaseNetworkHeader, off, 4),
		&expr.Lookup{SourceRegister: reg1, DestRegister: reg1, IsDestRegSet: true, SetName: name},
		&expr.NAT{Type: typ, Family: unix.NFPROTO_IPV4, RegAddrMin: reg1},
	}
}

func natHook(num *nftables.ChainHook, prio *nftables.ChainPriority) *hook {
	return &hook{num: *num, prio: *prio, typ: nftables.ChainTypeNAT, policy: nftables.ChainPolicyAccept}
}

func filterHook(num *nftables.ChainHook, prio nftables.ChainPriority) *hook {
	return &hook{num: *num, prio: prio, typ: nftables.ChainTypeFilter, policy: nftables.ChainPolicyAccept}
}

func groupsByID(gs []Group) map[string]Group {
	m := make(map[string]Group, len(gs))
	for _, g := range gs {
		m[g.ID] = g
	}
	return m
}

func sortedPorts(ps []Port) []Port {
	ps = slices.Clone(ps)
	slices.SortFunc(ps, func(a, b Port) int { return strings.Compare(a.Tap, b.Tap) })
	return ps
}
