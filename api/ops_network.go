package api

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/google/uuid"

	"github.com/shoal-project/shoal/fsm"
)

// Scope is which projects' objects a listing shows: the caller's own
// (the zero Scope), all of them (All), or one (ProjectID). Anything but
// one's own is an admin's (403).
type Scope struct {
	All       bool
	ProjectID string
}

// Networks are every network (all are visible to every project): the
// tenant network first, then the external ones.
func (o *Ops) Networks(ctx context.Context) ([]Network, error) {
	out := []Network{}
	for _, n := range o.s.state.Networks() {
		out = append(out, networkView(n))
	}
	return out, nil
}

// Network is a network by ID, else by a name only one network has.
func (o *Ops) Network(ctx context.Context, ref string) (Network, error) {
	n, err := o.s.networkFor(ref)
	if err != nil {
		return Network{}, err
	}
	return networkView(n), nil
}

// CreateNetwork creates an external network (an admin's route); a CIDR
// overlapping another network's is 409.
func (o *Ops) CreateNetwork(ctx context.Context, req NetworkCreate) (uint64, Network, error) {
	cmd, err := newNetwork(ctx, req)
	if err == nil {
		err = o.s.overlapping(cmd.CIDR)
	}
	if err != nil {
		return 0, Network{}, err
	}
	idx, n, err := applyRead(o.s, ctx, cmd, "network", cmd.ID, o.s.state.NetworkByID)
	return idx, networkView(n), err
}

// DeleteNetwork deletes an external network that holds no floating IP
// (409 otherwise, and for the tenant network).
func (o *Ops) DeleteNetwork(ctx context.Context, ref string) (uint64, error) {
	n, err := o.s.networkFor(ref)
	if err == nil && !n.External {
		err = fmt.Errorf("%w: network %s is the cluster's tenant network; it cannot be deleted", fsm.ErrConflict, n.ID)
	}
	if err != nil {
		return 0, err
	}
	return o.s.apply(ctx, &fsm.DeleteNetwork{ID: n.ID})
}

// FloatingIPs are the floating IPs of sc.
func (o *Ops) FloatingIPs(ctx context.Context, sc Scope) ([]FloatingIP, error) {
	scope, err := scopeOf(Caller(ctx), sc.All, sc.ProjectID, "floating IPs")
	if err != nil {
		return nil, err
	}
	out := []FloatingIP{}
	for _, f := range o.s.state.FloatingIPs(func(f *fsm.FloatingIP) bool { return scope.has(f.ProjectID) }) {
		out = append(out, floatingIPView(f))
	}
	return out, nil
}

// FloatingIP is a floating IP the caller sees, by ID, else by address.
func (o *Ops) FloatingIP(ctx context.Context, ref string) (FloatingIP, error) {
	f, err := o.s.floatingIPFor(ctx, ref)
	return floatingIPView(f), err
}

// AllocateFloatingIP takes a floating IP of an external network (by name
// or ID: unknown is 404, the tenant network 400) for the caller's project,
// against its quota. req.IP chooses the address, an admin's choice as in
// Neutron's policy (403 for others); it must be free (409) and in one of
// the network's pools (400), Apply's checks. Without it the network gives
// its lowest free address.
func (o *Ops) AllocateFloatingIP(ctx context.Context, req FloatingIPCreate) (uint64, FloatingIP, error) {
	p := Caller(ctx)
	err := validText("ip", req.IP, maxResourceRef)
	if err == nil && req.IP != "" && !p.Admin() {
		err = fmt.Errorf("%w: choosing the address of a floating IP is an admin's", fsm.ErrForbidden)
	}
	var n fsm.Network
	if err == nil {
		n, err = o.s.externalNetwork(req.Network)
	}
	if err != nil {
		return 0, FloatingIP{}, err
	}
	cmd := &fsm.AllocateFloatingIP{ID: uuid.NewString(), NetworkID: n.ID, IP: req.IP, ProjectID: p.ProjectID, UserID: p.UserID,
		Time: time.Now().UTC()}
	idx, f, err := applyRead(o.s, ctx, cmd, "floating IP", cmd.ID, o.s.state.FloatingIP)
	return idx, floatingIPView(f), err
}

// ReleaseFloatingIP gives a floating IP of the caller's back, detaching it
// first if it is associated.
func (o *Ops) ReleaseFloatingIP(ctx context.Context, ref string) (uint64, error) {
	f, err := o.s.floatingIPFor(ctx, ref)
	if err != nil {
		return 0, err
	}
	return o.s.apply(ctx, &fsm.ReleaseFloatingIP{ID: f.ID})
}

