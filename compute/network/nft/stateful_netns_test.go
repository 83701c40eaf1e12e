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

// addGuest creates the guest's namespace and veth pair; the host end is the
// tap, a port of br.
func addGuest(t *testing.T, h *netlink.Handle, br netlink.Link, name, tap, mac, ip string, extra ...string) *guest {
	t.Helper()
	ns, err := newDetachedNetns()
	if err != nil {
		t.Fatalf("guest %s netns: %v", name, err)
	}
	t.Cleanup(func() { ns.Close() })
	g := &guest{name: name, ns: ns, port: Port{Tap: tap, MAC: mustMAC(mac), IP: addr(ip)}}
	veth := &netlink.Veth{LinkAttrs: netlink.LinkAttrs{Name: tap, MasterIndex: br.Attrs().Index},
		PeerName: "eth0", PeerHardwareAddr: g.port.MAC, PeerNamespace: netlink.NsFd(int(ns))}
	if err := h.LinkAdd(veth); err != nil {
		t.Fatalf("veth %s: %v", tap, err)
	}
	if err := h.LinkSetUp(veth); err != nil {
		t.Fatalf("up %s: %v", tap, err)
	}
	gh, err := netlink.NewHandleAt(ns)
	if err != nil {
		t.Fatalf("netlink in %s: %v", name, err)
	}
	t.Cleanup(gh.Close)
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
	for i, a := range append([]string{ip + "/24"}, extra...) {
		nl, err := netlink.ParseAddr(a)
		if err != nil {
			t.Fatal(err)
		}
		if i > 0 {
			nl.Flags = 0 // an extra address: the one a spoofing guest sends from
		}
		if err := gh.AddrAdd(eth0, nl); err != nil {
			t.Fatalf("%s address %s: %v", name, a, err)
		}
	}
	return g
}

// newDetachedNetns makes a namespace without entering it for good: the
// calling thread (the test's, locked) goes back where it was.
func newDetachedNetns() (netns.NsHandle, error) {
	cur, err := netns.Get()
	if err != nil {
		return 0, err
	}
	defer cur.Close()
	ns, err := netns.New()
	if err != nil {
		return 0, err
	}
	if err := netns.Set(cur); err != nil {
		ns.Close()
		return 0, err
	}
	return ns, nil
}

// neigh pins ip → mac in g's neighbour table, so a flow's first packet is
// sent without ARP (the spoofing case must fail on its source IP, not on an
// ARP request the anti-spoof chain would drop too).
func (g *guest) neigh(t *testing.T, ip string, mac net.HardwareAddr) {
	t.Helper()
	gh, err := netlink.NewHandleAt(g.ns)
	if err != nil {
		t.Fatal(err)
	}
	defer gh.Close()
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

// TestStatefulBridgeNetns proves the rules on real packets: a bridge with two
// guests, each in its own namespace behind a veth port. A is in group ga
// (all egress, no ingress); B is in gb, whose ingress allows tcp 80 from ga.
func TestStatefulBridgeNetns(t *testing.T) {
	inThrowawayNetns(t)
	requireThrowaway(t)
	// Bridged IPv4 meets the inet hooks only through br_netfilter; a kernel
	// without it fails here, loudly.
	if err := os.WriteFile("/proc/sys/net/bridge/bridge-nf-call-iptables", []byte("1"), 0o644); err != nil {
		t.Fatalf("bridge-nf-call-iptables (needs br_netfilter): %v", err)
	}
	h, err := netlink.NewHandle()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(h.Close)
	br := &netlink.Bridge{LinkAttrs: netlink.LinkAttrs{Name: "br0"}}
	if err := h.LinkAdd(br); err != nil {
		t.Fatalf("bridge: %v", err)
	}
	if err := h.LinkSetUp(br); err != nil {
		t.Fatal(err)
	}
	const aIP, bIP, spoofIP = "10.88.0.10", "10.88.0.11", "10.88.0.12"
	a := addGuest(t, h, br, "A", "tapaaaaaaaaaaa", "fa:16:3e:00:00:0a", aIP, spoofIP+"/32")
	b := addGuest(t, h, br, "B", "tapbbbbbbbbbbb", "fa:16:3e:00:00:0b", bIP)
	a.neigh(t, bIP, b.port.MAC)
	b.neigh(t, spoofIP, a.port.MAC)
	a.listen(t, 80)
	b.listen(t, 80)
	b.listen(t, 81)

	// Controls: without shoal's tables every one of these flows works,
	// including A sending from an address that is not its own.
	requirePass(t, a, "", bIP, 81).Close()
	requirePass(t, a, spoofIP, bIP, 80).Close()
	requirePass(t, b, "", aIP, 80).Close()
	spoofedBefore := b.acceptedFrom(spoofIP)

	a.port.Groups, b.port.Groups = []string{"ga"}, []string{"gb"}
	rs := Ruleset{
		Tenant: prefix("10.88.0.0/24"),
		Ports:  []Port{a.port, b.port},
		Groups: []Group{
			// spoofIP is a member (as if on another host): only anti-spoofing
			// stands between A and B:80 when A sends from it.
			{ID: "ga", Members: []netip.Addr{addr(aIP), addr(spoofIP)}, Rules: []Rule{{}}},
			{ID: "gb", Members: []netip.Addr{addr(bIP)}, Rules: []Rule{{},
				{Ingress: true, Protocol: "tcp", PortMin: 80, PortMax: 80, RemoteGroup: "ga"}}},
		},
	}
	if err := Apply(rs); err != nil {
		t.Fatalf("Apply: %v", err)
	}
	kept := requirePass(t, a, "", bIP, 80) // allowed, and its replies pass
	defer kept.Close()
	requireDrop(t, a, "", bIP, 81)      // B allows only 80
	requireDrop(t, b, "", aIP, 80)      // A allows no ingress: only replies reach it
	requireDrop(t, a, spoofIP, bIP, 80) // group says yes, the spoofed source says no
	if n := b.acceptedFrom(spoofIP); n != spoofedBefore {
		t.Errorf("B accepted %d connections from the spoofed %s with the rules on", n-spoofedBefore, spoofIP)
	}

	// A leaves ga's member set (an element change): its established flow
	// lives on in conntrack, a new one is dropped.
	rs.Groups[0].Members = []netip.Addr{addr(spoofIP)}
	if err := Apply(rs); err != nil {
		t.Fatalf("Apply: %v", err)
	}
	if err := echo(kept, "still there"); err != nil {
		t.Errorf("established flow after a membership change: %v", err)
	}
	requireDrop(t, a, "", bIP, 80)

	if err := Remove(); err != nil {
		t.Fatalf("Remove: %v", err)
	}
	requirePass(t, a, "", bIP, 81).Close()
	requirePass(t, b, "", aIP, 80).Close()
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
