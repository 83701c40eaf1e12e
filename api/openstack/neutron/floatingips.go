package neutron

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/shoal-project/shoal/api"
	"github.com/shoal-project/shoal/api/openstack/osapi"
	"github.com/shoal-project/shoal/fsm"
)

// Floating IPs in Neutron's shape over shoal's: a project allocates one
// from an external network and associates it with a port, which names a
// server's fixed IP (osapi.PortID). Associating, moving and detaching are
// one PUT of port_id; every rule (quota, tenancy, the fixed IP taken by
// another floating IP) is api.Ops's.

// FloatingIP is a floating IP in Neutron's shape.
type FloatingIP struct {
	ID                string   `json:"id"`
	FloatingIPAddress string   `json:"floating_ip_address"`
	FloatingNetworkID string   `json:"floating_network_id"`
	PortID            *string  `json:"port_id"`
	FixedIPAddress    *string  `json:"fixed_ip_address"`
	RouterID          *string  `json:"router_id"`
	Status            string   `json:"status"`
	Description       string   `json:"description"`
	ProjectID         string   `json:"project_id"`
	TenantID          string   `json:"tenant_id"`
	CreatedAt         string   `json:"created_at"`
	UpdatedAt         string   `json:"updated_at"`
	RevisionNumber    int      `json:"revision_number"`
	Tags              []string `json:"tags"`
}

// portIDs maps a server's fixed IP to its port's ID, for the ports the
// caller sees.
type portIDs map[[2]string]string

func (h handlers) portIDs(ctx context.Context) (portIDs, error) {
	ports, err := h.ports(ctx)
	if err != nil {
		return nil, err
	}
	m := make(portIDs, len(ports))
	for _, p := range ports {
		m[[2]string{p.serverID, p.fixedIP}] = p.view.ID
	}
	return m, nil
}

// floatingIPView renders f. An associated floating IP is ACTIVE (shoal
// programs its NAT as soon as it is associated) and names the port of its
// fixed IP; a port the caller cannot see (an admin associated the floating
// IP with another project's server) is shown as null, as are routers,
// which shoal has none of.
func floatingIPView(f api.FloatingIP, ports portIDs) FloatingIP {
	created := stamp(f.Created)
	v := FloatingIP{ID: f.ID, FloatingIPAddress: f.IP, FloatingNetworkID: f.Network, Status: "DOWN",
		ProjectID: f.ProjectID, TenantID: f.ProjectID, CreatedAt: created, UpdatedAt: created, RevisionNumber: 1,
		Tags: []string{}}
	if f.ServerID != "" {
		v.Status = "ACTIVE"
		fixed := f.FixedIP
		v.FixedIPAddress = &fixed
		if id, ok := ports[[2]string{f.ServerID, f.FixedIP}]; ok {
			v.PortID = &id
		}
	}
	return v
}

// floatingIP finds the floating IP with ID id (its address is no ID here,
// as in Neutron: the SDK lists with ?floating_ip_address= for that).
func (h handlers) floatingIP(ctx context.Context, id string) (api.FloatingIP, error) {
	f, err := h.ops.FloatingIP(ctx, id)
	if err == nil && f.ID != id {
		err = fmt.Errorf("%w: floating IP %q", fsm.ErrNotFound, id)
	}
	return f, lookup(err, resFIP, id)
}

func (h handlers) listFloatingIPs(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	idx := h.ops.Index()
	fips, err := h.ops.FloatingIPs(ctx, api.Scope{All: h.ops.Principal(ctx).Admin()})
	var ports portIDs
	if err == nil {
		ports, err = h.portIDs(ctx)
	}
	if err != nil {
		writeError(w, r, err)
		return
	}
	out := make([]FloatingIP, 0, len(fips))
	for _, f := range fips {
		out = append(out, floatingIPView(f, ports))
	}
	writeList(w, r, idx, "floatingips", out)
}

func (h handlers) showFloatingIP(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	idx := h.ops.Index()
	f, err := h.floatingIP(ctx, r.PathValue("id"))
	h.writeFloatingIP(w, r, http.StatusOK, idx, f, err)
}

// writeFloatingIP answers with f rendered, or err.
func (h handlers) writeFloatingIP(w http.ResponseWriter, r *http.Request, status int, idx uint64, f api.FloatingIP, err error) {
	var ports portIDs
	if err == nil {
		ports, err = h.portIDs(r.Context())
	}
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeOne(w, r, status, idx, "floatingip", floatingIPView(f, ports))
}

