package neutron

import (
	"context"
	"net/http"
	"slices"

	"github.com/shoal-project/shoal/api"
	"github.com/shoal-project/shoal/api/openstack/osapi"
)

// Ports: shoal stores no port objects. A server has one port on the
// tenant network per fixed IP; its ID is osapi.PortID(server ID, MAC),
// both replicated and fixed for the server's life, so every node and every
// restart names it alike, and Nova's os-interface names it the same way.
// Ports are read only; another project's are absent, as its servers are.
// The CLI finds a server's port with GET /ports?device_id= before it
// associates a floating IP with it.

// defaultZone is the availability zone of a host configured without one
// and of a server not placed that asked for none (Nova's
// default_availability_zone).
const defaultZone = "nova"

// Port is a port in Neutron's shape.
type Port struct {
	ID             string    `json:"id"`
	Name           string    `json:"name"`
	Description    string    `json:"description"`
	NetworkID      string    `json:"network_id"`
	DeviceID       string    `json:"device_id"`
	DeviceOwner    string    `json:"device_owner"`
	MACAddress     string    `json:"mac_address"`
	AdminStateUp   bool      `json:"admin_state_up"`
	Status         string    `json:"status"`
	FixedIPs       []FixedIP `json:"fixed_ips"`
	SecurityGroups []string  `json:"security_groups"`
	// BindingHostID is the server's host, shown to admins only (Neutron's
	// binding:host_id policy).
	BindingHostID  *string  `json:"binding:host_id,omitempty"`
	ProjectID      string   `json:"project_id"`
	TenantID       string   `json:"tenant_id"`
	CreatedAt      string   `json:"created_at"`
	UpdatedAt      string   `json:"updated_at"`
	RevisionNumber int      `json:"revision_number"`
	Tags           []string `json:"tags"`
}

// FixedIP is one address of a port.
type FixedIP struct {
	SubnetID  string `json:"subnet_id"`
	IPAddress string `json:"ip_address"`
}

// port is a port and what it stands for.
type port struct {
	view     Port
	serverID string
	fixedIP  string
}

// ports are the ports of the servers the caller sees (an admin: every
// project's), in the servers' order.
func (h handlers) ports(ctx context.Context) ([]port, error) {
	admin := h.ops.Principal(ctx).Admin()
	servers, err := h.ops.Servers(ctx, api.ServerFilter{AllTenants: admin})
	if err != nil {
		return nil, err
	}
	groups, err := h.groupIDs(ctx, admin)
	if err != nil {
		return nil, err
	}
	zones, err := h.zones(ctx)
	if err != nil {
		return nil, err
	}
	netID := osapi.TenantNetworkID(h.ops.ClusterID())
	var out []port
	for _, s := range servers {
		zone := zones[s.Host]
		if s.Host == "" {
			zone = s.AvailabilityZone
		}
		if zone == "" {
			zone = defaultZone
		}
		sgs := []string{}
		for _, g := range s.SecurityGroups {
			if id, ok := groups[[2]string{s.TenantID, g.Name}]; ok {
				sgs = append(sgs, id)
			}
		}
		for _, a := range s.Addresses {
			if a.Type != api.AddressFixed {
				continue
			}
			p := Port{ID: osapi.PortID(s.ID, a.MAC), Name: "", NetworkID: netID, DeviceID: s.ID,
				DeviceOwner: "compute:" + zone, MACAddress: a.MAC, AdminStateUp: true, Status: osapi.PortStatus(s.Status),
				FixedIPs:       []FixedIP{{SubnetID: osapi.SubnetID(netID), IPAddress: a.IP}},
				SecurityGroups: slices.Clone(sgs), ProjectID: s.TenantID, TenantID: s.TenantID,
				CreatedAt: stamp(s.Created), UpdatedAt: stamp(s.Updated), RevisionNumber: 1, Tags: []string{}}
			if admin {
				host := s.Host
				p.BindingHostID = &host
			}
			out = append(out, port{view: p, serverID: s.ID, fixedIP: a.IP})
		}
	}
	return out, nil
}

// zones maps each host to its availability zone: a placed server's port
// is owned in its host's zone, as Nova shows the server's.
func (h handlers) zones(ctx context.Context) (map[string]string, error) {
	hosts, err := h.ops.Hosts(ctx)
	if err != nil {
		return nil, err
	}
	m := make(map[string]string, len(hosts))
	for _, host := range hosts {
		m[host.Name] = host.InZone()
	}
	return m, nil
}

// groupIDs maps (project, group name) to the group's ID: a server view
// names its groups, which are unique by name within their project.
func (h handlers) groupIDs(ctx context.Context, all bool) (map[[2]string]string, error) {
	groups, err := h.ops.SecurityGroups(ctx, api.Scope{All: all})
	if err != nil {
		return nil, err
	}
	m := make(map[[2]string]string, len(groups))
	for _, g := range groups {
		m[[2]string{g.ProjectID, g.Name}] = g.ID
	}
	return m, nil
}

// port finds the port with id among those the caller sees.
func (h handlers) port(ctx context.Context, id string) (port, error) {
	ports, err := h.ports(ctx)
	if err != nil {
		return port{}, err
	}
	k := slices.IndexFunc(ports, func(p port) bool { return p.view.ID == id })
	if k < 0 {
		return port{}, lookup(notFoundError("port "+id), resPort, id)
	}
	return ports[k], nil
}

func (h handlers) listPorts(w http.ResponseWriter, r *http.Request) {
	idx := h.ops.Index()
	ports, err := h.ports(r.Context())
	if err != nil {
		writeError(w, r, err)
		return
	}
	out := make([]Port, 0, len(ports))
	for _, p := range ports {
		out = append(out, p.view)
	}
	writeList(w, r, idx, "ports", out)
}

func (h handlers) showPort(w http.ResponseWriter, r *http.Request) {
	idx := h.ops.Index()
	p, err := h.port(r.Context(), r.PathValue("id"))
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeOne(w, r, http.StatusOK, idx, "port", p.view)
}
