package fsm

import (
	"fmt"
	"slices"
	"time"
)

// CreateSecurityGroup adds a group, with the rules it carries (each with
// its ID; the API adds Neutron's allow-all egress rule to a new group).
// Names are unique per project, and "default" is every project's own.
type CreateSecurityGroup struct {
	Group SecurityGroup `json:"group"`
}

// DeleteSecurityGroup removes a group no server is in. Rules of other
// groups that name it as their remote group go with it (Neutron's cascade).
// ProjectID, if given, is the caller's: its default group is refused even
// before it is stored.
type DeleteSecurityGroup struct {
	ID        string `json:"id"`
	ProjectID string `json:"project_id,omitempty"`
}

// UpdateSecurityGroup renames a group or changes its description (Neutron's
// PUT of a security group); a nil field is left as it is. The rules of a
// name are CreateSecurityGroup's: unique in the project, and "default" is
// the default group's alone, which keeps it. ProjectID is the group's
// project, so that its default group can change (its description) before
// it is stored: this stores it first, at Time.
type UpdateSecurityGroup struct {
	ID          string    `json:"id"`
	ProjectID   string    `json:"project_id,omitempty"`
	Name        *string   `json:"name,omitempty"`
	Description *string   `json:"description,omitempty"`
	Time        time.Time `json:"time"`
}

// CreateSecurityGroupRule adds a rule to a group. Rule.ProjectID is the
// group's project: when Rule.GroupID is that project's default group and it
// is not stored yet, this stores it first (its first use), at Rule.Created.
type CreateSecurityGroupRule struct {
	Rule SecurityGroupRule `json:"rule"`
}

// DeleteSecurityGroupRule removes a rule. ProjectID is the group's project,
// so that a rule of its default group can be deleted before that group is
// stored (this stores it first, at Time).
type DeleteSecurityGroupRule struct {
	ID        string    `json:"id"`
	ProjectID string    `json:"project_id,omitempty"`
	Time      time.Time `json:"time"`
}

// AddInstanceSecurityGroup puts a server in a group of its project (Nova's
// addSecurityGroup); the project's default group is stored on this first
// use if need be.
type AddInstanceSecurityGroup struct {
	InstanceID string    `json:"instance_id"`
	GroupID    string    `json:"group_id"`
	Time       time.Time `json:"time"`
}

// RemoveInstanceSecurityGroup takes a server out of a group (Nova's
// removeSecurityGroup); a server may be left in none.
type RemoveInstanceSecurityGroup struct {
	InstanceID string    `json:"instance_id"`
	GroupID    string    `json:"group_id"`
	Time       time.Time `json:"time"`
}

func (*CreateSecurityGroup) Type() Type         { return TypeCreateSecurityGroup }
func (*DeleteSecurityGroup) Type() Type         { return TypeDeleteSecurityGroup }
func (*UpdateSecurityGroup) Type() Type         { return TypeUpdateSecurityGroup }
func (*CreateSecurityGroupRule) Type() Type     { return TypeCreateSecurityGroupRule }
func (*DeleteSecurityGroupRule) Type() Type     { return TypeDeleteSecurityGroupRule }
func (*AddInstanceSecurityGroup) Type() Type    { return TypeAddInstanceSecurityGroup }
func (*RemoveInstanceSecurityGroup) Type() Type { return TypeRemoveInstanceSecurityGroup }

func applyCreateSecurityGroup(s *State, index uint64, c Command) error {
	g := c.(*CreateSecurityGroup).Group
	if err := validGroupFields(&g); err != nil {
		return err
	}
	if g.Name == DefaultSecurityGroupName {
		return fmt.Errorf("%w: every project has its default security group; choose another name", ErrConflict)
	}
	if _, ok := s.SecurityGroups[g.ID]; ok || g.ID == DefaultSecurityGroupID(g.ProjectID) {
		return fmt.Errorf("%w: security group ID %q already exists", ErrConflict, g.ID)
	}
	if s.groupNamed(g.ProjectID, g.Name) != nil {
		return fmt.Errorf("%w: the project already has a security group named %q", ErrConflict, g.Name)
	}
	if err := checkQuota(QuotaSecurityGroups, 1, s.projectUsage(g.ProjectID).SecurityGroups, s.quota(g.ProjectID).SecurityGroups); err != nil {
		return err
	}
	rules := g.Rules
	g.Rules = nil
	materialize := false
	for _, r := range rules {
		if r.GroupID != "" && r.GroupID != g.ID {
			return fmt.Errorf("%w: rule %s names group %s inside group %s", ErrInvalid, r.ID, r.GroupID, g.ID)
		}
		r.GroupID = g.ID
		if r.Created.IsZero() {
			r.Created = g.Created
		}
		m, err := s.checkRule(&g, &r)
		if err != nil {
			return err
		}
		materialize = materialize || m
		g.Rules = append(g.Rules, r)
	}
	if g.Rules == nil {
		g.Rules = []SecurityGroupRule{}
	}
	if materialize {
		s.ensureDefaultGroup(g.ProjectID, g.Created, index)
	}
	g.CreateIndex, g.ModifyIndex = index, index
	if s.SecurityGroups == nil {
		s.SecurityGroups = map[string]*SecurityGroup{}
	}
	s.SecurityGroups[g.ID] = &g
	return nil
}