var floatingIPCreate = bodySpec{resource: "floatingip",
	accepts: []string{"floating_network_id", "subnet_id", "port_id", "fixed_ip_address", "floating_ip_address",
		"description", "project_id", "tenant_id"},
	readOnly: []string{"id", "router_id", "status", "created_at", "updated_at", "revision_number", "tags"}}

var floatingIPUpdate = bodySpec{resource: "floatingip",
	accepts: []string{"port_id", "fixed_ip_address", "description"},
	readOnly: []string{"id", "floating_ip_address", "floating_network_id", "router_id", "status", "project_id",
		"tenant_id", "created_at", "updated_at", "revision_number", "tags"}}

// createFloatingIP allocates a floating IP and, given a port, associates
// it: the port is checked before anything is allocated, and the
// allocation is given back if the association is refused, so a refused
// request leaves nothing behind.
func (h handlers) createFloatingIP(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	a, err := decode(w, r, floatingIPCreate)
	var req api.FloatingIPCreate
	var target *port
	fixed := ""
	if err == nil {
		req, err = h.decodeFloatingIPCreate(ctx, a)
	}
	if err == nil {
		target, fixed, err = h.target(ctx, a)
	}
	if err == nil && target != nil {
		err = h.free(ctx, "", target.serverID, fixed)
	}
	var idx uint64
	var f api.FloatingIP
	if err == nil {
		idx, f, err = h.ops.AllocateFloatingIP(ctx, req)
		err = namedAllocation(err, req.Network, req.IP)
	}
	if err == nil && target != nil {
		var aidx uint64
		aidx, f, err = h.ops.AssociateFloatingIP(ctx, f.ID, target.serverID, fixed)
		if err != nil {
			_, _ = h.ops.ReleaseFloatingIP(ctx, f.ID)
			err = namedAssociation(err)
		}
		idx = max(idx, aidx)
	}
	h.writeFloatingIP(w, r, http.StatusCreated, idx, f, err)
}

// decodeFloatingIPCreate reads the network and, an admin's choice (api's
// rule), the address.
func (h handlers) decodeFloatingIPCreate(ctx context.Context, a attrs) (req api.FloatingIPCreate, err error) {
	if !a.has("floating_network_id") {
		return req, badRequest("Failed to parse request. Required attribute 'floating_network_id' not specified")
	}
	if req.Network, err = a.str("floating_network_id", "", false); err != nil {
		return req, err
	}
	if req.Network == "" {
		return req, invalid("floating_network_id", "'' is not a valid UUID")
	}
	subnet, err := a.str("subnet_id", osapi.SubnetID(req.Network), true)
	if err != nil {
		return req, err
	}
	if subnet != "" && subnet != osapi.SubnetID(req.Network) {
		return req, badRequest("Bad floatingip request: subnet %s is not the subnet of network %s.", subnet, req.Network)
	}
	if req.Network == osapi.TenantNetworkID(h.ops.ClusterID()) {
		req.Network = fsm.DefaultNetworkID // refused as not external, not as unknown
	}
	if err := h.ownProject(ctx, a); err != nil {
		return req, err
	}
	if err := noDescription(a); err != nil {
		return req, err
	}
	req.IP, err = a.str("floating_ip_address", "", true)
	return req, err
}

// ownProject refuses a project_id (or tenant_id) other than the caller's:
// shoal creates in the caller's project.
func (h handlers) ownProject(ctx context.Context, a attrs) error {
	own := h.ops.Principal(ctx).ProjectID
	for _, k := range []string{"project_id", "tenant_id"} {
		p, err := a.str(k, own, false)
		if err != nil {
			return err
		}
		if p != own {
			return invalid(k, "shoal creates it in the project of the caller's token (%s)", own)
		}
	}
	return nil
}

// noDescription refuses a description shoal could not keep.
func noDescription(a attrs) error {
	d, err := a.str("description", "", true)
	if err == nil && d != "" {
		err = invalid("description", "shoal keeps no description of this resource")
	}
	return err
}

// target is the port a create or update names (nil for none or null) and
// the fixed IP to use: fixed_ip_address must be one of the port's.
func (h handlers) target(ctx context.Context, a attrs) (*port, string, error) {
	portID, err := a.str("port_id", "", true)
	if err != nil || portID == "" {
		return nil, "", err
	}
	p, err := h.port(ctx, portID)
	if err != nil {
		return nil, "", err
	}
	fixed, err := a.str("fixed_ip_address", p.fixedIP, true)
	if err != nil {
		return nil, "", err
	}
	if fixed == "" {
		fixed = p.fixedIP
	}
	if fixed != p.fixedIP {
		return nil, "", badRequest("Bad floatingip request: Port %s does not have fixed ip %s.", portID, fixed)
	}
	return &p, fixed, nil
}

