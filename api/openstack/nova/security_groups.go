package nova

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"regexp"
	"slices"
	"strconv"

	"github.com/google/uuid"

	"github.com/shoal-project/shoal/api"
	"github.com/shoal-project/shoal/fsm"
)

// os-security-groups and os-security-group-rules: Nova's proxy of
// Neutron's security groups (gone at 2.36), over the same api.Ops the
// Neutron module serves. Nova shows a group's ingress rules only, in its
// own shape (parent_group_id, ip_protocol, from_port/to_port, ip_range or
// group), and answers Neutron's refusals as 400 (a duplicate rule, the
// default group or a group in use deleted).

func (m *Module) registerSecurityGroups(r api.Router) {
	m.route(r, "GET /os-security-groups", api.AccessProjectReader, m.listSecurityGroups, until235)
	m.route(r, "POST /os-security-groups", api.AccessProjectMember, m.createSecurityGroup, until235)
	m.route(r, "GET /os-security-groups/{id}", api.AccessProjectReader, m.showSecurityGroup, until235)
	m.route(r, "PUT /os-security-groups/{id}", api.AccessProjectMember, m.updateSecurityGroup, until235)
	m.route(r, "DELETE /os-security-groups/{id}", api.AccessProjectMember, m.deleteSecurityGroup, until235)
	m.route(r, "POST /os-security-group-rules", api.AccessProjectMember, m.createSecurityGroupRule, until235)
	m.route(r, "DELETE /os-security-group-rules/{id}", api.AccessProjectMember, m.deleteSecurityGroupRule, until235)
	// A server's groups are not part of the proxy: Nova serves them at
	// every microversion.
	m.route(r, "GET /servers/{id}/os-security-groups", api.AccessProjectReader, m.serverSecurityGroups)
}

// SecurityGroup is a security group in Nova's shape.
type SecurityGroup struct {
	ID          string              `json:"id"`
	Name        string              `json:"name"`
	Description string              `json:"description"`
	TenantID    string              `json:"tenant_id"`
	Rules       []SecurityGroupRule `json:"rules"`
}

// SecurityGroupRule is an ingress rule in Nova's shape: a rule from a
// remote group names it in group (ip_range is {}), any other its prefix in
// ip_range (group is {}).
type SecurityGroupRule struct {
	ID            string            `json:"id"`
	ParentGroupID string            `json:"parent_group_id"`
	IPProtocol    *string           `json:"ip_protocol"`
	FromPort      *int              `json:"from_port"`
	ToPort        *int              `json:"to_port"`
	IPRange       map[string]string `json:"ip_range"`
	Group         map[string]string `json:"group"`
}

// groupNames finds the name and project of the remote groups rules name,
// each looked up once; a group the caller cannot see is nil (Nova leaves
// its rules out).
type groupNames struct {
	ctx   context.Context
	ops   *api.Ops
	known map[string]map[string]string
}

func (m *Module) groupNames(ctx context.Context, groups ...api.SecurityGroup) *groupNames {
	n := &groupNames{ctx: ctx, ops: m.ops, known: map[string]map[string]string{}}
	for _, g := range groups {
		n.known[g.ID] = map[string]string{"name": g.Name, "tenant_id": g.ProjectID}
	}
	return n
}

func (n *groupNames) of(id string) map[string]string {
	if v, ok := n.known[id]; ok {
		return v
	}
	var v map[string]string
	if g, err := n.ops.SecurityGroup(n.ctx, id); err == nil {
		v = map[string]string{"name": g.Name, "tenant_id": g.ProjectID}
	}
	n.known[id] = v
	return v
}

func (n *groupNames) group(g api.SecurityGroup) SecurityGroup {
	v := SecurityGroup{ID: g.ID, Name: g.Name, Description: g.Description, TenantID: g.ProjectID, Rules: []SecurityGroupRule{}}
	for _, r := range g.Rules {
		if rule, ok := n.rule(r); ok {
			v.Rules = append(v.Rules, rule)
		}
	}
	return v
}

