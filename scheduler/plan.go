package scheduler

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"github.com/shoal-project/shoal/fsm"
)

// hostState is a host as one batch sees it: its capacity and the claims on
// it, including placements made earlier in the batch. It is filled in the
// first time a batch looks at the host, so a batch costs what it visits, not
// what the cluster holds.
type hostState struct {
	gen      uint64 // the batch that filled it; stale if older
	alive    bool   // per gossip
	capacity fsm.Resources
	used     fsm.Usage
}

// groupState is a server group as one batch sees it: members per host,
// including placements made earlier in the batch.
type groupState struct {
	policy  string
	hosts   map[string]int
	perHost int // anti-affinity's bound on members per host
}

// request is one pending instance being placed.
type request struct {
	inst           *fsm.Instance
	flavor         fsm.FlavorSpec
	ratios         fsm.Ratios // the batch's allocation ratios
	zone           string
	arch           string // canonical; "" when the image does not say
	hypervisorType string
	group          *groupState // nil when the instance is in no group
	source         string      // a migration's source host, never chosen
	rejected       [numFilters]int
}

// batch holds what one plan shares between its placements. Nothing in it
// costs O(hosts) per batch: host states are filled on first visit, and the
// walk order is a permutation kept between batches (rebuilt only when the
// number of hosts changes). A placement then costs O(SampleSize) while
// feasible hosts are plentiful. The Scheduler keeps one batch and reuses
// its buffers.
type batch struct {
	gen    uint64
	hosts  []fsm.Host // the view's, in the view's order
	usage  map[string]fsm.Usage
	alive  map[string]bool
	ratios fsm.Ratios
	states []hostState // parallel to hosts
	order  []int32     // a permutation of host indexes, partly reshuffled by every walk
	groups map[string]*groupState
	// byName finds a host by name: binary search when the view's hosts are
	// sorted (fsm sorts them), else a map; decided on first use.
	sorted int8 // 0 unknown, 1 sorted, -1 not sorted
	byName map[string]int32
	// Scratch, reused by every placement.
	active     []filterID
	cands      []int32
	score, raw []float64
	// visited counts host examinations in this batch (tests, benchmarks).
	visited int
}

// plan places v's pending instances, oldest first, and returns the batch as
// one Plan (without Time and RequestID, which Run stamps). It does not
// change v; given the same random source it returns the same plan.
func (s *Scheduler) plan(v fsm.SchedulingView, alive map[string]bool) *fsm.Plan {
	b := &s.batch
	b.reset(v, alive, s.cfg.Ratios)
	defer b.release()
	p := &fsm.Plan{Ratios: s.cfg.Ratios, MaxAttempts: s.cfg.MaxAttempts}
	for _, k := range oldestFirst(v.Pending) {
		inst := &v.Pending[k]
		if !inst.Pending() {
			continue
		}
		r := b.request(inst, v.Images)
		if m, ok := v.Moves[inst.ID]; ok {
			r.flavor, r.source = m.NewFlavor, m.Source
		}
		i, reason := s.place(b, &r)
		if reason != "" {
			s.log.Info("no valid host", "instance", inst.ID, "reason", reason)
			p.Failures = append(p.Failures, fsm.PlanFailure{InstanceID: inst.ID, Reason: reason})
			continue
		}
		b.claim(i, &r)
		p.Placements = append(p.Placements, fsm.Placement{InstanceID: inst.ID, Host: b.hosts[i].Name})
	}
	return p
}

// oldestFirst returns the order to place pending instances in. fsm already
// sorts them; a view that is not sorted is ordered here, without touching it.
func oldestFirst(pending []fsm.Instance) []int {
	order := make([]int, len(pending))
	for k := range order {
		order[k] = k
	}
	older := func(a, b int) int {
		return cmp.Or(cmp.Compare(pending[a].CreateIndex, pending[b].CreateIndex), strings.Compare(pending[a].ID, pending[b].ID))
	}
	if !slices.IsSortedFunc(order, older) {
		slices.SortStableFunc(order, older)
	}
	return order
}

// reset points the batch at a view.
func (b *batch) reset(v fsm.SchedulingView, alive map[string]bool, ratios fsm.Ratios) {
	b.gen++
	b.hosts, b.usage, b.alive, b.ratios = v.Hosts, v.Usage, alive, ratios
	n := len(v.Hosts)
	if cap(b.states) < n {
		b.states = make([]hostState, n, n+n/8)
	}
	b.states = b.states[:n]
	if len(b.order) != n {
		b.order = slices.Grow(b.order[:0], n)[:n]
		for i := range b.order {
			b.order[i] = int32(i)
		}
	}
	b.groups = make(map[string]*groupState, len(v.Groups))
	for id, g := range v.Groups {
		gs := &groupState{policy: g.Policy, hosts: make(map[string]int, len(g.Hosts)+1), perHost: max(g.PerHost, 1)}
		for h, c := range g.Hosts {
			if c > 0 {
				gs.hosts[h] = c
			}
		}
		b.groups[id] = gs
	}
	b.sorted, b.byName = 0, nil
	b.visited = 0
}

// release drops the batch's references to the view, keeping the buffers.
func (b *batch) release() {
	b.hosts, b.usage, b.alive, b.groups, b.byName = nil, nil, nil, nil, nil
}

