package fsm

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// Networks lists the tenant network (ID "default", if the cluster has one)
// and then the external networks ordered by name, then ID.
func (f *FSM) Networks() []Network {
	f.mu.RLock()
	defer f.mu.RUnlock()
	var out []Network
	if f.state.Network != nil {
		out = append(out, f.state.Network.clone())
	}
	return append(out, f.externalNetworks()...)
}

// ExternalNetworks lists the external networks ordered by name, then ID.
func (f *FSM) ExternalNetworks() []Network {
	f.mu.RLock()
	defer f.mu.RUnlock()
	return f.externalNetworks()
}

func (f *FSM) externalNetworks() []Network {
	out := copyOut(f.state.Networks, (*Network).clone)
	sortByNameThenID(out, func(n Network) (string, string) { return n.Name, n.ID })
	return out
}

// NetworkByID finds a network by ID; "default" is the tenant network.
func (f *FSM) NetworkByID(id string) (Network, error) {
	f.mu.RLock()
	defer f.mu.RUnlock()
	if n, ok := f.state.Networks[id]; ok {
		return n.clone(), nil
	}
	if id == DefaultNetworkID && f.state.Network != nil {
		return f.state.Network.clone(), nil
	}
	return Network{}, fmt.Errorf("%w: network %q", ErrNotFound, id)
}

// FloatingIPs lists floating IPs ordered by address, then ID; keep (if not
// nil) filters them.
func (f *FSM) FloatingIPs(keep func(*FloatingIP) bool) []FloatingIP {
	f.mu.RLock()
	defer f.mu.RUnlock()
	return f.floatingIPs(keep)
}

func (f *FSM) floatingIPs(keep func(*FloatingIP) bool) []FloatingIP {
	out := make([]FloatingIP, 0, len(f.state.FloatingIPs))
	for _, fip := range f.state.FloatingIPs {
		if keep == nil || keep(fip) {
			out = append(out, *fip)
		}
	}
	slices.SortFunc(out, func(a, b FloatingIP) int {
		if c := compareAddrs(a.IP, b.IP); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	return out
}

// FloatingIP finds a floating IP by ID.
func (f *FSM) FloatingIP(id string) (FloatingIP, error) {
	f.mu.RLock()
	defer f.mu.RUnlock()
	if fip, ok := f.state.FloatingIPs[id]; ok {
		return *fip, nil
	}
	return FloatingIP{}, fmt.Errorf("%w: floating IP %q", ErrNotFound, id)
}

// FloatingIPsOf is a filter for FloatingIPs: those a project holds.
func FloatingIPsOf(projectID string) func(*FloatingIP) bool {
	return func(fip *FloatingIP) bool { return fip.ProjectID == projectID }
}

// SecurityGroupsOf lists a project's security groups ordered by name, then
// ID, its default group included even before it is stored (it is then
// shown as created with the project), so that listing stays a read.
func (f *FSM) SecurityGroupsOf(projectID string) []SecurityGroup {
	f.mu.RLock()
	defer f.mu.RUnlock()
	var out []SecurityGroup
	for _, g := range f.state.SecurityGroups {
		if g.ProjectID == projectID {
			out = append(out, g.clone())
		}
	}
	if _, ok := f.state.SecurityGroups[DefaultSecurityGroupID(projectID)]; !ok {
		out = append(out, f.synthesizedDefault(projectID).clone())
	}
	sortByNameThenID(out, func(g SecurityGroup) (string, string) { return g.Name, g.ID })
	return out
}

// synthesizedDefault is the default group of a project not stored yet, as
// its first use will store it; the read lock is held.
func (f *FSM) synthesizedDefault(projectID string) *SecurityGroup {
	g := defaultSecurityGroup(projectID, f.state.projectCreated(projectID))
	return g
}

// SecurityGroup finds a security group by ID: a stored one, or the default
// group of an existing project not stored yet.
func (f *FSM) SecurityGroup(id string) (SecurityGroup, error) {
	f.mu.RLock()
	defer f.mu.RUnlock()
	if g, ok := f.state.SecurityGroups[id]; ok {
		return g.clone(), nil
	}
	if p, ok := f.state.defaultGroupProject(id); ok {
		return f.synthesizedDefault(p).clone(), nil
	}
	return SecurityGroup{}, fmt.Errorf("%w: security group %q", ErrNotFound, id)
}

// AllSecurityGroups lists the stored security groups, ordered by name, then
// ID. It synthesizes nothing: every group a server is in is stored (its
// create stored it).
func (f *FSM) AllSecurityGroups() []SecurityGroup {
	f.mu.RLock()
	defer f.mu.RUnlock()
	return f.allSecurityGroups()
}

func (f *FSM) allSecurityGroups() []SecurityGroup {
	out := copyOut(f.state.SecurityGroups, (*SecurityGroup).clone)
	sortByNameThenID(out, func(g SecurityGroup) (string, string) { return g.Name, g.ID })
	return out
}

// SecurityGroupRule finds a rule by ID: a stored one, or one of the
// default group of an existing project not stored yet.
func (f *FSM) SecurityGroupRule(id string) (SecurityGroupRule, error) {
	f.mu.RLock()
	defer f.mu.RUnlock()
	if g, k := f.state.ruleByID(id); g != nil {
		return g.Rules[k].clone(), nil
	}
	for _, p := range sortedKeys(f.state.Projects) {
		if _, stored := f.state.SecurityGroups[DefaultSecurityGroupID(p)]; stored {
			continue
		}
		for _, r := range f.synthesizedDefault(p).Rules {
			if r.ID == id {
				return r, nil
			}
		}
	}
	return SecurityGroupRule{}, fmt.Errorf("%w: security group rule %q", ErrNotFound, id)
}

// defaultGroupProject finds the existing project whose default group has
// this ID.
func (s *State) defaultGroupProject(id string) (string, bool) {
	for _, p := range sortedKeys(s.Projects) {
		if DefaultSecurityGroupID(p) == id {
			return p, true
		}
	}
	return "", false
}

// projectCreated is when a project was created (zero if it is unknown).
func (s *State) projectCreated(projectID string) (t time.Time) {
	if p, ok := s.Projects[projectID]; ok {
		return p.Created
	}
	return t
}

// NetworkView is what the data plane reads, under one lock so it is
// consistent: a floating IP's server and that server's host, a group's
// members, all from the same applied index.
type NetworkView struct {
	Index          uint64
	Tenant         *Network // nil without a tenant network
	External       []Network
	Hosts          []Host
	Instances      []Instance
	FloatingIPs    []FloatingIP
	SecurityGroups []SecurityGroup // stored ones, as AllSecurityGroups
}

// NetworkView builds the data plane's consistent read. Instances come
// without their action logs, which the data plane does not need.
func (f *FSM) NetworkView() NetworkView {
	f.mu.RLock()
	defer f.mu.RUnlock()
	s := f.state
	v := NetworkView{Index: s.Index, External: f.externalNetworks(), Hosts: slices.Clone(f.sortedHosts()),
		FloatingIPs: f.floatingIPs(nil), SecurityGroups: f.allSecurityGroups()}
	if s.Network != nil {
		n := s.Network.clone()
		v.Tenant = &n
	}
	v.Instances = make([]Instance, 0, len(s.Instances))
	for _, i := range s.Instances {
		c := i.clone()
		c.Actions = nil
		v.Instances = append(v.Instances, c)
	}
	sortInstances(v.Instances)
	return v
}
