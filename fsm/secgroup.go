package fsm

import (
	"crypto/sha256"
	"fmt"
	"net/netip"
	"slices"
	"time"
	"unicode/utf8"
)

// Security groups (Neutron's): stateful allow-lists of traffic to and from
// servers' ports. A port with groups drops what no rule of its groups
// allows; rules only add.

// Rule directions, ethertypes and protocols, with Neutron's spelling. Only
// IPv4 is supported: the tenant network has no IPv6.
const (
	DirectionIngress = "ingress"
	DirectionEgress  = "egress"
	EthertypeIPv4    = "IPv4"
	ProtocolTCP      = "tcp"
	ProtocolUDP      = "udp"
	ProtocolICMP     = "icmp"

	// DefaultSecurityGroupName is the name of every project's default group;
	// no other group may take it.
	DefaultSecurityGroupName = "default"
)

// maxDescriptionLength bounds descriptions as Neutron does.
const maxDescriptionLength = 255

// SecurityGroup is a named set of rules owned by a project. Rules are kept
// in the order they were added.
type SecurityGroup struct {
	ID          string              `json:"id"`
	Name        string              `json:"name"`
	Description string              `json:"description,omitempty"`
	ProjectID   string              `json:"project_id,omitempty"`
	UserID      string              `json:"user_id,omitempty"`
	Rules       []SecurityGroupRule `json:"rules"`
	Created     time.Time           `json:"created"`
	Indexes
}

// SecurityGroupRule allows one kind of traffic. Protocol "" is any. For tcp
// and udp PortMin/PortMax are a destination port range (both or neither);
// for icmp they are the type and code (nil: any). RemoteIPPrefix (a CIDR) or
// RemoteGroupID (the fixed IPs of that group's members) narrow the peer;
// neither means any peer. It belongs to its group's project.
type SecurityGroupRule struct {
	ID             string    `json:"id"`
	GroupID        string    `json:"security_group_id"`
	Direction      string    `json:"direction"`
	Ethertype      string    `json:"ethertype"`
	Protocol       string    `json:"protocol,omitempty"`
	PortMin        *int      `json:"port_range_min,omitempty"`
	PortMax        *int      `json:"port_range_max,omitempty"`
	RemoteIPPrefix string    `json:"remote_ip_prefix,omitempty"`
	RemoteGroupID  string    `json:"remote_group_id,omitempty"`
	ProjectID      string    `json:"project_id,omitempty"`
	Created        time.Time `json:"created"`
}

// Normalize checks what a rule can be refused for whatever the state
// (ErrInvalid), with Neutron's rules, and puts it in canonical form: an
// empty ethertype is IPv4, the remote prefix is masked. The API calls it
// for its pre-check; Apply calls it again.
func (r *SecurityGroupRule) Normalize() error {
	if r.ID == "" {
		return fmt.Errorf("%w: a security group rule needs an ID", ErrInvalid)
	}
	if r.Direction != DirectionIngress && r.Direction != DirectionEgress {
		return fmt.Errorf("%w: direction must be ingress or egress, not %q", ErrInvalid, r.Direction)
	}
	if r.Ethertype == "" {
		r.Ethertype = EthertypeIPv4
	}
	if r.Ethertype != EthertypeIPv4 {
		return fmt.Errorf("%w: ethertype %q: only IPv4 is supported", ErrInvalid, r.Ethertype)
	}
	switch r.Protocol {
	case "":
		if r.PortMin != nil || r.PortMax != nil {
			return fmt.Errorf("%w: a port range needs a protocol (tcp, udp or icmp)", ErrInvalid)
		}
	case ProtocolTCP, ProtocolUDP:
		if r.PortMin == nil || r.PortMax == nil {
			if r.PortMin != nil || r.PortMax != nil {
				return fmt.Errorf("%w: a %s port range needs both port_range_min and port_range_max", ErrInvalid, r.Protocol)
			}
			break
		}
		for _, p := range []int{*r.PortMin, *r.PortMax} {
			if p < 1 || p > 65535 {
				return fmt.Errorf("%w: %s port %d is outside 1-65535", ErrInvalid, r.Protocol, p)
			}
		}
		if *r.PortMin > *r.PortMax {
			return fmt.Errorf("%w: port_range_min %d is greater than port_range_max %d", ErrInvalid, *r.PortMin, *r.PortMax)
		}
	case ProtocolICMP:
		for _, f := range []struct {
			what string
			v    *int
		}{{"type", r.PortMin}, {"code", r.PortMax}} {
			if f.v != nil && (*f.v < 0 || *f.v > 255) {
				return fmt.Errorf("%w: icmp %s %d is outside 0-255", ErrInvalid, f.what, *f.v)
			}
		}
		if r.PortMin == nil && r.PortMax != nil {
			return fmt.Errorf("%w: an icmp code needs an icmp type", ErrInvalid)
		}
	default:
		return fmt.Errorf("%w: protocol %q: use tcp, udp, icmp or none for any", ErrInvalid, r.Protocol)
	}
	if r.RemoteIPPrefix != "" {
		if r.RemoteGroupID != "" {
			return fmt.Errorf("%w: give remote_ip_prefix or remote_group_id, not both", ErrInvalid)
		}
		p, err := netip.ParsePrefix(r.RemoteIPPrefix)
		if err != nil || !p.Addr().Is4() {
			return fmt.Errorf("%w: remote_ip_prefix %q is not an IPv4 CIDR", ErrInvalid, r.RemoteIPPrefix)
		}
		// Kept as sent (canonical text, the host bits too), as Neutron
		// shows it; what filters traffic and what is a duplicate is the
		// masked network (sameTraffic, compute/network).
		r.RemoteIPPrefix = p.String()
	}
	return nil
}

