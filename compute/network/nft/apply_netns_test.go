//go:build netns

package nft

import (
	"errors"
	"net/netip"
	"slices"
	"testing"

	"github.com/google/nftables"
)

func connect(t *testing.T) *nftables.Conn {
	t.Helper()
	requireThrowaway(t)
	c, err := nftables.New()
	if err != nil {
		t.Fatalf("nftables: %v", err)
	}
	return c
}

// handles reads every rule handle of both tables, by chain: a chain that was
// flushed and refilled gets new handles.
func handles(t *testing.T) map[string][]uint64 {
	t.Helper()
	requireThrowaway(t)
	out := map[string][]uint64{}
	for _, fam := range []nftables.TableFamily{nftables.TableFamilyINet, nftables.TableFamilyBridge} {
		have, err := readTable(testTable, fam)
		if err != nil || have == nil {
			t.Fatalf("read table %v: %v (present: %v)", fam, err, have != nil)
		}
		for _, ch := range have.chains {
			for _, r := range ch.rules {
				key := map[nftables.TableFamily]string{nftables.TableFamilyINet: "inet", nftables.TableFamilyBridge: "bridge"}[fam] + " " + ch.name
				out[key] = append(out[key], r.handle)
			}
		}
	}
	return out
}

// applyWant applies rs through the internal apply and returns what changed.
func applyWant(t *testing.T, rs Ruleset) []tableDiff {
	t.Helper()
	if err := rs.validate(); err != nil {
		t.Fatal(err)
	}
	requireThrowaway(t)
	c, err := newConn()
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseLasting()
	diffs, err := apply(c, tablesFor(testTable, rs))
	if err != nil {
		t.Fatalf("apply: %v", err)
	}
	return diffs
}

// requireInKernel checks the kernel holds exactly what rs asks for: every
// chain with its rules in order, every set with its elements, nothing more.
func requireInKernel(t *testing.T, rs Ruleset) {
	t.Helper()
	requireTablesInKernel(t, testTable, rs)
}

// requireTablesInKernel is requireInKernel for the tables named name.
func requireTablesInKernel(t *testing.T, name string, rs Ruleset) {
	t.Helper()
	requireThrowaway(t)
	for _, want := range tablesFor(name, rs) {
		have, err := readTable(want.name, want.family)
		if err != nil || have == nil {
			t.Fatalf("read %v: %v (present %v)", want.family, err, have != nil)
		}
		if got, w := chainNames(have.chains), chainNames(want.chains); !sameItems(got, w) {
			t.Errorf("%v chains %v, want %v", want.family, got, w)
		}
		if d := diffTable(want, have); !d.empty() {
			t.Errorf("%v: kernel differs from the ruleset: %+v", want.family, d)
		}
	}
}

func sameItems(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}

func TestNftablesNetns(t *testing.T) {
	ns := inThrowawayNetns(t)
	rs := sample()
	requireApplied(t, rs)

	// Read back through the library too, not only through this package's reader.
	c := connect(t)
	inet := &nftables.Table{Name: testTable, Family: nftables.TableFamilyINet}
	sg, err := c.GetSetByName(inet, "sg-ga")
	if err != nil {
		t.Fatalf("set sg-ga: %v", err)
	}
	elems, err := c.GetSetElements(sg)
	if err != nil || len(elems) != 2 {
		t.Fatalf("sg-ga elements %v, %v; want 2", elems, err)
	}
	fwd, err := c.ListChain(inet, "forward")
	if err != nil || *fwd.Hooknum != *nftables.ChainHookForward || *fwd.Policy != nftables.ChainPolicyAccept {
		t.Fatalf("forward chain %+v, %v", fwd, err)
	}
	rules, err := c.GetRules(inet, fwd)
	if err != nil || len(rules) != 3 {
		t.Fatalf("forward rules %d, %v; want 3", len(rules), err)
	}

	runIn(t, ns, "re-apply changes nothing", func(t *testing.T) {
		before := handles(t)
		for _, d := range applyWant(t, rs) {
			if !d.empty() {
				t.Errorf("second apply changed %v: %+v", d.family, d)
			}
		}
		if after := handles(t); !equalHandles(before, after) {
			t.Errorf("rule handles changed:\n%v\n%v", before, after)
		}
	})

	runIn(t, ns, "a membership change touches only set elements", func(t *testing.T) {
		before := handles(t)
		rs.Groups[0].Members = []netip.Addr{addr("10.88.0.5"), addr("10.88.3.3")}
		for _, d := range applyWant(t, rs) {
			if d.create || d.rebuild || len(d.addChains)+len(d.refill)+len(d.delChains)+len(d.addSets)+len(d.delSets) != 0 {
				t.Errorf("%v: more than elements changed: %+v", d.family, d)
			}
		}
		if after := handles(t); !equalHandles(before, after) {
			t.Errorf("rule handles changed:\n%v\n%v", before, after)
		}
		requireInKernel(t, rs)
	})

	runIn(t, ns, "a rule change refills one chain", func(t *testing.T) {
		before := handles(t)
		rs.Groups[1].Rules[1].PortMax = 81
		applyWant(t, rs)
		after := handles(t)
		for name, hs := range before {
			changed := !slices.Equal(hs, after[name])
			if changed != (name == "inet in-tapbbbbbbbbbbb") {
				t.Errorf("chain %s: handles %v → %v", name, hs, after[name])
			}
		}
		requireInKernel(t, rs)
	})

	runIn(t, ns, "ports leave and an IP moves to another tap", func(t *testing.T) {
		rs.Ports[0].IP, rs.Ports[1].IP = rs.Ports[1].IP, rs.Ports[0].IP // verdict elements change value
		requireApplied(t, rs)
		rs.Ports = rs.Ports[:1]
		rs.NAT = nil
		requireApplied(t, rs)
		rs.Ports, rs.Groups, rs.UplinkAddr, rs.Uplink = nil, nil, netip.Addr{}, ""
		requireApplied(t, rs)
	})

	runIn(t, ns, "back to the sample from nothing", func(t *testing.T) {
		requireApplied(t, sample())
	})

	runIn(t, ns, "Remove leaves nothing", func(t *testing.T) {
		requireThrowaway(t)
		if err := Remove(testTable); err != nil {
			t.Fatalf("Remove: %v", err)
		}
		tables, err := connect(t).ListTables()
		if err != nil || len(tables) != 0 {
			t.Fatalf("tables after Remove: %v, %v", tables, err)
		}
		if err := Remove(testTable); err != nil {
			t.Errorf("Remove with nothing there: %v", err)
		}
	})
}

