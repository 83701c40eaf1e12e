package nova

import (
	"encoding/json"
	"net/http"

	"github.com/shoal-project/shoal/api"
	"github.com/shoal-project/shoal/api/openstack/osapi"
)

// GET /servers/{id}/os-interface[/{port}]: a server's ports as Nova shows
// Neutron's. A server has one port, on the tenant network, named by the
// derived IDs the Neutron module shows the same port with (osapi's
// PortID, TenantNetworkID, SubnetID). Attaching and detaching ports is not
// something shoal does: POST is Nova's 400 for a driver that cannot attach
// and DELETE its 501 for one that cannot detach.

// interfaceAttachment is Nova's view of a port.
type interfaceAttachment struct {
	NetID     string    `json:"net_id"`
	PortID    string    `json:"port_id"`
	MACAddr   string    `json:"mac_addr"`
	PortState string    `json:"port_state"`
	FixedIPs  []fixedIP `json:"fixed_ips"`
	// Tag is 2.70's device tag: null (no port is tagged here), absent
	// before 2.70.
	Tag *json.RawMessage `json:"tag,omitempty"`
}

type fixedIP struct {
	SubnetID  string `json:"subnet_id"`
	IPAddress string `json:"ip_address"`
}

// interfaces are d's ports: one per fixed address.
func (m *Module) interfaces(d api.ServerDetail) []interfaceAttachment {
	net := osapi.TenantNetworkID(m.ops.ClusterID())
	out := []interfaceAttachment{}
	for _, a := range d.Addresses {
		if a.Type != api.AddressFixed {
			continue
		}
		out = append(out, interfaceAttachment{NetID: net, PortID: osapi.PortID(d.ID, a.MAC), MACAddr: a.MAC,
			PortState: osapi.PortStatus(d.Status), FixedIPs: []fixedIP{{SubnetID: osapi.SubnetID(net), IPAddress: a.IP}}})
	}
	return out
}

func (m *Module) listInterfaces(w http.ResponseWriter, r *http.Request) {
	idx := m.ops.Index()
	d, _, err := m.server(r)
	if err != nil {
		m.fail(w, r, err)
		return
	}
	api.SetIndex(w, idx)
	api.WriteJSON(w, http.StatusOK, map[string]any{"interfaceAttachments": withTags(r, m.interfaces(d))})
}

func (m *Module) showInterface(w http.ResponseWriter, r *http.Request) {
	idx := m.ops.Index()
	d, _, err := m.server(r)
	if err != nil {
		m.fail(w, r, err)
		return
	}
	port := r.PathValue("port")
	for _, a := range withTags(r, m.interfaces(d)) {
		if a.PortID == port {
			api.SetIndex(w, idx)
			api.WriteJSON(w, http.StatusOK, map[string]any{"interfaceAttachment": a})
			return
		}
	}
	m.fail(w, r, notFound("Port id %s could not be found.", port))
}

// attachInterface is Nova's answer for a hypervisor that cannot attach.
func (m *Module) attachInterface(w http.ResponseWriter, r *http.Request) {
	d, _, err := m.server(r)
	if err == nil {
		err = badRequest("Attaching interfaces is not supported for instance %s.", d.ID)
	}
	m.fail(w, r, err)
}

// detachInterface is Nova's answer for a driver that cannot detach (the
// server's own port), or its 404 for a port the server does not have.
func (m *Module) detachInterface(w http.ResponseWriter, r *http.Request) {
	d, _, err := m.server(r)
	if err != nil {
		m.fail(w, r, err)
		return
	}
	port := r.PathValue("port")
	for _, a := range withTags(r, m.interfaces(d)) {
		if a.PortID == port {
			m.WriteError(w, r, http.StatusNotImplemented, badRequest("The requested functionality is not supported."))
			return
		}
	}
	m.fail(w, r, notFound("Port id %s could not be found.", port))
}

// nullTag is 2.70's tag of an untagged port.
var nullTag = json.RawMessage("null")

// withTags adds 2.70's tag to the interfaces when r asks for 2.70 or
// later.
func withTags(r *http.Request, list []interfaceAttachment) []interfaceAttachment {
	if osapi.Requested(r.Context()).AtLeast(2, 70) {
		for k := range list {
			list[k].Tag = &nullTag
		}
	}
	return list
}
