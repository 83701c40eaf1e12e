package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/shoal-project/shoal/fsm"
)

// Security groups in Neutron's shapes. Every project has a group named
// "default" (ingress from its own members, all egress) that the replica
// shows before it is ever stored; the rules themselves (ports, protocols,
// prefixes) are fsm's (fsm.ValidSecurityGroupRule), checked here before
// anything is proposed and again in Apply.

// maxDescriptionLen bounds a security group's description (Neutron's).
const maxDescriptionLen = 255

// validGroupName checks a security group's name: Neutron's (and Nova's)
// keep it as sent, surrounding spaces included, so it is validName but
// for those; a name of spaces alone is still no name.
func validGroupName(name string) error {
	const what = "security group name"
	if n := utf8.RuneCountInString(name); n > maxNameLen {
		return fmt.Errorf("%w: %s must be at most %d characters, got %d", fsm.ErrInvalid, what, maxNameLen, n)
	}
	return validName(what, strings.TrimSpace(name))
}

// SecurityGroup is the wire shape of a security group, with its rules
// under Neutron's key.
type SecurityGroup struct {
	ID          string              `json:"id"`
	Name        string              `json:"name"`
	Description string              `json:"description"`
	ProjectID   string              `json:"project_id"`
	Rules       []SecurityGroupRule `json:"security_group_rules"`
	Created     time.Time           `json:"created,omitzero"`
}

// SecurityGroupRule is the wire shape of a rule. As in Neutron, what a rule
// does not restrict is null: protocol (any), the port range (any), the
// remote prefix and group (anywhere).
type SecurityGroupRule struct {
	ID              string    `json:"id"`
	SecurityGroupID string    `json:"security_group_id"`
	Direction       string    `json:"direction"` // ingress|egress
	Ethertype       string    `json:"ethertype"` // IPv4
	Protocol        *string   `json:"protocol"`  // tcp|udp|icmp, null for any
	PortRangeMin    *int      `json:"port_range_min"`
	PortRangeMax    *int      `json:"port_range_max"`
	RemoteIPPrefix  *string   `json:"remote_ip_prefix"`
	RemoteGroupID   *string   `json:"remote_group_id"`
	ProjectID       string    `json:"project_id"`
	Created         time.Time `json:"created,omitzero"`
}

// SecurityGroupCreate is what POST /v1/security-groups takes, wrapped as
// {"security_group":{...}}.
type SecurityGroupCreate struct {
	Name        string `json:"name"`
	Description string `json:"description,omitempty"`
}

// SecurityGroupUpdate is what PUT /v1/security-groups/{id} takes, wrapped
// as {"security_group":{...}}: a new name, a new description ("" clears
// it); what is absent (nil) stays.
type SecurityGroupUpdate struct {
	Name        *string `json:"name,omitempty"`
	Description *string `json:"description,omitempty"`
}

// SecurityGroupRuleCreate is what POST /v1/security-group-rules takes,
// wrapped as {"security_group_rule":{...}}. Empty strings (or null) leave
// protocol, prefix and remote group open; ethertype defaults to IPv4. For
// icmp the port range is the ICMP type and code, as in Neutron.
type SecurityGroupRuleCreate struct {
	SecurityGroupID string `json:"security_group_id"`
	Direction       string `json:"direction"`
	Ethertype       string `json:"ethertype,omitempty"`
	Protocol        string `json:"protocol,omitempty"`
	PortRangeMin    *int   `json:"port_range_min,omitempty"`
	PortRangeMax    *int   `json:"port_range_max,omitempty"`
	RemoteIPPrefix  string `json:"remote_ip_prefix,omitempty"`
	RemoteGroupID   string `json:"remote_group_id,omitempty"`
}

// SecurityGroupResponse is the body of GET /v1/security-groups/{id} and of
// a create.
type SecurityGroupResponse struct {
	SecurityGroup SecurityGroup `json:"security_group"`
}

// SecurityGroupList is the body of GET /v1/security-groups.
type SecurityGroupList struct {
	SecurityGroups []SecurityGroup `json:"security_groups"`
}

// SecurityGroupRuleResponse is the body of a rule's create.
type SecurityGroupRuleResponse struct {
	SecurityGroupRule SecurityGroupRule `json:"security_group_rule"`
}

// SecurityGroupRef names a security group in a server's create request and
// view (Nova's shape: the name; a create may give the ID instead).
type SecurityGroupRef struct {
	Name string `json:"name"`
}

