package osapi

// Neutron's port statuses, as shoal derives them.
const (
	PortActive = "ACTIVE"
	PortDown   = "DOWN"
)

// PortStatus is a server's port's Neutron status, from the server's Nova
// status: ACTIVE while the server is ACTIVE, DOWN otherwise (shoal stores
// no port, so Nova's os-interface port_state and Neutron's ports must both
// derive it here to show the same port alike).
func PortStatus(serverStatus string) string {
	if serverStatus == "ACTIVE" {
		return PortActive
	}
	return PortDown
}