// rule renders an ingress rule as Nova converts Neutron's: a protocol
// without ports is its whole range (1-65535, or -1 for icmp), a rule
// without a prefix is from 0.0.0.0/0. Egress rules have no Nova shape.
func (n *groupNames) rule(r api.SecurityGroupRule) (SecurityGroupRule, bool) {
	if r.Direction != fsm.DirectionIngress {
		return SecurityGroupRule{}, false
	}
	v := SecurityGroupRule{ID: r.ID, ParentGroupID: r.SecurityGroupID, IPProtocol: r.Protocol,
		FromPort: r.PortRangeMin, ToPort: r.PortRangeMax, IPRange: map[string]string{}, Group: map[string]string{}}
	if r.Protocol != nil && r.PortRangeMin == nil && r.PortRangeMax == nil {
		low, high := -1, -1
		if *r.Protocol == fsm.ProtocolTCP || *r.Protocol == fsm.ProtocolUDP {
			low, high = 1, 65535
		}
		v.FromPort, v.ToPort = &low, &high
	}
	switch {
	case r.RemoteGroupID != nil:
		if v.Group = n.of(*r.RemoteGroupID); v.Group == nil {
			return SecurityGroupRule{}, false
		}
	case r.RemoteIPPrefix != nil:
		v.IPRange["cidr"] = *r.RemoteIPPrefix
	default:
		v.IPRange["cidr"] = "0.0.0.0/0"
	}
	return v, true
}

// sortGroups orders groups as Nova answers them: by project, then name.
func sortGroups(groups []SecurityGroup) {
	slices.SortStableFunc(groups, func(a, b SecurityGroup) int {
		return cmp.Or(cmp.Compare(a.TenantID, b.TenantID), cmp.Compare(a.Name, b.Name))
	})
}

// intLike is an ID of nova-network's days (an integer): no group has one,
// so it is 404, as nova-network answered, where any other non-UUID is
// Nova's 400. Tempest configured without Neutron looks groups up so.
var intLike = regexp.MustCompile(`^\s*[-+]?[0-9]+\s*$`)

// groupID checks a security group (or rule) ID from the path and returns
// it in its canonical form.
func groupID(id, what string) (string, error) {
	if u, err := uuid.Parse(id); err == nil {
		return u.String(), nil
	}
	if intLike.MatchString(id) {
		return "", notFound("%s %s not found.", what, id)
	}
	return "", badRequest("Security group id should be uuid")
}

// groupErr words a failed lookup of group id as Nova does.
func groupErr(id string, err error) error {
	if errors.Is(err, fsm.ErrNotFound) {
		return notFound("Security group %s not found.", id)
	}
	return err
}

func (m *Module) listSecurityGroups(w http.ResponseWriter, r *http.Request) {
	ctx, q := r.Context(), r.URL.Query()
	idx := m.ops.Index()
	offset, limit, err := offsetLimit(q.Get("offset"), q.Get("limit"), q.Has("limit"))
	var groups []api.SecurityGroup
	if err == nil {
		// all_tenants is an admin's; Nova ignores it from anyone else.
		groups, err = m.ops.SecurityGroups(ctx, api.Scope{All: q.Has("all_tenants") && m.ops.Principal(ctx).Admin()})
	}
	if err != nil {
		m.fail(w, r, err)
		return
	}
	groups = groups[min(offset, len(groups)):]
	groups = groups[:min(limit, len(groups))]
	names := m.groupNames(ctx, groups...)
	out := make([]SecurityGroup, 0, len(groups))
	for _, g := range groups {
		out = append(out, names.group(g))
	}
	sortGroups(out)
	api.SetIndex(w, idx)
	api.WriteJSON(w, http.StatusOK, map[string][]SecurityGroup{"security_groups": out})
}

// offsetLimit reads Nova's common.limited parameters: non-negative
// integers, the limit at most maxPage.
func offsetLimit(offset, limit string, given bool) (int, int, error) {
	from, n := 0, maxPage
	for _, p := range []struct {
		name, value string
		into        *int
		given       bool
	}{{"offset", offset, &from, offset != ""}, {"limit", limit, &n, given}} {
		if !p.given {
			continue
		}
		v, err := strconv.Atoi(p.value)
		if err != nil || v < 0 {
			return 0, 0, badRequest("Invalid input for query parameters %s. Value: %s. '%s' does not match '^[0-9]*$'", p.name, p.value, p.value)
		}
		*p.into = v
	}
	return from, min(n, maxPage), nil
}

func (m *Module) showSecurityGroup(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	idx := m.ops.Index()
	ref, err := groupID(id, "Security group")
	var g api.SecurityGroup
	if err == nil {
		g, err = m.ops.SecurityGroup(r.Context(), ref)
	}
	if err != nil {
		m.fail(w, r, groupErr(id, err))
		return
	}
	api.SetIndex(w, idx)
	api.WriteJSON(w, http.StatusOK, map[string]SecurityGroup{"security_group": m.groupNames(r.Context(), g).group(g)})
}

