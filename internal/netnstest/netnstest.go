// Package netnstest gives root tests (build tag netns) throwaway network
// namespaces, so what they program and send never touches the host's own.
//
// A namespace is a property of a thread: Enter locks the test's goroutine to
// its thread for the rest of the test. Everything that must happen inside
// runs on that goroutine (no t.Run, no t.Parallel: a subtest is another
// goroutine, on another thread, in the host's namespace).
package netnstest

import (
	"net"
	"runtime"
	"slices"
	"testing"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
)

// Enter moves the calling goroutine, locked to its thread, into a new
// network namespace with lo up, and returns it. Cleanup moves the thread
// back; if that fails the thread stays locked and dies with the goroutine,
// so no other goroutine ever runs in the test's namespace.
func Enter(t testing.TB) netns.NsHandle {
	t.Helper()
	runtime.LockOSThread()
	orig, err := netns.Get()
	if err != nil {
		t.Fatalf("current network namespace: %v", err)
	}
	ns, err := netns.New()
	if err != nil {
		orig.Close()
		t.Fatalf("new network namespace (this test needs root): %v", err)
	}
	t.Cleanup(func() {
		err := netns.Set(orig)
		ns.Close()
		orig.Close()
		if err == nil {
			runtime.UnlockOSThread()
		}
	})
	up(t, "lo")
	return ns
}

// Other makes one more namespace, with lo up, without entering it: the
// thread (inside Enter's namespace) stays where it is.
func Other(t testing.TB) netns.NsHandle {
	t.Helper()
	here, err := netns.Get()
	if err != nil {
		t.Fatalf("current network namespace: %v", err)
	}
	defer here.Close()
	ns, err := netns.New()
	if err != nil {
		t.Fatalf("new network namespace: %v", err)
	}
	t.Cleanup(func() { ns.Close() })
	up(t, "lo")
	if err := netns.Set(here); err != nil {
		t.Fatalf("back to the test's namespace: %v", err)
	}
	return ns
}

// In runs f with the thread in ns, then brings it back. Sockets f opens
// stay in ns for their life.
func In(t testing.TB, ns netns.NsHandle, f func()) {
	t.Helper()
	here, err := netns.Get()
	if err != nil {
		t.Fatalf("current network namespace: %v", err)
	}
	defer here.Close()
	if err := netns.Set(ns); err != nil {
		t.Fatalf("entering namespace: %v", err)
	}
	defer func() {
		if err := netns.Set(here); err != nil {
			panic("netnstest: cannot return to the test's namespace: " + err.Error())
		}
	}()
	f()
}

// Veth makes a veth pair: name here with address addr (CIDR, "" for none),
// and peer in ns other with peerAddr; both up.
func Veth(t testing.TB, name, addr string, other netns.NsHandle, peer, peerAddr string) {
	t.Helper()
	v := &netlink.Veth{LinkAttrs: netlink.LinkAttrs{Name: name}, PeerName: peer}
	if err := netlink.LinkAdd(v); err != nil {
		t.Fatalf("veth %s: %v", name, err)
	}
	p, err := netlink.LinkByName(peer)
	if err != nil {
		t.Fatalf("veth peer %s: %v", peer, err)
	}
	if err := netlink.LinkSetNsFd(p, int(other)); err != nil {
		t.Fatalf("moving %s: %v", peer, err)
	}
	Addr(t, name, addr)
	up(t, name)
	In(t, other, func() {
		Addr(t, peer, peerAddr)
		up(t, peer)
	})
}

// Bridge makes a bridge with address addr (CIDR, "" for none), up.
func Bridge(t testing.TB, name, addr string) {
	t.Helper()
	if err := netlink.LinkAdd(&netlink.Bridge{LinkAttrs: netlink.LinkAttrs{Name: name}}); err != nil {
		t.Fatalf("bridge %s: %v", name, err)
	}
	Addr(t, name, addr)
	up(t, name)
}

// Addr adds addr (CIDR; "" adds nothing) to the interface name.
func Addr(t testing.TB, name, addr string) {
	t.Helper()
	if addr == "" {
		return
	}
	a, err := netlink.ParseAddr(addr)
	if err != nil {
		t.Fatalf("address %q: %v", addr, err)
	}
	l, err := netlink.LinkByName(name)
	if err != nil {
		t.Fatalf("interface %s: %v", name, err)
	}
	if err := netlink.AddrAdd(l, a); err != nil {
		t.Fatalf("address %s on %s: %v", addr, name, err)
	}
}

// HardwareAddr is the MAC of the interface name.
func HardwareAddr(t testing.TB, name string) net.HardwareAddr {
	t.Helper()
	l, err := netlink.LinkByName(name)
	if err != nil {
		t.Fatalf("interface %s: %v", name, err)
	}
	return l.Attrs().HardwareAddr
}

func up(t testing.TB, name string) {
	t.Helper()
	l, err := netlink.LinkByName(name)
	if err != nil {
		t.Fatalf("interface %s: %v", name, err)
	}
	if err := netlink.LinkSetUp(l); err != nil {
		t.Fatalf("%s up: %v", name, err)
	}
}

// Addrs lists dev's IPv4 addresses as sorted CIDRs.
func Addrs(t testing.TB, dev string) []string {
	t.Helper()
	l, err := netlink.LinkByName(dev)
	if err != nil {
		t.Fatal(err)
	}
	as, err := netlink.AddrList(l, netlink.FAMILY_V4)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, a := range as {
		out = append(out, a.IPNet.String())
	}
	slices.Sort(out)
	return out
}
