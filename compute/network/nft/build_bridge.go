package nft

import (
	"github.com/google/nftables"
	"github.com/google/nftables/binaryutil"
	"github.com/google/nftables/expr"
	"golang.org/x/sys/unix"
)

// bridgePriorityFilter is the bridge family's filter priority
// (NF_BR_PRI_FILTER_BRIDGED): before br_netfilter hands the frame to the
// inet hooks.
const bridgePriorityFilter nftables.ChainPriority = -200

// bridgeTable is table bridge shoal for rs (validated): stateless
// anti-spoofing for every frame a guest sends, forwarded or to the host.
// Frames from any other port find no element in the ports map and pass.
func bridgeTable(rs Ruleset) table {
	t := table{family: nftables.TableFamilyBridge}
	base := []rule{newRule(t.family, meta(expr.MetaKeyIIFNAME), vmap(mapPorts))}
	t.chains = []chain{
		{name: chainForward, hook: filterHook(nftables.ChainHookForward, bridgePriorityFilter), rules: base},
		{name: chainInput, hook: filterHook(nftables.ChainHookInput, bridgePriorityFilter), rules: base},
	}
	ports := set{name: mapPorts, key: nftables.TypeIFName, verdict: true}
	for _, p := range sortedPorts(rs.Ports) {
		c := spoofChain(t.family, p)
		t.chains = append(t.chains, c)
		ports.elems = append(ports.elems, elem{key: ifname(p.Tap), jump: c.name})
	}
	t.sets = []set{ports}
	return t
}

// spoofChain lets a port send only from its own MAC and IP: ARP naming
// them, IPv4 from its IP (or a DHCP discover from 0.0.0.0), and nothing
// else (no IPv6, no VLAN tags, no other ethertype).
func spoofChain(f nftables.TableFamily, p Port) chain {
	r := func(groups ...[]expr.Any) rule { return newRule(f, cat(groups...)...) }
	ll, nh := expr.PayloadBaseLLHeader, expr.PayloadBaseNetworkHeader
	etherType := func(t uint16) []expr.Any {
		return one(load(ll, offEthType, 2), cmp(expr.CmpOpEq, binaryutil.BigEndian.PutUint16(t)))
	}
	arp, ip := etherType(unix.ETH_P_ARP), etherType(unix.ETH_P_IP)
	mac, addr := []byte(p.MAC), p.IP.AsSlice()
	return chain{name: portChain(p.Tap), rules: []rule{
		r(one(load(ll, offEthSrc, 6), cmp(expr.CmpOpNeq, mac), drop())),
		// Only Ethernet/IPv4 ARP (htype 1, ptype 0x0800, hlen 6, plen 4) has
		// its sender fields where the next two rules look.
		r(arp, one(load(nh, 0, 2), cmp(expr.CmpOpNeq, []byte{0, 1}), drop())),
		r(arp, one(load(nh, 2, 2), cmp(expr.CmpOpNeq, []byte{0x08, 0x00}), drop())),
		r(arp, one(load(nh, 4, 1), cmp(expr.CmpOpNeq, []byte{6}), drop())),
		r(arp, one(load(nh, 5, 1), cmp(expr.CmpOpNeq, []byte{4}), drop())),
		r(arp, one(load(nh, offARPSha, 6), cmp(expr.CmpOpNeq, mac), drop())),
		r(arp, one(load(nh, offARPSpa, 4), cmp(expr.CmpOpNeq, addr), drop())),
		r(arp, one(ret())),
		r(ip, one(load(nh, offIPSaddr, 4), cmp(expr.CmpOpEq, make([]byte, 4))),
			one(load(nh, offIPProto, 1), cmp(expr.CmpOpEq, []byte{unix.IPPROTO_UDP})),
			thPorts(offTHDport, 67, 67), one(ret())),
		r(ip, one(load(nh, offIPSaddr, 4), cmp(expr.CmpOpNeq, addr), drop())),
		r(ip, one(ret())),
		r(one(drop())),
	}}
}
