package nft

import (
	"errors"
	"net/netip"
	"strings"
	"testing"
)

// testTable names the tables the netns tests program.
const testTable = "shoal-test"

func TestTableFor(t *testing.T) {
	for node, want := range map[string]string{
		"n1":                    "shoal-n1",
		"host-7.rack_2":         "shoal-host-7.rack_2",
		strings.Repeat("a", 58): "shoal-" + strings.Repeat("a", 58),
	} {
		if got := TableFor(node); got != want || !validTable(got) {
			t.Errorf("TableFor(%q) = %q (valid %v), want %q", node, got, validTable(got), want)
		}
	}
	// Any other name is hashed: bounded, valid, deterministic, and never
	// the plain name of another node.
	seen := map[string]string{}
	for _, node := range []string{"", "web servers", `x" ; flush ruleset`, strings.Repeat("a", 59), "ünï", "a/b"} {
		got := TableFor(node)
		if !strings.HasPrefix(got, "shoalx-") || len(got) != 7+16 || !validTable(got) {
			t.Errorf("TableFor(%q) = %q, want shoalx-<16 hex>", node, got)
		}
		if TableFor(node) != got {
			t.Errorf("TableFor(%q) not deterministic", node)
		}
		if other, ok := seen[got]; ok {
			t.Errorf("TableFor(%q) = TableFor(%q)", node, other)
		}
		seen[got] = node
	}
	// A plain name keeps "shoal-" even when it looks hashed.
	if got := TableFor("shoalx-0123456789abcdef"); got != "shoal-shoalx-0123456789abcdef" {
		t.Errorf("TableFor of a hashed-looking name = %q", got)
	}
}

// TestApplyRefusesForeignTables: a table that is not shoal's is refused
// before any socket opens (so this runs anywhere, without root).
func TestApplyRefusesForeignTables(t *testing.T) {
	for _, name := range []string{"", "filter", "nat", "libvirt_network", "shoal x", "shoal;", strings.Repeat("shoal", 13)} {
		if err := Apply(name, Ruleset{}); !errors.Is(err, ErrInvalid) {
			t.Errorf("Apply(%q) = %v, want ErrInvalid", name, err)
		}
		if err := Remove(name); !errors.Is(err, ErrInvalid) {
			t.Errorf("Remove(%q) = %v, want ErrInvalid", name, err)
		}
	}
}

func TestGroupSetName(t *testing.T) {
	uuid := "5f0c2b1e-8a8e-4b7e-9d0e-2f6d8c1a3b4c"
	if got := groupSet(uuid); got != "sg-"+uuid {
		t.Errorf("groupSet(uuid) = %q", got)
	}
	// IDs that are not plain tokens are hashed: bounded, and no user-ish
	// text (spaces, quotes, braces) ever reaches a set name.
	for _, id := range []string{"web servers", `x" ; flush ruleset`, strings.Repeat("a", 65), "ünï", "a/b"} {
		got := groupSet(id)
		if !strings.HasPrefix(got, "sgh-") || len(got) != 4+24 || !plainToken(got) {
			t.Errorf("groupSet(%q) = %q, want sgh-<24 hex>", id, got)
		}
		if groupSet(id) != got {
			t.Errorf("groupSet(%q) not deterministic", id)
		}
	}
	if groupSet("a b") == groupSet("a c") {
		t.Error("different IDs, one set name")
	}
}

// TestNamesComeFromTapsAndGroupIDs: every chain and set name in both tables
// is a fixed name or is built from a tap name or a group ID.
func TestNamesComeFromTapsAndGroupIDs(t *testing.T) {
	rs := sample()
	rs.MetadataPort = 8775
	allowed := map[string]bool{chainPrerouting: true, chainOutput: true, chainPostrouting: true, chainUplinkSNAT: true,
		chainForward: true, chainInput: true, mapFIPDNAT: true, mapFIPSNAT: true, mapEgress: true,
		mapIngress: true, mapPorts: true, setGuests: true}
	for _, p := range rs.Ports {
		allowed[egressChain(p.Tap)], allowed[ingressChain(p.Tap)], allowed[portChain(p.Tap)] = true, true, true
	}
	for _, g := range rs.Groups {
		allowed[groupSet(g.ID)] = true
	}
	for _, tab := range []table{inetTable(rs), bridgeTable(rs)} {
		for _, c := range tab.chains {
			if !allowed[c.name] {
				t.Errorf("chain %q", c.name)
			}
		}
		for _, s := range tab.sets {
			if !allowed[s.name] {
				t.Errorf("set %q", s.name)
			}
		}
	}
}

