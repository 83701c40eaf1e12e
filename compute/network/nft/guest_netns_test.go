//go:build netns

package nft

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"runtime"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"

	"github.com/shoal-project/shoal/internal/netnstest"
)

// Dial timeouts. A dropped SYN gives no answer at all, so a drop can only
// be seen as a dial that times out (not refused: a refusal would mean the
// packet arrived). Each drop check has a control showing the same dial
// succeeds without the rules, and a pass gets far more time than it needs.
const (
	passTimeout = 10 * time.Second
	dropTimeout = 1500 * time.Millisecond
)

// guest is a throwaway namespace with one veth ("eth0") whose peer is a
// port of the test's bridge.
type guest struct {
	name string
	ns   netns.NsHandle
	port Port
	mu   sync.Mutex
	seen []string // remote addresses its listeners accepted
}

// inNetns runs f on a fresh OS thread in ns: sockets made there stay in ns.
// The thread is never unlocked, so it exits with the goroutine.
func inNetns(ns netns.NsHandle, f func() error) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		if err := netns.Set(ns); err != nil {
			errc <- err
			return
		}
		errc <- f()
	}()
	return <-errc
}

// addGuest creates the guest's namespace and a veth pair: "eth0" in the
// guest with addrs (CIDRs; the first is its port IP), and tap on this side,
// a port of br when br is not nil.
func addGuest(t *testing.T, h *netlink.Handle, br netlink.Link, name, tap, mac string, addrs ...string) *guest {
	t.Helper()
	ns := netnstest.Other(t)
	g := &guest{name: name, ns: ns, port: Port{Tap: tap, MAC: mustMAC(mac), IP: prefix(addrs[0]).Addr()}}
	veth := &netlink.Veth{LinkAttrs: netlink.LinkAttrs{Name: tap},
		PeerName: "eth0", PeerHardwareAddr: g.port.MAC, PeerNamespace: netlink.NsFd(int(ns))}
	if br != nil {
		veth.MasterIndex = br.Attrs().Index
	}
	if err := h.LinkAdd(veth); err != nil {
		t.Fatalf("veth %s: %v", tap, err)
	}
	if err := h.LinkSetUp(veth); err != nil {
		t.Fatalf("up %s: %v", tap, err)
	}
	gh := g.handle(t)
	for _, l := range []string{"lo", "eth0"} {
		link, err := gh.LinkByName(l)
		if err == nil {
			err = gh.LinkSetUp(link)
		}
		if err != nil {
			t.Fatalf("%s %s up: %v", name, l, err)
		}
	}
	eth0, _ := gh.LinkByName("eth0")
	for _, a := range addrs {
		nl, err := netlink.ParseAddr(a)
		if err == nil {
			err = gh.AddrAdd(eth0, nl)
		}
		if err != nil {
			t.Fatalf("%s address %s: %v", name, a, err)
		}
	}
	return g
}

func (g *guest) handle(t *testing.T) *netlink.Handle {
	t.Helper()
	gh, err := netlink.NewHandleAt(g.ns)
	if err != nil {
		t.Fatalf("netlink in %s: %v", g.name, err)
	}
	t.Cleanup(gh.Close)
	return gh
}

// neigh pins ip → mac in g's neighbour table, so a flow's first packet is
// sent without ARP (the spoofing case must fail on its source IP, not on an
// ARP request the anti-spoof chain would drop too).
func (g *guest) neigh(t *testing.T, ip string, mac net.HardwareAddr) {
	t.Helper()
	gh := g.handle(t)
	eth0, err := gh.LinkByName("eth0")
	if err == nil {
		err = gh.NeighAdd(&netlink.Neigh{LinkIndex: eth0.Attrs().Index, State: netlink.NUD_PERMANENT,
			IP: net.ParseIP(ip), HardwareAddr: mac})
	}
	if err != nil {
		t.Fatalf("%s neighbour %s: %v", g.name, ip, err)
	}
}

// listen starts an echo server on port in g; every accepted remote address
// is recorded.
func (g *guest) listen(t *testing.T, port int) {
	t.Helper()
	var ln net.Listener
	err := inNetns(g.ns, func() (err error) {
		ln, err = net.Listen("tcp4", fmt.Sprintf(":%d", port))
		return err
	})
	if err != nil {
		t.Fatalf("%s listen %d: %v", g.name, port, err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			g.mu.Lock()
			g.seen = append(g.seen, c.RemoteAddr().String())
			g.mu.Unlock()
			go func() {
				defer c.Close()
				r := bufio.NewReader(c)
				for {
					line, err := r.ReadString('\n')
					if err != nil {
						return
					}
					if _, err := c.Write([]byte(line)); err != nil {
						return
					}
				}
			}()
		}
	}()
}

