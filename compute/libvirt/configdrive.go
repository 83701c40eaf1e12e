package libvirt

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	golibvirt "github.com/digitalocean/go-libvirt"
	"libvirt.org/go/libvirtxml"

	"github.com/shoal-project/shoal/compute"
)

// A config drive is the instance's metadata as an ISO 9660 image labelled
// config-2 (built by Config.ConfigDrive), attached as a read-only cdrom so
// cloud-init configures the guest without reaching the metadata service.
// It is built afresh at every Define from what the cluster holds then: an
// evacuated instance, defined anew on its new host, gets one there.

// wantsConfigDrive reports whether the instance gets a config drive here.
func (d *Driver) wantsConfigDrive(spec compute.InstanceSpec) bool {
	return spec.ConfigDrive || d.cfg.ForceConfigDrive
}

// configDrivePath is where instance id's config drive lives on this host.
func (d *Driver) configDrivePath(id string) string {
	return filepath.Join(d.cfg.ConfigDriveDir, id+".iso")
}

// writeConfigDrive has instance id's config drive built afresh in place
// of the old one (Config.ConfigDrive replaces it whole), in a directory
// QEMU can reach: libvirt hands the 0600 file to QEMU's user when the
// domain starts.
func (d *Driver) writeConfigDrive(ctx context.Context, id string) (string, error) {
	if d.cfg.ConfigDrive == nil {
		return "", compute.Permanent(fmt.Errorf("libvirt: instance %s wants a config drive, but this driver has no Config.ConfigDrive to build one", id))
	}
	if err := d.searchable(d.cfg.ConfigDriveDir); err != nil {
		return "", err
	}
	path := d.configDrivePath(id)
	if err := d.cfg.ConfigDrive(ctx, id, path); err != nil {
		return "", fmt.Errorf("libvirt: config drive of %s: %w", id, err)
	}
	d.log.Debug("config drive written", "instance", id, "path", path)
	return path, nil
}

// removeConfigDrive deletes instance id's config drive; missing is fine.
func (d *Driver) removeConfigDrive(id string) error {
	if err := os.Remove(d.configDrivePath(id)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("libvirt: config drive of %s: %w", id, err)
	}
	return nil
}

// cdromBus is the bus of the config drive on a machine type, Nova's
// default for x86: SATA on q35, which has no IDE controller; IDE on
// i440fx ("pc"), which has no SATA one.
func cdromBus(machine string) string {
	if strings.Contains(machine, "q35") {
		return "sata"
	}
	return "ide"
}

// configDriveDisk is the config drive as a read-only cdrom: the last IDE
// device (hdd) as Nova places it, or the first SATA one, leaving the
// guest's other disks where they were.
func configDriveDisk(path, bus string) libvirtxml.DomainDisk {
	dev := "hdd"
	if bus == "sata" {
		dev = "sda"
	}
	return libvirtxml.DomainDisk{
		Device:   "cdrom",
		Driver:   &libvirtxml.DomainDiskDriver{Name: "qemu", Type: "raw"},
		Source:   &libvirtxml.DomainDiskSource{File: &libvirtxml.DomainDiskSourceFile{File: path}},
		Target:   &libvirtxml.DomainDiskTarget{Dev: dev, Bus: bus},
		ReadOnly: &libvirtxml.DomainDiskReadOnly{},
	}
}

// defaultMachine is the machine type libvirt gives a domain of domainType
// that names none (shoal's do not): its domain capabilities say which,
// asked once. The bus of a cdrom depends on it.
func (d *Driver) defaultMachine(l *golibvirt.Libvirt, domainType string) (string, error) {
	d.mu.RLock()
	m := d.machine
	d.mu.RUnlock()
	if m != "" {
		return m, nil
	}
	doc, err := l.ConnectGetDomainCapabilities(nil, nil, nil, golibvirt.OptString{domainType}, 0)
	if err != nil {
		return "", fmt.Errorf("libvirt: domain capabilities of %s: %w", domainType, err)
	}
	var caps libvirtxml.DomainCaps
	if err := caps.Unmarshal(doc); err != nil {
		return "", fmt.Errorf("libvirt: domain capabilities of %s: %w", domainType, err)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	d.machine = caps.Machine
	return caps.Machine, nil
}