// AssociateFloatingIP maps a floating IP the caller sees (by ID or
// address) to fixedIP of server serverID ("": its one fixed IP), with the
// rules of the add-floating-ip action: one associated elsewhere is 409, a
// server the caller does not see 404, another project's server an admin's.
func (o *Ops) AssociateFloatingIP(ctx context.Context, ref, serverID, fixedIP string) (uint64, FloatingIP, error) {
	req := ServerActionRequest{Action: ActionAddFloatingIP, Address: ref, FixedAddress: fixedIP}
	if err := req.check(); err != nil {
		return 0, FloatingIP{}, err
	}
	inst, err := o.s.serverFor(ctx, serverID)
	if err != nil {
		return 0, FloatingIP{}, err
	}
	c, err := o.s.floatingIPAction(ctx, inst, req)
	if err != nil {
		return 0, FloatingIP{}, err
	}
	assoc := c.(*fsm.AssociateFloatingIP)
	idx, f, err := applyRead(o.s, ctx, c, "floating IP", assoc.FloatingIPID, o.s.state.FloatingIP)
	return idx, floatingIPView(f), err
}

// DisassociateFloatingIP detaches a floating IP the caller sees from
// whatever server it is on; one on none is left as it is.
func (o *Ops) DisassociateFloatingIP(ctx context.Context, ref string) (uint64, FloatingIP, error) {
	f, err := o.s.floatingIPFor(ctx, ref)
	if err != nil || !f.Associated() {
		return o.s.state.Index(), floatingIPView(f), err
	}
	idx, f, err := applyRead(o.s, ctx, &fsm.DisassociateFloatingIP{FloatingIPID: f.ID}, "floating IP", f.ID, o.s.state.FloatingIP)
	return idx, floatingIPView(f), err
}

// SecurityGroups are the security groups of sc, a project's default group
// included before it is stored (with All: the caller's too).
func (o *Ops) SecurityGroups(ctx context.Context, sc Scope) ([]SecurityGroup, error) {
	scope, err := scopeOf(Caller(ctx), sc.All, sc.ProjectID, "security groups")
	if err != nil {
		return nil, err
	}
	return o.securityGroups(ctx, scope), nil
}

func (o *Ops) securityGroups(ctx context.Context, scope tenantScope) []SecurityGroup {
	var groups []fsm.SecurityGroup
	if scope.all {
		groups = o.s.state.AllSecurityGroups()
		for _, g := range o.s.state.SecurityGroupsOf(Caller(ctx).ProjectID) {
			if !slices.ContainsFunc(groups, func(h fsm.SecurityGroup) bool { return h.ID == g.ID }) {
				groups = append(groups, g)
			}
		}
	} else {
		groups = o.s.state.SecurityGroupsOf(scope.project)
	}
	out := make([]SecurityGroup, 0, len(groups))
	for _, g := range groups {
		out = append(out, securityGroupView(g))
	}
	return out
}

// SecurityGroup is a security group the caller sees, by ID.
func (o *Ops) SecurityGroup(ctx context.Context, id string) (SecurityGroup, error) {
	g, err := o.s.securityGroupFor(ctx, id)
	return securityGroupView(g), err
}

// CreateSecurityGroup makes a group of the caller's project (a name its
// project already has is 409) that lets all egress through and nothing
// in, as Neutron makes one.
func (o *Ops) CreateSecurityGroup(ctx context.Context, req SecurityGroupCreate) (uint64, SecurityGroup, error) {
	err := validGroupName(req.Name)
	if err == nil {
		err = validText("description", req.Description, maxDescriptionLen)
	}
	p := Caller(ctx)
	if err == nil && slices.ContainsFunc(o.s.state.SecurityGroupsOf(p.ProjectID), func(g fsm.SecurityGroup) bool { return g.Name == req.Name }) {
		err = fmt.Errorf("%w: project %s already has a security group named %q", fsm.ErrConflict, p.ProjectID, req.Name)
	}
	if err != nil {
		return 0, SecurityGroup{}, err
	}
	now := time.Now().UTC()
	g := fsm.SecurityGroup{ID: uuid.NewString(), Name: req.Name, Description: req.Description, ProjectID: p.ProjectID,
		UserID: p.UserID, Created: now, Rules: []fsm.SecurityGroupRule{
			{ID: uuid.NewString(), Direction: fsm.DirectionEgress, Ethertype: fsm.EthertypeIPv4, Created: now}}}
	idx, created, err := applyRead(o.s, ctx, &fsm.CreateSecurityGroup{Group: g}, "security group", g.ID, o.s.state.SecurityGroup)
	return idx, securityGroupView(created), err
}

