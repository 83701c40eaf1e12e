package fsm

import (
	"fmt"
	"time"
)

// FloatingIP is an address of an external network held by a project and,
// while associated, translated to one fixed IP of one of its servers. The
// host that answers for it is derived from the instance, so a server that
// moves (evacuation) takes its floating IP along with no change here.
type FloatingIP struct {
	ID         string    `json:"id"`
	IP         string    `json:"ip"`
	NetworkID  string    `json:"network_id"`
	ProjectID  string    `json:"project_id,omitempty"`
	UserID     string    `json:"user_id,omitempty"`
	InstanceID string    `json:"instance_id,omitempty"` // "" while not associated
	FixedIP    string    `json:"fixed_ip,omitempty"`    // the instance's fixed IP it translates to
	Created    time.Time `json:"created"`
	Indexes
}

// Associated reports whether the floating IP is translated to a server.
func (f *FloatingIP) Associated() bool { return f.InstanceID != "" }

// FixedAddress is the server's address on the tenant network: the fixed IP
// and MAC its port has (a server has one port). ok is false for a server
// without one.
func (i *Instance) FixedAddress() (a Address, ok bool) {
	if len(i.Addresses) == 0 {
		return Address{}, false
	}
	return i.Addresses[0], true
}

// fixedAddress is the instance's address on the tenant network, or an
// error saying why a floating IP cannot go to it. want, if not empty, must
// be that address.
func (s *State) fixedAddress(inst *Instance, want string) (string, error) {
	for _, a := range inst.Addresses {
		if s.Network != nil && a.Network == s.Network.Name && (want == "" || want == a.IP) {
			return a.IP, nil
		}
	}
	if want != "" {
		return "", fmt.Errorf("%w: server %s has no fixed IP %s", ErrInvalid, inst.ID, want)
	}
	return "", fmt.Errorf("%w: server %s has no fixed IP on the tenant network", ErrConflict, inst.ID)
}

// floatingIPOn finds the floating IP translated to fixed, if any.
func (s *State) floatingIPOn(fixed string) *FloatingIP {
	for _, id := range sortedKeys(s.FloatingIPs) {
		if f := s.FloatingIPs[id]; f.FixedIP == fixed && f.Associated() {
			return f
		}
	}
	return nil
}

// disassociateFrom detaches every floating IP of a server that goes away;
// they stay allocated to their project, as in Neutron.
func (s *State) disassociateFrom(instanceID string, index uint64) {
	for _, f := range s.FloatingIPs {
		if f.InstanceID == instanceID {
			f.InstanceID, f.FixedIP, f.ModifyIndex = "", "", index
		}
	}
}

// floatingIPsOf counts the floating IPs a project holds (its quota usage).
func (s *State) floatingIPsOf(projectID string) int {
	n := 0
	for _, f := range s.FloatingIPs {
		if f.ProjectID == projectID {
			n++
		}
	}
	return n
}