// updateFloatingIP is PUT {"floatingip":{"port_id":X|null}}: X associates
// the floating IP with that port (moving it from another one, as Neutron
// does), null detaches it (a detached one stays as it is).
func (h handlers) updateFloatingIP(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	id := r.PathValue("id")
	f, err := h.floatingIP(ctx, id)
	var a attrs
	if err == nil {
		a, err = decode(w, r, floatingIPUpdate)
	}
	if err == nil {
		err = noDescription(a)
	}
	var target *port
	fixed := ""
	if err == nil {
		target, fixed, err = h.target(ctx, a)
	}
	idx := h.ops.Index()
	switch {
	case err != nil || !a.has("port_id"):
	case target == nil && f.ServerID != "":
		idx, f, err = h.ops.DisassociateFloatingIP(ctx, f.ID)
	case target == nil:
	case f.ServerID == target.serverID && f.FixedIP == fixed:
	default:
		idx, f, err = h.move(ctx, f, target.serverID, fixed)
	}
	h.writeFloatingIP(w, r, http.StatusOK, idx, f, err)
}

// move associates f with a server's fixed IP, detaching it first from
// where it is (api.Ops.MoveFloatingIP, the rule Nova's addFloatingIp
// shares).
func (h handlers) move(ctx context.Context, f api.FloatingIP, serverID, fixed string) (uint64, api.FloatingIP, error) {
	idx, moved, err := h.ops.MoveFloatingIP(ctx, f.ID, serverID, fixed)
	return idx, moved, namedAssociation(err)
}

// free refuses a server's fixed IP that a floating IP other than self is
// on (Neutron's FloatingIPPortAlreadyAssociated), before anything is
// proposed.
func (h handlers) free(ctx context.Context, self, serverID, fixed string) error {
	fips, err := h.ops.FloatingIPs(ctx, api.Scope{All: h.ops.Principal(ctx).Admin()})
	if err != nil {
		return err
	}
	for _, o := range fips {
		if o.ID != self && o.ServerID == serverID && o.FixedIP == fixed {
			return namedAssociation(fmt.Errorf("%w: fixed IP %s of server %s already has floating IP %s",
				fsm.ErrConflict, fixed, serverID, o.IP))
		}
	}
	return nil
}

func (h handlers) deleteFloatingIP(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	f, err := h.floatingIP(ctx, r.PathValue("id"))
	var idx uint64
	if err == nil {
		idx, err = h.ops.ReleaseFloatingIP(ctx, f.ID)
	}
	if err != nil {
		writeError(w, r, lookup(err, resFIP, f.ID))
		return
	}
	api.SetIndex(w, idx)
	w.WriteHeader(http.StatusNoContent)
}

// namedAllocation names a refused allocation as Neutron does: an unknown
// network is NetworkNotFound, a member's chosen address PolicyNotAuthorized,
// a quota OverQuota (a 409, with Neutron's words), a chosen address already
// taken IpAddressAlreadyAllocated, no address left IpAddressGenerationFailure.
func namedAllocation(err error, network, address string) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, fsm.ErrNotFound):
		return lookup(err, resNetwork, network)
	case errors.Is(err, fsm.ErrForbidden) && address != "":
		return named(err, "PolicyNotAuthorized", "rule:create_floatingip:floating_ip_address is disallowed by policy")
	case errors.Is(err, fsm.ErrOverQuota):
		return withStatus(named(err, "OverQuota", "Quota exceeded for resources: ['floatingip']."), http.StatusConflict)
	case errors.Is(err, fsm.ErrConflict) && address != "":
		return named(err, "IpAddressAlreadyAllocated", "")
	case errors.Is(err, fsm.ErrConflict):
		return named(err, "IpAddressGenerationFailure", "")
	}
	return err
}

// namedAssociation names a refused association: the fixed IP already has
// another floating IP (Neutron's FloatingIPPortAlreadyAssociated).
func namedAssociation(err error) error {
	if errors.Is(err, fsm.ErrConflict) {
		return named(err, "FloatingIPPortAlreadyAssociated", "")
	}
	return err
}
