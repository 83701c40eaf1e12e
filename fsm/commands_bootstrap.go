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

func (*Bootstrap) Type() Type { return TypeBootstrap }

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
