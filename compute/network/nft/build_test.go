package nft

import (
	"net"
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/google/nftables"
)

func mustMAC(s string) net.HardwareAddr {
	m, err := net.ParseMAC(s)
	if err != nil {
		panic(err)
	}
	return m
}

var (
	addr   = netip.MustParseAddr
	prefix = netip.MustParsePrefix
)

// sample is a host with two ports: A in group ga (the default group's
// shape), B in gb (all egress; ingress tcp 80 from ga and ping from the
// outside), and a floating IP on A.
func sample() Ruleset {
	return Ruleset{
		Tenant: prefix("10.88.0.0/16"), Gateway: addr("10.88.0.1"), Uplink: "eth0", UplinkAddr: addr("10.99.0.11"),
		NAT: []NAT{{Floating: addr("10.66.0.200"), Fixed: addr("10.88.0.5")}},
		Ports: []Port{
			{Tap: "tapbbbbbbbbbbb", MAC: mustMAC("fa:16:3e:00:00:06"), IP: addr("10.88.0.6"), Groups: []string{"gb"}},
			{Tap: "tapaaaaaaaaaaa", MAC: mustMAC("fa:16:3e:00:00:05"), IP: addr("10.88.0.5"), Groups: []string{"ga"}},
		},
		Groups: []Group{
			{ID: "ga", Members: []netip.Addr{addr("10.88.0.5"), addr("10.88.1.9")}, Rules: []Rule{
				{Ingress: true, RemoteGroup: "ga"}, {}}},
			{ID: "gb", Members: []netip.Addr{addr("10.88.0.6")}, Rules: []Rule{
				{},
				{Ingress: true, Protocol: "tcp", PortMin: 80, PortMax: 80, RemoteGroup: "ga"},
				{Ingress: true, Protocol: "icmp", PortMin: 8, PortMax: -1, Remote: prefix("10.66.0.0/24")}}},
		},
	}
}

func TestRuleMatchGolden(t *testing.T) {
	for _, tc := range []struct {
		name string
		rule Rule
		want string
	}{
		{"egress anything", Rule{}, ""},
		{"ingress from a prefix", Rule{Ingress: true, Remote: prefix("10.1.0.0/16")},
			"meta:nfproto == 02 nh[12:4] &ffff0000^00000000 == 10.1.0.0"},
		{"egress to a host", Rule{Remote: prefix("192.0.2.7/32")},
			"meta:nfproto == 02 nh[16:4] == 192.0.2.7"},
		{"a /0 is anything", Rule{Ingress: true, Remote: prefix("0.0.0.0/0")}, ""},
		{"host bits are masked off", Rule{Ingress: true, Remote: prefix("10.1.2.3/8")},
			"meta:nfproto == 02 nh[12:4] &ff000000^00000000 == 10.0.0.0"},
		{"ingress from a group", Rule{Ingress: true, RemoteGroup: "g1"},
			"meta:nfproto == 02 nh[12:4] in @sg-g1"},
		{"egress to a group", Rule{RemoteGroup: "g1"},
			"meta:nfproto == 02 nh[16:4] in @sg-g1"},
		{"tcp any port", Rule{Protocol: "tcp"}, "meta:l4proto == 06"},
		{"tcp one port", Rule{Protocol: "tcp", PortMin: 22, PortMax: 22}, "meta:l4proto == 06 th[2:2] == 0016"},
		{"tcp port, max unset", Rule{Protocol: "tcp", PortMin: 22}, "meta:l4proto == 06 th[2:2] == 0016"},
		{"udp range", Rule{Protocol: "udp", PortMin: 1000, PortMax: 2000}, "meta:l4proto == 11 th[2:2] in 03e8-07d0"},
		{"icmp any", Rule{Protocol: "icmp", PortMin: -1, PortMax: -1}, "meta:l4proto == 01"},
		{"icmp type", Rule{Protocol: "icmp", PortMin: 8, PortMax: -1}, "meta:l4proto == 01 th[0:1] == 08"},
		{"icmp type and code", Rule{Protocol: "icmp", PortMin: 3, PortMax: 4}, "meta:l4proto == 01 th[0:1] == 03 th[1:1] == 04"},
		{"icmp echo reply is type 0, not any", Rule{Protocol: "icmp", PortMin: 0, PortMax: -1}, "meta:l4proto == 01 th[0:1] == 00"},
		{"everything", Rule{Ingress: true, Protocol: "tcp", PortMin: 80, PortMax: 81, Remote: prefix("10.0.0.0/8")},
			"meta:nfproto == 02 nh[12:4] &ff000000^00000000 == 10.0.0.0 meta:l4proto == 06 th[2:2] in 0050-0051"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := dump(ruleMatch(tc.rule)); got != tc.want {
				t.Errorf("got  %q\nwant %q", got, tc.want)
			}
		})
	}
}

