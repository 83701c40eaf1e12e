package fsm

import (
	"fmt"
	"sort"
)

// Index is the Raft index of the last applied entry.
func (f *FSM) Index() uint64 {
	f.mu.RLock()
	defer f.mu.RUnlock()
	return f.state.Index
}

// ClusterID is the cluster's identity, empty until bootstrap is applied.
func (f *FSM) ClusterID() string {
	f.mu.RLock()
	defer f.mu.RUnlock()
	return f.state.ClusterID
}

// Flavors lists flavors ordered by ID.
func (f *FSM) Flavors() []Flavor {
	f.mu.RLock()
	defer f.mu.RUnlock()
	out := make([]Flavor, 0, len(f.state.Flavors))
	for _, fl := range f.state.Flavors {
		out = append(out, *fl)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// Flavor finds a flavor by ID, then by name.
func (f *FSM) Flavor(ref string) (Flavor, error) {
	f.mu.RLock()
	defer f.mu.RUnlock()
	if fl, ok := f.state.Flavors[ref]; ok {
		return *fl, nil
	}
	if fl := f.state.flavorByName(ref); fl != nil {
		return *fl, nil
	}
	return Flavor{}, fmt.Errorf("%w: flavor %q", ErrNotFound, ref)
}

// Hosts lists hosts ordered by name.
func (f *FSM) Hosts() []Host {
	f.mu.RLock()
	defer f.mu.RUnlock()
	out := make([]Host, 0, len(f.state.Hosts))
	for _, h := range f.state.Hosts {
		out = append(out, *h)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// Host finds a host by name.
func (f *FSM) Host(name string) (Host, error) {
	f.mu.RLock()
	defer f.mu.RUnlock()
	if h, ok := f.state.Hosts[name]; ok {
		return *h, nil
	}
	return Host{}, fmt.Errorf("%w: host %q", ErrNotFound, name)
}
