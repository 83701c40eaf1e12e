//go:build netns

package nft

import (
	"runtime"
	"testing"

	"github.com/vishvananda/netns"
)

// inThrowawayNetns moves the test's goroutine, locked to its OS thread, into
// a new network namespace; cleanup moves it back. The thread stays locked,
// so it dies with the test's goroutine and is never reused elsewhere.
func inThrowawayNetns(t *testing.T) netns.NsHandle {
	t.Helper()
	runtime.LockOSThread()
	orig, err := netns.Get()
	if err != nil {
		t.Fatalf("current netns: %v", err)
	}
	ns, err := netns.New()
	if err != nil {
		orig.Close()
		t.Fatalf("new netns (this test needs root): %v", err)
	}
	t.Cleanup(func() {
		if err := netns.Set(orig); err != nil {
			t.Errorf("back to the original netns: %v", err)
		}
		ns.Close()
		orig.Close()
	})
	return ns
}
