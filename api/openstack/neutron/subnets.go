package neutron

import (
	"net/http"
	"slices"

	"github.com/shoal-project/shoal/api"
	"github.com/shoal-project/shoal/api/openstack/osapi"
	"github.com/shoal-project/shoal/fsm"
)

// Subnets: each shoal network is one IPv4 subnet, so each Neutron network
// has exactly one, with the ID osapi.SubnetID derives from the network's
// and the network's name. They are read only: a network is created with
// its subnet (see networkCreate).

// Subnet is a subnet in Neutron's shape.
type Subnet struct {
	ID              string        `json:"id"`
	Name            string        `json:"name"`
	Description     string        `json:"description"`
	NetworkID       string        `json:"network_id"`
	IPVersion       int           `json:"ip_version"`
	CIDR            string        `json:"cidr"`
	GatewayIP       string        `json:"gateway_ip"`
	AllocationPools []fsm.IPRange `json:"allocation_pools"`
	EnableDHCP      bool          `json:"enable_dhcp"`
	DNSNameservers  []string      `json:"dns_nameservers"`
	HostRoutes      []any         `json:"host_routes"`
	IPv6RAMode      *string       `json:"ipv6_ra_mode"`
	IPv6AddressMode *string       `json:"ipv6_address_mode"`
	SubnetPoolID    *string       `json:"subnetpool_id"`
	ServiceTypes    []string      `json:"service_types"`
	ProjectID       string        `json:"project_id"`
	TenantID        string        `json:"tenant_id"`
	CreatedAt       string        `json:"created_at"`
	UpdatedAt       string        `json:"updated_at"`
	RevisionNumber  int           `json:"revision_number"`
	Tags            []string      `json:"tags"`
}

// subnetView is n's one subnet. DHCP runs on the tenant network (the
// host's dnsmasq answers its servers); an external network hands out
// floating IPs only, no leases.
func (h handlers) subnetView(n api.Network) Subnet {
	netID := h.networkID(n)
	pools := slices.Clone(n.AllocationPools)
	if pools == nil {
		pools = []fsm.IPRange{}
	}
	created := stamp(n.Created)
	return Subnet{ID: osapi.SubnetID(netID), Name: n.Name, NetworkID: netID, IPVersion: 4, CIDR: n.CIDR,
		GatewayIP: n.Gateway, AllocationPools: pools, EnableDHCP: !n.External, DNSNameservers: []string{},
		HostRoutes: []any{}, ServiceTypes: []string{}, ProjectID: n.ProjectID, TenantID: n.ProjectID,
		CreatedAt: created, UpdatedAt: created, RevisionNumber: 1, Tags: []string{}}
}

func (h handlers) subnets(r *http.Request) ([]Subnet, error) {
	nets, err := h.ops.Networks(r.Context())
	if err != nil {
		return nil, err
	}
	out := make([]Subnet, 0, len(nets))
	for _, n := range nets {
		out = append(out, h.subnetView(n))
	}
	return out, nil
}

func (h handlers) listSubnets(w http.ResponseWriter, r *http.Request) {
	idx := h.ops.Index()
	out, err := h.subnets(r)
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeList(w, r, idx, "subnets", out)
}

func (h handlers) showSubnet(w http.ResponseWriter, r *http.Request) {
	idx := h.ops.Index()
	id := r.PathValue("id")
	out, err := h.subnets(r)
	k := slices.IndexFunc(out, func(s Subnet) bool { return s.ID == id })
	if err == nil && k < 0 {
		err = lookup(notFoundError("subnet "+id), resSubnet, id)
	}
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeOne(w, r, http.StatusOK, idx, "subnet", out[k])
}
