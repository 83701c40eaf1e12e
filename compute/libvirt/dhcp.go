package libvirt

import (
	"context"
	"fmt"
	"os/exec"
	"strings"
	"time"

	golibvirt "github.com/digitalocean/go-libvirt"
	"libvirt.org/go/libvirtxml"

	"github.com/shoal-project/shoal/compute"
	metadatasvc "github.com/shoal-project/shoal/compute/metadata" // the package's own metadata() reads domain XML
	"github.com/shoal-project/shoal/fsm"
)

// This file keeps the cluster network's DHCP in line with IPAM: one static
// reservation (a DHCP host entry) per address of the servers this node
// defines, and no address still bound by dnsmasq to a MAC it no longer
// belongs to.

// dhcpFlags change both the running network and its persistent definition.
const dhcpFlags = golibvirt.NetworkUpdateAffectLive | golibvirt.NetworkUpdateAffectConfig

// dhcpHosts is the network's static reservations as it runs now.
func dhcpHosts(l *golibvirt.Libvirt, net golibvirt.Network) ([]libvirtxml.NetworkDHCPHost, error) {
	doc, err := l.NetworkGetXMLDesc(net, 0)
	if err != nil {
		return nil, fmt.Errorf("libvirt: network %s: %w", net.Name, err)
	}
	var def libvirtxml.Network
	if err := def.Unmarshal(doc); err != nil {
		return nil, fmt.Errorf("libvirt: network %s: %w", net.Name, err)
	}
	var hosts []libvirtxml.NetworkDHCPHost
	for _, ip := range def.IPs {
		if ip.DHCP != nil {
			hosts = append(hosts, ip.DHCP.Hosts...)
		}
	}
	return hosts, nil
}

// addDHCPHosts reserves each address of spec on net: present already is
// fine; an entry holding the MAC or the IP of one of them is stale (IPAM in
// Raft gives each to one instance) and is replaced.
func (d *Driver) addDHCPHosts(l *golibvirt.Libvirt, net golibvirt.Network, spec compute.InstanceSpec) error {
	d.dhcpMu.Lock()
	defer d.dhcpMu.Unlock()
	d.releaseStaleBindings(l, net, spec)
	for _, a := range spec.Addresses {
		hosts, err := dhcpHosts(l, net)
		if err != nil {
			return err
		}
		present := false
		for _, h := range hosts {
			switch {
			case equalMAC(h.MAC, a.MAC) && h.IP == a.IP:
				present = true
			case equalMAC(h.MAC, a.MAC) || h.IP == a.IP:
				d.log.Info("replacing stale DHCP reservation", "network", net.Name, "mac", h.MAC, "ip", h.IP, "instance", spec.ID)
				if err := updateHost(l, net, golibvirt.NetworkUpdateCommandDelete, h); err != nil {
					return err
				}
			}
		}
		if present {
			continue
		}
		if err := updateHost(l, net, golibvirt.NetworkUpdateCommandAddLast, dhcpHost(a, reservationName(spec, a, hosts))); err != nil {
			return err
		}
	}
	return nil
}

// reservationName is the host name of a's reservation among hosts (the
// network's): the server's hostname as its metadata shows it, so DHCP and
// cloud-init agree, unless another address's reservation holds that name
// already (libvirt refuses two reservations of one name).
func reservationName(spec compute.InstanceSpec, a fsm.Address, hosts []libvirtxml.NetworkDHCPHost) string {
	name := metadatasvc.ServerHostname(spec.Name, spec.ID)
	for _, h := range hosts {
		if h.Name == name && !equalMAC(h.MAC, a.MAC) && h.IP != a.IP {
			return distinctHostname(name, spec.ID)
		}
	}
	return name
}

