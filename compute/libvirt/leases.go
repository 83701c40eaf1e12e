package libvirt

import (
	"context"
	"os/exec"
	"time"

	golibvirt "github.com/digitalocean/go-libvirt"

	"github.com/shoal-project/shoal/compute"
)

// releaseStaleLeases frees leases that another MAC still holds on the
// addresses spec is about to use. Fixed IPs come back to the pool when a
// server is deleted, and dnsmasq refuses to hand an address leased to one MAC
// to another until the lease expires (an hour): the next server would boot
// without an address. dnsmasq's dhcp_release (dnsmasq-utils, as Neutron uses)
// ends such a lease at once; it only talks to the dnsmasq on the network's own
// bridge.
func (d *Driver) releaseStaleLeases(l *golibvirt.Libvirt, net golibvirt.Network, spec compute.InstanceSpec) {
	leases, _, err := l.NetworkGetDhcpLeases(net, nil, 1, 0)
	if err != nil {
		d.log.Warn("reading DHCP leases", "network", net.Name, "err", err)
		return
	}
	for _, a := range spec.Addresses {
		for _, lease := range leases {
			if lease.Ipaddr != a.IP || len(lease.Mac) == 0 || equalMAC(lease.Mac[0], a.MAC) {
				continue
			}
			args := []string{lease.Iface, lease.Ipaddr, lease.Mac[0]}
			if len(lease.Clientid) > 0 && lease.Clientid[0] != "" {
				args = append(args, lease.Clientid[0])
			}
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			out, err := exec.CommandContext(ctx, "dhcp_release", args...).CombinedOutput()
			cancel()
			if err != nil {
				d.log.Warn("releasing a stale DHCP lease failed (is dnsmasq-utils installed?)", "network", net.Name,
					"ip", lease.Ipaddr, "mac", lease.Mac[0], "err", err, "output", string(out))
				continue
			}
			d.log.Info("released a stale DHCP lease", "network", net.Name, "ip", lease.Ipaddr, "mac", lease.Mac[0], "instance", spec.ID)
		}
	}
}