func TestInetTableGolden(t *testing.T) {
	tab := inetTable(sample())
	if tab.family != nftables.TableFamilyINet {
		t.Fatalf("family %v", tab.family)
	}
	chains := map[string][]string{}
	var names []string
	for _, c := range tab.chains {
		chains[c.name] = dumpChain(c)
		names = append(names, c.name)
	}
	wantNames := []string{"prerouting", "output", "postrouting", "postrouting-uplink", "forward", "input",
		"eg-tapaaaaaaaaaaa", "in-tapaaaaaaaaaaa", "eg-tapbbbbbbbbbbb", "in-tapbbbbbbbbbbb"}
	if !slices.Equal(names, wantNames) {
		t.Fatalf("chains %v, want %v", names, wantNames)
	}
	const (
		v4          = "meta:nfproto == 02 "
		ctInvalid   = "ct:state &01000000^00000000 != 0.0.0.0 drop"
		metadataOK  = v4 + "nh[16:4] == 169.254.169.254 return"
		dhcpOK      = "meta:l4proto == 11 th[0:2] == 0044 th[2:2] == 0043 return"
		dnatByMap   = v4 + "nh[16:4] map @fip-dnat dnat"
		establishOK = "ct:state &06000000^00000000 != 0.0.0.0 accept"
	)
	for name, want := range map[string][]string{
		"prerouting": {dnatByMap},
		"output":     {dnatByMap},
		"postrouting": {
			v4 + "nh[16:4] &ffff0000^00000000 != 10.88.0.0 nh[12:4] map @fip-snat snat",
			v4 + "ct:status &20000000^00000000 != 0.0.0.0 nh[12:4] &ffff0000^00000000 == 10.88.0.0 nh[16:4] &ffff0000^00000000 == 10.88.0.0 imm 10.88.0.1 snat",
		},
		"postrouting-uplink": {
			v4 + `nh[12:4] &ffff0000^00000000 == 10.88.0.0 nh[16:4] &ffff0000^00000000 != 10.88.0.0 meta:oifname == "eth0" imm 10.99.0.11 snat`,
		},
		"forward":           {establishOK, v4 + "nh[12:4] vmap @egress", v4 + "nh[16:4] vmap @ingress"},
		"input":             {establishOK, v4 + "nh[12:4] vmap @egress", v4 + "nh[16:4] vmap @ingress"},
		"eg-tapaaaaaaaaaaa": {ctInvalid, metadataOK, dhcpOK, "return", "drop"},
		"in-tapaaaaaaaaaaa": {ctInvalid, v4 + "nh[12:4] in @sg-ga return", "drop"},
		"eg-tapbbbbbbbbbbb": {ctInvalid, metadataOK, dhcpOK, "return", "drop"},
		"in-tapbbbbbbbbbbb": {ctInvalid,
			v4 + "nh[12:4] in @sg-ga meta:l4proto == 06 th[2:2] == 0050 return",
			v4 + "nh[12:4] &ffffff00^00000000 == 10.66.0.0 meta:l4proto == 01 th[0:1] == 08 return",
			"drop"},
	} {
		if got := chains[name]; !slices.Equal(got, want) {
			t.Errorf("chain %s:\n got  %s\n want %s", name, strings.Join(got, "\n       "), strings.Join(want, "\n       "))
		}
	}
	sets := map[string]string{}
	for _, s := range tab.sets {
		var es []string
		for _, e := range s.elems {
			v := e.value()
			if e.val != nil {
				v = data(e.val)
			}
			es = append(es, data(e.key)+":"+v)
		}
		sets[s.name] = strings.Join(es, ",")
	}
	for name, want := range map[string]string{
		"fip-dnat": "10.66.0.200:10.88.0.5",
		"fip-snat": "10.88.0.5:10.66.0.200",
		"egress":   "10.88.0.5:jump eg-tapaaaaaaaaaaa,10.88.0.6:jump eg-tapbbbbbbbbbbb",
		"ingress":  "10.88.0.5:jump in-tapaaaaaaaaaaa,10.88.0.6:jump in-tapbbbbbbbbbbb",
		"sg-ga":    "10.88.0.5:,10.88.1.9:",
		"sg-gb":    "10.88.0.6:",
	} {
		if got, ok := sets[name]; !ok || got != want {
			t.Errorf("set %s = %q, want %q", name, got, want)
		}
	}
	if len(sets) != 6 {
		t.Errorf("sets %v, want 6", sets)
	}
}