// checkRule normalizes r for group g (stored or about to be) and checks it
// against the state: unique ID, known remote group, no duplicate in g. It
// reports whether the remote group is g's project's default group, not
// stored yet: the caller stores it when it commits.
func (s *State) checkRule(g *SecurityGroup, r *SecurityGroupRule) (materialize bool, err error) {
	r.GroupID, r.ProjectID = g.ID, g.ProjectID
	if err := r.Normalize(); err != nil {
		return false, err
	}
	if owner, _ := s.ruleByID(r.ID); owner != nil || slices.ContainsFunc(g.Rules, func(o SecurityGroupRule) bool { return o.ID == r.ID }) {
		return false, fmt.Errorf("%w: security group rule ID %q already exists", ErrConflict, r.ID)
	}
	if r.RemoteGroupID != "" && r.RemoteGroupID != g.ID {
		if _, materialize, err = s.lookupGroup(r.RemoteGroupID, g.ProjectID); err != nil {
			return false, fmt.Errorf("remote group: %w", err)
		}
	}
	for k := range g.Rules {
		if g.Rules[k].sameTraffic(r) {
			return false, fmt.Errorf("%w: security group %s already has this rule (%s)", ErrConflict, g.ID, g.Rules[k].ID)
		}
	}
	return materialize, nil
}

func applyDeleteSecurityGroup(s *State, index uint64, c Command) error {
	cmd := c.(*DeleteSecurityGroup)
	g, ok := s.SecurityGroups[cmd.ID]
	if cmd.ID == DefaultSecurityGroupID(cmd.ProjectID) || ok && g.Name == DefaultSecurityGroupName {
		return fmt.Errorf("%w: insufficient rights for removing default security group", ErrConflict)
	}
	if !ok {
		return fmt.Errorf("%w: security group %q", ErrNotFound, cmd.ID)
	}
	if inst := s.groupInUse(g.ID); inst != "" {
		return fmt.Errorf("%w: security group %s is in use by server %s", ErrConflict, g.ID, inst)
	}
	for _, other := range s.SecurityGroups {
		kept := slices.DeleteFunc(other.Rules, func(r SecurityGroupRule) bool { return r.RemoteGroupID == g.ID })
		if len(kept) != len(other.Rules) {
			other.Rules, other.ModifyIndex = kept, index
		}
	}
	delete(s.SecurityGroups, g.ID)
	return nil
}

func applyUpdateSecurityGroup(s *State, index uint64, c Command) error {
	cmd := c.(*UpdateSecurityGroup)
	g, own, err := s.lookupGroup(cmd.ID, cmd.ProjectID)
	if err != nil {
		return err
	}
	if own {
		g = defaultSecurityGroup(cmd.ProjectID, cmd.Time)
	}
	next := *g
	if cmd.Name != nil {
		next.Name = *cmd.Name
	}
	if cmd.Description != nil {
		next.Description = *cmd.Description
	}
	if err := validGroupFields(&next); err != nil {
		return err
	}
	switch {
	case g.Name == DefaultSecurityGroupName && next.Name != g.Name:
		return fmt.Errorf("%w: the default security group keeps its name", ErrConflict)
	case next.Name == DefaultSecurityGroupName && g.Name != next.Name:
		return fmt.Errorf("%w: every project has its default security group; choose another name", ErrConflict)
	}
	if other := s.groupNamed(g.ProjectID, next.Name); other != nil && other.ID != g.ID {
		return fmt.Errorf("%w: the project already has a security group named %q", ErrConflict, next.Name)
	}
	if own {
		g = s.ensureDefaultGroup(cmd.ProjectID, cmd.Time, index)
	}
	g.Name, g.Description, g.ModifyIndex = next.Name, next.Description, index
	return nil
}

