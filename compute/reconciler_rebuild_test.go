package compute_test

import (
	"testing"

	"github.com/shoal-project/shoal/fsm"
)

// A rebuild replaces the domain and its disk with ones built from the new
// image, on the same host, and leaves the server as it was: running, or
// stopped.
func TestReconcilerRebuild(t *testing.T) {
	t.Parallel()
	h, _ := newActive(t)
	h.MustApply(h.t, &fsm.CreateImage{Image: fsm.Image{ID: "img-debian", Name: "debian", DiskFormat: "qcow2",
		ContainerFormat: "bare", Size: 1 << 20, Status: "active", Created: t0, Updated: t0}})
	rebuild := func(name string) {
		t.Helper()
		h.MustApply(h.t, &fsm.RebuildInstance{ID: vm1, ImageID: "img-debian", Name: &name, RequestID: "req-rebuild", Time: t0})
	}

	rebuild("web-1b")
	inst := h.waitStatus(vm1, "ACTIVE", fsm.PowerRunning)
	dom, _ := h.domain(vm1)
	if dom.ImageID != "img-debian" || dom.Name != "web-1b" || dom.PowerState != fsm.PowerRunning || dom.Defines != 2 || dom.Boots != 1 {
		t.Errorf("rebuilt domain %+v, want a second one, from img-debian, booted once", dom)
	}
	if a := inst.Actions[len(inst.Actions)-1]; a.Action != fsm.ActionRebuild || a.Result != "success" || a.Message != "" {
		t.Errorf("last action %+v", a)
	}

	// A stopped server is rebuilt stopped.
	h.action(vm1, fsm.ActionStop, false)
	h.waitStatus(vm1, "SHUTOFF", fsm.PowerShutdown)
	rebuild("web-1c")
	h.waitStatus(vm1, "SHUTOFF", fsm.PowerShutdown)
	if dom, _ := h.domain(vm1); dom.Name != "web-1c" || dom.PowerState != fsm.PowerShutdown || dom.Defines != 3 || dom.Boots != 0 {
		t.Errorf("rebuilt stopped domain %+v, want defined and never booted", dom)
	}
}
