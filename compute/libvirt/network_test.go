//go:build libvirt

package libvirt

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	golibvirt "github.com/digitalocean/go-libvirt"
)

// The network of today's data plane: forward open (no libvirt firewall), the
// anycast bridge MAC, and each guest's port on a tap named from its ID.
func TestNetworkShape(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	d := e.driver(e.node("n1"))
	if br, err := d.Bridge(); err != nil || br != e.bridge {
		t.Fatalf("Bridge before the network exists = %q, %v; want %q", br, err, e.bridge)
	}
	spec := e.spec("web", 10)
	if err := d.Define(bg, spec); err != nil {
		t.Fatal(err)
	}
	if err := d.Start(bg, spec.ID); err != nil {
		t.Fatal(err)
	}
	if br, err := d.Bridge(); err != nil || br != e.bridge {
		t.Fatalf("Bridge = %q, %v; want %q", br, err, e.bridge)
	}
	net := e.lookupNetwork()
	for _, flags := range []golibvirt.NetworkXMLFlags{0, golibvirt.NetworkXMLInactive} {
		def, err := networkDef(e.l, net, flags)
		if err != nil {
			t.Fatal(err)
		}
		if !hasShape(def, bridgeMAC(e.network.CIDR)) {
			t.Errorf("network (flags %d) is not forward open with MAC %s: forward %+v, mac %+v", flags, bridgeMAC(e.network.CIDR), def.Forward, def.MAC)
		}
	}
	if ports, err := networkPorts(e.l, net); err != nil || ports != 1 {
		t.Errorf("running network has %d ports (%v), want 1", ports, err)
	}
	tap := TapName(spec.ID)
	if master := linkMaster(t, tap); master != e.bridge {
		t.Errorf("tap %s is on %q, want bridge %s", tap, master, e.bridge)
	}
	if mac, err := os.ReadFile("/sys/class/net/" + e.bridge + "/address"); err != nil || strings.TrimSpace(string(mac)) != bridgeMAC(e.network.CIDR) {
		t.Errorf("bridge MAC %q, %v; want %s", mac, err, bridgeMAC(e.network.CIDR))
	}
	if rules, err := exec.Command("iptables-save").CombinedOutput(); err != nil {
		t.Fatalf("iptables-save: %v\n%s", err, rules)
	} else if strings.Contains(string(rules), e.bridge) {
		t.Errorf("libvirt added firewall rules for %s:\n%s", e.bridge, rules)
	}
}

// A network an older shoal defined (isolated, libvirt's bridge MAC) is
// redefined in today's shape at once, keeping its UUID, bridge and
// reservations; while a guest's port is on it, it keeps running in its old
// shape, and it is restarted in the new one once no guest uses it.
func TestNetworkShapeOfAdoptedNetwork(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	old, err := networkFor(e.network, e.bridge)
	if err != nil {
		t.Fatal(err)
	}
	old.Forward, old.MAC = nil, nil
	doc, err := old.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	net, err := e.l.NetworkDefineXML(doc)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.l.NetworkCreate(net); err != nil {
		t.Fatal(err)
	}
	// Someone's guest on it: a domain with no disk, a port and nothing else.
	guest := "shoal-test-port-" + e.suffix
	path := filepath.Join(t.TempDir(), "guest.xml")
	if err := os.WriteFile(path, []byte(`<domain type='qemu'><name>`+guest+`</name><memory unit='MiB'>32</memory>
<os><type arch='x86_64'>hvm</type></os><devices><interface type='network'><source network='`+net.Name+`'/></interface></devices></domain>`), 0o644); err != nil {
		t.Fatal(err)
	}
	virsh(t, "create", path)
	t.Cleanup(func() { exec.Command("virsh", "-c", "qemu:///system", "destroy", guest).Run() })

	d := e.driver(e.node("n1"))
	first := e.spec("first", 10)
	if err := d.Define(bg, first); err != nil {
		t.Fatal(err)
	}
	mac := bridgeMAC(e.network.CIDR)
	persistent, err := networkDef(e.l, net, golibvirt.NetworkXMLInactive)
	if err != nil {
		t.Fatal(err)
	}
	live, err := networkDef(e.l, net, 0)
	if err != nil {
		t.Fatal(err)
	}
	ports, err := networkPorts(e.l, net)
	if err != nil {
		t.Fatal(err)
	}
	switch {
	case !hasShape(persistent, mac):
		t.Errorf("persistent definition not redefined: forward %+v, mac %+v", persistent.Forward, persistent.MAC)
	case persistent.UUID != live.UUID || persistent.Bridge.Name != e.bridge:
		t.Errorf("redefined with UUID %s, bridge %s; want %s, %s", persistent.UUID, persistent.Bridge.Name, live.UUID, e.bridge)
	case hasShape(live, mac) || ports != 1:
		t.Errorf("the network in use was restarted (ports %d, forward %+v)", ports, live.Forward)
	}
	if !strings.Contains(e.dhcpHostsOf(), first.Addresses[0].MAC) {
		t.Errorf("reservation of %s missing:\n%s", first.ID, e.dhcpHostsOf())
	}

	virsh(t, "destroy", guest)
	second := e.spec("second", 11)
	if err := d.Define(bg, second); err != nil {
		t.Fatal(err)
	}
	live, err = networkDef(e.l, net, 0)
	if err != nil {
		t.Fatal(err)
	}
	if !hasShape(live, mac) || live.UUID != persistent.UUID {
		t.Errorf("unused network not restarted in its new shape: uuid %s, forward %+v, mac %+v", live.UUID, live.Forward, live.MAC)
	}
	if active, err := e.l.NetworkIsActive(net); err != nil || active != 1 {
		t.Errorf("network active = %d, %v", active, err)
	}
	for _, s := range []string{first.Addresses[0].MAC, second.Addresses[0].MAC} {
		if hosts := e.dhcpHostsOf(); !strings.Contains(hosts, s) {
			t.Errorf("reservation of %s missing after the restart:\n%s", s, hosts)
		}
	}
}

func (e *env) lookupNetwork() golibvirt.Network {
	e.t.Helper()
	net, err := e.l.NetworkLookupByName(networkName(e.network))
	if err != nil {
		e.t.Fatal(err)
	}
	return net
}

// linkMaster is the bridge a link is enslaved to, "" for none.
func linkMaster(t *testing.T, link string) string {
	t.Helper()
	target, err := os.Readlink("/sys/class/net/" + link + "/master")
	if err != nil {
		t.Logf("link %s: %v", link, err)
		return ""
	}
	return filepath.Base(target)
}
