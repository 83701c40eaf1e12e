package nft

import (
	"encoding/binary"
	"fmt"
	"sync"

	"github.com/google/nftables"
	"github.com/google/nftables/binaryutil"
	"github.com/google/nftables/expr"
	"github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"
)

// mu makes each Apply and Remove one read-diff-write step: two at once
// would diff against a state the other is changing.
var mu sync.Mutex

// Apply makes shoal's tables express rs, changing only what differs, in one
// atomic batch, in the calling thread's network namespace. If the kernel
// refuses the incremental batch (someone edited shoal's tables), both
// tables are rebuilt from scratch in one batch instead; conntrack, and so
// every established flow and NAT binding, lives outside the tables and
// survives either way.
func Apply(rs Ruleset) error {
	if err := rs.validate(); err != nil {
		return err
	}
	mu.Lock()
	defer mu.Unlock()
	c, err := nftables.New()
	if err != nil {
		return fmt.Errorf("nft: %w", err)
	}
	_, err = apply(c, []table{inetTable(rs), bridgeTable(rs)})
	return err
}

// Remove deletes shoal's tables; absent tables are no error.
func Remove() error {
	mu.Lock()
	defer mu.Unlock()
	c, err := nftables.New()
	if err != nil {
		return fmt.Errorf("nft: %w", err)
	}
	for _, fam := range []nftables.TableFamily{nftables.TableFamilyINet, nftables.TableFamilyBridge} {
		t := &nftables.Table{Name: TableName, Family: fam}
		c.AddTable(t) // adding an existing table is a no-op, so the delete never fails on absence
		c.DelTable(t)
	}
	if err := c.Flush(); err != nil {
		return fmt.Errorf("nft: remove tables: %w", err)
	}
	return nil
}

// apply reads, diffs and writes; it returns what it changed (tests look).
func apply(c *nftables.Conn, want []table) ([]tableDiff, error) {
	diffs := make([]tableDiff, len(want))
	changed := false
	for i, w := range want {
		have, err := readTable(c, w.family)
		if err != nil {
			return nil, err
		}
		diffs[i] = diffTable(w, have)
		changed = changed || !diffs[i].empty()
	}
	if !changed {
		return diffs, nil
	}
	for _, d := range diffs {
		if err := enqueue(c, d); err != nil {
			return nil, err
		}
	}
	err := c.Flush()
	if err == nil {
		return diffs, nil
	}
	for i, w := range want {
		diffs[i] = tableDiff{family: w.family, rebuild: true, create: true, addChains: w.chains, addSets: w.sets}
		if err := enqueue(c, diffs[i]); err != nil {
			return nil, err
		}
	}
	if err2 := c.Flush(); err2 != nil {
		return nil, fmt.Errorf("nft: apply: %w; rebuilding the tables: %v", err, err2)
	}
	return diffs, nil
}

// enqueue adds d's messages to c's batch, in dependency order: chains exist
// before anything jumps to them, elements that jump to a chain go before the
// chain does, and rules that look a set up go before the set does.
func enqueue(c *nftables.Conn, d tableDiff) error {
	t := &nftables.Table{Name: TableName, Family: d.family}
	if d.rebuild {
		c.AddTable(t)
		c.DelTable(t)
	}
	if d.create {
		c.AddTable(t)
	}
	for _, ch := range d.addChains {
		c.AddChain(nftChain(t, ch))
	}
	for _, s := range d.addSets {
		ns := nftSet(t, s)
		if err := c.AddSet(ns, nftElems(s.elems)); err != nil {
			return fmt.Errorf("nft: set %s: %w", s.name, err)
		}
	}
	for name, es := range d.delElems {
		if err := c.SetDeleteElements(&nftables.Set{Table: t, Name: name}, nftElems(es)); err != nil {
			return fmt.Errorf("nft: set %s: %w", name, err)
		}
	}
	for name, es := range d.addElems {
		if err := c.SetAddElements(&nftables.Set{Table: t, Name: name}, nftElems(es)); err != nil {
			return fmt.Errorf("nft: set %s: %w", name, err)
		}
	}
	for _, ch := range d.refill {
		c.FlushChain(nftChain(t, ch))
	}
	for _, ch := range append(d.refill, d.addChains...) {
		nc := nftChain(t, ch)
		for _, r := range ch.rules {
			c.AddRule(&nftables.Rule{Table: t, Chain: nc, Exprs: r.exprs, UserData: r.userData()})
		}
	}
	for _, name := range d.delChains {
		c.FlushChain(&nftables.Chain{Table: t, Name: name})
	}
	for _, name := range d.delChains {
		c.DelChain(&nftables.Chain{Table: t, Name: name})
	}
	for _, name := range d.delSets {
		c.DelSet(&nftables.Set{Table: t, Name: name})
	}
	return nil
}

