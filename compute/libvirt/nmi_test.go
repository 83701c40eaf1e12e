//go:build libvirt

package libvirt

import (
	"errors"
	"testing"

	"github.com/shoal-project/shoal/compute"
	"github.com/shoal-project/shoal/fsm"
)

// TestHypervisorInjectNMI: a running or paused domain takes an NMI (Nova's
// trigger_crash_dump) and keeps its state; a shut off or missing one is
// refused with compute's sentinels.
func TestHypervisorInjectNMI(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	d := e.driver(e.node("n1"))
	spec := e.spec("nmi", 30)
	id := spec.ID
	timed(t, "define", func() error { return d.Define(bg, spec) })
	if err := d.InjectNMI(bg, id); !errors.Is(err, compute.ErrInvalidState) {
		t.Errorf("InjectNMI of a shut off domain: %v, want ErrInvalidState", err)
	}
	timed(t, "start", func() error { return d.Start(bg, id) })
	timed(t, "inject NMI (running)", func() error { return d.InjectNMI(bg, id) })
	expect(t, d, id, fsm.PowerRunning, "running")
	timed(t, "pause", func() error { return d.Pause(bg, id) })
	timed(t, "inject NMI (paused)", func() error { return d.InjectNMI(bg, id) })
	expect(t, d, id, fsm.PowerPaused, "paused")
	timed(t, "undefine", func() error { return d.Undefine(bg, id) })
	if err := d.InjectNMI(bg, id); !errors.Is(err, compute.ErrNotFound) {
		t.Errorf("InjectNMI of a missing domain: %v, want ErrNotFound", err)
	}
}
