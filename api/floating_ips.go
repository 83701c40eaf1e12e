package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"net/url"
	"time"

	"github.com/shoal-project/shoal/fsm"
)

// Floating IPs: a project allocates one from an external network's pools
// (Neutron's floating IP) and attaches it to one of its servers with the
// server actions add-floating-ip and remove-floating-ip (Nova's). Another
// project's floating IPs are absent (404), as its servers are.

// FloatingIP is the wire shape of a floating IP.
type FloatingIP struct {
	ID        string    `json:"id"`
	IP        string    `json:"ip"`
	Network   string    `json:"network"`   // the external network's ID
	ServerID  string    `json:"server_id"` // "" while not attached
	FixedIP   string    `json:"fixed_ip"`  // the server's fixed IP it maps to, or ""
	ProjectID string    `json:"project_id"`
	Created   time.Time `json:"created"`
}

// FloatingIPCreate is what POST /v1/floating-ips takes, wrapped as
// {"floating_ip":{...}}: the external network's name or ID and, an
// admin's choice, the address ("": the network's lowest free one).
type FloatingIPCreate struct {
	Network string `json:"network"`
	IP      string `json:"ip,omitempty"`
}

// FloatingIPResponse is the body of GET /v1/floating-ips/{id} and of a create.
type FloatingIPResponse struct {
	FloatingIP FloatingIP `json:"floating_ip"`
}

// FloatingIPList is the body of GET /v1/floating-ips.
type FloatingIPList struct {
	FloatingIPs []FloatingIP `json:"floating_ips"`
}

// listFloatingIPs shows the caller's project's floating IPs; an admin sees
// every project's with all_projects, or one project's with project_id.
func (s *Server) listFloatingIPs(w http.ResponseWriter, r *http.Request) {
	idx := s.state.Index()
	q := r.URL.Query()
	err := onlyParams(q, "all_projects", "project_id", "consistent")
	var scope tenantScope
	if err == nil {
		scope, err = listScope(r, q, "all_projects", "project_id")
	}
	var out []FloatingIP
	if err == nil {
		out, err = s.ops.FloatingIPs(r.Context(), Scope{All: scope.all, ProjectID: scope.project})
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	SetIndex(w, idx)
	WriteJSON(w, http.StatusOK, FloatingIPList{FloatingIPs: out})
}

func (s *Server) showFloatingIP(w http.ResponseWriter, r *http.Request) {
	idx := s.state.Index()
	f, err := s.ops.FloatingIP(r.Context(), r.PathValue("id"))
	s.writeFound(w, r, idx, err, func() any { return FloatingIPResponse{FloatingIP: f} })
}

func (s *Server) createFloatingIP(w http.ResponseWriter, r *http.Request) {
	var req FloatingIPCreate
	if err := decodeWrapped(w, r, "floating_ip", &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	idx, f, err := s.ops.AllocateFloatingIP(r.Context(), req)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeCreated(w, idx, "/v1/floating-ips/"+url.PathEscape(f.ID), FloatingIPResponse{FloatingIP: f})
}

// externalNetwork finds the network a floating IP is asked from: unknown is
// 404 and the tenant network 400, as Neutron answers.
func (s *Server) externalNetwork(ref string) (fsm.Network, error) {
	n, err := s.networkFor(ref)
	if err != nil {
		return n, err
	}
	if !n.External {
		return n, fmt.Errorf("%w: network %s is not an external network: floating IPs come from external ones", fsm.ErrInvalid, ref)
	}
	return n, nil
}

// deleteFloatingIP releases a floating IP; an attached one is detached
// first (Neutron allows deleting an associated floating IP).
func (s *Server) deleteFloatingIP(w http.ResponseWriter, r *http.Request) {
	idx, err := s.ops.ReleaseFloatingIP(r.Context(), r.PathValue("id"))
	s.writeNoContent(w, r, idx, err)
}

// floatingIPFor finds a floating IP the caller may see by ID, else by its
// address; another project's is absent.
func (s *Server) floatingIPFor(ctx context.Context, ref string) (fsm.FloatingIP, error) {
	if err := validRef("floating IP", ref); err != nil {
		return fsm.FloatingIP{}, err
	}
	p := Caller(ctx)
	f, err := s.state.FloatingIP(ref)
	switch {
	case err == nil && p.Sees(f.ProjectID):
		return f, nil
	case err != nil && !errors.Is(err, fsm.ErrNotFound):
		return fsm.FloatingIP{}, err
	}
	if addr, perr := netip.ParseAddr(ref); perr == nil {
		ip := addr.String()
		if fs := s.state.FloatingIPs(func(f *fsm.FloatingIP) bool { return f.IP == ip && p.Sees(f.ProjectID) }); len(fs) > 0 {
			return fs[0], nil
		}
	}
	return fsm.FloatingIP{}, fmt.Errorf("%w: floating IP %q", fsm.ErrNotFound, ref)
}

// floatingIPAction builds the command of add-floating-ip or
// remove-floating-ip on inst. The address must be one of the caller's
// floating IPs (404 otherwise, as Nova answers); attaching one attached
// elsewhere, or detaching one not attached here, is a conflict (409). An
// admin may attach a floating IP to another project's server.
func (s *Server) floatingIPAction(ctx context.Context, inst fsm.Instance, req ServerActionRequest) (fsm.Command, error) {
	f, err := s.floatingIPFor(ctx, req.Address)
	if err != nil {
		return nil, err
	}
	if req.Action == ActionRemoveFloatingIP {
		if f.InstanceID != inst.ID {
			return nil, fmt.Errorf("%w: Floating IP %s is not associated with instance %s.", fsm.ErrConflict, f.IP, inst.ID)
		}
		return &fsm.DisassociateFloatingIP{FloatingIPID: f.ID, InstanceID: inst.ID}, nil
	}
	if f.Associated() && f.InstanceID != inst.ID {
		return nil, fmt.Errorf("%w: floating IP %s is already associated with server %s", fsm.ErrConflict, f.IP, f.InstanceID)
	}
	return &fsm.AssociateFloatingIP{FloatingIPID: f.ID, InstanceID: inst.ID, FixedIP: req.FixedAddress,
		CrossProject: Caller(ctx).Admin()}, nil
}

// floatingIPView renders a floating IP in the wire shape.
func floatingIPView(f fsm.FloatingIP) FloatingIP {
	return FloatingIP{ID: f.ID, IP: f.IP, Network: f.NetworkID, ServerID: f.InstanceID, FixedIP: f.FixedIP,
		ProjectID: f.ProjectID, Created: f.Created}
}
