package fsm

import (
	"fmt"
	"slices"
)

// CreateServerGroup adds a server group.
type CreateServerGroup struct {
	Group ServerGroup `json:"group"`
}

// DeleteServerGroup removes a server group; its servers stay, ungrouped.
type DeleteServerGroup struct {
	ID string `json:"id"`
}

func (*CreateServerGroup) Type() Type { return TypeCreateServerGroup }
func (*DeleteServerGroup) Type() Type { return TypeDeleteServerGroup }

func applyCreateServerGroup(s *State, index uint64, c Command) error {
	g := c.(*CreateServerGroup).Group
	switch {
	case g.ID == "" || g.Name == "":
		return fmt.Errorf("%w: a server group needs an ID and a name", ErrInvalid)
	case !ValidPolicy(g.Policy):
		return fmt.Errorf("%w: policy %q: use affinity, anti-affinity, soft-affinity or soft-anti-affinity", ErrInvalid, g.Policy)
	case g.MaxServerPerHost < 0 || g.MaxServerPerHost > 0 && g.Policy != PolicyAntiAffinity:
		return fmt.Errorf("%w: only an anti-affinity group has max_server_per_host, at least 1", ErrInvalid)
	}
	if _, ok := s.Groups[g.ID]; ok {
		return fmt.Errorf("%w: server group ID %q already exists", ErrConflict, g.ID)
	}
	if g.ProjectID != "" {
		if err := checkQuota(QuotaServerGroups, 1, s.projectUsage(g.ProjectID).ServerGroups, s.quota(g.ProjectID).ServerGroups); err != nil {
			return err
		}
	}
	g.Members = []string{}
	g.CreateIndex, g.ModifyIndex = index, index
	s.Groups[g.ID] = &g
	return nil
}

func applyDeleteServerGroup(s *State, _ uint64, c Command) error {
	id := c.(*DeleteServerGroup).ID
	g, ok := s.Groups[id]
	if !ok {
		return fmt.Errorf("%w: server group %q", ErrNotFound, id)
	}
	for _, m := range g.Members {
		if i, ok := s.Instances[m]; ok {
			i.ServerGroupID = ""
		}
	}
	delete(s.Groups, id)
	return nil
}

// removeMember drops an instance from its group's member list.
func (s *State) removeMember(i *Instance) {
	if g, ok := s.Groups[i.ServerGroupID]; ok {
		g.Members = slices.DeleteFunc(g.Members, func(m string) bool { return m == i.ID })
	}
}
