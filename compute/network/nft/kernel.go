package nft

import (
	"fmt"
	"slices"
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

// Apply makes the tables named table (TableFor this node) express rs,
// changing only what differs, in one atomic batch, in the calling thread's
// network namespace. Other tables, other nodes' included, are left alone.
// If the kernel refuses the incremental batch (someone edited the tables),
// both are rebuilt from scratch in one batch instead; conntrack, and so
// every established flow and NAT binding, lives outside the tables and
// survives either way.
func Apply(table string, rs Ruleset) error {
	if !validTable(table) {
		return invalid("table name %q (use TableFor)", table)
	}
	if err := rs.validate(); err != nil {
		return err
	}
	mu.Lock()
	defer mu.Unlock()
	c, err := newConn()
	if err != nil {
		return err
	}
	defer c.CloseLasting()
	_, err = apply(c, tablesFor(table, rs))
	return err
}

// tablesFor are the two tables named name that express rs (validated).
func tablesFor(name string, rs Ruleset) []table {
	ts := []table{inetTable(rs), bridgeTable(rs)}
	for i := range ts {
		ts[i].name = name
	}
	return ts
}

// Remove deletes the tables named table (both families); absent tables are
// no error. The agent never calls it on shutdown (guests that keep running
// keep their filters): the fence guard does once its guests are stopped,
// and so do `shoal network-reset` and tests.
func Remove(table string) error {
	if !validTable(table) {
		return invalid("table name %q (use TableFor)", table)
	}
	mu.Lock()
	defer mu.Unlock()
	c, err := newConn()
	if err != nil {
		return err
	}
	defer c.CloseLasting()
	for _, fam := range []nftables.TableFamily{nftables.TableFamilyINet, nftables.TableFamilyBridge} {
		t := &nftables.Table{Name: table, Family: fam}
		c.AddTable(t) // adding an existing table is a no-op, so the delete never fails on absence
		c.DelTable(t)
	}
	if err := c.Flush(); err != nil {
		return fmt.Errorf("nft: remove tables %s: %w", table, err)
	}
	return nil
}

// bufferBytes bounds a batch and the kernel's replies to it. The kernel
// takes a batch only whole, in one datagram, and echoes every rule added,
// so both socket buffers must hold a whole batch: the default (net.core
// wmem_max, about 200 KiB) fits some 50 ports. The size is a limit, not an
// allocation; FORCE because it is above that sysctl (CAP_NET_ADMIN, which
// nftables needs anyway).
const bufferBytes = 64 << 20

// newConn opens the netlink socket that carries a batch, in the calling
// thread's network namespace.
func newConn() (*nftables.Conn, error) {
	c, err := nftables.New(nftables.AsLasting(), nftables.WithSockOptions(func(nc *netlink.Conn) error {
		raw, err := nc.SyscallConn()
		if err != nil {
			return err
		}
		var serr error
		if err := raw.Control(func(fd uintptr) {
			for _, opt := range []int{unix.SO_SNDBUFFORCE, unix.SO_RCVBUFFORCE} {
				if serr == nil {
					serr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, opt, bufferBytes)
				}
			}
		}); err != nil {
			return err
		}
		return serr
	}))
	if err != nil {
		return nil, fmt.Errorf("nft: netlink: %w", err)
	}
	return c, nil
}

// apply reads, diffs and writes; it returns what it changed (tests look).
func apply(c *nftables.Conn, want []table) ([]tableDiff, error) {
	diffs := make([]tableDiff, len(want))
	changed := false
	for i, w := range want {
		have, err := readTable(w.name, w.family)
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
		diffs[i] = tableDiff{table: w.name, family: w.family, rebuild: true, create: true, addChains: w.chains, addSets: w.sets}
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
// chain does, and rules (and maps) that name a set or chain go before it.
func enqueue(c *nftables.Conn, d tableDiff) error {
	t := &nftables.Table{Name: d.table, Family: d.family}
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
		if err := c.AddSet(ns, nil); err != nil {
			return fmt.Errorf("nft: set %s: %w", s.name, err)
		}
		if err := inChunks(s.elems, ns, c.SetAddElements); err != nil {
			return err
		}
	}
	for name, es := range d.delElems {
		if err := inChunks(es, &nftables.Set{Table: t, Name: name}, c.SetDeleteElements); err != nil {
			return err
		}
	}
	for name, es := range d.addElems {
		if err := inChunks(es, &nftables.Set{Table: t, Name: name}, c.SetAddElements); err != nil {
			return err
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
	for _, name := range d.delSets {
		c.DelSet(&nftables.Set{Table: t, Name: name})
	}
	for _, name := range d.delChains {
		c.DelChain(&nftables.Chain{Table: t, Name: name})
	}
	return nil
}

// elemsPerMessage bounds one message's element list: it is a single netlink
// attribute, whose length field is 16 bits. Past 64 KiB it wraps and the
// kernel silently takes a prefix (1000 taps were added as 36).
const elemsPerMessage = 128

func inChunks(es []elem, s *nftables.Set, op func(*nftables.Set, []nftables.SetElement) error) error {
	for chunk := range slices.Chunk(es, elemsPerMessage) {
		if err := op(s, nftElems(chunk)); err != nil {
			return fmt.Errorf("nft: set %s: %w", s.Name, err)
		}
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
