//go:build netns

package network

import (
	"net"
	"net/netip"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mdlayher/arp"
	"github.com/vishvananda/netlink"

	"github.com/shoal-project/shoal/internal/netnstest"
)

func readSysctl(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile("/proc/sys/" + path)
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(b))
}

// TestReconcilerNetns runs a pass against a real kernel, in a namespace laid
// out as host h1: bridge br0 with a guest port, uplink up0 to the underlay.
// The guest then asks for a server on h2 and the bridge answers (proxy ARP:
// the sysctls, the route and the proxy neighbour together).
func TestReconcilerNetns(t *testing.T) {
	netnstest.Enter(t)
	guestNS, underlay := netnstest.Other(t), netnstest.Other(t)
	netnstest.Bridge(t, "br0", "10.78.0.1/24")
	netnstest.Veth(t, "tapaaaaaaaa-00", "", guestNS, "eth0", "10.78.0.2/24")
	tap, err := netlink.LinkByName("tapaaaaaaaa-00")
	if err != nil {
		t.Fatal(err)
	}
	br, err := netlink.LinkByName("br0")
	if err != nil {
		t.Fatal(err)
	}
	if err := netlink.LinkSetMaster(tap, br); err != nil {
		t.Fatal(err)
	}
	netnstest.Veth(t, "up0", "10.99.0.11/24", underlay, "peer0", "10.99.0.12/24")
	// The guest has server a's MAC: anti-spoofing drops anything else.
	netnstest.In(t, guestNS, func() {
		eth0, err := netlink.LinkByName("eth0")
		if err != nil {
			t.Fatal(err)
		}
		if err := netlink.LinkSetHardwareAddr(eth0, mac(2)); err != nil {
			t.Fatal(err)
		}
	})
	// A new namespace takes the host's IPv4 settings: turn forwarding off
	// so the pass has to turn it on, once sure these writes stay in here.
	dirs, err := os.ReadDir("/proc/sys/net/ipv4/neigh")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, d := range dirs {
		names = append(names, d.Name())
	}
	if !slices.Equal(names, []string{"br0", "lo", "tapaaaaaaaa-00", "up0"}) {
		t.Fatalf("/proc/sys/net shows %v: not the test's namespace", names)
	}
	if err := os.WriteFile("/proc/sys/net/ipv4/ip_forward", []byte("0\n"), 0o644); err != nil {
		t.Fatal(err)
	}

	st, f := newState(cluster()), &fence{}
	dp := NewKernelDataplane("h1", t.TempDir(), nil)
	r, err := New(Config{Host: "h1", Address: h1, Bridge: func() (string, error) { return "br0", nil }, Fenced: f.get}, st, dp)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(dp.Close)
	if err := r.Pass(true); err != nil {
		t.Fatalf("pass: %v", err)
	}
	for path, want := range map[string]string{"net/ipv4/ip_forward": "1", "net/ipv4/neigh/br0/proxy_delay": "0",
		"net/bridge/bridge-nf-call-iptables": "1"} {
		if got := readSysctl(t, path); got != want {
			t.Errorf("%s = %s, want %s", path, got, want)
		}
	}
	rs, err := netlink.RouteGet(net.IPv4(10, 78, 0, 3))
	if err != nil || len(rs) != 1 || !rs[0].Gw.Equal(net.IPv4(10, 99, 0, 12)) {
		t.Fatalf("route to b = %+v, %v", rs, err)
	}

	var answer net.HardwareAddr
	netnstest.In(t, guestNS, func() {
		ifi, err := net.InterfaceByName("eth0")
		if err != nil {
			t.Fatal(err)
		}
		c, err := arp.Dial(ifi)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if err := c.SetDeadline(time.Now().Add(10 * time.Second)); err != nil {
			t.Fatal(err)
		}
		if answer, err = c.Resolve(netip.MustParseAddr("10.78.0.3")); err != nil {
			t.Fatalf("nobody answered for the server on h2: %v", err)
		}
	})
	// (A bridge takes its ports' lowest MAC unless given one: ask now.)
	if bridgeMAC := netnstest.HardwareAddr(t, "br0"); answer.String() != bridgeMAC.String() {
		t.Fatalf("ARP for the server on h2 answered by %s, want the bridge %s", answer, bridgeMAC)
	}

	// A second forced pass finds everything right and changes nothing.
	changed, err := r.pass(true)
	if err != nil || len(changed) != 0 {
		t.Fatalf("second pass changed %q, %v", changed, err)
	}

	// The floating IP needs an uplink holding the advertise address: here
	// it has one, so the address is on up0; fencing takes it away.
	if !hasAddr(t, "up0", "10.66.0.201/32") {
		t.Fatal("floating IP of the server here not on the uplink")
	}
	f.set(true)
	if err := r.Pass(false); err != nil {
		t.Fatal(err)
	}
	if hasAddr(t, "up0", "10.66.0.201/32") {
		t.Fatal("a fenced host kept its floating IP")
	}
}

func hasAddr(t *testing.T, dev, cidr string) bool {
	t.Helper()
	l, err := netlink.LinkByName(dev)
	if err != nil {
		t.Fatal(err)
	}
	as, err := netlink.AddrList(l, netlink.FAMILY_V4)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range as {
		if a.IPNet.String() == cidr {
			return true
		}
	}
	return false
}

func TestMain(m *testing.M) {
	if os.Geteuid() != 0 {
		println("tests tagged netns need root (they make network namespaces)")
		os.Exit(1)
	}
	os.Exit(m.Run())
}