// TestInetTableMetadata: with a metadata port, this node's guests' (saddr
// in set guests, its ports' IPs) 169.254.169.254:80 is DNATed to the
// gateway at that port before the floating IPs' map, and every egress
// chain lets the DNATed flow reach it on the input hook; without one,
// nothing changes (TestInetTableGolden).
func TestInetTableMetadata(t *testing.T) {
	rs := sample()
	rs.MetadataPort = 8775
	if err := rs.validate(); err != nil {
		t.Fatal(err)
	}
	const v4 = "meta:nfproto == 02 "
	want := map[string][]string{
		"prerouting": {
			v4 + "nh[12:4] in @guests nh[16:4] == 169.254.169.254 meta:l4proto == 06 th[2:2] == 0050 imm 10.88.0.1 imm 2247 dnat addr:port",
			v4 + "nh[16:4] map @fip-dnat dnat"},
		"output": {v4 + "nh[16:4] map @fip-dnat dnat"},
		"eg-tapaaaaaaaaaaa": {"ct:state &01000000^00000000 != 0.0.0.0 drop",
			v4 + "nh[16:4] == 169.254.169.254 return",
			v4 + "nh[16:4] == 10.88.0.1 meta:l4proto == 06 th[2:2] == 2247 return",
			"meta:l4proto == 11 th[0:2] == 0044 th[2:2] == 0043 return", "return", "drop"},
	}
	tab := inetTable(rs)
	for _, c := range tab.chains {
		if w, ok := want[c.name]; ok && !slices.Equal(dumpChain(c), w) {
			t.Errorf("chain %s:\n got  %s\n want %s", c.name, strings.Join(dumpChain(c), "\n       "), strings.Join(w, "\n       "))
		}
	}
	var guests []string
	for _, s := range tab.sets {
		if s.name == setGuests {
			for _, e := range s.elems {
				guests = append(guests, netip.AddrFrom4([4]byte(e.key)).String())
			}
		}
	}
	if want := []string{"10.88.0.5", "10.88.0.6"}; !slices.Equal(guests, want) {
		t.Errorf("set guests %v, want this node's ports %v", guests, want)
	}
}

func TestInetTableWithoutUplinkAddr(t *testing.T) {
	rs := sample()
	rs.UplinkAddr, rs.Uplink = netip.Addr{}, ""
	for _, c := range inetTable(rs).chains {
		if c.name == chainPostrouting && len(c.rules) != 2 {
			t.Errorf("postrouting without an uplink address: %v, want the floating IP SNAT and the hairpin", dumpChain(c))
		}
		if c.name == chainUplinkSNAT && len(c.rules) != 0 {
			t.Errorf("uplink SNAT without an uplink address: %v, want none", dumpChain(c))
		}
	}
}