// decodeGroup reads Nova's body of a group's create and update:
// {"security_group":{"name":…,"description":…}}, both strings of at most
// 255 characters and both required; other members are ignored, as Nova's
// schema lets them be.
func decodeGroup(w http.ResponseWriter, r *http.Request) (name, description string, err error) {
	body, err := readObject(w, r)
	if err != nil {
		return "", "", err
	}
	raw, ok := body["security_group"]
	if !ok {
		return "", "", invalidInput("", nil, "'security_group' is a required property")
	}
	var sg map[string]json.RawMessage
	if json.Unmarshal(raw, &sg) != nil || sg == nil {
		return "", "", invalidInput("security_group", raw, truncated(raw)+" is not of type 'object'")
	}
	if err := required("security_group", sg, "name", "description"); err != nil {
		return "", "", err
	}
	var out [2]string
	for k, field := range []string{"name", "description"} {
		s, err := stringField(field, sg[field])
		if err != nil {
			return "", "", err
		}
		if n := len([]rune(s)); n > 255 {
			return "", "", invalidInput(field, sg[field], truncated(sg[field])+" is too long")
		}
		out[k] = s
	}
	return out[0], out[1], nil
}

// groupConflict answers api's refusal of a group's name as nova-network
// did (Neutron takes a name twice; shoal keeps names unique in a project).
func groupConflict(err error, name string) error {
	if errors.Is(err, fsm.ErrConflict) {
		return badRequest("Security group %s already exists", name)
	}
	return err
}

func (m *Module) createSecurityGroup(w http.ResponseWriter, r *http.Request) {
	name, description, err := decodeGroup(w, r)
	var g api.SecurityGroup
	if err == nil {
		_, g, err = m.ops.CreateSecurityGroup(r.Context(), api.SecurityGroupCreate{Name: name, Description: description})
		err = groupConflict(err, name)
	}
	if err != nil {
		m.fail(w, r, err)
		return
	}
	api.WriteJSON(w, http.StatusOK, map[string]SecurityGroup{"security_group": m.groupNames(r.Context(), g).group(g)})
}

// updateSecurityGroup sets a group's name and description (Nova's body
// carries both). The default group keeps its name (400).
func (m *Module) updateSecurityGroup(w http.ResponseWriter, r *http.Request) {
	ctx, id := r.Context(), r.PathValue("id")
	ref, err := groupID(id, "Security group")
	var g api.SecurityGroup
	if err == nil {
		g, err = m.ops.SecurityGroup(ctx, ref)
		err = groupErr(id, err)
	}
	var name, description string
	if err == nil {
		name, description, err = decodeGroup(w, r)
	}
	if err == nil {
		_, g, err = m.ops.UpdateSecurityGroup(ctx, g.ID, api.SecurityGroupUpdate{Name: &name, Description: &description})
		if errors.Is(err, fsm.ErrConflict) && g.ID == fsm.DefaultSecurityGroupID(g.ProjectID) {
			err = badRequest("Updating default security group not allowed.")
		}
		err = groupConflict(groupErr(id, err), name)
	}
	if err != nil {
		m.fail(w, r, err)
		return
	}
	api.WriteJSON(w, http.StatusOK, map[string]SecurityGroup{"security_group": m.groupNames(ctx, g).group(g)})
}

// deleteSecurityGroup answers 202. Neutron's refusals (the default group,
// a group a server is in) are Nova's 400 with Neutron's words.
func (m *Module) deleteSecurityGroup(w http.ResponseWriter, r *http.Request) {
	ctx, id := r.Context(), r.PathValue("id")
	ref, err := groupID(id, "Security group")
	var g api.SecurityGroup
	if err == nil {
		g, err = m.ops.SecurityGroup(ctx, ref)
	}
	if err == nil {
		_, err = m.ops.DeleteSecurityGroup(ctx, g.ID)
		if errors.Is(err, fsm.ErrConflict) {
			if g.ID == fsm.DefaultSecurityGroupID(g.ProjectID) {
				err = badRequest("Insufficient rights for removing default security group.")
			} else {
				err = badRequest("Security Group %s in use.", g.ID)
			}
		}
	}
	if err != nil {
		m.fail(w, r, groupErr(id, err))
		return
	}
	w.WriteHeader(http.StatusAccepted)
}

// serverSecurityGroups lists the groups a server is in.
func (m *Module) serverSecurityGroups(w http.ResponseWriter, r *http.Request) {
	ctx, id := r.Context(), r.PathValue("id")
	idx := m.ops.Index()
	groups, err := m.ops.ServerSecurityGroups(ctx, id)
	if err != nil {
		m.fail(w, r, instanceErr(id, err))
		return
	}
	names := m.groupNames(ctx, groups...)
	out := make([]SecurityGroup, 0, len(groups))
	for _, g := range groups {
		out = append(out, names.group(g))
	}
	sortGroups(out)
	api.SetIndex(w, idx)
	api.WriteJSON(w, http.StatusOK, map[string][]SecurityGroup{"security_groups": out})
}
