package libvirt

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"testing"

	golibvirt "github.com/digitalocean/go-libvirt"

	"github.com/shoal-project/shoal/compute"
)

func TestClassify(t *testing.T) {
	lv := func(code golibvirt.ErrorNumber, msg string) error {
		return fmt.Errorf("libvirt: start x: %w", golibvirt.Error{Code: uint32(code), Message: msg})
	}
	for _, tc := range []struct {
		name      string
		err       error
		permanent bool
	}{
		// What libvirtd answered here for a data dir under a 0700 parent.
		{"QEMU cannot reach the disk", lv(golibvirt.ErrSystemError,
			"Cannot access storage file '/srv/closed/n1/instances/x.qcow2' (as uid:64055, gid:64055): Permission denied"), true},
		{"QEMU refused by the kernel", lv(golibvirt.ErrInternalError,
			"process exited while connecting to monitor: Could not open '/srv/x.qcow2': Permission denied"), true},
		{"invalid XML", lv(golibvirt.ErrXMLError, "XML error: bad disk"), true},
		{"XML against the schema", lv(golibvirt.ErrXMLInvalidSchema, "element disk: Relax-NG validity error"), true},
		{"unsupported configuration", lv(golibvirt.ErrConfigUnsupported, "unsupported configuration: ..."), true},
		{"unsupported operation", lv(golibvirt.ErrOperationUnsupported, "Operation not supported: managed save"), true},
		{"driver's own mkdir", fmt.Errorf("libvirt: instances dir: %w",
			&fs.PathError{Op: "mkdir", Path: "/srv/closed/n1", Err: fs.ErrPermission}), true},
		{"unsupported image", compute.Permanent(errors.New("libvirt: base image: unsupported disk format \"vmdk\"")), true},
		{"other system error", lv(golibvirt.ErrSystemError, "Unable to read from monitor: Connection reset by peer"), false},
		{"domain busy", lv(golibvirt.ErrOperationTimeout, "cannot acquire state change lock"), false},
		{"internal error", lv(golibvirt.ErrInternalError, "qemu unexpectedly closed the monitor"), false},
		{"connection lost", errors.New("libvirt: not connected to libvirtd"), false},
		{"cancelled", context.Canceled, false},
		{"nil", nil, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := classify(tc.err)
			if errors.Is(got, compute.ErrPermanent) != tc.permanent {
				t.Errorf("classify(%v) permanent = %v, want %v", tc.err, !tc.permanent, tc.permanent)
			}
			if !errors.Is(got, tc.err) || (got != nil && got.Error() != tc.err.Error()) {
				t.Errorf("classify(%v) = %v: the error itself must stay as it was", tc.err, got)
			}
		})
	}
}
