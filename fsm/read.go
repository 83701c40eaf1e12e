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
	out := copyOut(f.state.Flavors, (*Flavor).clone)
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// Flavor finds a flavor by ID, then by name.
func (f *FSM) Flavor(ref string) (Flavor, error) {
	f.mu.RLock()
	defer f.mu.RUnlock()
	if fl, ok := f.state.Flavors[ref]; ok {
		return fl.clone(), nil
	}
	if fl := f.state.flavorByName(ref); fl != nil {
		return fl.clone(), nil
	}
	return Flavor{}, fmt.Errorf("%w: flavor %q", ErrNotFound, ref)
}

// Hosts lists hosts ordered by name.
func (f *FSM) Hosts() []Host {
	f.mu.RLock()
	defer f.mu.RUnlock()
	out := copyOut(f.state.Hosts, f.state.hostOut)
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// Host finds a host by name.
func (f *FSM) Host(name string) (Host, error) {
	f.mu.RLock()
	defer f.mu.RUnlock()
	if h, ok := f.state.Hosts[name]; ok {
		return f.state.hostOut(h), nil
	}
	return Host{}, fmt.Errorf("%w: host %q", ErrNotFound, name)
}

// copyOut copies every object of one table of the state out for a reader, in
// map order. clone must leave the copy sharing no map or slice with the state.
func copyOut[T any](table map[string]*T, clone func(*T) T) []T {
	out := make([]T, 0, len(table))
	for _, v := range table {
		out = append(out, clone(v))
	}
	return out
}

// plainCopy is clone for copyOut of a type that holds no maps or slices.
func plainCopy[T any](v *T) T { return *v }