// distinctHostname is hostname made distinct for the server id when
// another reservation on the network holds it already (two servers of one
// name): "-" and the ID's first 8 characters appended, the hostname cut so
// the whole stays a 63-character label. Only DHCP sees it; the metadata
// service keeps the name both servers share, as Nova's does.
func distinctHostname(hostname, id string) string {
	suffix := "-" + strings.ToLower(id[:min(8, len(id))])
	if len(hostname)+len(suffix) > 63 {
		hostname = strings.TrimRight(hostname[:63-len(suffix)], "-")
	}
	return hostname + suffix
}

// removeDHCPHosts deletes net's reservations of the given MACs; a missing
// network or entry is fine.
func (d *Driver) removeDHCPHosts(l *golibvirt.Libvirt, network string, macs []string) error {
	if len(macs) == 0 {
		return nil
	}
	d.dhcpMu.Lock()
	defer d.dhcpMu.Unlock()
	net, err := l.NetworkLookupByName(network)
	if hasCode(err, golibvirt.ErrNoNetwork) {
		return nil
	} else if err != nil {
		return fmt.Errorf("libvirt: network %s: %w", network, err)
	}
	hosts, err := dhcpHosts(l, net)
	if err != nil {
		return err
	}
	for _, h := range hosts {
		for _, mac := range macs {
			if equalMAC(h.MAC, mac) {
				if err := updateHost(l, net, golibvirt.NetworkUpdateCommandDelete, h); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// updateHost adds or deletes one reservation, live and persistent. libvirt's
// wire protocol long had command and section swapped; NetworkUpdateCompat
// asks the daemon which order it expects.
func updateHost(l *golibvirt.Libvirt, net golibvirt.Network, cmd golibvirt.NetworkUpdateCommand, h libvirtxml.NetworkDHCPHost) error {
	doc, err := h.Marshal()
	if err != nil {
		return err
	}
	err = l.NetworkUpdateCompat(net, cmd, golibvirt.NetworkSectionIPDhcpHost, -1, doc, dhcpFlags)
	if err != nil {
		return fmt.Errorf("libvirt: network %s: update DHCP host %s: %w", net.Name, doc, err)
	}
	return nil
}

// equalMAC compares MACs as libvirt prints them (lower case) or not.
func equalMAC(a, b string) bool {
	return a != "" && strings.EqualFold(a, b)
}

// releaseStaleBindings ends what dnsmasq still has bound to another MAC on
// the addresses spec is about to use (its DHCP leases, as dnsmasq calls
// them). Fixed IPs come back to the pool when a server is deleted, and
// dnsmasq refuses to hand an address leased to one MAC to another until the
// lease expires (an hour): the next server would boot without an address.
// dnsmasq's dhcp_release (dnsmasq-utils, as Neutron uses) ends such a lease
// at once; it only talks to the dnsmasq on the network's own bridge.
func (d *Driver) releaseStaleBindings(l *golibvirt.Libvirt, net golibvirt.Network, spec compute.InstanceSpec) {
	bindings, _, err := l.NetworkGetDhcpLeases(net, nil, 1, 0)
	if err != nil {
		d.log.Warn("reading DHCP leases", "network", net.Name, "err", err)
		return
	}
	for _, a := range spec.Addresses {
		for _, b := range bindings {
			if b.Ipaddr != a.IP || len(b.Mac) == 0 || equalMAC(b.Mac[0], a.MAC) {
				continue
			}
			args := []string{b.Iface, b.Ipaddr, b.Mac[0]}
			if len(b.Clientid) > 0 && b.Clientid[0] != "" {
				args = append(args, b.Clientid[0])
			}
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			out, err := exec.CommandContext(ctx, "dhcp_release", args...).CombinedOutput()
			cancel()
			if err != nil {
				d.log.Warn("releasing a stale DHCP lease failed (is dnsmasq-utils installed?)", "network", net.Name,
					"ip", b.Ipaddr, "mac", b.Mac[0], "err", err, "output", string(out))
				continue
			}
			d.log.Info("released a stale DHCP lease", "network", net.Name, "ip", b.Ipaddr, "mac", b.Mac[0], "instance", spec.ID)
		}
	}
}
