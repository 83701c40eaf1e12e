package libvirt

import (
	"errors"
	"fmt"

	golibvirt "github.com/digitalocean/go-libvirt"
	"libvirt.org/go/libvirtxml"

	"github.com/shoal-project/shoal/fsm"
)

// ErrNoNetwork means the cluster has no network yet, so this host has no
// bridge and no instance can get an address.
var ErrNoNetwork = errors.New("libvirt: the cluster has no network yet")

// ensureNetwork returns the libvirt network of the cluster network, defined,
// started and autostarted. One that exists is adopted: nodes sharing a
// libvirtd share it, each adding and removing only its own reservations; one
// an older shoal defined is brought to today's shape (ensureShape).
func (d *Driver) ensureNetwork(l *golibvirt.Libvirt) (golibvirt.Network, error) {
	var net golibvirt.Network
	if d.cfg.Network == nil {
		return net, fmt.Errorf("libvirt: define needs Config.Network (the cluster's network); this driver was configured for Fingerprint only")
	}
	info, ok := d.cfg.Network()
	if !ok {
		return net, fmt.Errorf("%w; cannot attach the instance", ErrNoNetwork)
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
	if err := d.ensureShape(l, net, info); err != nil {
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

// hasShape reports whether def is a network of today's data plane: forward
// mode open and the anycast bridge MAC mac.
func hasShape(def *libvirtxml.Network, mac string) bool {
	return def.Forward != nil && def.Forward.Mode == "open" && def.MAC != nil && equalMAC(def.MAC.Address, mac)
}

// ensureShape brings a network an older shoal defined (isolated, with
// libvirt's random bridge MAC) to today's shape. Its persistent definition
// is redefined (same name and UUID; its bridge and reservations kept, only
// <forward> and <mac> change). The running network takes the new shape only
// when it starts: it is restarted at once when no guest's port is on it, and
// otherwise left for its next start, since libvirt does not put the taps of
// running guests back on a bridge it recreated.
func (d *Driver) ensureShape(l *golibvirt.Libvirt, net golibvirt.Network, info fsm.NetworkInfo) error {
	// A reservation added between reading and redefining would be lost.
	d.dhcpMu.Lock()
	defer d.dhcpMu.Unlock()
	mac := bridgeMAC(info.CIDR)
	def, err := networkDef(l, net, golibvirt.NetworkXMLInactive)
	if err != nil {
		return err
	}
	if !hasShape(def, mac) {
		def.Forward = &libvirtxml.NetworkForward{Mode: "open"}
		def.MAC = &libvirtxml.NetworkMAC{Address: mac}
		doc, err := def.Marshal()
		if err != nil {
			return fmt.Errorf("libvirt: network %s: %w", net.Name, err)
		}
		if _, err := l.NetworkDefineXML(doc); err != nil {
			return fmt.Errorf("libvirt: redefine network %s: %w", net.Name, err)
		}
		d.log.Info("network redefined: forward open, anycast bridge MAC", "network", net.Name, "mac", mac)
	}
	active, err := l.NetworkIsActive(net)
	if err != nil || active == 0 {
		return err
	}
	live, err := networkDef(l, net, 0)
	if err != nil || hasShape(live, mac) {
		return err
	}
	ports, err := networkPorts(l, net)
	if err != nil {
		return err
	}
	if ports > 0 {
		d.log.Info("network keeps its old shape until its next start: guests use it", "network", net.Name, "ports", ports)
		return nil
	}
	d.log.Info("restarting an unused network in its new shape", "network", net.Name)
	if err := l.NetworkDestroy(net); err != nil {
		return fmt.Errorf("libvirt: restart network %s: %w", net.Name, err)
	}
	return nil // ensureNetwork starts it again
}

// networkDef is a network's definition: flags 0 for the running one,
// NetworkXMLInactive for the persistent one.
func networkDef(l *golibvirt.Libvirt, net golibvirt.Network, flags golibvirt.NetworkXMLFlags) (*libvirtxml.Network, error) {
	doc, err := l.NetworkGetXMLDesc(net, uint32(flags))
	if err != nil {
		return nil, fmt.Errorf("libvirt: network %s: %w", net.Name, err)
	}
	var def libvirtxml.Network
	if err := def.Unmarshal(doc); err != nil {
		return nil, fmt.Errorf("libvirt: network %s: %w", net.Name, err)
	}
	return &def, nil
}

// networkPorts is how many guest interfaces are on a running network. Its
// port objects say, not the XML's connections attribute: libvirt 9.0 drops
// that count at every live update of the DHCP reservations.
func networkPorts(l *golibvirt.Libvirt, net golibvirt.Network) (int, error) {
	ports, _, err := l.NetworkListAllPorts(net, 1, 0)
	if err != nil {
		return 0, fmt.Errorf("libvirt: ports of network %s: %w", net.Name, err)
	}
	return len(ports), nil
}

// Bridge is the Linux bridge of the cluster network on this host, for the
// host's network reconciler (proxy neighbours, sysctls): the libvirt
// network's own when it is defined (an adopted one keeps the bridge it was
// defined with), otherwise the one ensureNetwork will give it. The bridge
// itself exists only while the network runs, from the first instance
// defined here on. ErrNoNetwork while the cluster has none.
func (d *Driver) Bridge() (string, error) {
	if d.cfg.Network == nil {
		return "", fmt.Errorf("libvirt: Bridge needs Config.Network (the cluster's network)")
	}
	info, ok := d.cfg.Network()
	if !ok {
		return "", ErrNoNetwork
	}
	l, err := d.client()
	if err != nil {
		return "", err
	}
	net, err := l.NetworkLookupByName(networkName(info))
	if hasCode(err, golibvirt.ErrNoNetwork) {
		return bridgeFor(d.cfg.Bridge, info.CIDR), nil
	} else if err != nil {
		return "", fmt.Errorf("libvirt: network %s: %w", networkName(info), err)
	}
	name, err := l.NetworkGetBridgeName(net)
	if err != nil {
		return "", fmt.Errorf("libvirt: bridge of network %s: %w", net.Name, err)
	}
	return name, nil
}
