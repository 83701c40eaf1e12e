//go:build libvirt

package libvirt

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"testing"

	"libvirt.org/go/libvirtxml"
)

// liveXML is libvirt's own XML of an instance's domain, as virsh shows it.
func liveXML(t *testing.T, id string) libvirtxml.Domain {
	t.Helper()
	var def libvirtxml.Domain
	if err := def.Unmarshal(virsh(t, "dumpxml", domainPrefix+id)); err != nil {
		t.Fatal(err)
	}
	return def
}

// cdroms are the domain's cdrom disks.
func cdroms(def libvirtxml.Domain) []libvirtxml.DomainDisk {
	var out []libvirtxml.DomainDisk
	for _, disk := range def.Devices.Disks {
		if disk.Device == "cdrom" {
			out = append(out, disk)
		}
	}
	return out
}

// isoBuilder counts its builds and makes each image differ from the last.
type isoBuilder struct {
	mu     sync.Mutex
	builds map[string]int
}

func (b *isoBuilder) build(_ context.Context, id, path string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.builds[id]++
	return os.WriteFile(path, b.image(id, b.builds[id]), 0o600)
}

func (b *isoBuilder) image(id string, n int) []byte {
	return bytes.Repeat([]byte(fmt.Sprintf("config-2 %s build %d\n", id, n)), 2048)
}

// Every domain carries Nova's SMBIOS system block, as libvirt reads it back.
func TestLibvirtSysinfo(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	d := e.driver(e.node("n1"))
	spec := e.spec("smbios", 20)
	if err := d.Define(bg, spec); err != nil {
		t.Fatal(err)
	}
	def := liveXML(t, spec.ID)
	if def.OS == nil || def.OS.SMBios == nil || def.OS.SMBios.Mode != "sysinfo" {
		t.Errorf("libvirt's os element lacks <smbios mode='sysinfo'/>: %+v", def.OS)
	}
	got := map[string]string{}
	for _, si := range def.SysInfo {
		if si.SMBIOS != nil && si.SMBIOS.System != nil {
			for _, entry := range si.SMBIOS.System.Entry {
				got[entry.Name] = entry.Value
			}
		}
	}
	for name, want := range map[string]string{"manufacturer": "OpenStack Foundation", "product": "OpenStack Nova",
		"serial": spec.ID, "uuid": spec.ID, "family": "Virtual Machine"} {
		if got[name] != want {
			t.Errorf("libvirt's sysinfo %s = %q, want %q (all: %v)", name, got[name], want, got)
		}
	}
	if cds := cdroms(def); len(cds) != 0 {
		t.Errorf("an instance that wants no config drive has cdroms: %+v", cds)
	}
	if _, err := os.Stat(d.configDrivePath(spec.ID)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("config drive file of an instance that wants none: %v", err)
	}
}

// An instance asking for a config drive gets it as a read-only cdrom QEMU
// can open; Define builds it afresh; Undefine removes it. A forced host
// gives one to an instance that did not ask.
func TestLibvirtConfigDrive(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	isos := &isoBuilder{builds: map[string]int{}}
	d := e.driver(e.node("n1"), func(c *Config) { c.ConfigDrive = isos.build })
	spec := e.spec("with-drive", 21)
	spec.ConfigDrive = true
	id := spec.ID
	path := d.configDrivePath(id)

	timed(t, "define with a config drive", func() error { return d.Define(bg, spec) })
	cds := cdroms(liveXML(t, id))
	if len(cds) != 1 {
		t.Fatalf("domain has %d cdroms, want the config drive", len(cds))
	}
	cd := cds[0]
	if cd.ReadOnly == nil || cd.Source == nil || cd.Source.File == nil || cd.Source.File.File != path ||
		cd.Target == nil || (cd.Target.Bus != "ide" && cd.Target.Bus != "sata") {
		t.Errorf("config drive cdrom = %+v (source %+v, target %+v), want read-only from %s on ide or sata",
			cd, cd.Source, cd.Target, path)
	}
	if b, err := os.ReadFile(path); err != nil || !bytes.Equal(b, isos.image(id, 1)) {
		t.Fatalf("config drive file: %d bytes, %v; want the first build", len(b), err)
	}

	// QEMU opens it: the domain starts (a blank disk, nothing boots).
	timed(t, "start", func() error { return d.Start(bg, id) })
	if err := d.Destroy(bg, id); err != nil {
		t.Fatal(err)
	}
	// Define again (a hard reboot, an adopted domain): a fresh drive.
	if err := d.Define(bg, spec); err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(path); err != nil || !bytes.Equal(b, isos.image(id, 2)) {
		t.Errorf("config drive after a second Define: %d bytes, %v; want the second build", len(b), err)
	}
	if err := d.Start(bg, id); err != nil {
		t.Fatalf("start with the rebuilt config drive: %v", err)
	}

	timed(t, "undefine", func() error { return d.Undefine(bg, id) })
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("config drive after Undefine: %v, want gone", err)
	}

	forced := e.driver(e.node("n2"), func(c *Config) { c.ConfigDrive, c.ForceConfigDrive = isos.build, true })
	plain := e.spec("forced", 22)
	if err := forced.Define(bg, plain); err != nil {
		t.Fatal(err)
	}
	if cds := cdroms(liveXML(t, plain.ID)); len(cds) != 1 || cds[0].Source.File.File != forced.configDrivePath(plain.ID) {
		t.Errorf("forced host: cdroms %+v, want the config drive", cds)
	}
}
