//go:build netns

package nft

import (
	"os"
	"runtime"
	"testing"

	"github.com/vishvananda/netns"

	"github.com/shoal-project/shoal/internal/netnstest"
)

// hostNetns identifies the network namespace the test binary started in:
// no test here may program nftables there.
var hostNetns string

func TestMain(m *testing.M) {
	h, err := netns.Get()
	if err != nil {
		panic(err)
	}
	hostNetns = h.UniqueId()
	h.Close()
	os.Exit(m.Run())
}

// requireThrowaway stops a test whose goroutine is not in a namespace it
// made (a subtest runs in a goroutine of its own: it must enter first).
func requireThrowaway(t testing.TB) {
	t.Helper()
	cur, err := netns.Get()
	if err != nil {
		t.Fatalf("current netns: %v", err)
	}
	defer cur.Close()
	if cur.UniqueId() == hostNetns {
		t.Fatal("refusing to touch the host's network namespace: enter a throwaway one first")
	}
}

// inThrowawayNetns moves the test's goroutine, locked to its thread, into a
// new network namespace (netnstest.Enter) and returns it.
func inThrowawayNetns(t testing.TB) netns.NsHandle {
	t.Helper()
	ns := netnstest.Enter(t)
	requireThrowaway(t)
	return ns
}

// enterNetns moves the calling goroutine, locked to its OS thread, into ns
// until the test ends. The thread stays locked: it exits with the goroutine
// and is never reused by another.
func enterNetns(t *testing.T, ns netns.NsHandle) {
	t.Helper()
	runtime.LockOSThread()
	orig, err := netns.Get()
	if err != nil {
		t.Fatalf("current netns: %v", err)
	}
	if err := netns.Set(ns); err != nil {
		orig.Close()
		t.Fatalf("enter netns: %v", err)
	}
	t.Cleanup(func() {
		if err := netns.Set(orig); err != nil {
			t.Errorf("back to the original netns: %v", err)
		}
		orig.Close()
	})
}

// runIn runs a subtest inside ns.
func runIn(t *testing.T, ns netns.NsHandle, name string, f func(t *testing.T)) {
	t.Helper()
	t.Run(name, func(t *testing.T) {
		enterNetns(t, ns)
		requireThrowaway(t)
		f(t)
	})
}
