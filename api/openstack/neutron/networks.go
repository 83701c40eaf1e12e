package neutron

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/shoal-project/shoal/api"
	"github.com/shoal-project/shoal/api/openstack/osapi"
	"github.com/shoal-project/shoal/fsm"
)

// Networks: shoal's one tenant network (fsm ID "default", shown with the
// derived osapi.TenantNetworkID so every node names it alike; both IDs are
// accepted) is Neutron's shared network every project's servers are on;
// the external networks floating IPs come from keep their fsm IDs and are
// router:external. Every network is visible to every caller; only an
// admin creates and deletes one, and only an external one.

// Network is a network in Neutron's shape.
type Network struct {
	ID                string   `json:"id"`
	Name              string   `json:"name"`
	Description       string   `json:"description"`
	Status            string   `json:"status"`
	AdminStateUp      bool     `json:"admin_state_up"`
	Shared            bool     `json:"shared"`
	External          bool     `json:"router:external"`
	Subnets           []string `json:"subnets"`
	AvailabilityZones []string `json:"availability_zones"`
	ProjectID         string   `json:"project_id"`
	TenantID          string   `json:"tenant_id"`
	CreatedAt         string   `json:"created_at"`
	UpdatedAt         string   `json:"updated_at"`
	RevisionNumber    int      `json:"revision_number"`
	Tags              []string `json:"tags"`
}

// networkID is the Neutron ID of a network as api shows it.
func (h handlers) networkID(n api.Network) string {
	if n.ID == fsm.DefaultNetworkID && !n.External {
		return osapi.TenantNetworkID(h.ops.ClusterID())
	}
	return n.ID
}

// stamp is a time in Neutron's format; a time shoal never recorded (the
// tenant network made at bootstrap before networks had one) is the epoch,
// so clients that parse it still can.
func stamp(t time.Time) string {
	if t.IsZero() {
		t = time.Unix(0, 0)
	}
	return osapi.Time(t)
}

func (h handlers) networkView(n api.Network) Network {
	id := h.networkID(n)
	created := stamp(n.Created)
	return Network{ID: id, Name: n.Name, Description: "", Status: "ACTIVE", AdminStateUp: true,
		Shared: !n.External, External: n.External, Subnets: []string{osapi.SubnetID(id)},
		AvailabilityZones: []string{}, ProjectID: n.ProjectID, TenantID: n.ProjectID,
		CreatedAt: created, UpdatedAt: created, RevisionNumber: 1, Tags: []string{}}
}

// network finds the network with Neutron ID id: a path names one by ID
// alone (the SDK then looks names up with ?name=), so a name is absent.
func (h handlers) network(ctx context.Context, id string) (api.Network, error) {
	ref := id
	if id == osapi.TenantNetworkID(h.ops.ClusterID()) {
		ref = fsm.DefaultNetworkID
	}
	n, err := h.ops.Network(ctx, ref)
	if err == nil && n.ID != ref {
		err = fmt.Errorf("%w: network %q", fsm.ErrNotFound, id)
	}
	return n, lookup(err, resNetwork, id)
}

func (h handlers) listNetworks(w http.ResponseWriter, r *http.Request) {
	idx := h.ops.Index()
	nets, err := h.ops.Networks(r.Context())
	if err != nil {
		writeError(w, r, err)
		return
	}
	out := make([]Network, 0, len(nets))
	for _, n := range nets {
		out = append(out, h.networkView(n))
	}
	writeList(w, r, idx, "networks", out)
}

func (h handlers) showNetwork(w http.ResponseWriter, r *http.Request) {
	idx := h.ops.Index()
	n, err := h.network(r.Context(), r.PathValue("id"))
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeOne(w, r, http.StatusOK, idx, "network", h.networkView(n))
}

