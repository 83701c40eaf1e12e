package nft

import (
	"net/netip"
	"slices"
	"testing"

	"github.com/google/nftables"
	"golang.org/x/sys/unix"
)

// asRead turns a desired table into what readTable would return for it:
// rules carry only their ids.
func asRead(tab table) *table {
	out := &table{family: tab.family}
	for _, s := range tab.sets {
		s.flags = s.wantFlags()
		out.sets = append(out.sets, s)
	}
	for _, c := range tab.chains {
		rc := chain{name: c.name, hook: c.hook}
		for _, r := range c.rules {
			rc.rules = append(rc.rules, rule{id: r.id})
		}
		out.chains = append(out.chains, rc)
	}
	return out
}

func chainNames(cs []chain) []string {
	var out []string
	for _, c := range cs {
		out = append(out, c.name)
	}
	return out
}

func TestDiffAbsentTableCreatesAll(t *testing.T) {
	want := inetTable(sample())
	d := diffTable(want, nil)
	if !d.create || d.rebuild || len(d.addChains) != len(want.chains) || len(d.addSets) != len(want.sets) {
		t.Errorf("diff against nothing: %+v", d)
	}
}

func TestDiffSameIsEmpty(t *testing.T) {
	for _, want := range []table{inetTable(sample()), bridgeTable(sample())} {
		if d := diffTable(want, asRead(want)); !d.empty() {
			t.Errorf("family %v: diff of a table with itself: %+v", want.family, d)
		}
	}
}

// TestDiffMembershipTouchesOnlyElements: a member joining and one leaving a
// group change two elements of that group's set and nothing else.
func TestDiffMembershipTouchesOnlyElements(t *testing.T) {
	rs := sample()
	have := asRead(inetTable(rs))
	rs.Groups[0].Members = []netip.Addr{addr("10.88.0.5"), addr("10.88.3.3")}
	d := diffTable(inetTable(rs), have)
	if len(d.addChains)+len(d.refill)+len(d.delChains)+len(d.addSets)+len(d.delSets) != 0 || d.create || d.rebuild {
		t.Fatalf("membership change touched more than elements: %+v", d)
	}
	if len(d.delElems) != 1 || len(d.addElems) != 1 ||
		data(d.delElems["sg-ga"][0].key) != "10.88.1.9" || data(d.addElems["sg-ga"][0].key) != "10.88.3.3" {
		t.Errorf("elements: del %v add %v", d.delElems, d.addElems)
	}
}

func TestDiffRuleChangeRefillsOneChain(t *testing.T) {
	rs := sample()
	have := asRead(inetTable(rs))
	rs.Groups[1].Rules[1].PortMax = 81
	d := diffTable(inetTable(rs), have)
	if got := chainNames(d.refill); !slices.Equal(got, []string{"in-tapbbbbbbbbbbb"}) {
		t.Errorf("refilled %v, want only B's ingress chain", got)
	}
	if len(d.addChains)+len(d.delChains)+len(d.addSets)+len(d.delSets)+len(d.addElems)+len(d.delElems) != 0 {
		t.Errorf("more than a refill: %+v", d)
	}
}

func TestDiffPortLeavesAndIPMoves(t *testing.T) {
	rs := sample()
	have := asRead(inetTable(rs))
	rs.Ports = rs.Ports[1:]             // B leaves
	rs.Ports[0].IP = addr("10.88.0.77") // A's element moves to a new key
	rs.NAT[0].Fixed = addr("10.88.0.77")
	rs.Groups = rs.Groups[:1] // gb no longer needed
	d := diffTable(inetTable(rs), have)
	if got := d.delChains; !slices.Equal(got, []string{"eg-tapbbbbbbbbbbb", "in-tapbbbbbbbbbbb"}) {
		t.Errorf("deleted chains %v", got)
	}
	if !slices.Equal(d.delSets, []string{"sg-gb"}) {
		t.Errorf("deleted sets %v", d.delSets)
	}
	if len(d.delElems["egress"]) != 2 || len(d.addElems["egress"]) != 1 || len(d.delElems["fip-dnat"]) != 1 || len(d.addElems["fip-dnat"]) != 1 {
		t.Errorf("elements: del %v add %v", d.delElems, d.addElems)
	}
}

func TestDiffChangedValueIsDeletedThenAdded(t *testing.T) {
	want := []elem{{key: []byte{1}, jump: "a"}, {key: []byte{2}, jump: "b"}}
	have := []elem{{key: []byte{1}, jump: "a"}, {key: []byte{2}, jump: "c"}, {key: []byte{3}, jump: "c"}}
	del, add := diffElems(want, have)
	if len(del) != 2 || del[0].jump != "c" || len(add) != 1 || add[0].jump != "b" {
		t.Errorf("del %v add %v", del, add)
	}
}

func TestDiffIncompatibleRebuilds(t *testing.T) {
	want := inetTable(sample())
	for name, spoil := range map[string]func(h *table){
		"map key type":        func(h *table) { h.sets[0].key = nftables.TypeEtherAddr },
		"map data type":       func(h *table) { h.sets[1].data = nftables.TypeEtherAddr },
		"set became a map":    func(h *table) { h.sets[4].verdict, h.sets[4].flags = true, unix.NFT_SET_MAP },
		"interval flag":       func(h *table) { h.sets[5].flags |= unix.NFT_SET_INTERVAL },
		"verdict key type":    func(h *table) { h.sets[2].key = nftables.TypeIFName },
		"hook priority":       func(h *table) { hk := *h.chains[3].hook; hk.prio = 10; h.chains[3].hook = &hk },
		"drop policy":         func(h *table) { hk := *h.chains[4].hook; hk.policy = 0; h.chains[4].hook = &hk },
		"base became regular": func(h *table) { h.chains[0].hook = nil },
	} {
		t.Run(name, func(t *testing.T) {
			have := asRead(inetTable(sample()))
			spoil(have)
			if d := diffTable(want, have); !d.rebuild || !d.create {
				t.Errorf("diff %+v, want a rebuild", d)
			}
		})
	}
}

func TestDiffForeignRulesAndObjectsGo(t *testing.T) {
	want := bridgeTable(sample())
	have := asRead(want)
	have.chains[0].rules = append(have.chains[0].rules, rule{id: ""}) // someone's rule
	have.chains = append(have.chains, chain{name: "theirs"})
	have.sets = append(have.sets, set{name: "theirs-set"})
	d := diffTable(want, have)
	if !slices.Equal(chainNames(d.refill), []string{"forward"}) || !slices.Equal(d.delChains, []string{"theirs"}) ||
		!slices.Equal(d.delSets, []string{"theirs-set"}) || d.rebuild {
		t.Errorf("diff %+v", d)
	}
}
