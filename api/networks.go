package api

import (
	"context"
	"fmt"
	"net/http"
	"net/netip"
	"net/url"
	"slices"
	"time"

	"github.com/google/uuid"

	"github.com/shoal-project/shoal/fsm"
)

// Networks: the cluster's one tenant network (ID "default", made at
// bootstrap) and the external networks an admin creates for floating IPs.
// Every network is visible to every project, as Neutron's router:external
// networks are shared; only an admin creates and deletes them.

// maxAllocationPools bounds the pools of one network.
const maxAllocationPools = 64

// Network is the wire shape of a network. AllocationPools are where
// floating IPs come from (empty for the tenant network: its fixed IPs take
// the whole CIDR but the gateway).
type Network struct {
	ID              string        `json:"id"`
	Name            string        `json:"name"`
	External        bool          `json:"external"`
	CIDR            string        `json:"cidr"`
	Gateway         string        `json:"gateway"`
	AllocationPools []fsm.IPRange `json:"allocation_pools"`
	ProjectID       string        `json:"project_id"`
	Created         time.Time     `json:"created,omitzero"`
}

// NetworkCreate is what POST /v1/networks takes, wrapped as
// {"network":{...}}. Only external networks are created this way.
type NetworkCreate struct {
	Name            string        `json:"name"`
	External        bool          `json:"external"`
	CIDR            string        `json:"cidr"`
	Gateway         string        `json:"gateway"`
	AllocationPools []fsm.IPRange `json:"allocation_pools,omitempty"`
}

// NetworkResponse is the body of GET /v1/networks/{id} and of a create.
type NetworkResponse struct {
	Network Network `json:"network"`
}

// NetworkList is the body of GET /v1/networks: the tenant network first,
// then the external ones.
type NetworkList struct {
	Networks []Network `json:"networks"`
}

func (s *Server) listNetworks(w http.ResponseWriter, r *http.Request) {
	idx := s.state.Index()
	var out []Network
	err := onlyParams(r.URL.Query(), "consistent")
	if err == nil {
		out, err = s.ops.Networks(r.Context())
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	SetIndex(w, idx)
	WriteJSON(w, http.StatusOK, NetworkList{Networks: out})
}

func (s *Server) showNetwork(w http.ResponseWriter, r *http.Request) {
	idx := s.state.Index()
	n, err := s.ops.Network(r.Context(), r.PathValue("id"))
	s.writeFound(w, r, idx, err, func() any { return NetworkResponse{Network: n} })
}

func (s *Server) createNetwork(w http.ResponseWriter, r *http.Request) {
	var req NetworkCreate
	if err := decodeWrapped(w, r, "network", &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	idx, created, err := s.ops.CreateNetwork(r.Context(), req)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeCreated(w, idx, "/v1/networks/"+url.PathEscape(created.ID), NetworkResponse{Network: created})
}

// newNetwork checks a create request against the rules that need no state
// (fsm's CreateNetwork.Validate, their one home; Apply checks them again)
// and builds the command with its ID, owner and time.
func newNetwork(ctx context.Context, req NetworkCreate) (*fsm.CreateNetwork, error) {
	if err := validName("network name", req.Name); err != nil {
		return nil, err
	}
	if len(req.AllocationPools) > maxAllocationPools {
		return nil, fmt.Errorf("%w: a network takes at most %d allocation pools, got %d",
			fsm.ErrInvalid, maxAllocationPools, len(req.AllocationPools))
	}
	cmd := &fsm.CreateNetwork{ID: uuid.NewString(), Name: req.Name, External: req.External, CIDR: req.CIDR,
		Gateway: req.Gateway, AllocationPools: slices.Clone(req.AllocationPools), ProjectID: Caller(ctx).ProjectID,
		Time: time.Now().UTC()}
	return cmd, cmd.Validate()
}

// overlapping refuses a CIDR that shares an address with a network of the
// replica (ErrConflict), before anything is proposed; Apply refuses it again
// against the state it applies to.
func (s *Server) overlapping(cidr string) error {
	p, err := netip.ParsePrefix(cidr)
	if err != nil {
		return nil // Validate has refused it already
	}
	for _, n := range s.state.Networks() {
		if q, err := netip.ParsePrefix(n.CIDR); err == nil && q.Overlaps(p) {
			return fmt.Errorf("%w: CIDR %s overlaps network %s (%s)", fsm.ErrConflict, p.Masked(), n.Name, n.CIDR)
		}
	}
	return nil
}

func (s *Server) deleteNetwork(w http.ResponseWriter, r *http.Request) {
	idx, err := s.ops.DeleteNetwork(r.Context(), r.PathValue("id"))
	s.writeNoContent(w, r, idx, err)
}

// networkFor finds a network by ID, else by a name only one network has.
func (s *Server) networkFor(ref string) (fsm.Network, error) {
	if err := validRef("network", ref); err != nil {
		return fsm.Network{}, err
	}
	return findVisible(s.state.Networks(), ref, "network", "networks",
		func(fsm.Network) bool { return true },
		func(n fsm.Network) (string, string) { return n.ID, n.Name })
}

// networkView renders a network in the wire shape.
func networkView(n fsm.Network) Network {
	v := Network{ID: n.ID, Name: n.Name, External: n.External, CIDR: n.CIDR, Gateway: n.Gateway,
		AllocationPools: slices.Clone(n.AllocationPools), ProjectID: n.ProjectID, Created: n.Created}
	if v.AllocationPools == nil {
		v.AllocationPools = []fsm.IPRange{}
	}
	return v
}
