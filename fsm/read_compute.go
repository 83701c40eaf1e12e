package fsm

import (
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"
)

// clone copies an instance so readers never share maps or slices with the state.
func (i *Instance) clone() Instance {
	c := *i
	c.Addresses = slices.Clone(i.Addresses)
	c.Metadata = maps.Clone(i.Metadata)
	c.SecurityGroups = slices.Clone(i.SecurityGroups)
	c.Actions = slices.Clone(i.Actions)
	if i.Fault != nil {
		f := *i.Fault
		c.Fault = &f
	}
	return c
}

// clone copies an image so readers never share its properties or locations
// with the state. Locations is never nil, so the wire shows "locations":[]
// for an image without data.
func (img *Image) clone() Image {
	c := *img
	c.Properties = maps.Clone(img.Properties)
	c.Locations = append(make([]string, 0, len(img.Locations)), img.Locations...)
	return c
}

// clone copies a server group so readers never share its member list with
// the state.
func (g *ServerGroup) clone() ServerGroup {
	c := *g
	c.Members = slices.Clone(g.Members)
	return c
}

func sortInstances(out []Instance) {
	sort.Slice(out, func(a, b int) bool {
		if out[a].CreateIndex != out[b].CreateIndex {
			return out[a].CreateIndex < out[b].CreateIndex
		}
		return out[a].ID < out[b].ID
	})
}

// Instance finds a server by ID.
func (f *FSM) Instance(id string) (Instance, error) {
	f.mu.RLock()
	defer f.mu.RUnlock()
	if i, ok := f.state.Instances[id]; ok {
		return i.clone(), nil
	}
	return Instance{}, fmt.Errorf("%w: server %q", ErrNotFound, id)
}

// Instances lists servers, oldest first; keep (if not nil) filters them.
func (f *FSM) Instances(keep func(*Instance) bool) []Instance {
	f.mu.RLock()
	defer f.mu.RUnlock()
	out := make([]Instance, 0, len(f.state.Instances))
	for _, i := range f.state.Instances {
		if keep == nil || keep(i) {
			out = append(out, i.clone())
		}
	}
	sortInstances(out)
	return out
}

// InProject is a filter for Instances: the servers a project owns. Servers
// made before identity (no project) belong to none; only an unfiltered
// listing (an admin's) shows them.
func InProject(projectID string) func(*Instance) bool {
	return func(i *Instance) bool { return i.ProjectID == projectID }
}

// InstancesOnHost lists the servers the FSM gives to host.
func (f *FSM) InstancesOnHost(host string) []Instance {
	return f.Instances(func(i *Instance) bool { return i.Host == host })
}

// Images lists images ordered by name, then ID.
func (f *FSM) Images() []Image {
	f.mu.RLock()
	defer f.mu.RUnlock()
	out := copyOut(f.state.Images, (*Image).clone)
	sortByNameThenID(out, func(i Image) (string, string) { return i.Name, i.ID })
	return out
}

// ImagesVisibleTo lists the images a project may see (Image.VisibleTo),
// ordered as Images.
func (f *FSM) ImagesVisibleTo(projectID string) []Image {
	return slices.DeleteFunc(f.Images(), func(img Image) bool { return !img.VisibleTo(projectID) })
}

// Image finds an image by ID, then by name; a name several images share is
// ambiguous (ErrConflict), as in Glance.
func (f *FSM) Image(ref string) (Image, error) {
	return findByRef(f.Images(), ref, "image", "images",
		func(i Image) string { return i.ID }, func(i Image) string { return i.Name })
}

// ServerGroups lists server groups ordered by name, then ID.
func (f *FSM) ServerGroups() []ServerGroup {
	f.mu.RLock()
	defer f.mu.RUnlock()
	out := copyOut(f.state.Groups, (*ServerGroup).clone)
	sortByNameThenID(out, func(g ServerGroup) (string, string) { return g.Name, g.ID })
	return out
}

// ServerGroupsOf lists the server groups a project owns, ordered as
// ServerGroups; like servers, groups made before identity belong to none.
func (f *FSM) ServerGroupsOf(projectID string) []ServerGroup {
	return slices.DeleteFunc(f.ServerGroups(), func(g ServerGroup) bool { return g.ProjectID != projectID })
}

// sortByNameThenID orders a listing the way users scan it.
func sortByNameThenID[T any](items []T, key func(T) (name, id string)) {
	slices.SortFunc(items, func(a, b T) int {
		an, ai := key(a)
		bn, bi := key(b)
		if c := strings.Compare(an, bn); c != 0 {
			return c
		}
		return strings.Compare(ai, bi)
	})
}

// ServerGroup finds a server group by ID, then by (unique) name.
func (f *FSM) ServerGroup(ref string) (ServerGroup, error) {
	return findByRef(f.ServerGroups(), ref, "server group", "server groups",
		func(g ServerGroup) string { return g.ID }, func(g ServerGroup) string { return g.Name })
}