// sameTraffic reports whether two rules allow the same thing (Neutron's
// duplicate rule): everything but ID, group, project and time.
func (r *SecurityGroupRule) sameTraffic(o *SecurityGroupRule) bool {
	same := func(a, b *int) bool { return (a == nil) == (b == nil) && (a == nil || *a == *b) }
	return r.Direction == o.Direction && r.Ethertype == o.Ethertype && r.Protocol == o.Protocol &&
		same(r.PortMin, o.PortMin) && same(r.PortMax, o.PortMax) &&
		maskedPrefix(r.RemoteIPPrefix) == maskedPrefix(o.RemoteIPPrefix) && r.RemoteGroupID == o.RemoteGroupID
}

// maskedPrefix is a validated remote_ip_prefix's network ("" for none).
func maskedPrefix(s string) string {
	if p, err := netip.ParsePrefix(s); err == nil {
		return p.Masked().String()
	}
	return s
}

func (r SecurityGroupRule) clone() SecurityGroupRule {
	if r.PortMin != nil {
		v := *r.PortMin
		r.PortMin = &v
	}
	if r.PortMax != nil {
		v := *r.PortMax
		r.PortMax = &v
	}
	return r
}

func (g *SecurityGroup) clone() SecurityGroup {
	c := *g
	c.Rules = make([]SecurityGroupRule, 0, len(g.Rules))
	for _, r := range g.Rules {
		c.Rules = append(c.Rules, r.clone())
	}
	return c
}

// validGroupFields checks a group's name and description.
func validGroupFields(g *SecurityGroup) error {
	if g.ID == "" {
		return fmt.Errorf("%w: a security group needs an ID", ErrInvalid)
	}
	if err := validName("security group name", g.Name); err != nil {
		return err
	}
	if utf8.RuneCountInString(g.Description) > maxDescriptionLength {
		return fmt.Errorf("%w: description is longer than %d characters", ErrInvalid, maxDescriptionLength)
	}
	return nil
}

// DefaultSecurityGroupID is the ID of a project's default group, derived
// from the project ID so every node names it alike before it is stored:
// reads show it before any command made it, and the first use stores it
// under the same ID.
func DefaultSecurityGroupID(projectID string) string {
	return derivedUUID("shoal/default-security-group/" + projectID)
}

// defaultRuleIDs are the IDs of the default group's two rules.
func defaultRuleIDs(projectID string) (ingress, egress string) {
	return derivedUUID("shoal/default-security-group/" + projectID + "/ingress"),
		derivedUUID("shoal/default-security-group/" + projectID + "/egress")
}

// derivedUUID is a UUID (version 8: vendor-defined) from the SHA-256 of name.
func derivedUUID(name string) string {
	b := sha256.Sum256([]byte(name))
	b[6] = b[6]&0x0f | 0x80
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// defaultSecurityGroup is a project's default group as Neutron makes it
// (IPv4 only): ingress from its own members, egress to anywhere.
func defaultSecurityGroup(projectID string, at time.Time) *SecurityGroup {
	id := DefaultSecurityGroupID(projectID)
	in, out := defaultRuleIDs(projectID)
	return &SecurityGroup{ID: id, Name: DefaultSecurityGroupName, Description: "Default security group",
		ProjectID: projectID, Created: at, Rules: []SecurityGroupRule{
			{ID: in, GroupID: id, Direction: DirectionIngress, Ethertype: EthertypeIPv4, RemoteGroupID: id, ProjectID: projectID, Created: at},
			{ID: out, GroupID: id, Direction: DirectionEgress, Ethertype: EthertypeIPv4, ProjectID: projectID, Created: at},
		}}
}

// ensureDefaultGroup stores a project's default group if it is not yet
// (its first use) and returns it.
func (s *State) ensureDefaultGroup(projectID string, at time.Time, index uint64) *SecurityGroup {
	id := DefaultSecurityGroupID(projectID)
	if g, ok := s.SecurityGroups[id]; ok {
		return g
	}
	g := defaultSecurityGroup(projectID, at)
	g.CreateIndex, g.ModifyIndex = index, index
	if s.SecurityGroups == nil {
		s.SecurityGroups = map[string]*SecurityGroup{}
	}
	s.SecurityGroups[id] = g
	return g
}

// lookupGroup finds a stored group, or the default group of projectID that
// is not stored yet (materialize: whether the caller must ensure it).
func (s *State) lookupGroup(id, projectID string) (g *SecurityGroup, materialize bool, err error) {
	if g, ok := s.SecurityGroups[id]; ok {
		return g, false, nil
	}
	if id == DefaultSecurityGroupID(projectID) {
		return nil, true, nil
	}
	return nil, false, fmt.Errorf("%w: security group %q", ErrNotFound, id)
}

// groupInUse names a server in the group, if any (in ID order).
func (s *State) groupInUse(id string) string {
	for _, iid := range sortedKeys(s.Instances) {
		if slices.Contains(s.Instances[iid].SecurityGroups, id) {
			return iid
		}
	}
	return ""
}

// ruleByID finds a stored rule and its group.
func (s *State) ruleByID(id string) (*SecurityGroup, int) {
	for _, gid := range sortedKeys(s.SecurityGroups) {
		g := s.SecurityGroups[gid]
		for k := range g.Rules {
			if g.Rules[k].ID == id {
				return g, k
			}
		}
	}
	return nil, -1
}

// groupNamed finds a stored group of a project by name.
func (s *State) groupNamed(projectID, name string) *SecurityGroup {
	for _, id := range sortedKeys(s.SecurityGroups) {
		if g := s.SecurityGroups[id]; g.ProjectID == projectID && g.Name == name {
			return g
		}
	}
	return nil
}
