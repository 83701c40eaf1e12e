package nova

import (
	"errors"
	"net/http"

	"github.com/shoal-project/shoal/api"
	"github.com/shoal-project/shoal/api/openstack/osapi"
	"github.com/shoal-project/shoal/fsm"
)

// os-networks and os-tenant-networks as Nova serves them over Neutron:
// reads only (ID and label; every nova-network field is null, "None" for
// a tenant network's cidr), until 2.35. Their writes, and the other
// nova-network APIs, are Nova's 410 Gone at every version: Nova removed
// them (os-fixed-ips, os-floating-ips-bulk, os-floating-ip-dns,
// os-virtual-interfaces, the os-networks actions).

// networkFields are the fields Nova shows anyone, and adminNetworkFields
// the ones it adds for an admin; with Neutron all but id and label are null.
var (
	networkFields = []string{"cidr", "netmask", "gateway", "broadcast", "dns1", "dns2", "cidr_v6",
		"gateway_v6", "netmask_v6"}
	adminNetworkFields = []string{"created_at", "updated_at", "deleted_at", "deleted", "injected", "bridge",
		"vlan", "vpn_public_address", "vpn_public_port", "vpn_private_address", "dhcp_start", "project_id",
		"host", "bridge_interface", "multi_host", "priority", "rxtx_base", "mtu", "dhcp_server",
		"enable_dhcp", "share_address"}
)

// TenantNetwork is os-tenant-networks' view.
type TenantNetwork struct {
	ID    string `json:"id"`
	CIDR  string `json:"cidr"`
	Label string `json:"label"`
}

func (m *Module) registerNetworks(r api.Router) {
	reader, member, anyone := api.AccessProjectReader, api.AccessProjectMember, api.AccessAuthenticated
	m.route(r, "GET /os-networks", reader, m.listNetworks, until235)
	m.route(r, "GET /os-networks/{id}", reader, m.showNetwork, until235)
	m.route(r, "GET /os-tenant-networks", reader, m.listTenantNetworks, until235)
	m.route(r, "GET /os-tenant-networks/{id}", reader, m.showTenantNetwork, until235)
	for _, p := range []string{
		"POST /os-networks", "POST /os-networks/add", "DELETE /os-networks/{id}", "POST /os-networks/{id}/action",
		"POST /os-tenant-networks", "DELETE /os-tenant-networks/{id}",
		"GET /os-fixed-ips/{id}", "POST /os-fixed-ips/{id}/action",
		"GET /os-floating-ips-bulk", "POST /os-floating-ips-bulk", "GET /os-floating-ips-bulk/{id}",
		"PUT /os-floating-ips-bulk/{id}",
		"GET /os-floating-ip-dns", "PUT /os-floating-ip-dns/{id}", "DELETE /os-floating-ip-dns/{id}",
		"GET /os-floating-ip-dns/{domain}/entries/{id}", "PUT /os-floating-ip-dns/{domain}/entries/{id}",
		"DELETE /os-floating-ip-dns/{domain}/entries/{id}",
		"GET /servers/{id}/os-virtual-interfaces",
	} {
		a := anyone
		if p[0] != 'G' {
			a = member
		}
		m.route(r, p, a, m.gone)
	}
}

// networkID is the Nova (Neutron) ID of n: the tenant network's derived one.
func (m *Module) networkID(n api.Network) string {
	if n.ID == fsm.DefaultNetworkID && !n.External {
		return osapi.TenantNetworkID(m.ops.ClusterID())
	}
	return n.ID
}

// projectNetworks are the networks Nova's get_all gives a project: what
// Neutron lists to it, every network here (the shared tenant network and
// the external ones, which Neutron shows to every project).
func (m *Module) projectNetworks(r *http.Request) ([]api.Network, error) {
	return m.ops.Networks(r.Context())
}

// network is the network with Nova ID id; anything else is Nova's 404.
func (m *Module) network(r *http.Request, id string) (api.Network, error) {
	ref := id
	if id == osapi.TenantNetworkID(m.ops.ClusterID()) {
		ref = fsm.DefaultNetworkID
	}
	n, err := m.ops.Network(r.Context(), ref)
	if errors.Is(err, fsm.ErrNotFound) || errors.Is(err, fsm.ErrInvalid) || errors.Is(err, fsm.ErrConflict) ||
		err == nil && n.ID != ref {
		return n, notFound("Network not found")
	}
	return n, err
}

func (m *Module) networkView(r *http.Request, n api.Network) map[string]any {
	v := map[string]any{"id": m.networkID(n), "label": n.Name}
	for _, f := range networkFields {
		v[f] = nil
	}
	if isAdmin(r) {
		for _, f := range adminNetworkFields {
			v[f] = nil
		}
	}
	return v
}

func (m *Module) listNetworks(w http.ResponseWriter, r *http.Request) {
	idx := m.ops.Index()
	nets, err := m.projectNetworks(r)
	if err != nil {
		m.fail(w, r, err)
		return
	}
	out := make([]map[string]any, 0, len(nets))
	for _, n := range nets {
		out = append(out, m.networkView(r, n))
	}
	api.SetIndex(w, idx)
	api.WriteJSON(w, http.StatusOK, map[string]any{"networks": out})
}

func (m *Module) showNetwork(w http.ResponseWriter, r *http.Request) {
	idx := m.ops.Index()
	n, err := m.network(r, r.PathValue("id"))
	if err != nil {
		m.fail(w, r, err)
		return
	}
	api.SetIndex(w, idx)
	api.WriteJSON(w, http.StatusOK, map[string]any{"network": m.networkView(r, n)})
}

// tenantNetworkView is Nova's: the cidr is the string "None", as Nova has
// always answered with Neutron.
func (m *Module) tenantNetworkView(n api.Network) TenantNetwork {
	return TenantNetwork{ID: m.networkID(n), CIDR: "None", Label: n.Name}
}

func (m *Module) listTenantNetworks(w http.ResponseWriter, r *http.Request) {
	idx := m.ops.Index()
	nets, err := m.projectNetworks(r)
	if err != nil {
		m.fail(w, r, err)
		return
	}
	out := make([]TenantNetwork, 0, len(nets))
	for _, n := range nets {
		out = append(out, m.tenantNetworkView(n))
	}
	api.SetIndex(w, idx)
	api.WriteJSON(w, http.StatusOK, map[string][]TenantNetwork{"networks": out})
}

func (m *Module) showTenantNetwork(w http.ResponseWriter, r *http.Request) {
	idx := m.ops.Index()
	n, err := m.network(r, r.PathValue("id"))
	if err != nil {
		m.fail(w, r, err)
		return
	}
	api.SetIndex(w, idx)
	api.WriteJSON(w, http.StatusOK, map[string]TenantNetwork{"network": m.tenantNetworkView(n)})
}