// dial connects from g (source from, "" for its own IP) to to:port.
func (g *guest) dial(from, to string, port int, timeout time.Duration) (net.Conn, error) {
	d := net.Dialer{Timeout: timeout}
	if from != "" {
		d.LocalAddr = &net.TCPAddr{IP: net.ParseIP(from)}
	}
	var c net.Conn
	err := inNetns(g.ns, func() (err error) {
		c, err = d.Dial("tcp4", net.JoinHostPort(to, strconv.Itoa(port)))
		return err
	})
	return c, err
}

// echo proves a connection carries data both ways.
func echo(c net.Conn, msg string) error {
	if err := c.SetDeadline(time.Now().Add(passTimeout)); err != nil {
		return err
	}
	if _, err := c.Write([]byte(msg + "\n")); err != nil {
		return err
	}
	got, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		return err
	}
	if got != msg+"\n" {
		return fmt.Errorf("echo %q, want %q", got, msg)
	}
	return nil
}

func requirePass(t *testing.T, g *guest, from, to string, port int) net.Conn {
	t.Helper()
	c, err := g.dial(from, to, port, passTimeout)
	if err != nil {
		t.Fatalf("%s (%s) → %s:%d: %v, want a connection", g.name, from, to, port, err)
	}
	if err := echo(c, "hello from "+g.name); err != nil {
		t.Fatalf("%s (%s) → %s:%d: %v", g.name, from, to, port, err)
	}
	return c
}

func requireDrop(t *testing.T, g *guest, from, to string, port int) {
	t.Helper()
	c, err := g.dial(from, to, port, dropTimeout)
	var ne net.Error
	switch {
	case err == nil:
		c.Close()
		t.Errorf("%s (%s) → %s:%d connected, want it dropped", g.name, from, to, port)
	case !errors.As(err, &ne) || !ne.Timeout():
		t.Errorf("%s (%s) → %s:%d: %v, want a timeout (dropped, not refused)", g.name, from, to, port, err)
	}
}

// sysctl writes a sysctl of the calling thread's namespace (the test's).
func sysctl(t *testing.T, name, value string) {
	t.Helper()
	requireThrowaway(t)
	if err := os.WriteFile("/proc/sys/"+name, []byte(value), 0o644); err != nil {
		t.Fatalf("sysctl %s: %v", name, err)
	}
}

// newBridge makes br0 in the test's namespace, with bridged IPv4 passed to
// the inet hooks. That takes br_netfilter: a kernel without it fails here,
// loudly.
func newBridge(t *testing.T, addrs ...string) (*netlink.Handle, netlink.Link) {
	t.Helper()
	sysctl(t, "net/bridge/bridge-nf-call-iptables", "1")
	h, err := netlink.NewHandle()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(h.Close)
	br := &netlink.Bridge{LinkAttrs: netlink.LinkAttrs{Name: "br0"}}
	if err := h.LinkAdd(br); err != nil {
		t.Fatalf("bridge: %v", err)
	}
	for _, a := range addrs {
		nl, err := netlink.ParseAddr(a)
		if err == nil {
			err = h.AddrAdd(br, nl)
		}
		if err != nil {
			t.Fatalf("bridge address %s: %v", a, err)
		}
	}
	if err := h.LinkSetUp(br); err != nil {
		t.Fatal(err)
	}
	return h, br
}

func (g *guest) acceptedFrom(from string) int {
	g.mu.Lock()
	defer g.mu.Unlock()
	n := 0
	for _, s := range g.seen {
		if netip.MustParseAddrPort(s).Addr().String() == from {
			n++
		}
	}
	return n
}

// route gives g a default route via gw.
func (g *guest) route(t *testing.T, gw string) {
	t.Helper()
	gh := g.handle(t)
	eth0, err := gh.LinkByName("eth0")
	if err == nil {
		err = gh.RouteAdd(&netlink.Route{LinkIndex: eth0.Attrs().Index, Gw: net.ParseIP(gw)})
	}
	if err != nil {
		t.Fatalf("%s default route: %v", g.name, err)
	}
}