// networkCreate is what POST /networks takes. Neutron keeps a network's
// addresses on its subnets, made by a second request; shoal's external
// network is one object with its one subnet, so the subnet's attributes
// (cidr, gateway_ip, allocation_pools) come in the network's body, and
// router:external must be true: the tenant network is the cluster's own.
var networkCreate = bodySpec{resource: "network",
	accepts: []string{"name", "description", "router:external", "shared", "admin_state_up",
		"cidr", "gateway_ip", "allocation_pools"},
	readOnly: []string{"id", "status", "subnets", "availability_zones", "project_id", "tenant_id",
		"created_at", "updated_at", "revision_number", "tags"}}

func (h handlers) createNetwork(w http.ResponseWriter, r *http.Request) {
	req, err := h.decodeNetwork(w, r)
	var idx uint64
	var n api.Network
	if err == nil {
		idx, n, err = h.ops.CreateNetwork(r.Context(), req)
	}
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeOne(w, r, http.StatusCreated, idx, "network", h.networkView(n))
}

func (h handlers) decodeNetwork(w http.ResponseWriter, r *http.Request) (api.NetworkCreate, error) {
	a, err := decode(w, r, networkCreate)
	if err != nil {
		return api.NetworkCreate{}, err
	}
	var req api.NetworkCreate
	var external bool
	var desc string
	if req.Name, err = a.str("name", "", false); err != nil {
		return req, err
	}
	if external, err = a.boolean("router:external", false); err != nil {
		return req, err
	}
	if !external {
		return req, invalid("router:external", "shoal has one tenant network, made with the cluster; only external networks (router:external true) can be created")
	}
	if err = a.only("shared", false); err != nil {
		return req, err
	}
	if err = a.only("admin_state_up", true); err != nil {
		return req, err
	}
	if desc, err = a.str("description", "", true); err != nil {
		return req, err
	}
	if desc != "" {
		return req, invalid("description", "shoal keeps no description of a network")
	}
	if !a.has("cidr") {
		return req, badRequest("Invalid input for operation: an external network is created with its subnet: give cidr (and optionally gateway_ip, allocation_pools) in the network's body.")
	}
	if req.CIDR, err = a.str("cidr", "", false); err != nil {
		return req, err
	}
	if req.Gateway, err = a.str("gateway_ip", "", true); err != nil {
		return req, err
	}
	if req.AllocationPools, err = a.pools("allocation_pools"); err != nil {
		return req, err
	}
	req.External = true
	return req, nil
}

// pools is name as a list of {"start","end"} ranges, nil when absent.
func (a attrs) pools(name string) ([]fsm.IPRange, error) {
	if !a.has(name) || a.isNull(name) {
		return nil, nil
	}
	var raw []attrs
	if err := unmarshal(a[name], &raw); err != nil {
		return nil, invalid(name, "'%s' is not a list of allocation pools", a[name])
	}
	out := make([]fsm.IPRange, 0, len(raw))
	for _, p := range raw {
		for k := range p {
			if k != "start" && k != "end" {
				return nil, invalid(name, "Unrecognized attribute '%s' of an allocation pool", k)
			}
		}
		if !p.has("start") || !p.has("end") {
			return nil, invalid(name, "an allocation pool needs a start and an end")
		}
		start, err := p.str("start", "", false)
		if err != nil {
			return nil, err
		}
		end, err := p.str("end", "", false)
		if err != nil {
			return nil, err
		}
		out = append(out, fsm.IPRange{Start: start, End: end})
	}
	return out, nil
}

func (h handlers) deleteNetwork(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	n, err := h.network(ctx, r.PathValue("id"))
	var idx uint64
	if err == nil {
		idx, err = h.ops.DeleteNetwork(ctx, n.ID)
		if api.StatusOf(err) == http.StatusConflict {
			err = named(err, "NetworkInUse", "")
		}
	}
	if err != nil {
		writeError(w, r, err)
		return
	}
	api.SetIndex(w, idx)
	w.WriteHeader(http.StatusNoContent)
}
