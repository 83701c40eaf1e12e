package metadata

import (
	"encoding/base64"
	"maps"
	"net"
	"net/netip"

	"github.com/shoal-project/shoal/fsm"
)

// FromFSM is inst's metadata as one consistent read of the replica (nv)
// shows it: its network from the tenant network, its floating IP, its
// zone (its own, else its host's), its groups' names. What does not parse
// is left out (no port, no floating IP, no user data) rather than guessed.
func FromFSM(nv fsm.NetworkView, inst fsm.Instance) Instance {
	out := Instance{
		UUID:             inst.ID,
		Name:             inst.Name,
		Hostname:         ServerHostname(inst.Name, inst.ID),
		AvailabilityZone: zone(nv, inst),
		ProjectID:        inst.ProjectID,
		ImageID:          inst.ImageID,
		Flavor:           inst.Flavor.Name,
		KeyName:          inst.KeyName,
		KeyData:          inst.KeyData,
		Meta:             maps.Clone(inst.Metadata),
		SecurityGroups:   groupNames(nv, inst),
		Port:             port(nv.Tenant, inst),
	}
	if inst.UserData != "" {
		// The API takes only valid base64; Nova decodes it the same way.
		if b, err := base64.StdEncoding.DecodeString(inst.UserData); err == nil {
			out.UserData = b
		}
	}
	for _, f := range nv.FloatingIPs {
		if f.InstanceID == inst.ID {
			if a, err := netip.ParseAddr(f.IP); err == nil && (!out.FloatingIP.IsValid() || a.Less(out.FloatingIP)) {
				out.FloatingIP = a // the lowest, as the data plane takes it
			}
		}
	}
	return out
}

// zone is the server's availability zone: the one it asked for, else its
// host's (Nova's instance AZ is its host's aggregate's).
func zone(nv fsm.NetworkView, inst fsm.Instance) string {
	if inst.AvailabilityZone != "" {
		return inst.AvailabilityZone
	}
	for _, h := range nv.Hosts {
		if h.Name == inst.Host {
			return h.InZone()
		}
	}
	return ""
}

// groupNames are the names of the server's security groups; a server
// made without any is in its project's default group.
func groupNames(nv fsm.NetworkView, inst fsm.Instance) []string {
	ids := inst.SecurityGroups
	if len(ids) == 0 {
		ids = []string{fsm.DefaultSecurityGroupID(inst.ProjectID)}
	}
	names := []string{}
	for _, id := range ids {
		name := ""
		for _, g := range nv.SecurityGroups {
			if g.ID == id {
				name = g.Name
			}
		}
		if name == "" && id == fsm.DefaultSecurityGroupID(inst.ProjectID) {
			name = "default" // not stored until changed, as Neutron's
		}
		if name != "" {
			names = append(names, name)
		}
	}
	return names
}

// port is the server's port on the tenant network; zero without one.
func port(tenant *fsm.Network, inst fsm.Instance) Port {
	a, ok := inst.FixedAddress()
	if !ok || tenant == nil {
		return Port{}
	}
	ip, err1 := netip.ParseAddr(a.IP)
	mac, err2 := net.ParseMAC(a.MAC)
	prefix, err3 := netip.ParsePrefix(tenant.CIDR)
	if err1 != nil || err2 != nil || err3 != nil || !prefix.Contains(ip) {
		return Port{}
	}
	p := Port{MAC: mac, IP: ip, Network: prefix.Masked(), NetworkID: tenant.ID}
	if p.NetworkID == "" {
		p.NetworkID = tenant.Name
	}
	if gw, err := netip.ParseAddr(tenant.Gateway); err == nil {
		p.Gateway = gw
	}
	return p
}

// Replica is what ReplicaGuests reads: the FSM.
type Replica interface {
	NetworkView() fsm.NetworkView
}

// ReplicaGuests finds a host's guests in its replica: the instance whose
// fixed IP is the address and whose Host is this host. An evacuated server
// answers on its new host as soon as the replica says it is there.
type ReplicaGuests struct {
	Replica Replica
	Host    string
}

// Guest implements Guests.
func (g ReplicaGuests) Guest(ip netip.Addr) (Instance, bool) {
	nv := g.Replica.NetworkView()
	for _, inst := range nv.Instances {
		if inst.Host != g.Host || inst.VMState == fsm.VMDeleted {
			continue
		}
		if p := port(nv.Tenant, inst); p.IP.IsValid() && p.IP == ip.Unmap() {
			return FromFSM(nv, inst), true
		}
	}
	return Instance{}, false
}