func TestValidate(t *testing.T) {
	if err := sample().validate(); err != nil {
		t.Fatalf("sample: %v", err)
	}
	if err := (Ruleset{}).validate(); err != nil {
		t.Errorf("empty ruleset (no ports, no NAT): %v", err)
	}
	for _, tc := range []struct {
		name   string
		change func(rs *Ruleset)
	}{
		{"IPv6 tenant", func(rs *Ruleset) { rs.Tenant = prefix("fd00::/64") }},
		{"NAT without tenant", func(rs *Ruleset) { rs.Tenant = netip.Prefix{} }},
		{"uplink address without uplink", func(rs *Ruleset) { rs.Uplink = "" }},
		{"gateway outside the tenant network", func(rs *Ruleset) { rs.Gateway = addr("10.99.0.1") }},
		{"IPv6 gateway", func(rs *Ruleset) { rs.Gateway = addr("fd00::1") }},
		{"uplink name with a space", func(rs *Ruleset) { rs.Uplink = "eth 0" }},
		{"floating IP twice", func(rs *Ruleset) { rs.NAT = append(rs.NAT, NAT{rs.NAT[0].Floating, addr("10.88.0.6")}) }},
		{"fixed IP with two floating IPs", func(rs *Ruleset) { rs.NAT = append(rs.NAT, NAT{addr("10.66.0.201"), rs.NAT[0].Fixed}) }},
		{"IPv6 floating IP", func(rs *Ruleset) { rs.NAT[0].Floating = addr("2001:db8::1") }},
		{"tap name too long", func(rs *Ruleset) { rs.Ports[0].Tap = "tap0123456789abc" }},
		{"tap name with a quote", func(rs *Ruleset) { rs.Ports[0].Tap = `tap"x` }},
		{"tap twice", func(rs *Ruleset) { rs.Ports[1].Tap = rs.Ports[0].Tap }},
		{"port IP twice", func(rs *Ruleset) { rs.Ports[1].IP = rs.Ports[0].IP }},
		{"port IP unspecified", func(rs *Ruleset) { rs.Ports[0].IP = addr("0.0.0.0") }},
		{"short MAC", func(rs *Ruleset) { rs.Ports[0].MAC = rs.Ports[0].MAC[:4] }},
		{"port in an unknown group", func(rs *Ruleset) { rs.Ports[0].Groups = []string{"nope"} }},
		{"group ID twice", func(rs *Ruleset) { rs.Groups[1].ID = rs.Groups[0].ID }},
		{"empty group ID", func(rs *Ruleset) { rs.Groups[0].ID = "" }},
		{"IPv6 member", func(rs *Ruleset) { rs.Groups[0].Members = append(rs.Groups[0].Members, addr("fd00::1")) }},
		{"unknown remote group", func(rs *Ruleset) { rs.Groups[0].Rules[0].RemoteGroup = "nope" }},
		{"prefix and remote group", func(rs *Ruleset) { rs.Groups[0].Rules[0].Remote = prefix("10.0.0.0/8") }},
		{"IPv6 remote prefix", func(rs *Ruleset) { rs.Groups[0].Rules[1].Remote = prefix("fd00::/8") }},
		{"unknown protocol", func(rs *Ruleset) { rs.Groups[0].Rules[1].Protocol = "sctp" }},
		{"port min > max", func(rs *Ruleset) { rs.Groups[0].Rules[1] = Rule{Protocol: "tcp", PortMin: 90, PortMax: 80} }},
		{"port max without min", func(rs *Ruleset) { rs.Groups[0].Rules[1] = Rule{Protocol: "udp", PortMax: 80} }},
		{"port above 65535", func(rs *Ruleset) { rs.Groups[0].Rules[1] = Rule{Protocol: "tcp", PortMin: 70000} }},
		{"icmp type 256", func(rs *Ruleset) { rs.Groups[0].Rules[1] = Rule{Protocol: "icmp", PortMin: 256, PortMax: -1} }},
		{"icmp code without type", func(rs *Ruleset) { rs.Groups[0].Rules[1] = Rule{Protocol: "icmp", PortMin: -1, PortMax: 0} }},
		{"metadata port without a gateway", func(rs *Ruleset) { rs.MetadataPort, rs.Gateway = 8775, netip.Addr{} }},
		{"metadata on a gateway outside the tenant network", func(rs *Ruleset) { rs.MetadataPort, rs.Gateway = 8775, addr("10.99.0.11") }},
		{"metadata without tenant", func(rs *Ruleset) {
			rs.MetadataPort, rs.Tenant, rs.NAT, rs.UplinkAddr = 8775, netip.Prefix{}, nil, netip.Addr{}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rs := sample()
			tc.change(&rs)
			if err := rs.validate(); !errors.Is(err, ErrInvalid) {
				t.Errorf("validate = %v, want ErrInvalid", err)
			}
		})
	}
}
