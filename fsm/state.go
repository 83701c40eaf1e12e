package fsm

// State is the whole replicated state. It is only changed by Apply and Restore;
// readers get copies through FSM's read methods.
type State struct {
	ClusterID string                  `json:"cluster_id"`
	Index     uint64                  `json:"index"`
	Hosts     map[string]*Host        `json:"hosts"`
	Flavors   map[string]*Flavor      `json:"flavors"`
	Images    map[string]*Image       `json:"images"`
	Groups    map[string]*ServerGroup `json:"server_groups"`
	Instances map[string]*Instance    `json:"instances"`
	Network   *Network                `json:"network,omitempty"`

	// Derived indexes, rebuilt on restore and never serialized.
	flavorNames map[string]string
	usage       map[string]*Usage   // host → claims
	pending     map[string]struct{} // instances waiting for the scheduler
	macs        map[string]bool
}

func newState() *State {
	s := &State{}
	s.reindex()
	return s
}

// reindex fills nil maps and rebuilds derived indexes after decoding.
func (s *State) reindex() {
	if s.Hosts == nil {
		s.Hosts = map[string]*Host{}
	}
	if s.Flavors == nil {
		s.Flavors = map[string]*Flavor{}
	}
	if s.Images == nil {
		s.Images = map[string]*Image{}
	}
	if s.Groups == nil {
		s.Groups = map[string]*ServerGroup{}
	}
	if s.Instances == nil {
		s.Instances = map[string]*Instance{}
	}
	if s.Network != nil && s.Network.Allocated == nil {
		s.Network.Allocated = map[string]string{}
	}
	s.flavorNames = make(map[string]string, len(s.Flavors))
	for id, f := range s.Flavors {
		s.flavorNames[f.Name] = id
	}
	s.usage = map[string]*Usage{}
	s.pending = map[string]struct{}{}
	s.macs = map[string]bool{}
	for _, i := range s.Instances {
		s.track(i)
		for _, a := range i.Addresses {
			s.macs[a.MAC] = true
		}
	}
}

// track adds an instance's claim and pending mark to the derived indexes;
// untrack removes them. Every change to Host, VMState or TaskState of an
// instance happens between an untrack and a track.
func (s *State) track(i *Instance) {
	if i.claims() {
		s.usageOf(i.Host).add(i.Flavor, 1)
	}
	if i.Pending() {
		s.pending[i.ID] = struct{}{}
	}
}

func (s *State) untrack(i *Instance) {
	if i.claims() {
		s.usageOf(i.Host).add(i.Flavor, -1)
	}
	delete(s.pending, i.ID)
}

func (s *State) usageOf(host string) *Usage {
	u, ok := s.usage[host]
	if !ok {
		u = &Usage{}
		s.usage[host] = u
	}
	return u
}

func (s *State) flavorByName(name string) *Flavor {
	if id, ok := s.flavorNames[name]; ok {
		return s.Flavors[id]
	}
	return nil
}

func (s *State) putFlavor(f Flavor, index uint64) {
	f.CreateIndex, f.ModifyIndex = index, index
	s.Flavors[f.ID] = &f
	s.flavorNames[f.Name] = f.ID
}
