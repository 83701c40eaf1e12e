package libvirt

import (
	"fmt"

	golibvirt "github.com/digitalocean/go-libvirt"

	"github.com/shoal-project/shoal/fsm"
)

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
