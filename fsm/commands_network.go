package fsm

import (
	"fmt"
	"time"
)

// CreateNetwork adds an external network. Only external networks are made
// by command: the tenant network comes from bootstrap. Without a gateway the
// first address is it; without pools, every address but network, gateway
// and broadcast is one (as Neutron).
type CreateNetwork struct {
	ID              string    `json:"id"`
	Name            string    `json:"name"`
	CIDR            string    `json:"cidr"`
	Gateway         string    `json:"gateway,omitempty"`
	External        bool      `json:"external"`
	AllocationPools []IPRange `json:"allocation_pools,omitempty"`
	ProjectID       string    `json:"project_id,omitempty"`
	Time            time.Time `json:"time"`
}

// DeleteNetwork removes an external network that holds no floating IP.
type DeleteNetwork struct {
	ID string `json:"id"`
}

func (*CreateNetwork) Type() Type { return TypeCreateNetwork }
func (*DeleteNetwork) Type() Type { return TypeDeleteNetwork }

func applyCreateNetwork(s *State, index uint64, c Command) error {
	cmd := c.(*CreateNetwork)
	n, err := cmd.network()
	if err != nil {
		return err
	}
	if _, ok := s.Networks[n.ID]; ok {
		return fmt.Errorf("%w: network ID %q already exists", ErrConflict, n.ID)
	}
	for _, other := range s.allNetworks() {
		if overlaps(n.CIDR, other.CIDR) {
			return fmt.Errorf("%w: CIDR %s overlaps network %s (%s)", ErrConflict, n.CIDR, other.Name, other.CIDR)
		}
	}
	if s.Networks == nil {
		s.Networks = map[string]*Network{}
	}
	s.Networks[n.ID] = n
	return nil
}

func applyDeleteNetwork(s *State, _ uint64, c Command) error {
	id := c.(*DeleteNetwork).ID
	if id == DefaultNetworkID && s.Network != nil {
		return fmt.Errorf("%w: the tenant network %q cannot be deleted", ErrConflict, id)
	}
	n, ok := s.Networks[id]
	if !ok {
		return fmt.Errorf("%w: network %q", ErrNotFound, id)
	}
	if len(n.Allocated) > 0 {
		return fmt.Errorf("%w: network %s still has %d floating IPs; release them first", ErrConflict, n.Name, len(n.Allocated))
	}
	delete(s.Networks, id)
	return nil
}

// AllocateFloatingIP takes an address of an external network for a
// project: IP if given (it must be free and in a pool), else the lowest free
// one. It counts against the project's floating_ips quota.
type AllocateFloatingIP struct {
	ID        string    `json:"id"`
	NetworkID string    `json:"network_id"`
	IP        string    `json:"ip,omitempty"`
	ProjectID string    `json:"project_id,omitempty"`
	UserID    string    `json:"user_id,omitempty"`
	Time      time.Time `json:"time"`
}

// ReleaseFloatingIP gives the address back to its network, detaching it
// first if it is associated (Neutron allows deleting an associated one).
type ReleaseFloatingIP struct {
	ID string `json:"id"`
}

// AssociateFloatingIP translates a floating IP to a fixed IP of a server
// (FixedIP, or the server's one fixed IP when empty). The server must be in
// the floating IP's project unless CrossProject (an admin's request). A
// floating IP already on that fixed IP is a no-op; on another, a conflict.
type AssociateFloatingIP struct {
	FloatingIPID string `json:"floating_ip_id"`
	InstanceID   string `json:"instance_id"`
	FixedIP      string `json:"fixed_ip,omitempty"`
	CrossProject bool   `json:"cross_project,omitempty"`
}

// DisassociateFloatingIP detaches a floating IP. With InstanceID, it must be
// on that server (Nova's remove-floating-ip); without, on any.
type DisassociateFloatingIP struct {
	FloatingIPID string `json:"floating_ip_id"`
	InstanceID   string `json:"instance_id,omitempty"`
}

func (*AllocateFloatingIP) Type() Type     { return TypeAllocateFloatingIP }
func (*ReleaseFloatingIP) Type() Type      { return TypeReleaseFloatingIP }
func (*AssociateFloatingIP) Type() Type    { return TypeAssociateFloatingIP }
func (*DisassociateFloatingIP) Type() Type { return TypeDisassociateFloatingIP }

