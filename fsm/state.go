package fsm

// State is the whole replicated state. It is only changed by Apply and Restore;
// readers get copies through FSM's read methods.
type State struct {
	ClusterID string             `json:"cluster_id"`
	Index     uint64             `json:"index"`
	Hosts     map[string]*Host   `json:"hosts"`
	Flavors   map[string]*Flavor `json:"flavors"`

	// flavorNames indexes Flavors by name; rebuilt on restore, never serialized.
	flavorNames map[string]string
}

func newState() *State {
	return &State{
		Hosts:       map[string]*Host{},
		Flavors:     map[string]*Flavor{},
		flavorNames: map[string]string{},
	}
}

// reindex rebuilds derived indexes after decoding.
func (s *State) reindex() {
	if s.Hosts == nil {
		s.Hosts = map[string]*Host{}
	}
	if s.Flavors == nil {
		s.Flavors = map[string]*Flavor{}
	}
	s.flavorNames = make(map[string]string, len(s.Flavors))
	for id, f := range s.Flavors {
		s.flavorNames[f.Name] = id
	}
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
