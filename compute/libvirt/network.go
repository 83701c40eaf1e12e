package libvirt

import (
	"fmt"
	"strings"

	golibvirt "github.com/digitalocean/go-libvirt"
	"libvirt.org/go/libvirtxml"

	"github.com/shoal-project/shoal/compute"
	"github.com/shoal-project/shoal/fsm"
)

// dhcpFlags change both the running network and its persistent definition.
const dhcpFlags = golibvirt.NetworkUpdateAffectLive | golibvirt.NetworkUpdateAffectConfig

// ensureNetwork returns the libvirt network of the cluster network, defined,
// started and autostarted. One that exists is adopted as it is: nodes sharing
// a libvirtd share it, each adding and removing only its own reservations.
func (d *Driver) ensureNetwork(l *golibvirt.Libvirt) (golibvirt.Network, error) {
	var net golibvirt.Network
	if d.cfg.Network == nil {
		return net, fmt.Errorf("libvirt: define needs Config.Network (the cluster's network); this driver was configured for Fingerprint only")
	}
	info, ok := d.cfg.Network()
	if !ok {
		return net, fmt.Errorf("libvirt: the cluster has no network yet; cannot attach the instance")
	}
	d.setupMu.Lock()
	defer d.setupMu.Unlock()
	name := networkName(info)
	net, err := l.NetworkLookupByName(name)
	if hasCode(err, golibvirt.ErrNoNetwork) {
		def, derr := networkFor(info, d.cfg.Bridge)
		if derr != nil {
			return net, derr
		}
		doc, derr := def.Marshal()
		if derr != nil {
			return net, derr
		}
		net, err = l.NetworkDefineXML(doc)
		if hasCode(err, golibvirt.ErrNetworkExist) { // another node on this libvirtd was faster
			net, err = l.NetworkLookupByName(name)
		}
		if err == nil {
			d.log.Info("network defined", "network", name, "cidr", info.CIDR, "bridge", bridgeFor(d.cfg.Bridge, info.CIDR))
		}
	}
	if err != nil {
		return net, fmt.Errorf("libvirt: network %s: %w", name, err)
	}
	if err := d.ensurePlaceholder(l, net, info); err != nil {
		return net, err
	}
	active, err := l.NetworkIsActive(net)
	if err != nil {
		return net, fmt.Errorf("libvirt: network %s: %w", name, err)
	}
	if active == 0 {
		if err := l.NetworkCreate(net); err != nil && !hasCode(err, golibvirt.ErrOperationInvalid) {
			return net, fmt.Errorf("libvirt: start network %s: %w", name, err)
		}
	}
	if err := l.NetworkSetAutostart(net, 1); err != nil {
		return net, fmt.Errorf("libvirt: autostart network %s: %w", name, err)
	}
	return net, nil
}

// ensurePlaceholder repairs a network defined without the placeholder
// reservation (by an older shoal): it is added, and a running network that
// has no reservation at all, so no guest depends on it, is restarted so its
// dnsmasq serves DHCP.
func (d *Driver) ensurePlaceholder(l *golibvirt.Libvirt, net golibvirt.Network, info fsm.NetworkInfo) error {
	d.dhcpMu.Lock()
	defer d.dhcpMu.Unlock()
	hosts, err := dhcpHosts(l, net)
	if err != nil {
		return err
	}
	for _, h := range hosts {
		if equalMAC(h.MAC, placeholderMAC) {
			return nil
		}
	}
	if err := updateHost(l, net, golibvirt.NetworkUpdateCommandAddFirst, placeholderHost(info.Gateway)); err != nil {
		return err
	}
	active, err := l.NetworkIsActive(net)
	if err != nil || active == 0 || len(hosts) > 0 {
		return err
	}
	d.log.Info("restarting an unused network so its DHCP serves reservations", "network", net.Name)
	if err := l.NetworkDestroy(net); err != nil {
		return fmt.Errorf("libvirt: restart network %s: %w", net.Name, err)
	}
	return nil // ensureNetwork starts it again
}

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
	d.releaseStaleLeases(l, net, spec)
	for _, a := range spec.Addresses {
		hosts, err := dhcpHosts(l, net)
		if err != nil {
			return err
		}
		name := hostname(spec.Name, "server-"+spec.ID[:min(8, len(spec.ID))])
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
			case h.Name == name:
				// libvirt refuses two reservations of one name.
				name = hostname(spec.Name+"-"+spec.ID[:min(8, len(spec.ID))], name)
			}
		}
		if present {
			continue
		}
		if err := updateHost(l, net, golibvirt.NetworkUpdateCommandAddLast, dhcpHost(a, name)); err != nil {
			return err
		}
	}
	return nil
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
