package neutron

import (
	"errors"
	"net/http"

	"github.com/shoal-project/shoal/api"
	"github.com/shoal-project/shoal/fsm"
)

// Security group rules: created and deleted one by one (the CLI's
// `security group rule create` finds the group, then POSTs the rule with
// remote_ip_prefix 0.0.0.0/0 and protocol null for "any"); listed from
// the groups the caller sees.

// Rule is a security group rule in Neutron's shape: what it leaves open
// is null.
type Rule struct {
	ID              string  `json:"id"`
	SecurityGroupID string  `json:"security_group_id"`
	Direction       string  `json:"direction"`
	Ethertype       string  `json:"ethertype"`
	Protocol        *string `json:"protocol"`
	PortRangeMin    *int    `json:"port_range_min"`
	PortRangeMax    *int    `json:"port_range_max"`
	RemoteIPPrefix  *string `json:"remote_ip_prefix"`
	RemoteGroupID   *string `json:"remote_group_id"`
	Description     string  `json:"description"`
	ProjectID       string  `json:"project_id"`
	TenantID        string  `json:"tenant_id"`
	CreatedAt       string  `json:"created_at"`
	UpdatedAt       string  `json:"updated_at"`
	RevisionNumber  int     `json:"revision_number"`
}

func ruleView(r api.SecurityGroupRule) Rule {
	created := stamp(r.Created)
	return Rule{ID: r.ID, SecurityGroupID: r.SecurityGroupID, Direction: r.Direction, Ethertype: r.Ethertype,
		Protocol: r.Protocol, PortRangeMin: r.PortRangeMin, PortRangeMax: r.PortRangeMax,
		RemoteIPPrefix: r.RemoteIPPrefix, RemoteGroupID: r.RemoteGroupID, ProjectID: r.ProjectID,
		TenantID: r.ProjectID, CreatedAt: created, UpdatedAt: created, RevisionNumber: 1}
}

func (h handlers) listRules(w http.ResponseWriter, r *http.Request) {
	idx := h.ops.Index()
	groups, err := h.groups(r.Context())
	if err != nil {
		writeError(w, r, err)
		return
	}
	out := []Rule{}
	for _, g := range groups {
		for _, rule := range g.Rules {
			out = append(out, ruleView(rule))
		}
	}
	writeList(w, r, idx, "security_group_rules", out)
}

func (h handlers) showRule(w http.ResponseWriter, r *http.Request) {
	idx := h.ops.Index()
	id := r.PathValue("id")
	rule, err := h.ops.SecurityGroupRule(r.Context(), id)
	if err != nil {
		writeError(w, r, lookup(err, resRule, id))
		return
	}
	writeOne(w, r, http.StatusOK, idx, "security_group_rule", ruleView(rule))
}

var ruleCreate = bodySpec{resource: "security_group_rule",
	accepts: []string{"security_group_id", "direction", "ethertype", "protocol", "port_range_min", "port_range_max",
		"remote_ip_prefix", "remote_group_id", "description", "project_id", "tenant_id"},
	readOnly: []string{"id", "created_at", "updated_at", "revision_number"}}

// createRule checks the rule's groups first, so that an unknown one is
// named as Neutron names it (the group, or the remote group), then lets
// api.Ops check the rule itself with fsm's rules.
func (h handlers) createRule(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	a, err := decode(w, r, ruleCreate)
	var req api.SecurityGroupRuleCreate
	if err == nil {
		req, err = decodeRule(a)
	}
	var g api.SecurityGroup
	if err == nil {
		g, err = h.group(ctx, req.SecurityGroupID)
	}
	if err == nil && req.RemoteGroupID != "" {
		_, err = h.group(ctx, req.RemoteGroupID)
	}
	if err == nil {
		err = ruleProject(a, g.ProjectID)
	}
	var idx uint64
	var rule api.SecurityGroupRule
	if err == nil {
		idx, rule, err = h.ops.CreateSecurityGroupRule(ctx, req)
		if errors.Is(err, fsm.ErrConflict) {
			err = named(err, "SecurityGroupRuleExists", "")
		}
	}
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeOne(w, r, http.StatusCreated, idx, "security_group_rule", ruleView(rule))
}

// decodeRule converts a rule's attributes as Neutron does; null leaves
// protocol, ports and remote open.
func decodeRule(a attrs) (api.SecurityGroupRuleCreate, error) {
	var req api.SecurityGroupRuleCreate
	var err error
	if !a.has("security_group_id") {
		return req, badRequest("Failed to parse request. Required attribute 'security_group_id' not specified")
	}
	if !a.has("direction") {
		return req, badRequest("Failed to parse request. Required attribute 'direction' not specified")
	}
	for _, f := range []struct {
		name     string
		to       *string
		nullable bool
	}{
		{"security_group_id", &req.SecurityGroupID, false}, {"direction", &req.Direction, false},
		{"ethertype", &req.Ethertype, false}, {"protocol", &req.Protocol, true},
		{"remote_ip_prefix", &req.RemoteIPPrefix, true}, {"remote_group_id", &req.RemoteGroupID, true},
	} {
		if *f.to, err = a.str(f.name, "", f.nullable); err != nil {
			return req, err
		}
	}
	if req.PortRangeMin, err = a.optInt("port_range_min"); err != nil {
		return req, err
	}
	if req.PortRangeMax, err = a.optInt("port_range_max"); err != nil {
		return req, err
	}
	return req, noDescription(a)
}

// ruleProject refuses a project other than the group's: a rule belongs to
// its group's project.
func ruleProject(a attrs, project string) error {
	for _, k := range []string{"project_id", "tenant_id"} {
		p, err := a.str(k, project, false)
		if err != nil {
			return err
		}
		if p != project {
			return invalid(k, "a rule belongs to its security group's project (%s)", project)
		}
	}
	return nil
}

// deleteRule removes a rule of a group the caller sees.
func (h handlers) deleteRule(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	id := r.PathValue("id")
	idx, err := h.ops.DeleteSecurityGroupRule(ctx, id)
	if err != nil {
		writeError(w, r, lookup(err, resRule, id))
		return
	}
	api.SetIndex(w, idx)
	w.WriteHeader(http.StatusNoContent)
}
