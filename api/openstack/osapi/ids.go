package osapi

import (
	"crypto/sha256"
	"encoding/hex"

	"github.com/google/uuid"
)

// namespace is the UUIDv5 namespace of every derived ID (a fixed random
// UUID: changing it would change every derived ID a client may hold).
var namespace = uuid.MustParse("5d1c7a0e-8f1e-4a43-9a8c-2f0f4c1d6b3e")

// derived is the UUIDv5 of parts, joined with a byte no part holds.
func derived(parts ...string) string {
	var b []byte
	for _, p := range parts {
		b = append(b, p...)
		b = append(b, 0)
	}
	return uuid.NewSHA1(namespace, b).String()
}

// TenantNetworkID is the Neutron/Nova ID of a cluster's tenant network
// (shoal's "default"), the same on every node and across restarts.
func TenantNetworkID(clusterID string) string { return derived("network", clusterID) }

// SubnetID is the ID of a network's one subnet.
func SubnetID(networkID string) string { return derived("subnet", networkID) }

// PortID is the ID of a server's port on a network: Nova's os-interface
// and Neutron's ports must name it with this function alone.
func PortID(instanceID, mac string) string { return derived("port", instanceID, mac) }

// HostUUID is the UUID of a host's service or hypervisor record (kind
// "service" or "hypervisor"), as Nova shows them from 2.53 on.
func HostUUID(clusterID, kind, name string) string { return derived(kind, clusterID, name) }

// HostID is Nova's hostId of a server: the SHA-224 of its project and host,
// so a project can tell its servers apart by host without learning the
// host's name; "" when the server has no host.
func HostID(projectID, host string) string {
	if host == "" {
		return ""
	}
	sum := sha256.Sum224([]byte(projectID + host))
	return hex.EncodeToString(sum[:])
}