func TestPortChainMergesGroups(t *testing.T) {
	rs := sample()
	rs.Ports[1].Groups = []string{"gb", "ga", "gb"} // repeated, unsorted
	var eg, in []string
	for _, c := range inetTable(rs).chains {
		switch c.name {
		case "eg-tapaaaaaaaaaaa":
			eg = dumpChain(c)
		case "in-tapaaaaaaaaaaa":
			in = dumpChain(c)
		}
	}
	// Both groups allow all egress: one "return" is enough.
	if n := strings.Count(strings.Join(eg, "\n"), "\nreturn\n"); n != 1 || eg[len(eg)-1] != "drop" {
		t.Errorf("egress chain %q: want one allow-all rule, then drop", eg)
	}
	if len(in) != 5 || in[len(in)-1] != "drop" {
		t.Errorf("ingress chain %q: want invalid, ga's rule, gb's two rules, drop", in)
	}
}

func TestBridgeTableGolden(t *testing.T) {
	tab := bridgeTable(sample())
	if tab.family != nftables.TableFamilyBridge || len(tab.sets) != 1 {
		t.Fatalf("family %v, sets %v", tab.family, tab.sets)
	}
	var names []string
	chains := map[string][]string{}
	for _, c := range tab.chains {
		names = append(names, c.name)
		chains[c.name] = dumpChain(c)
		if c.hook != nil && (c.hook.prio != -200 || c.hook.policy != nftables.ChainPolicyAccept) {
			t.Errorf("chain %s hook %+v", c.name, *c.hook)
		}
	}
	if want := []string{"forward", "input", "port-tapaaaaaaaaaaa", "port-tapbbbbbbbbbbb"}; !slices.Equal(names, want) {
		t.Fatalf("chains %v, want %v", names, want)
	}
	for _, base := range []string{"forward", "input"} {
		if got := chains[base]; !slices.Equal(got, []string{"meta:iifname vmap @ports"}) {
			t.Errorf("%s: %q", base, got)
		}
	}
	arp, ip := "ll[12:2] == 0806 ", "ll[12:2] == 0800 "
	want := []string{
		"ll[6:6] != fa:16:3e:00:00:05 drop",
		arp + "nh[0:2] != 0001 drop",
		arp + "nh[2:2] != 0800 drop",
		arp + "nh[4:1] != 06 drop",
		arp + "nh[5:1] != 04 drop",
		arp + "nh[8:6] != fa:16:3e:00:00:05 drop",
		arp + "nh[14:4] != 10.88.0.5 drop",
		arp + "return",
		ip + "nh[12:4] == 0.0.0.0 nh[9:1] == 11 th[2:2] == 0043 return",
		ip + "nh[12:4] != 10.88.0.5 drop",
		ip + "return",
		"drop",
	}
	if got := chains["port-tapaaaaaaaaaaa"]; !slices.Equal(got, want) {
		t.Errorf("port chain:\n got  %s\n want %s", strings.Join(got, "\n       "), strings.Join(want, "\n       "))
	}
	var ports []string
	for _, e := range tab.sets[0].elems {
		ports = append(ports, data(e.key)+":"+e.jump)
	}
	if want := []string{`"tapaaaaaaaaaaa":port-tapaaaaaaaaaaa`, `"tapbbbbbbbbbbb":port-tapbbbbbbbbbbb`}; !slices.Equal(ports, want) {
		t.Errorf("ports map %v, want %v", ports, want)
	}
}

// TestRuleIDs: equal rules get equal ids in any chain, different rules
// different ones, and the id survives the round trip through userdata.
func TestRuleIDs(t *testing.T) {
	a := newRule(nftables.TableFamilyINet, ruleMatch(Rule{Protocol: "tcp", PortMin: 80})...)
	b := newRule(nftables.TableFamilyINet, ruleMatch(Rule{Protocol: "tcp", PortMin: 80})...)
	c := newRule(nftables.TableFamilyINet, ruleMatch(Rule{Protocol: "tcp", PortMin: 81})...)
	if a.id != b.id || a.id == c.id || !strings.HasPrefix(a.id, "shoal:") {
		t.Errorf("ids %s %s %s", a.id, b.id, c.id)
	}
	if got := ruleID(a.userData()); got != a.id {
		t.Errorf("round trip %q, want %q", got, a.id)
	}
	for _, ud := range [][]byte{nil, {0}, {0, 9, 'x'}, {1, 1, 'x', 0, 3, 'a', 'b', 0}} {
		if got := ruleID(ud); got != "" && got != "ab" {
			t.Errorf("ruleID(%v) = %q", ud, got)
		}
	}
}