func applyCreateSecurityGroupRule(s *State, index uint64, c Command) error {
	r := c.(*CreateSecurityGroupRule).Rule
	g, own, err := s.lookupGroup(r.GroupID, r.ProjectID)
	if err != nil {
		return err
	}
	if own {
		g = defaultSecurityGroup(r.ProjectID, r.Created)
	}
	if g.ID != DefaultSecurityGroupID(g.ProjectID) {
		used := s.projectUsage(g.ProjectID).SecurityGroupRules
		if err := checkQuota(QuotaSecurityGroupRules, 1, used, s.quota(g.ProjectID).SecurityGroupRules); err != nil {
			return err
		}
	}
	remote, err := s.checkRule(g, &r)
	if err != nil {
		return err
	}
	if own || remote {
		s.ensureDefaultGroup(g.ProjectID, r.Created, index)
		g = s.SecurityGroups[g.ID]
	}
	g.Rules = append(g.Rules, r)
	g.ModifyIndex = index
	return nil
}

func applyDeleteSecurityGroupRule(s *State, index uint64, c Command) error {
	cmd := c.(*DeleteSecurityGroupRule)
	g, k := s.ruleByID(cmd.ID)
	if g == nil {
		in, out := defaultRuleIDs(cmd.ProjectID)
		if _, stored := s.SecurityGroups[DefaultSecurityGroupID(cmd.ProjectID)]; stored || cmd.ID != in && cmd.ID != out {
			return fmt.Errorf("%w: security group rule %q", ErrNotFound, cmd.ID)
		}
		g = s.ensureDefaultGroup(cmd.ProjectID, cmd.Time, index)
		g, k = s.ruleByID(cmd.ID)
	}
	g.Rules = slices.Delete(g.Rules, k, k+1)
	g.ModifyIndex = index
	return nil
}

func applyAddInstanceSecurityGroup(s *State, index uint64, c Command) error {
	cmd := c.(*AddInstanceSecurityGroup)
	inst, err := s.groupableInstance(cmd.InstanceID)
	if err != nil {
		return err
	}
	if err := s.checkInstanceGroup(inst.ProjectID, cmd.GroupID); err != nil {
		return err
	}
	if slices.Contains(inst.SecurityGroups, cmd.GroupID) {
		return fmt.Errorf("%w: server %s is already in security group %s", ErrConflict, inst.ID, cmd.GroupID)
	}
	s.ensureDefaultIfNamed(inst.ProjectID, cmd.GroupID, cmd.Time, index)
	inst.SecurityGroups = append(inst.SecurityGroups, cmd.GroupID)
	inst.Updated, inst.ModifyIndex = cmd.Time, index
	return nil
}

func applyRemoveInstanceSecurityGroup(s *State, index uint64, c Command) error {
	cmd := c.(*RemoveInstanceSecurityGroup)
	inst, err := s.groupableInstance(cmd.InstanceID)
	if err != nil {
		return err
	}
	k := slices.Index(inst.SecurityGroups, cmd.GroupID)
	if k < 0 {
		if _, _, err := s.lookupGroup(cmd.GroupID, inst.ProjectID); err != nil {
			return err
		}
		return fmt.Errorf("%w: server %s is not in security group %s", ErrConflict, inst.ID, cmd.GroupID)
	}
	inst.SecurityGroups = slices.Delete(slices.Clone(inst.SecurityGroups), k, k+1)
	if len(inst.SecurityGroups) == 0 {
		inst.SecurityGroups = nil // as a restored replica has it
	}
	inst.Updated, inst.ModifyIndex = cmd.Time, index
	return nil
}

// groupableInstance is a server whose groups may change: not being deleted.
func (s *State) groupableInstance(id string) (*Instance, error) {
	inst, ok := s.Instances[id]
	if !ok {
		return nil, fmt.Errorf("%w: server %q", ErrNotFound, id)
	}
	if inst.TaskState == TaskDeleting {
		return nil, fmt.Errorf("%w: server %s is being deleted", ErrConflict, inst.ID)
	}
	return inst, nil
}

// checkInstanceGroup checks that a server of projectID may be in group id:
// a stored group of that project, or the project's default group.
func (s *State) checkInstanceGroup(projectID, id string) error {
	g, _, err := s.lookupGroup(id, projectID)
	if err != nil {
		return err
	}
	if g != nil && g.ProjectID != projectID {
		return fmt.Errorf("%w: security group %s belongs to another project than the server", ErrConflict, id)
	}
	return nil
}

// ensureDefaultIfNamed stores projectID's default group if id names it.
func (s *State) ensureDefaultIfNamed(projectID, id string, at time.Time, index uint64) {
	if id == DefaultSecurityGroupID(projectID) {
		s.ensureDefaultGroup(projectID, at, index)
	}
}
