package neutron

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/shoal-project/shoal/api"
	"github.com/shoal-project/shoal/fsm"
)

// Security groups: shoal's are Neutron's already (its default group per
// project, stateful rules, null for what a rule leaves open); this file
// adds the attributes Neutron shows and its names for refusals. A project
// member manages its project's groups; an admin lists every project's.

// SecurityGroup is a security group in Neutron's shape.
type SecurityGroup struct {
	ID             string   `json:"id"`
	Name           string   `json:"name"`
	Description    string   `json:"description"`
	Stateful       bool     `json:"stateful"`
	Rules          []Rule   `json:"security_group_rules"`
	ProjectID      string   `json:"project_id"`
	TenantID       string   `json:"tenant_id"`
	CreatedAt      string   `json:"created_at"`
	UpdatedAt      string   `json:"updated_at"`
	RevisionNumber int      `json:"revision_number"`
	Tags           []string `json:"tags"`
}

func groupView(g api.SecurityGroup) SecurityGroup {
	created := stamp(g.Created)
	v := SecurityGroup{ID: g.ID, Name: g.Name, Description: g.Description, Stateful: true,
		Rules: make([]Rule, 0, len(g.Rules)), ProjectID: g.ProjectID, TenantID: g.ProjectID,
		CreatedAt: created, UpdatedAt: created, RevisionNumber: 1, Tags: []string{}}
	for _, r := range g.Rules {
		v.Rules = append(v.Rules, ruleView(r))
	}
	return v
}

// group finds the security group with ID id the caller sees.
func (h handlers) group(ctx context.Context, id string) (api.SecurityGroup, error) {
	g, err := h.ops.SecurityGroup(ctx, id)
	return g, lookup(err, resGroup, id)
}

// groups are the groups the caller sees: its project's (the default group
// included), and for an admin every project's, as Neutron lists them.
func (h handlers) groups(ctx context.Context) ([]api.SecurityGroup, error) {
	return h.ops.SecurityGroups(ctx, api.Scope{All: h.ops.Principal(ctx).Admin()})
}

func (h handlers) listSecurityGroups(w http.ResponseWriter, r *http.Request) {
	idx := h.ops.Index()
	groups, err := h.groups(r.Context())
	if err != nil {
		writeError(w, r, err)
		return
	}
	out := make([]SecurityGroup, 0, len(groups))
	for _, g := range groups {
		out = append(out, groupView(g))
	}
	writeList(w, r, idx, "security_groups", out)
}

func (h handlers) showSecurityGroup(w http.ResponseWriter, r *http.Request) {
	idx := h.ops.Index()
	g, err := h.group(r.Context(), r.PathValue("id"))
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeOne(w, r, http.StatusOK, idx, "security_group", groupView(g))
}

var groupReadOnly = []string{"id", "security_group_rules", "created_at", "updated_at", "revision_number", "tags"}

var groupCreate = bodySpec{resource: "security_group",
	accepts:  []string{"name", "description", "stateful", "project_id", "tenant_id"},
	readOnly: groupReadOnly}

var groupUpdate = bodySpec{resource: "security_group",
	accepts:  []string{"name", "description"},
	readOnly: append([]string{"stateful", "project_id", "tenant_id"}, groupReadOnly...)}

func (h handlers) createSecurityGroup(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	a, err := decode(w, r, groupCreate)
	var req api.SecurityGroupCreate
	if err == nil {
		req.Name, err = a.str("name", "", false)
	}
	if err == nil {
		req.Description, err = a.str("description", "", true)
	}
	if err == nil {
		err = a.only("stateful", true)
	}
	if err == nil {
		err = h.ownProject(ctx, a)
	}
	var idx uint64
	var g api.SecurityGroup
	if err == nil {
		idx, g, err = h.ops.CreateSecurityGroup(ctx, req)
		err = namedGroupConflict(err, false, req.Name)
	}
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeOne(w, r, http.StatusCreated, idx, "security_group", groupView(g))
}

// updateSecurityGroup renames a group or changes its description; what
// the body leaves out stays.
func (h handlers) updateSecurityGroup(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	id := r.PathValue("id")
	g, err := h.group(ctx, id)
	var a attrs
	if err == nil {
		a, err = decode(w, r, groupUpdate)
	}
	var u api.SecurityGroupUpdate
	var name string
	if err == nil && a.has("name") {
		name, err = a.str("name", "", false)
		u.Name = &name
	}
	if err == nil && a.has("description") {
		var desc string
		desc, err = a.str("description", "", true)
		u.Description = &desc
	}
	idx, updated := h.ops.Index(), g
	if err == nil {
		idx, updated, err = h.ops.UpdateSecurityGroup(ctx, g.ID, u)
		err = namedGroupConflict(err, g.ID == fsm.DefaultSecurityGroupID(g.ProjectID), name)
	}
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeOne(w, r, http.StatusOK, idx, "security_group", groupView(updated))
}

// namedGroupConflict names api's refusal of a name for a group (def: the
// group is its project's default group) as Neutron does: the default group
// keeps its name (SecurityGroupCannotUpdateDefault) and no other takes
// "default" (SecurityGroupDefaultAlreadyExists). Neutron allows other names
// twice in a project, shoal does not: that stays a plain Conflict.
func namedGroupConflict(err error, def bool, name string) error {
	switch {
	case !errors.Is(err, fsm.ErrConflict):
		return err
	case def:
		return named(err, "SecurityGroupCannotUpdateDefault", "Updating default security group not allowed.")
	case name == fsm.DefaultSecurityGroupName:
		return named(err, "SecurityGroupDefaultAlreadyExists", "Default security group already exists.")
	}
	return err
}

// deleteSecurityGroup answers Neutron's names for api's refusals: the
// default group cannot go (SecurityGroupCannotRemoveDefault), nor a group
// a server's port is in (SecurityGroupInUse).
func (h handlers) deleteSecurityGroup(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	id := r.PathValue("id")
	g, err := h.group(ctx, id)
	var idx uint64
	if err == nil {
		idx, err = h.ops.DeleteSecurityGroup(ctx, g.ID)
	}
	if errors.Is(err, fsm.ErrConflict) {
		if g.ID == fsm.DefaultSecurityGroupID(g.ProjectID) {
			err = named(err, "SecurityGroupCannotRemoveDefault", "Insufficient rights for removing default security group.")
		} else {
			err = named(err, "SecurityGroupInUse", fmt.Sprintf("Security Group %s in use.", g.ID))
		}
	}
	if err != nil {
		writeError(w, r, lookup(err, resGroup, id))
		return
	}
	api.SetIndex(w, idx)
	w.WriteHeader(http.StatusNoContent)
}