// state returns host i's state in this batch, filling it on first use.
func (b *batch) state(i int32) *hostState {
	h := &b.states[i]
	if h.gen != b.gen {
		host := &b.hosts[i]
		*h = hostState{
			gen:      b.gen,
			alive:    b.alive[host.Name],
			capacity: host.Capacity(),
			used:     b.usage[host.Name],
		}
	}
	return h
}

// check runs r's active filters on host i.
func (b *batch) check(i int32, r *request) (filterID, bool) {
	b.visited++
	return firstRejection(b.state(i), &b.hosts[i], r, b.active)
}

// find returns the index of the host called name.
func (b *batch) find(name string) (int32, bool) {
	if b.sorted == 0 {
		b.sorted = 1
		if !slices.IsSortedFunc(b.hosts, func(x, y fsm.Host) int { return strings.Compare(x.Name, y.Name) }) {
			b.sorted = -1
			b.byName = make(map[string]int32, len(b.hosts))
			for i := range b.hosts {
				b.byName[b.hosts[i].Name] = int32(i)
			}
		}
	}
	if b.sorted < 0 {
		i, ok := b.byName[name]
		return i, ok
	}
	i, ok := slices.BinarySearchFunc(b.hosts, name, func(h fsm.Host, name string) int {
		return strings.Compare(h.Name, name)
	})
	return int32(i), ok
}

func (b *batch) request(inst *fsm.Instance, images map[string]fsm.Image) request {
	r := request{inst: inst, flavor: inst.Flavor, ratios: b.ratios, zone: inst.AvailabilityZone}
	if img, ok := images[inst.ImageID]; ok {
		if a := imageProperty(img, archKeys); a != "" {
			r.arch = fsm.CanonicalArch(a)
		}
		r.hypervisorType = imageProperty(img, hypervisorTypeKeys)
	}
	if inst.ServerGroupID != "" {
		r.group = b.groups[inst.ServerGroupID] // nil if the group is gone
	}
	return r
}

// claim records a placement so that later placements in the batch see it.
func (b *batch) claim(i int32, r *request) {
	h := b.state(i)
	h.used.VCPUs += r.flavor.VCPUs
	h.used.RAM += r.flavor.RAM
	h.used.Disk += r.flavor.Disk
	h.used.Instances++
	if r.group != nil {
		r.group.hosts[b.hosts[i].Name]++
	}
}

// place chooses a host for r, or explains why there is none.
func (s *Scheduler) place(b *batch, r *request) (int32, string) {
	if name := r.inst.ForceHost; name != "" && r.source == "" { // a move never goes by the forced host of its create
		return s.placeForced(b, r, name)
	}
	b.active = activeFilters(b.active, r, false)
	// Strict affinity with a placed member: only that member's host can
	// pass, so look there rather than walk the cluster to find it.
	if g := r.group; g != nil && g.policy == fsm.PolicyAffinity && len(g.hosts) == 1 {
		for name := range g.hosts {
			if i, ok := b.find(name); ok && name != r.source {
				if _, rejected := b.check(i, r); !rejected {
					return i, ""
				}
			}
		}
		// It does not fit: the walk below rejects every host and counts why.
	}
	n := len(b.hosts)
	if n == 0 {
		return -1, noValidHost(r, "")
	}
	// Power of k choices: draw hosts uniformly without replacement until
	// SampleSize of them pass every filter or every host has been seen. The
	// draw is a Fisher-Yates shuffle done only as far as it is walked; order
	// stays a permutation, so the next walk can start over from it.
	cands := b.cands[:0]
	for k := range n {
		j := k + s.rng.IntN(n-k)
		b.order[k], b.order[j] = b.order[j], b.order[k]
		i := b.order[k]
		if b.hosts[i].Name == r.source {
			continue // Nova's ignore_hosts: a migration never stays
		}
		if f, rejected := b.check(i, r); rejected {
			r.rejected[f]++
			continue
		}
		cands = append(cands, i)
		if len(cands) >= s.cfg.SampleSize {
			break
		}
	}
	b.cands = cands
	if len(cands) == 0 {
		note := ""
		if r.source != "" {
			note = "the source host " + r.source + " is not a candidate"
		}
		return -1, noValidHost(r, note)
	}
	return b.pick(s, r, cands), ""
}

// placeForced checks the one host an admin forced. As in Nova it bypasses
// sampling and the availability zone; unlike Nova it keeps the other
// filters, because capacity and strict group policies are re-checked at
// commit anyway and a host that is down or of the wrong architecture
// cannot run the instance.
func (s *Scheduler) placeForced(b *batch, r *request, name string) (int32, string) {
	i, ok := b.find(name)
	if !ok {
		return -1, fmt.Sprintf("%s. Forced host %s is not a registered host.", fsm.NoValidHost, name)
	}
	b.active = activeFilters(b.active, r, true)
	if f, rejected := b.check(i, r); rejected {
		r.rejected[f]++
		return -1, noValidHost(r, "forced host "+name)
	}
	return i, ""
}

// noValidHost is the fault message: Nova's words, then how many hosts each
// filter rejected, in filter order.
func noValidHost(r *request, note string) string {
	var parts []string
	for f := range numFilters {
		if c := r.rejected[f]; c > 0 {
			parts = append(parts, fmt.Sprintf("%s rejected %d", f, c))
		}
	}
	if len(parts) == 0 && r.source == "" {
		parts = append(parts, "no hosts are registered")
	}
	msg := fsm.NoValidHost + ". There are not enough hosts available. " + strings.Join(parts, ", ")
	if note != "" {
		msg += " (" + note + ")"
	}
	return msg + "."
}
