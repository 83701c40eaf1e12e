package nova_test

import (
	"testing"

	"github.com/shoal-project/shoal/api/apitest"
	"github.com/shoal-project/shoal/api/openstack/neutron"
	"github.com/shoal-project/shoal/api/openstack/nova"
)

// TestInterfacesAreNeutronsPorts: a server's os-interface is the port the
// Network API lists for it (same ID, network, MAC, address, status), which
// is what a client follows from one to the other (the CLI's "server add
// floating ip" looks the port up by device_id).
func TestInterfacesAreNeutronsPorts(t *testing.T) {
	e := apitest.New(t, nova.New(), neutron.New())
	e.SeedCompute(t)
	alpha := e.AddTenant(t, "alpha", "member")
	const id = "f5000000-0000-4000-8000-000000000001"
	e.SeedServer(t, alpha, id, "web", apitest.CirrosID, apitest.NodeName)

	_, raw := e.Do(t, "GET", "/compute/v2.1/servers/"+id+"/os-interface", "", alpha.Token)
	type fixedIP struct {
		SubnetID  string `json:"subnet_id"`
		IPAddress string `json:"ip_address"`
	}
	var ifaces struct {
		InterfaceAttachments []struct {
			PortID    string    `json:"port_id"`
			NetID     string    `json:"net_id"`
			MACAddr   string    `json:"mac_addr"`
			PortState string    `json:"port_state"`
			FixedIPs  []fixedIP `json:"fixed_ips"`
		}
	}
	decode(t, raw, &ifaces)
	resp, raw := e.Do(t, "GET", "/networking/v2.0/ports?device_id="+id, "", alpha.Token)
	var ports struct {
		Ports []struct {
			ID         string    `json:"id"`
			NetworkID  string    `json:"network_id"`
			MACAddress string    `json:"mac_address"`
			Status     string    `json:"status"`
			FixedIPs   []fixedIP `json:"fixed_ips"`
		}
	}
	decode(t, raw, &ports)
	if resp.StatusCode != 200 || len(ports.Ports) != 1 || len(ifaces.InterfaceAttachments) != 1 {
		t.Fatalf("ports %d %s; interfaces %+v", resp.StatusCode, raw, ifaces)
	}
	p, i := ports.Ports[0], ifaces.InterfaceAttachments[0]
	if p.ID != i.PortID || p.NetworkID != i.NetID || p.MACAddress != i.MACAddr || p.Status != i.PortState ||
		len(p.FixedIPs) != 1 || p.FixedIPs[0] != i.FixedIPs[0] {
		t.Errorf("port %+v, interface %+v", p, i)
	}
}