// listSecurityGroups shows the caller's project's groups, its default
// group included; an admin sees every stored group with all_projects, or
// one project's with project_id.
func (s *Server) listSecurityGroups(w http.ResponseWriter, r *http.Request) {
	idx := s.state.Index()
	q := r.URL.Query()
	err := onlyParams(q, "all_projects", "project_id", "consistent")
	var scope tenantScope
	if err == nil {
		scope, err = listScope(r, q, "all_projects", "project_id")
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	SetIndex(w, idx)
	WriteJSON(w, http.StatusOK, SecurityGroupList{SecurityGroups: s.ops.securityGroups(r.Context(), scope)})
}

func (s *Server) showSecurityGroup(w http.ResponseWriter, r *http.Request) {
	idx := s.state.Index()
	g, err := s.ops.SecurityGroup(r.Context(), r.PathValue("id"))
	s.writeFound(w, r, idx, err, func() any { return SecurityGroupResponse{SecurityGroup: g} })
}

func (s *Server) createSecurityGroup(w http.ResponseWriter, r *http.Request) {
	var req SecurityGroupCreate
	if err := decodeWrapped(w, r, "security_group", &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	idx, g, err := s.ops.CreateSecurityGroup(r.Context(), req)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeCreated(w, idx, "/v1/security-groups/"+url.PathEscape(g.ID), SecurityGroupResponse{SecurityGroup: g})
}

// updateSecurityGroup renames a group or changes its description.
func (s *Server) updateSecurityGroup(w http.ResponseWriter, r *http.Request) {
	var req SecurityGroupUpdate
	err := decodeWrapped(w, r, "security_group", &req)
	var idx uint64
	var g SecurityGroup
	if err == nil {
		idx, g, err = s.ops.UpdateSecurityGroup(r.Context(), r.PathValue("id"), req)
	}
	s.writeFound(w, r, idx, err, func() any { return SecurityGroupResponse{SecurityGroup: g} })
}

// deleteSecurityGroup deletes a group. The default group and a group a
// server is in are refused (409) here, before anything is proposed, and
// again in Apply.
func (s *Server) deleteSecurityGroup(w http.ResponseWriter, r *http.Request) {
	idx, err := s.ops.DeleteSecurityGroup(r.Context(), r.PathValue("id"))
	s.writeNoContent(w, r, idx, err)
}

func (s *Server) createSecurityGroupRule(w http.ResponseWriter, r *http.Request) {
	var req SecurityGroupRuleCreate
	if err := decodeWrapped(w, r, "security_group_rule", &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	idx, rule, err := s.ops.CreateSecurityGroupRule(r.Context(), req)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeCreated(w, idx, "/v1/security-group-rules/"+url.PathEscape(rule.ID), SecurityGroupRuleResponse{SecurityGroupRule: rule})
}

// newSecurityGroupRule checks a rule request: its group and remote group
// must be ones the caller sees (404 otherwise, as Neutron answers) and the
// rule itself must pass fsm's rules (400). That it repeats none of the
// group's rules is Apply's check (409).
func (s *Server) newSecurityGroupRule(ctx context.Context, req SecurityGroupRuleCreate) (fsm.SecurityGroupRule, error) {
	if err := validRef("security_group_id", req.SecurityGroupID); err != nil {
		return fsm.SecurityGroupRule{}, err
	}
	for _, f := range []struct{ name, value string }{
		{"direction", req.Direction}, {"ethertype", req.Ethertype}, {"protocol", req.Protocol},
		{"remote_ip_prefix", req.RemoteIPPrefix}, {"remote_group_id", req.RemoteGroupID},
	} {
		if err := validText(f.name, f.value, maxResourceRef); err != nil {
			return fsm.SecurityGroupRule{}, err
		}
	}
	protocol := ruleProtocol(req.Protocol)
	ethertype := req.Ethertype
	if strings.EqualFold(ethertype, fsm.EthertypeIPv4) {
		ethertype = fsm.EthertypeIPv4 // Neutron takes any case
	}
	g, err := s.securityGroupFor(ctx, req.SecurityGroupID)
	if err != nil {
		return fsm.SecurityGroupRule{}, err
	}
	if req.RemoteGroupID != "" {
		if _, err := s.securityGroupFor(ctx, req.RemoteGroupID); err != nil {
			return fsm.SecurityGroupRule{}, fmt.Errorf("remote group: %w", err)
		}
	}
	rule := fsm.SecurityGroupRule{ID: uuid.NewString(), GroupID: g.ID, Direction: req.Direction, Ethertype: ethertype,
		Protocol: protocol, PortMin: req.PortRangeMin, PortMax: req.PortRangeMax, RemoteIPPrefix: req.RemoteIPPrefix,
		RemoteGroupID: req.RemoteGroupID, ProjectID: g.ProjectID, Created: time.Now().UTC()}
	return rule, rule.Normalize()
}

// ruleProtocol normalizes a rule's protocol as Neutron does: names in any
// case, and the IANA numbers of the ones supported. What else is given is
// left for fsm to refuse, with its message.
func ruleProtocol(p string) string {
	switch p = strings.ToLower(p); p {
	case "1":
		return fsm.ProtocolICMP
	case "6":
		return fsm.ProtocolTCP
	case "17":
		return fsm.ProtocolUDP
	}
	return p
}

func (s *Server) deleteSecurityGroupRule(w http.ResponseWriter, r *http.Request) {
	idx, err := s.ops.DeleteSecurityGroupRule(r.Context(), r.PathValue("id"))
	s.writeNoContent(w, r, idx, err)
}

// ruleFor finds a rule of a group the caller sees; another project's is
// absent.
func (s *Server) ruleFor(ctx context.Context, id string) (fsm.SecurityGroupRule, error) {
	if err := validRef("security group rule", id); err != nil {
		return fsm.SecurityGroupRule{}, err
	}
	rule, err := s.state.SecurityGroupRule(id)
	if err == nil && !Caller(ctx).Sees(rule.ProjectID) {
		return fsm.SecurityGroupRule{}, fmt.Errorf("%w: security group rule %q", fsm.ErrNotFound, id)
	}
	return rule, err
}

// securityGroupFor finds a security group the caller may see by ID (the
// default group of its project included, stored or not); another project's
// is absent.
func (s *Server) securityGroupFor(ctx context.Context, id string) (fsm.SecurityGroup, error) {
	if err := validRef("security group", id); err != nil {
		return fsm.SecurityGroup{}, err
	}
	g, err := s.state.SecurityGroup(id)
	if err == nil && !Caller(ctx).Sees(g.ProjectID) {
		return fsm.SecurityGroup{}, fmt.Errorf("%w: security group %q", fsm.ErrNotFound, id)
	}
	return g, err
}

// securityGroupIn finds a group of project by ID, else by name (names are
// unique within a project), as Nova resolves the groups of a server.
func (s *Server) securityGroupIn(projectID, ref string) (fsm.SecurityGroup, error) {
	if err := validRef("security group", ref); err != nil {
		return fsm.SecurityGroup{}, err
	}
	groups := s.state.SecurityGroupsOf(projectID)
	if k := slices.IndexFunc(groups, func(g fsm.SecurityGroup) bool { return g.ID == ref }); k >= 0 {
		return groups[k], nil
	}
	if k := slices.IndexFunc(groups, func(g fsm.SecurityGroup) bool { return g.Name == ref }); k >= 0 {
		return groups[k], nil
	}
	return fsm.SecurityGroup{}, fmt.Errorf("%w: Security group %s not found.", fsm.ErrNotFound, truncate(ref))
}

// serverSecurityGroups resolves the groups of a server create in the
// server's project: unknown ones are a bad request (Nova's 400 "Security
// group X not found."); none means the project's default group, which the
// FSM assigns; a group named twice counts once.
func (s *Server) serverSecurityGroups(projectID string, refs []SecurityGroupRef) ([]string, error) {
	var ids []string
	for _, ref := range refs {
		g, err := s.securityGroupIn(projectID, ref.Name)
		if errors.Is(err, fsm.ErrNotFound) {
			return nil, fmt.Errorf("%w: Security group %s not found.", fsm.ErrInvalid, truncate(ref.Name))
		}
		if err != nil {
			return nil, err
		}
		if !slices.Contains(ids, g.ID) {
			ids = append(ids, g.ID)
		}
	}
	return ids, nil
}

// securityGroupAction builds the command of add-security-group or
// remove-security-group on inst; the group is one of the server's
// project's, by name or ID (404 otherwise, as Nova answers).
func (s *Server) securityGroupAction(inst fsm.Instance, req ServerActionRequest) (fsm.Command, error) {
	g, err := s.securityGroupIn(inst.ProjectID, req.Name)
	if err != nil {
		return nil, err
	}
	now := time.Now().UTC()
	if req.Action == ActionRemoveSecurityGroup {
		return &fsm.RemoveInstanceSecurityGroup{InstanceID: inst.ID, GroupID: g.ID, Time: now}, nil
	}
	return &fsm.AddInstanceSecurityGroup{InstanceID: inst.ID, GroupID: g.ID, Time: now}, nil
}

// securityGroupView renders a group in the wire shape.
func securityGroupView(g fsm.SecurityGroup) SecurityGroup {
	v := SecurityGroup{ID: g.ID, Name: g.Name, Description: g.Description, ProjectID: g.ProjectID,
		Rules: make([]SecurityGroupRule, 0, len(g.Rules)), Created: g.Created}
	for _, rule := range g.Rules {
		v.Rules = append(v.Rules, ruleView(rule))
	}
	return v
}

// ruleView renders a rule in the wire shape: what it leaves open is null.
func ruleView(r fsm.SecurityGroupRule) SecurityGroupRule {
	orNull := func(s string) *string {
		if s == "" {
			return nil
		}
		return &s
	}
	return SecurityGroupRule{ID: r.ID, SecurityGroupID: r.GroupID, Direction: r.Direction, Ethertype: r.Ethertype,
		Protocol: orNull(r.Protocol), PortRangeMin: intCopy(r.PortMin), PortRangeMax: intCopy(r.PortMax),
		RemoteIPPrefix: orNull(r.RemoteIPPrefix), RemoteGroupID: orNull(r.RemoteGroupID), ProjectID: r.ProjectID,
		Created: r.Created}
}

func intCopy(p *int) *int {
	if p == nil {
		return nil
	}
	n := *p
	return &n
}