func nftChain(t *nftables.Table, ch chain) *nftables.Chain {
	nc := &nftables.Chain{Table: t, Name: ch.name}
	if h := ch.hook; h != nil {
		num, prio, policy := h.num, h.prio, h.policy
		nc.Hooknum, nc.Priority, nc.Type, nc.Policy = &num, &prio, h.typ, &policy
	}
	return nc
}

func nftSet(t *nftables.Table, s set) *nftables.Set {
	ns := &nftables.Set{Table: t, Name: s.name, KeyType: s.key, IsMap: s.isMap(), DataType: s.data}
	if s.verdict {
		ns.DataType = nftables.TypeVerdict
	}
	if s.key.Name == nftables.TypeIFName.Name {
		// Tells `nft list` how to print the names (the kernel only compares bytes).
		ns.KeyByteOrder = binaryutil.NativeEndian
	}
	return ns
}

func nftElems(es []elem) []nftables.SetElement {
	out := make([]nftables.SetElement, len(es))
	for i, e := range es {
		out[i] = nftables.SetElement{Key: e.key, Val: e.val}
		if e.jump != "" {
			out[i].VerdictData = &expr.Verdict{Kind: expr.VerdictJump, Chain: e.jump}
		}
	}
	return out
}

// readTable reads shoal's table of family back into the model (nil: absent).
func readTable(c *nftables.Conn, family nftables.TableFamily) (*table, error) {
	tables, err := c.ListTablesOfFamily(family)
	if err != nil {
		return nil, fmt.Errorf("nft: list tables: %w", err)
	}
	var t *nftables.Table
	for _, x := range tables {
		if x.Name == TableName {
			t = x
		}
	}
	if t == nil {
		return nil, nil
	}
	have := &table{family: family}
	chains, err := c.ListChainsOfTableFamily(family)
	if err != nil {
		return nil, fmt.Errorf("nft: list chains: %w", err)
	}
	for _, ch := range chains {
		if ch.Table == nil || ch.Table.Name != TableName {
			continue
		}
		rules, err := c.GetRules(t, ch)
		if err != nil {
			return nil, fmt.Errorf("nft: rules of %s: %w", ch.Name, err)
		}
		m := chain{name: ch.Name}
		if ch.Hooknum != nil && ch.Priority != nil {
			m.hook = &hook{num: *ch.Hooknum, prio: *ch.Priority, typ: ch.Type, policy: nftables.ChainPolicyAccept}
			if ch.Policy != nil {
				m.hook.policy = *ch.Policy
			}
		}
		for _, r := range rules {
			m.rules = append(m.rules, rule{id: ruleID(r.UserData), handle: r.Handle})
		}
		have.chains = append(have.chains, m)
	}
	sets, err := c.GetSets(t)
	if err != nil {
		return nil, fmt.Errorf("nft: list sets: %w", err)
	}
	for _, s := range sets {
		if s.Anonymous { // belongs to a rule; goes when its chain is flushed
			continue
		}
		elems, err := c.GetSetElements(s)
		if err != nil {
			return nil, fmt.Errorf("nft: elements of %s: %w", s.Name, err)
		}
		m := set{name: s.Name, key: s.KeyType, data: s.DataType,
			verdict: s.IsMap && (s.KeyType.Name == "verdict" || s.DataType.Name == "verdict")}
		if m.verdict {
			m.data = nftables.SetDatatype{}
		}
		for _, e := range elems {
			x := elem{key: e.Key}
			switch {
			case m.verdict:
				x.jump = jumpTarget(e.Val)
			case s.IsMap:
				x.val = e.Val
			}
			m.elems = append(m.elems, x)
		}
		have.sets = append(have.sets, m)
	}
	return have, nil
}

// jumpTarget decodes a verdict map element's data (the library leaves it
// encoded): the chain of a jump, or a marker no desired element has.
func jumpTarget(b []byte) string {
	ad, err := netlink.NewAttributeDecoder(b)
	if err != nil {
		return "?"
	}
	ad.ByteOrder = binary.BigEndian
	var code int32
	var chainName string
	for ad.Next() {
		switch ad.Type() {
		case unix.NFTA_VERDICT_CODE:
			code = int32(ad.Uint32())
		case unix.NFTA_VERDICT_CHAIN:
			chainName = ad.String()
		}
	}
	if ad.Err() != nil || code != unix.NFT_JUMP || chainName == "" {
		return fmt.Sprintf("?verdict %d", code)
	}
	return chainName
}
