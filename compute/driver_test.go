package compute_test

import (
	"errors"
	"fmt"
	"io/fs"
	"testing"

	"github.com/shoal-project/shoal/compute"
	"github.com/shoal-project/shoal/fsm"
)

func TestPermanent(t *testing.T) {
	cause := &fs.PathError{Op: "open", Path: "/srv/disk.qcow2", Err: fs.ErrPermission}
	marked := compute.Permanent(cause)
	wrapped := fmt.Errorf("start: %w", marked)
	for _, tc := range []struct {
		name string
		err  error
		want bool
	}{
		{"marked", marked, true},
		{"wrapped after marking", wrapped, true},
		{"marked twice", compute.Permanent(marked), true},
		{"unmarked", cause, false},
		{"not found is not marked", compute.ErrNotFound, false},
	} {
		if got := errors.Is(tc.err, compute.ErrPermanent); got != tc.want {
			t.Errorf("%s: errors.Is(%v, ErrPermanent) = %v, want %v", tc.name, tc.err, got, tc.want)
		}
	}
	if marked.Error() != cause.Error() {
		t.Errorf("message %q, want the cause's own %q", marked.Error(), cause.Error())
	}
	var pe *fs.PathError
	if !errors.As(wrapped, &pe) || !errors.Is(wrapped, fs.ErrPermission) {
		t.Errorf("the cause is no longer found through %v", wrapped)
	}
	if compute.Permanent(nil) != nil {
		t.Error("Permanent(nil) is not nil")
	}
}

// A domain is built from the instance as the FSM holds it, its wish for a
// config drive included.
func TestSpecOfCarriesConfigDrive(t *testing.T) {
	for _, want := range []bool{false, true} {
		inst := fsm.Instance{ID: "a", Name: "web", ImageID: "img", ConfigDrive: want,
			Flavor: fsm.FlavorSpec{VCPUs: 2, RAM: 512, Disk: 1}}
		spec := compute.SpecOf(inst)
		if spec.ConfigDrive != want || spec.ID != "a" || spec.VCPUs != 2 || spec.MemoryMiB != 512 || spec.DiskGiB != 1 {
			t.Errorf("SpecOf(config drive %v) = %+v", want, spec)
		}
	}
}