// findByRef picks the item whose ID is ref, else the only one named ref.
func findByRef[T any](items []T, ref, kind, kinds string, id, name func(T) string) (T, error) {
	var match []T
	for _, it := range items {
		if id(it) == ref {
			return it, nil
		}
		if name(it) == ref {
			match = append(match, it)
		}
	}
	var zero T
	switch len(match) {
	case 0:
		return zero, fmt.Errorf("%w: %s %q", ErrNotFound, kind, ref)
	case 1:
		return match[0], nil
	}
	return zero, fmt.Errorf("%w: %d %s are named %q; use the ID", ErrConflict, len(match), kinds, ref)
}

// Usage returns the claims on every host that has any.
func (f *FSM) Usage() map[string]Usage {
	f.mu.RLock()
	defer f.mu.RUnlock()
	out := make(map[string]Usage, len(f.state.usage))
	for h, u := range f.state.usage {
		if u.Instances > 0 {
			out[h] = *u
		}
	}
	return out
}

// NetworkInfo describes the default network (no allocation table).
type NetworkInfo struct {
	Name      string `json:"name"`
	CIDR      string `json:"cidr"`
	Gateway   string `json:"gateway"`
	Allocated int    `json:"allocated"`
}

// Network describes the default network, if the cluster has one.
func (f *FSM) Network() (NetworkInfo, bool) {
	f.mu.RLock()
	defer f.mu.RUnlock()
	n := f.state.Network
	if n == nil {
		return NetworkInfo{}, false
	}
	return NetworkInfo{Name: n.Name, CIDR: n.CIDR, Gateway: n.Gateway, Allocated: len(n.Allocated)}, true
}

// SchedulingView is everything the scheduler reads, taken under one lock so
// it is consistent: pending instances (oldest first, at most limit), hosts,
// claims, where each server group's members already are, and the images the
// pending instances use.
type SchedulingView struct {
	Index   uint64
	Pending []Instance
	Hosts   []Host
	Usage   map[string]Usage
	Groups  map[string]GroupPlacement
	Images  map[string]Image // the images pending instances use
	// Moves are the migrations of the pending instances that move (by
	// instance ID): their destination must not be the source, and must
	// take the migration's NewFlavor.
	Moves map[string]Migration
}

// GroupPlacement is a server group's policy and its members per host.
type GroupPlacement struct {
	Policy string
	Hosts  map[string]int
	// PerHost is how many members one host may hold under anti-affinity
	// (ServerGroup.PerHost).
	PerHost int
}

// hostCache is the sorted host list of one generation of one state; hosts
// change rarely and the scheduler reads them every batch.
type hostCache struct {
	state *State
	gen   uint64
	hosts []Host
}

// sortedHosts returns the hosts ordered by name, shared between readers
// until a host changes: callers must not modify the slice. The read lock is held.
func (f *FSM) sortedHosts() []Host {
	s := f.state
	if c := f.hosts.Load(); c != nil && c.state == s && c.gen == s.hostsGen {
		return c.hosts
	}
	hosts := make([]Host, 0, len(s.Hosts))
	for _, h := range s.Hosts {
		hosts = append(hosts, s.hostOut(h))
	}
	sort.Slice(hosts, func(a, b int) bool { return hosts[a].Name < hosts[b].Name })
	f.hosts.Store(&hostCache{state: s, gen: s.hostsGen, hosts: hosts})
	return hosts
}

// SchedulingView builds the scheduler's consistent read. Pending instances
// come oldest first (create index, then ID); Hosts is shared and read-only.
func (f *FSM) SchedulingView(limit int) SchedulingView {
	f.mu.RLock()
	defer f.mu.RUnlock()
	s := f.state
	v := SchedulingView{Index: s.Index, Usage: make(map[string]Usage, len(s.usage)),
		Groups: map[string]GroupPlacement{}, Images: map[string]Image{}}
	for _, q := range s.queue {
		if limit > 0 && len(v.Pending) >= limit {
			break
		}
		if s.pending[q.id] == q.ticket {
			v.Pending = append(v.Pending, s.Instances[q.id].clone())
		}
	}
	v.Hosts = f.sortedHosts()
	for h, u := range s.usage {
		// As in Usage: a host whose claims all went away keeps a zero entry
		// here but not after a restore; leave it out so replicas agree.
		if u.Instances > 0 {
			v.Usage[h] = *u
		}
	}
	for _, p := range v.Pending {
		if m := s.migrationFor(s.Instances[p.ID]); m != nil && p.MigrationPending {
			if v.Moves == nil {
				v.Moves = map[string]Migration{}
			}
			v.Moves[p.ID] = *m
		}
		if img, ok := s.Images[p.ImageID]; ok {
			v.Images[img.ID] = *img
		}
		g, ok := s.Groups[p.ServerGroupID]
		if !ok {
			continue
		}
		if _, done := v.Groups[g.ID]; done {
			continue
		}
		gp := GroupPlacement{Policy: g.Policy, Hosts: map[string]int{}, PerHost: g.PerHost()}
		for _, m := range g.Members {
			if i, ok := s.Instances[m]; ok && i.Host != "" {
				gp.Hosts[i.Host]++
				if to, _ := s.otherEnd(i); to != "" && g.Policy == PolicyAntiAffinity {
					gp.Hosts[to]++ // a member moving there counts there too, as the commit re-check has it
				}
			}
		}
		v.Groups[g.ID] = gp
	}
	return v
}
