package fsm

import (
	"fmt"
	"time"
)

// Bootstrap stamps a new cluster's identity and seeds its default objects.
type Bootstrap struct {
	ClusterID   string    `json:"cluster_id"`
	Time        time.Time `json:"time"`
	Flavors     []Flavor  `json:"flavors"`
	NetworkCIDR string    `json:"network_cidr,omitempty"`
}

// RegisterHost adds a host or updates its addresses; it keeps enabled/disabled.
type RegisterHost struct {
	Name          string    `json:"name"`
	GossipAddress string    `json:"gossip_address"`
	RaftAddress   string    `json:"raft_address"`
	HTTPAddress   string    `json:"http_address"`
	Time          time.Time `json:"time"`
}

// DeregisterHost removes a host record.
type DeregisterHost struct {
	Name string `json:"name"`
}

// SetHostEnabled enables or disables a host for new servers.
type SetHostEnabled struct {
	Name    string    `json:"name"`
	Enabled bool      `json:"enabled"`
	Reason  string    `json:"reason,omitempty"`
	Time    time.Time `json:"time"`
}

// CreateFlavor adds a flavor; ID and Created are stamped by the proposing node.
type CreateFlavor struct {
	Flavor Flavor `json:"flavor"`
}

// DeleteFlavor removes a flavor by ID.
type DeleteFlavor struct {
	ID string `json:"id"`
}

func (*Bootstrap) Type() Type      { return TypeBootstrap }
func (*RegisterHost) Type() Type   { return TypeRegisterHost }
func (*DeregisterHost) Type() Type { return TypeDeregisterHost }
func (*SetHostEnabled) Type() Type { return TypeSetHostEnabled }
func (*CreateFlavor) Type() Type   { return TypeCreateFlavor }
func (*DeleteFlavor) Type() Type   { return TypeDeleteFlavor }

func applyBootstrap(s *State, index uint64, c Command) error {
	cmd := c.(*Bootstrap)
	if s.ClusterID != "" {
		return fmt.Errorf("%w: cluster %s is already bootstrapped", ErrConflict, s.ClusterID)
	}
	if cmd.ClusterID == "" {
		return fmt.Errorf("%w: bootstrap needs a cluster ID", ErrInvalid)
	}
	for _, f := range cmd.Flavors {
		if err := validFlavor(f); err != nil {
			return err
		}
	}
	if cmd.NetworkCIDR != "" {
		n, err := NewNetwork("default", cmd.NetworkCIDR)
		if err != nil {
			return err
		}
		s.Network = n
	}
	s.ClusterID = cmd.ClusterID
	for _, f := range cmd.Flavors {
		if _, ok := s.Flavors[f.ID]; ok || s.flavorByName(f.Name) != nil {
			continue
		}
		f.Created = cmd.Time
		s.putFlavor(f, index)
	}
	return nil
}

func applyRegisterHost(s *State, index uint64, c Command) error {
	cmd := c.(*RegisterHost)
	if cmd.Name == "" {
		return fmt.Errorf("%w: host name is empty", ErrInvalid)
	}
	h, ok := s.Hosts[cmd.Name]
	if !ok {
		h = &Host{Name: cmd.Name, Enabled: true, Created: cmd.Time}
		h.CreateIndex = index
		s.Hosts[cmd.Name] = h
	}
	h.GossipAddress, h.RaftAddress, h.HTTPAddress = cmd.GossipAddress, cmd.RaftAddress, cmd.HTTPAddress
	h.Updated = cmd.Time
	h.ModifyIndex = index
	s.hostsGen++
	return nil
}

func applyDeregisterHost(s *State, _ uint64, c Command) error {
	cmd := c.(*DeregisterHost)
	if _, ok := s.Hosts[cmd.Name]; !ok {
		return fmt.Errorf("%w: host %q", ErrNotFound, cmd.Name)
	}
	delete(s.Hosts, cmd.Name)
	s.hostsGen++
	return nil
}

func applySetHostEnabled(s *State, index uint64, c Command) error {
	cmd := c.(*SetHostEnabled)
	return s.changeHost(cmd.Name, index, cmd.Time, func(h *Host) error {
		h.Enabled = cmd.Enabled
		h.DisabledReason = ""
		if !cmd.Enabled {
			h.DisabledReason = cmd.Reason
		}
		return nil
	})
}

// changeHost applies change to the named host and stamps it; a change that
// fails leaves the host as it was.
func (s *State) changeHost(name string, index uint64, t time.Time, change func(h *Host) error) error {
	h, ok := s.Hosts[name]
	if !ok {
		return fmt.Errorf("%w: host %q", ErrNotFound, name)
	}
	if err := change(h); err != nil {
		return err
	}
	h.Updated, h.ModifyIndex = t, index
	s.hostsGen++
	return nil
}

func applyCreateFlavor(s *State, index uint64, c Command) error {
	f := c.(*CreateFlavor).Flavor
	if err := validFlavor(f); err != nil {
		return err
	}
	if _, ok := s.Flavors[f.ID]; ok {
		return fmt.Errorf("%w: flavor ID %q already exists", ErrConflict, f.ID)
	}
	if s.flavorByName(f.Name) != nil {
		return fmt.Errorf("%w: flavor name %q already exists", ErrConflict, f.Name)
	}
	s.putFlavor(f, index)
	return nil
}

func applyDeleteFlavor(s *State, _ uint64, c Command) error {
	id := c.(*DeleteFlavor).ID
	f, ok := s.Flavors[id]
	if !ok {
		return fmt.Errorf("%w: flavor %q", ErrNotFound, id)
	}
	delete(s.flavorNames, f.Name)
	delete(s.Flavors, id)
	return nil
}

// validFlavor is the rule every flavor obeys, whoever proposed it.
func validFlavor(f Flavor) error {
	switch {
	case f.ID == "":
		return fmt.Errorf("%w: flavor ID is empty", ErrInvalid)
	case f.Name == "":
		return fmt.Errorf("%w: flavor name is empty", ErrInvalid)
	case f.VCPUs < 1:
		return fmt.Errorf("%w: flavor vcpus must be at least 1", ErrInvalid)
	case f.RAM < 1:
		return fmt.Errorf("%w: flavor ram must be at least 1 MiB", ErrInvalid)
	case f.Disk < 0:
		return fmt.Errorf("%w: flavor disk must not be negative", ErrInvalid)
	}
	return nil
}
