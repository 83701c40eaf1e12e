package fsm

import (
	"fmt"
	"time"
)

// RegisterHost adds a host or updates its addresses; it keeps enabled/disabled.
type RegisterHost struct {
	Name          string    `json:"name"`
	GossipAddress string    `json:"gossip_address"`
	RaftAddress   string    `json:"raft_address"`
	HTTPAddress   string    `json:"http_address"`
	Time          time.Time `json:"time"`
}

// DeregisterHost removes a host record (host remove) and revokes every
// certificate recorded for the node: a node that is no longer a member must
// not be let back in with the certificate it holds. A host that still has
// servers is refused: they would be left on no host.
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

// UpdateHostInventory copies what a host offers (from gossip) into its
// record. Only the inventory's Record part is kept; the leader sends nothing
// else. The inventory is inline, so entries written before Inventory was a
// type of its own (the same JSON names, fewer of them) decode and apply alike.
type UpdateHostInventory struct {
	Name string `json:"name"`
	Inventory
	Time time.Time `json:"time"`
}

func (*RegisterHost) Type() Type        { return TypeRegisterHost }
func (*DeregisterHost) Type() Type      { return TypeDeregisterHost }
func (*SetHostEnabled) Type() Type      { return TypeSetHostEnabled }
func (*UpdateHostInventory) Type() Type { return TypeUpdateHostInventory }

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

func applyDeregisterHost(s *State, index uint64, c Command) error {
	cmd := c.(*DeregisterHost)
	if _, ok := s.Hosts[cmd.Name]; !ok {
		return fmt.Errorf("%w: host %q", ErrNotFound, cmd.Name)
	}
	on := len(s.instancesOn(cmd.Name))
	for _, inst := range s.Instances {
		if h, _ := s.otherEnd(inst); h == cmd.Name {
			on++ // a move in progress ties it there
		}
	}
	if on > 0 {
		return fmt.Errorf("%w: host %s still has %d servers; evacuate, migrate or delete them first",
			ErrConflict, cmd.Name, on)
	}
	delete(s.Hosts, cmd.Name)
	s.revokeNodeCerts(cmd.Name, index)
	s.hostsGen++
	return nil
}

func applySetHostEnabled(s *State, index uint64, c Command) error {
	cmd := c.(*SetHostEnabled)
	return s.changeHost(cmd.Name, index, cmd.Time, func(h *Host) error {
		if h.Draining && cmd.Enabled {
			return fmt.Errorf("%w: host %s is draining: cancel the drain first", ErrConflict, h.Name)
		}
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

func applyUpdateHostInventory(s *State, index uint64, c Command) error {
	cmd := c.(*UpdateHostInventory)
	h, ok := s.Hosts[cmd.Name]
	if !ok {
		return fmt.Errorf("%w: host %q", ErrNotFound, cmd.Name)
	}
	if cmd.VCPUs < 0 || cmd.MemoryMiB < 0 || cmd.DiskGiB < 0 {
		return fmt.Errorf("%w: host capacity must not be negative", ErrInvalid)
	}
	h.Inventory = cmd.Inventory.Record()
	h.Updated = cmd.Time
	h.ModifyIndex = index
	s.hostsGen++
	return nil
}
