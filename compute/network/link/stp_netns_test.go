//go:build netns

package link_test

import (
	"testing"

	"github.com/shoal-project/shoal/compute/network/link"
)

// A bridge with STP on (as libvirt made the tenant bridge before) is turned
// off once, and a second call changes nothing; a bridge that is not there
// is an error the caller can tell (LinkNotFoundError).
func TestEnsureNoSTP(t *testing.T) {
	host(t)
	if err := link.SetSTP("br0", true); err != nil {
		t.Fatal(err)
	}
	if on, err := link.BridgeSTP("br0"); err != nil || !on {
		t.Fatalf("STP after setting it on: %v, %v", on, err)
	}
	if changed, err := link.EnsureNoSTP("br0"); err != nil || !changed {
		t.Fatalf("EnsureNoSTP: changed %v, %v; want a change", changed, err)
	}
	if on, err := link.BridgeSTP("br0"); err != nil || on {
		t.Fatalf("STP after EnsureNoSTP: %v, %v", on, err)
	}
	if changed, err := link.EnsureNoSTP("br0"); err != nil || changed {
		t.Fatalf("EnsureNoSTP again: changed %v, %v; want nothing", changed, err)
	}
	if _, err := link.EnsureNoSTP("nosuchbr"); err == nil {
		t.Fatal("EnsureNoSTP of a missing bridge: no error")
	}
	if _, err := link.BridgeSTP("up0"); err == nil {
		t.Fatal("BridgeSTP of a veth: no error")
	}
}