func applyAllocateFloatingIP(s *State, index uint64, c Command) error {
	cmd := c.(*AllocateFloatingIP)
	if cmd.ID == "" {
		return fmt.Errorf("%w: a floating IP needs an ID", ErrInvalid)
	}
	if _, ok := s.FloatingIPs[cmd.ID]; ok {
		return fmt.Errorf("%w: floating IP ID %q already exists", ErrConflict, cmd.ID)
	}
	n, ok := s.Networks[cmd.NetworkID]
	if !ok {
		if cmd.NetworkID == DefaultNetworkID && s.Network != nil {
			return fmt.Errorf("%w: network %q is not external: floating IPs come from external networks", ErrInvalid, cmd.NetworkID)
		}
		return fmt.Errorf("%w: network %q", ErrNotFound, cmd.NetworkID)
	}
	if cmd.ProjectID != "" {
		if err := checkQuota(QuotaFloatingIPs, 1, s.floatingIPsOf(cmd.ProjectID), s.quota(cmd.ProjectID).FloatingIPs); err != nil {
			return err
		}
	}
	var ip string
	var err error
	if cmd.IP != "" {
		ip, err = n.allocateIP(cmd.IP, cmd.ID)
	} else {
		ip, err = n.allocate(cmd.ID)
	}
	if err != nil {
		return err
	}
	if s.FloatingIPs == nil {
		s.FloatingIPs = map[string]*FloatingIP{}
	}
	s.FloatingIPs[cmd.ID] = &FloatingIP{ID: cmd.ID, IP: ip, NetworkID: n.ID, ProjectID: cmd.ProjectID, UserID: cmd.UserID,
		Created: cmd.Time, Indexes: Indexes{CreateIndex: index, ModifyIndex: index}}
	return nil
}

func applyReleaseFloatingIP(s *State, index uint64, c Command) error {
	id := c.(*ReleaseFloatingIP).ID
	f, ok := s.FloatingIPs[id]
	if !ok {
		return fmt.Errorf("%w: floating IP %q", ErrNotFound, id)
	}
	if n, ok := s.Networks[f.NetworkID]; ok {
		n.release(f.IP, f.ID)
	}
	delete(s.FloatingIPs, id)
	return nil
}

func applyAssociateFloatingIP(s *State, index uint64, c Command) error {
	cmd := c.(*AssociateFloatingIP)
	f, ok := s.FloatingIPs[cmd.FloatingIPID]
	if !ok {
		return fmt.Errorf("%w: floating IP %q", ErrNotFound, cmd.FloatingIPID)
	}
	inst, ok := s.Instances[cmd.InstanceID]
	if !ok {
		return fmt.Errorf("%w: server %q", ErrNotFound, cmd.InstanceID)
	}
	if inst.ProjectID != f.ProjectID && !cmd.CrossProject {
		return fmt.Errorf("%w: server %s is not in the project of floating IP %s", ErrConflict, inst.ID, f.IP)
	}
	if inst.TaskState == TaskDeleting {
		return fmt.Errorf("%w: server %s is being deleted", ErrConflict, inst.ID)
	}
	fixed, err := s.fixedAddress(inst, cmd.FixedIP)
	if err != nil {
		return err
	}
	if f.InstanceID == inst.ID && f.FixedIP == fixed {
		return nil
	}
	if f.Associated() {
		return fmt.Errorf("%w: floating IP %s is already associated with server %s", ErrConflict, f.IP, f.InstanceID)
	}
	if other := s.floatingIPOn(fixed); other != nil {
		return fmt.Errorf("%w: fixed IP %s of server %s already has floating IP %s", ErrConflict, fixed, inst.ID, other.IP)
	}
	f.InstanceID, f.FixedIP, f.ModifyIndex = inst.ID, fixed, index
	return nil
}

func applyDisassociateFloatingIP(s *State, index uint64, c Command) error {
	cmd := c.(*DisassociateFloatingIP)
	f, ok := s.FloatingIPs[cmd.FloatingIPID]
	if !ok {
		return fmt.Errorf("%w: floating IP %q", ErrNotFound, cmd.FloatingIPID)
	}
	if !f.Associated() {
		return fmt.Errorf("%w: floating IP %s is not associated", ErrConflict, f.IP)
	}
	if cmd.InstanceID != "" && f.InstanceID != cmd.InstanceID {
		return fmt.Errorf("%w: floating IP %s is not associated with server %s", ErrConflict, f.IP, cmd.InstanceID)
	}
	f.InstanceID, f.FixedIP, f.ModifyIndex = "", "", index
	return nil
}
