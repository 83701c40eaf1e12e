package api

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/google/uuid"

	"github.com/shoal-project/shoal/fsm"
)

// What the Neutron module needs beyond the Ops the /v1 handlers share.

// DecodeObject reads a request body that must be one JSON object, with
// the API's limits and text rules (decode.go: size, UTF-8, no half
// surrogate pairs), and returns its members undecoded: a module converts
// them with its own dialect's rules.
func DecodeObject(w http.ResponseWriter, r *http.Request) (map[string]json.RawMessage, error) {
	b, err := readBody(w, r)
	if err != nil {
		return nil, err
	}
	return topLevelKeys(b)
}

// AllocateFloatingIPAddress is AllocateFloatingIP of a chosen address
// (Neutron's floating_ip_address, an admin's choice by its policy): it
// must be free (409) and in one of the network's pools (400), Apply's
// checks.
func (o *Ops) AllocateFloatingIPAddress(ctx context.Context, req FloatingIPCreate, ip string) (uint64, FloatingIP, error) {
	n, err := o.s.externalNetwork(req.Network)
	if err != nil {
		return 0, FloatingIP{}, err
	}
	if err := validText("floating_ip_address", ip, maxResourceRef); err != nil {
		return 0, FloatingIP{}, err
	}
	p := Caller(ctx)
	cmd := &fsm.AllocateFloatingIP{ID: uuid.NewString(), NetworkID: n.ID, IP: ip, ProjectID: p.ProjectID,
		UserID: p.UserID, Time: time.Now().UTC()}
	idx, f, err := applyRead(o.s, ctx, cmd, "floating IP", cmd.ID, o.s.state.FloatingIP)
	return idx, floatingIPView(f), err
}

// SecurityGroupUpdate is what changes in a security group: its name and
// description (nil: unchanged).
type SecurityGroupUpdate struct {
	Name        *string
	Description *string
}

// UpdateSecurityGroup renames a group of the caller's or changes its
// description. The names' rules are CreateSecurityGroup's (a name its
// project already has is 409, the default group keeps its name). The
// replicated state has no command for it yet (fsm.UpdateSecurityGroup is
// asked of the fsm work), so a change is 501 until it has; an update that
// changes nothing answers the group.
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
	if err := validName("security group name", name); err != nil {
		return 0, SecurityGroup{}, err
	}
	if err := validText("description", desc, maxDescriptionLen); err != nil {
		return 0, SecurityGroup{}, err
	}
	if name == g.Name && desc == g.Description {
		return o.s.state.Index(), securityGroupView(g), nil
	}
	if g.ID == fsm.DefaultSecurityGroupID(g.ProjectID) && name != g.Name {
		return 0, SecurityGroup{}, fmt.Errorf("%w: the default security group cannot be renamed", fsm.ErrConflict)
	}
	return 0, SecurityGroup{}, fmt.Errorf("%w: changing a security group needs a replicated command shoal does not have yet", errNotImplemented)
}
