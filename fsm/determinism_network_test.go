package fsm_test

import (
	"fmt"
	"time"

	"github.com/shoal-project/shoal/fsm"
)

// networking is one command about external networks, floating IPs or
// security groups, drawn from g.network alone so that the other entries of
// a seed's log stay what they were. Names come from small pools and half
// the references are to objects the model holds, so conflicts, unknown
// objects, first uses of default groups and exhaustion all happen.
func (g *logGen) networking(at time.Time) fsm.Command {
	r := g.network
	pick := func(prefix string, n int) string { return fmt.Sprintf("%s%d", prefix, r.IntN(n)) }
	project := func() string {
		if r.IntN(8) == 0 {
			return ""
		}
		return pick("p", 3)
	}
	network := func() string {
		if nets := g.model.ExternalNetworks(); len(nets) > 0 && r.IntN(4) != 0 {
			return nets[r.IntN(len(nets))].ID
		}
		return []string{"n0", "n1", "default"}[r.IntN(3)]
	}
	fip := func() fsm.FloatingIP {
		if fips := g.model.FloatingIPs(nil); len(fips) > 0 && r.IntN(4) != 0 {
			return fips[r.IntN(len(fips))]
		}
		return fsm.FloatingIP{ID: pick("fip", 8)}
	}
	instance := func() fsm.Instance {
		if insts := g.model.Instances(nil); len(insts) > 0 && r.IntN(5) != 0 {
			return insts[r.IntN(len(insts))]
		}
		return fsm.Instance{ID: pick("i", 40)}
	}
	group := func(p string) string {
		if gs := g.model.AllSecurityGroups(); len(gs) > 0 && r.IntN(3) != 0 {
			return gs[r.IntN(len(gs))].ID
		}
		if r.IntN(2) == 0 {
			return fsm.DefaultSecurityGroupID(p)
		}
		return pick("sg", 5)
	}
	switch n := r.IntN(100); {
	case n < 6:
		c := &fsm.CreateNetwork{ID: pick("n", 2), Name: pick("public-", 2), External: r.IntN(12) != 0, Time: at,
			CIDR: []string{"10.66.0.0/29", "10.67.0.0/30", "10.66.0.0/28", "10.0.0.0/24", "10.68.0.0/29", "bad"}[r.IntN(6)]}
		if r.IntN(3) == 0 {
			c.Gateway = "10.66.0.6"
		}
		if r.IntN(3) == 0 {
			c.AllocationPools = []fsm.IPRange{{Start: "10.66.0.2", End: "10.66.0.3"}}
		}
		return c
	case n < 9:
		return &fsm.DeleteNetwork{ID: network()}
	case n < 27:
		c := &fsm.AllocateFloatingIP{ID: pick("fip", 8), NetworkID: network(), ProjectID: project(), Time: at}
		c.UserID = "u-" + c.ProjectID
		if r.IntN(6) == 0 {
			c.IP = fmt.Sprintf("10.66.0.%d", 1+r.IntN(6))
		}
		return c
	case n < 33:
		return &fsm.ReleaseFloatingIP{ID: fip().ID}
	case n < 48:
		inst := instance()
		c := &fsm.AssociateFloatingIP{FloatingIPID: fip().ID, InstanceID: inst.ID, CrossProject: r.IntN(4) == 0}
		if a, ok := inst.FixedAddress(); ok && r.IntN(4) == 0 {
			c.FixedIP = a.IP
		}
		return c
	case n < 54:
		f := fip()
		c := &fsm.DisassociateFloatingIP{FloatingIPID: f.ID}
		if r.IntN(3) == 0 {
			c.InstanceID = instance().ID
		}
		return c
	case n < 61:
		p := project()
		c := &fsm.CreateSecurityGroup{Group: fsm.SecurityGroup{ID: pick("sg", 5), Name: []string{"web", "db", "default"}[r.IntN(3)],
			ProjectID: p, Created: at}}
		for range r.IntN(3) {
			c.Group.Rules = append(c.Group.Rules, g.secRule(at, "", c.Group.ID))
		}
		return c
	case n < 65:
		p := project()
		return &fsm.DeleteSecurityGroup{ID: group(p), ProjectID: p}
	case n < 78:
		p := project()
		rule := g.secRule(at, group(p), group(p))
		rule.ProjectID = p
		return &fsm.CreateSecurityGroupRule{Rule: rule}
	case n < 84:
		p := project()
		id := pick("rule", 30)
		if gs := g.model.SecurityGroupsOf(p); r.IntN(2) == 0 {
			if rs := gs[r.IntN(len(gs))].Rules; len(rs) > 0 {
				id = rs[r.IntN(len(rs))].ID
			}
		}
		return &fsm.DeleteSecurityGroupRule{ID: id, ProjectID: p, Time: at}
	case n < 93:
		inst := instance()
		return &fsm.AddInstanceSecurityGroup{InstanceID: inst.ID, GroupID: group(inst.ProjectID), Time: at}
	default:
		inst := instance()
		c := &fsm.RemoveInstanceSecurityGroup{InstanceID: inst.ID, GroupID: group(inst.ProjectID), Time: at}
		if len(inst.SecurityGroups) > 0 && r.IntN(2) == 0 {
			c.GroupID = inst.SecurityGroups[r.IntN(len(inst.SecurityGroups))]
		}
		return c
	}
}

// secRule is a rule for group (its ID from a small pool), valid most of
// the time; remote may become its remote group.
func (g *logGen) secRule(at time.Time, group, remote string) fsm.SecurityGroupRule {
	r := g.network
	rule := fsm.SecurityGroupRule{ID: fmt.Sprintf("rule%d", r.IntN(30)), GroupID: group, Created: at,
		Direction: []string{fsm.DirectionIngress, fsm.DirectionEgress, "sideways"}[min(r.IntN(12), 2)]}
	switch r.IntN(5) {
	case 0:
		rule.Protocol = fsm.ProtocolTCP
		lo := 1 + r.IntN(3)*1000
		rule.PortMin, rule.PortMax = &lo, ptr(lo+r.IntN(3)-1) // sometimes max < min
	case 1:
		rule.Protocol = fsm.ProtocolICMP
		rule.PortMin = ptr(r.IntN(300) - 10)
	case 2:
		rule.Protocol = fsm.ProtocolUDP
	}
	switch r.IntN(4) {
	case 0:
		rule.RemoteIPPrefix = []string{"10.0.0.0/8", "192.168.1.7/24", "nope"}[r.IntN(3)]
	case 1:
		rule.RemoteGroupID = remote
	}
	return rule
}

// serverGroups is the security groups a created server names: mostly none
// (its default group), drawn from g.network.
func (g *logGen) serverGroups(project string) []string {
	r := g.network
	switch r.IntN(16) {
	case 0, 1:
		return []string{fsm.DefaultSecurityGroupID(project)}
	case 2:
		return []string{fmt.Sprintf("sg%d", r.IntN(5))}
	case 3, 4:
		if gs := g.model.AllSecurityGroups(); len(gs) > 0 {
			return []string{gs[r.IntN(len(gs))].ID, fsm.DefaultSecurityGroupID(project)}
		}
	}
	return nil
}