// UpdateSecurityGroup renames a group the caller sees or changes its
// description. The names' rules are CreateSecurityGroup's (a name its
// project already has is 409; the default group keeps its name, and no
// other takes it), checked here so a refused change never reaches the log,
// and again in Apply. An update that changes nothing answers the group
// and proposes nothing.
func (o *Ops) UpdateSecurityGroup(ctx context.Context, id string, u SecurityGroupUpdate) (uint64, SecurityGroup, error) {
	g, err := o.s.securityGroupFor(ctx, id)
	if err != nil {
		return 0, SecurityGroup{}, err
	}
	name, desc := g.Name, g.Description
	if u.Name != nil {
		name = *u.Name
	}
	if u.Description != nil {
		desc = *u.Description
	}
	err = validGroupName(name)
	if err == nil {
		err = validText("description", desc, maxDescriptionLen)
	}
	switch {
	case err != nil:
	case name == g.Name && desc == g.Description:
		return o.s.state.Index(), securityGroupView(g), nil
	case name != g.Name && g.ID == fsm.DefaultSecurityGroupID(g.ProjectID):
		err = fmt.Errorf("%w: the default security group cannot be renamed", fsm.ErrConflict)
	case name != g.Name && slices.ContainsFunc(o.s.state.SecurityGroupsOf(g.ProjectID), func(h fsm.SecurityGroup) bool { return h.Name == name }):
		err = fmt.Errorf("%w: project %s already has a security group named %q", fsm.ErrConflict, g.ProjectID, name)
	}
	if err != nil {
		return 0, SecurityGroup{}, err
	}
	cmd := &fsm.UpdateSecurityGroup{ID: g.ID, ProjectID: g.ProjectID, Time: time.Now().UTC()}
	if name != g.Name {
		cmd.Name = &name
	}
	if desc != g.Description {
		cmd.Description = &desc
	}
	idx, updated, err := applyRead(o.s, ctx, cmd, "security group", g.ID, o.s.state.SecurityGroup)
	return idx, securityGroupView(updated), err
}

// DeleteSecurityGroup deletes a group the caller sees; its project's
// default group and a group a server is in are 409.
func (o *Ops) DeleteSecurityGroup(ctx context.Context, id string) (uint64, error) {
	g, err := o.s.securityGroupFor(ctx, id)
	if err == nil && g.ID == fsm.DefaultSecurityGroupID(g.ProjectID) {
		err = fmt.Errorf("%w: insufficient rights for removing default security group", fsm.ErrConflict)
	}
	if err == nil {
		if in := o.s.state.Instances(func(i *fsm.Instance) bool { return slices.Contains(i.SecurityGroups, g.ID) }); len(in) > 0 {
			err = fmt.Errorf("%w: security group %s is in use by server %s", fsm.ErrConflict, g.ID, in[0].ID)
		}
	}
	if err != nil {
		return 0, err
	}
	return o.s.apply(ctx, &fsm.DeleteSecurityGroup{ID: g.ID, ProjectID: g.ProjectID})
}

// ServerSecurityGroups are the groups a server the caller sees is in, in
// the order it joined them (Nova's os-security-groups of a server).
func (o *Ops) ServerSecurityGroups(ctx context.Context, serverID string) ([]SecurityGroup, error) {
	inst, err := o.s.serverFor(ctx, serverID)
	if err != nil {
		return nil, err
	}
	out := make([]SecurityGroup, 0, len(inst.SecurityGroups))
	for _, id := range inst.SecurityGroups {
		g, err := o.s.state.SecurityGroup(id)
		if errors.Is(err, fsm.ErrNotFound) {
			continue // deleted between reads: not the server's any more
		}
		if err != nil {
			return nil, err
		}
		out = append(out, securityGroupView(g))
	}
	return out, nil
}

// SecurityGroupRules are the rules of the groups of sc.
func (o *Ops) SecurityGroupRules(ctx context.Context, sc Scope) ([]SecurityGroupRule, error) {
	groups, err := o.SecurityGroups(ctx, sc)
	if err != nil {
		return nil, err
	}
	out := []SecurityGroupRule{}
	for _, g := range groups {
		out = append(out, g.Rules...)
	}
	return out, nil
}

// SecurityGroupRule is a rule of a group the caller sees, by ID.
func (o *Ops) SecurityGroupRule(ctx context.Context, id string) (SecurityGroupRule, error) {
	rule, err := o.s.ruleFor(ctx, id)
	return ruleView(rule), err
}

// CreateSecurityGroupRule adds a rule to a group the caller sees (404
// otherwise, and for a remote group it does not see); the rule must pass
// fsm's rules (400) and repeat none of the group's (409).
func (o *Ops) CreateSecurityGroupRule(ctx context.Context, req SecurityGroupRuleCreate) (uint64, SecurityGroupRule, error) {
	rule, err := o.s.newSecurityGroupRule(ctx, req)
	if err != nil {
		return 0, SecurityGroupRule{}, err
	}
	idx, created, err := applyRead(o.s, ctx, &fsm.CreateSecurityGroupRule{Rule: rule}, "security group rule", rule.ID, o.s.state.SecurityGroupRule)
	return idx, ruleView(created), err
}

// DeleteSecurityGroupRule deletes a rule of a group the caller sees.
func (o *Ops) DeleteSecurityGroupRule(ctx context.Context, id string) (uint64, error) {
	rule, err := o.s.ruleFor(ctx, id)
	if err != nil {
		return 0, err
	}
	return o.s.apply(ctx, &fsm.DeleteSecurityGroupRule{ID: rule.ID, ProjectID: rule.ProjectID, Time: time.Now().UTC()})
}