func requireApplied(t *testing.T, rs Ruleset) {
	t.Helper()
	requireThrowaway(t)
	if err := Apply(testTable, rs); err != nil {
		t.Fatalf("Apply: %v", err)
	}
	requireInKernel(t, rs)
}

func equalHandles(a, b map[string][]uint64) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if !slices.Equal(v, b[k]) {
			return false
		}
	}
	return true
}

// TestApplyOverForeignTableNetns: whatever is in shoal's tables, Apply ends
// with exactly the ruleset, and tables of others stay. The first set-up is
// caught by the diff (rebuilt on purpose); the second looks compatible, the
// kernel refuses the in-place batch, and Apply falls back to a rebuild.
func TestApplyOverForeignTableNetns(t *testing.T) {
	ns := inThrowawayNetns(t)
	drop := nftables.ChainPolicyDrop
	for name, spoil := range map[string]func(c *nftables.Conn, ours *nftables.Table) error{
		"wrong set type, drop policy, leftover chain": func(c *nftables.Conn, ours *nftables.Table) error {
			c.AddChain(&nftables.Chain{Name: "input", Table: ours, Hooknum: nftables.ChainHookInput,
				Priority: nftables.ChainPriorityFilter, Type: nftables.ChainTypeFilter, Policy: &drop})
			c.AddChain(&nftables.Chain{Name: "leftover", Table: ours})
			return c.AddSet(&nftables.Set{Table: ours, Name: mapEgress, KeyType: nftables.TypeEtherAddr}, nil)
		},
		"empty verdict map with a wider key": func(c *nftables.Conn, ours *nftables.Table) error {
			return c.AddSet(&nftables.Set{Table: ours, Name: mapEgress, KeyType: nftables.TypeIFName,
				IsMap: true, DataType: nftables.TypeVerdict}, nil)
		},
	} {
		runIn(t, ns, name, func(t *testing.T) {
			c := connect(t)
			ours := &nftables.Table{Name: testTable, Family: nftables.TableFamilyINet}
			theirs := c.AddTable(&nftables.Table{Name: "libvirt_network", Family: nftables.TableFamilyINet})
			c.AddChain(&nftables.Chain{Name: "forward", Table: theirs, Hooknum: nftables.ChainHookForward,
				Priority: nftables.ChainPriorityFilter, Type: nftables.ChainTypeFilter})
			c.AddTable(ours)
			if err := spoil(c, ours); err != nil {
				t.Fatal(err)
			}
			if err := c.Flush(); err != nil {
				t.Fatalf("set up: %v", err)
			}
			requireApplied(t, sample())
			if _, err := c.ListChain(theirs, "forward"); err != nil {
				t.Errorf("another table's chain went: %v", err)
			}
			if err := Remove(testTable); err != nil {
				t.Fatal(err)
			}
			tables, err := c.ListTables()
			if err != nil || len(tables) != 1 || tables[0].Name != "libvirt_network" {
				t.Errorf("after Remove: %v, %v; want only the other table", tables, err)
			}
			c.DelTable(theirs)
			if err := c.Flush(); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestApplyInvalidChangesNothingNetns(t *testing.T) {
	inThrowawayNetns(t)
	rs := sample()
	requireApplied(t, rs)
	bad := sample()
	bad.Groups[0].Rules[0].Protocol = "sctp"
	if err := Apply(testTable, bad); !errors.Is(err, ErrInvalid) {
		t.Fatalf("Apply(bad) = %v, want ErrInvalid", err)
	}
	requireInKernel(t, rs)
}
