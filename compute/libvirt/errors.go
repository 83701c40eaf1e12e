package libvirt

import (
	"errors"
	"io/fs"
	"strings"

	golibvirt "github.com/digitalocean/go-libvirt"

	"github.com/shoal-project/shoal/compute"
)

// classify marks err compute.ErrPermanent when retrying cannot heal it, so
// the reconciler reports it at once (a spawn goes to ERROR with it as the
// fault) instead of retrying a host that is set up wrong.
func classify(err error) error {
	if cannotHeal(err) {
		return compute.Permanent(err)
	}
	return err
}

// cannotHeal reports whether err stays the same however often the operation
// is tried again: libvirtd or QEMU denied access to a file or directory
// (a data dir under a parent QEMU cannot enter), libvirtd refused the XML or
// configuration, or the host does not support what was asked. Everything
// else (a lost connection, a busy domain, a timeout) may heal.
func cannotHeal(err error) bool {
	if err == nil {
		return false
	}
	var lerr golibvirt.Error
	if !errors.As(err, &lerr) {
		return errors.Is(err, fs.ErrPermission) // the driver's own file operations
	}
	switch golibvirt.ErrorNumber(lerr.Code) {
	case golibvirt.ErrXMLError, golibvirt.ErrXMLDetail, golibvirt.ErrXMLInvalidSchema,
		golibvirt.ErrConfigUnsupported, golibvirt.ErrNoSupport, golibvirt.ErrOperationUnsupported,
		golibvirt.ErrInvalidArg, golibvirt.ErrAccessDenied, golibvirt.ErrOperationDenied:
		return true
	case golibvirt.ErrSystemError, golibvirt.ErrInternalError, golibvirt.ErrOperationFailed:
		// libvirtd sends strerror's text, not errno: EACCES and EPERM are
		// these words, whether libvirtd or QEMU met them.
		return strings.Contains(lerr.Message, "Permission denied") ||
			strings.Contains(lerr.Message, "Operation not permitted")
	}
	return false
}
