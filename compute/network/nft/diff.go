package nft

import (
	"slices"

	"github.com/google/nftables"
)

// tableDiff is what one batch must do to turn a table into the desired one.
// It is computed purely (diffTable) and carried out by enqueue, in an order
// the kernel accepts within one transaction.
type tableDiff struct {
	table     string
	family    nftables.TableFamily
	rebuild   bool    // delete the table first: it holds something shoal cannot change in place
	create    bool    // add the table (absent, or rebuilt)
	addChains []chain // created empty, then filled once sets and elements exist
	refill    []chain // present but their rules differ: flushed and refilled
	delChains []string
	addSets   []set // created with their elements
	delSets   []string
	delElems  map[string][]elem // by set name
	addElems  map[string][]elem
}

func (d tableDiff) empty() bool {
	return !d.rebuild && !d.create && len(d.addChains) == 0 && len(d.refill) == 0 && len(d.delChains) == 0 &&
		len(d.addSets) == 0 && len(d.delSets) == 0 && len(d.delElems) == 0 && len(d.addElems) == 0
}

// diffTable compares want with have (nil: the table is absent).
func diffTable(want table, have *table) tableDiff {
	d := tableDiff{table: want.name, family: want.family, delElems: map[string][]elem{}, addElems: map[string][]elem{}}
	if have == nil || !compatible(want, *have) {
		d.rebuild, d.create = have != nil, true
		d.addChains, d.addSets = want.chains, want.sets
		return d
	}
	haveChains := map[string]chain{}
	for _, c := range have.chains {
		haveChains[c.name] = c
	}
	wantChains := map[string]bool{}
	for _, c := range want.chains {
		wantChains[c.name] = true
		h, ok := haveChains[c.name]
		switch {
		case !ok:
			d.addChains = append(d.addChains, c)
		case !sameRules(c.rules, h.rules):
			d.refill = append(d.refill, c)
		}
	}
	for _, c := range have.chains {
		if !wantChains[c.name] {
			d.delChains = append(d.delChains, c.name)
		}
	}
	haveSets := map[string]set{}
	for _, s := range have.sets {
		haveSets[s.name] = s
	}
	wantSets := map[string]bool{}
	for _, s := range want.sets {
		wantSets[s.name] = true
		h, ok := haveSets[s.name]
		if !ok {
			d.addSets = append(d.addSets, s)
			continue
		}
		del, add := diffElems(s.elems, h.elems)
		if len(del) > 0 {
			d.delElems[s.name] = del
		}
		if len(add) > 0 {
			d.addElems[s.name] = add
		}
	}
	for _, s := range have.sets {
		if !wantSets[s.name] {
			d.delSets = append(d.delSets, s.name)
		}
	}
	if len(d.delElems) == 0 {
		d.delElems = nil
	}
	if len(d.addElems) == 0 {
		d.addElems = nil
	}
	return d
}

// compatible reports whether have can be changed into want in place: every
// chain and set shoal keeps has the kind, hook and type shoal gives it.
func compatible(want, have table) bool {
	for _, w := range want.chains {
		for _, h := range have.chains {
			if w.name == h.name && !sameHook(w.hook, h.hook) {
				return false
			}
		}
	}
	for _, w := range want.sets {
		for _, h := range have.sets {
			if w.name == h.name && !sameSetType(w, h) {
				return false
			}
		}
	}
	return true
}

func sameHook(a, b *hook) bool {
	return a == nil && b == nil || a != nil && b != nil && *a == *b
}

// sameSetType compares flags, kinds and key and data types (by the
// kernel's type number and length).
func sameSetType(w, h set) bool {
	return h.flags == w.wantFlags() && h.verdict == w.verdict &&
		h.key.GetNFTMagic() == w.key.GetNFTMagic() && h.key.Bytes == w.key.Bytes &&
		(w.verdict || h.data.GetNFTMagic() == w.data.GetNFTMagic() && h.data.Bytes == w.data.Bytes)
}

func sameRules(a, b []rule) bool {
	return slices.EqualFunc(a, b, func(x, y rule) bool { return x.id == y.id })
}

// diffElems returns the elements to delete from have and to add to it. An
// element whose value changed is deleted and added again in the same batch.
func diffElems(want, have []elem) (del, add []elem) {
	haveBy := map[string]elem{}
	for _, e := range have {
		haveBy[string(e.key)] = e
	}
	wantBy := map[string]elem{}
	for _, e := range want {
		wantBy[string(e.key)] = e
		h, ok := haveBy[string(e.key)]
		if ok && h.value() == e.value() {
			continue
		}
		if ok {
			del = append(del, h)
		}
		add = append(add, e)
	}
	for _, e := range have {
		if _, ok := wantBy[string(e.key)]; !ok {
			del = append(del, e)
		}
	}
	return del, add
}
