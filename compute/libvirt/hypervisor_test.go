//go:build libvirt

package libvirt

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	golibvirt "github.com/digitalocean/go-libvirt"
	"github.com/google/uuid"

	"github.com/shoal-project/shoal/compute"
	"github.com/shoal-project/shoal/fsm"
)

var bg = context.Background()

// expect checks Inspect and virsh domstate agree with the wanted state.
func expect(t *testing.T, d *Driver, id string, want fsm.PowerState, virshState string) {
	t.Helper()
	dom, err := d.Inspect(bg, id)
	if err != nil {
		t.Fatalf("Inspect: %v", err)
	}
	if dom.PowerState != want {
		t.Errorf("Inspect power state = %d, want %d", dom.PowerState, want)
	}
	if got := domstate(t, id); got != virshState {
		t.Errorf("virsh domstate = %q, want %q", got, virshState)
	}
}

func TestHypervisorLifecycle(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	d := e.driver(e.node("n1"))
	spec := e.spec(`web <1> & "co"`, 10)
	id := spec.ID

	timed(t, "define", func() error { return d.Define(bg, spec) })
	expect(t, d, id, fsm.PowerShutdown, "shut off")
	if err := d.Define(bg, spec); err != nil {
		t.Fatalf("second Define: %v", err)
	}
	if n := strings.Count(virsh(t, "list", "--all", "--name"), domainPrefix+id); n != 1 {
		t.Errorf("%d domains named %s after two Defines", n, domainPrefix+id)
	}
	dom, _ := d.Inspect(bg, id)
	if dom.Name != spec.Name || dom.ID != id {
		t.Errorf("Inspect = %+v, want name %q", dom, spec.Name)
	}
	xml := virsh(t, "dumpxml", domainPrefix+id)
	for _, want := range []string{d.consolePath(id), "<title>web &lt;1&gt; &amp; &quot;co&quot;</title>", "type='qemu'", spec.Addresses[0].MAC} {
		if !strings.Contains(xml, want) {
			t.Errorf("domain XML lacks %s:\n%s", want, xml)
		}
	}
	disk := filepath.Join(d.cfg.InstancesDir, id+".qcow2")
	if _, err := os.Stat(disk); err != nil {
		t.Errorf("instance disk: %v", err)
	}
	if vol := virsh(t, "vol-dumpxml", "--pool", d.poolName(), id+".qcow2"); !strings.Contains(vol, e.images.path) ||
		!strings.Contains(vol, "<capacity unit='bytes'>1073741824</capacity>") {
		t.Errorf("volume is not a 1 GiB overlay of the base image:\n%s", vol)
	}
	hosts := e.dhcpHostsOf()
	if !strings.Contains(hosts, spec.Addresses[0].MAC) || !strings.Contains(hosts, spec.Addresses[0].IP) {
		t.Errorf("no DHCP host for %+v in the network:\n%s", spec.Addresses[0], hosts)
	}
	// Live, not only in the definition: dnsmasq's hosts file has it.
	hostsfile := "/var/lib/libvirt/dnsmasq/" + networkName(e.network) + ".hostsfile"
	if b, err := os.ReadFile(hostsfile); err != nil || !strings.Contains(string(b), spec.Addresses[0].MAC+","+spec.Addresses[0].IP) {
		t.Errorf("dnsmasq hosts file %s = %q, %v; want the reservation", hostsfile, b, err)
	}

	timed(t, "start", func() error { return d.Start(bg, id) })
	expect(t, d, id, fsm.PowerRunning, "running")
	if err := d.Start(bg, id); err != nil {
		t.Fatalf("second Start: %v", err)
	}
	before := virsh(t, "domid", domainPrefix+id)

	steps := []struct {
		name  string
		op    func() error
		power fsm.PowerState
		virsh string
	}{
		{"pause", func() error { return d.Pause(bg, id) }, fsm.PowerPaused, "paused"},
		{"pause again", func() error { return d.Pause(bg, id) }, fsm.PowerPaused, "paused"},
		{"unpause", func() error { return d.Unpause(bg, id) }, fsm.PowerRunning, "running"},
		{"unpause again", func() error { return d.Unpause(bg, id) }, fsm.PowerRunning, "running"},
		{"suspend", func() error { return d.Suspend(bg, id) }, fsm.PowerSuspended, "shut off"},
		{"suspend again", func() error { return d.Suspend(bg, id) }, fsm.PowerSuspended, "shut off"},
		{"resume", func() error { return d.Resume(bg, id) }, fsm.PowerRunning, "running"},
		{"resume again", func() error { return d.Resume(bg, id) }, fsm.PowerRunning, "running"},
		{"soft reboot (no ACPI guest: falls back to hard)", func() error { return d.Reboot(bg, id, false) }, fsm.PowerRunning, "running"},
		{"hard reboot", func() error { return d.Reboot(bg, id, true) }, fsm.PowerRunning, "running"},
		{"stop (ACPI ignored, powered off after 1s)", func() error { return d.Stop(bg, id, time.Second) }, fsm.PowerShutdown, "shut off"},
		{"stop again", func() error { return d.Stop(bg, id, time.Second) }, fsm.PowerShutdown, "shut off"},
		{"hard reboot of a stopped domain", func() error { return d.Reboot(bg, id, true) }, fsm.PowerRunning, "running"},
		{"pause to suspend", func() error { return d.Pause(bg, id) }, fsm.PowerPaused, "paused"},
		{"suspend a paused domain", func() error { return d.Suspend(bg, id) }, fsm.PowerSuspended, "shut off"},
		{"destroy keeps the saved memory", func() error { return d.Destroy(bg, id) }, fsm.PowerSuspended, "shut off"},
		{"start restores", func() error { return d.Start(bg, id) }, fsm.PowerRunning, "running"},
		{"suspend before stop", func() error { return d.Suspend(bg, id) }, fsm.PowerSuspended, "shut off"},
		{"stop discards the saved memory", func() error { return d.Stop(bg, id, time.Second) }, fsm.PowerShutdown, "shut off"},
		{"start", func() error { return d.Start(bg, id) }, fsm.PowerRunning, "running"},
		{"destroy", func() error { return d.Destroy(bg, id) }, fsm.PowerShutdown, "shut off"},
		{"destroy again", func() error { return d.Destroy(bg, id) }, fsm.PowerShutdown, "shut off"},
	}
	for _, s := range steps {
		timed(t, s.name, s.op)
		expect(t, d, id, s.power, s.virsh)
		if t.Failed() {
			t.FailNow()
		}
	}
	if after := virsh(t, "domid", domainPrefix+id); after == before {
		t.Errorf("still QEMU process %s after stop and start", after)
	}

	for name, op := range map[string]func() error{
		"pause":       func() error { return d.Pause(bg, id) },
		"unpause":     func() error { return d.Unpause(bg, id) },
		"resume":      func() error { return d.Resume(bg, id) },
		"soft reboot": func() error { return d.Reboot(bg, id, false) },
	} {
		if err := op(); !errors.Is(err, compute.ErrInvalidState) {
			t.Errorf("%s of a shut off domain: %v, want ErrInvalidState", name, err)
		}
	}
	if _, err := d.ConsoleLog(bg, id, 10); err != nil {
		t.Errorf("ConsoleLog: %v", err)
	}
	if _, err := os.Stat(d.consolePath(id)); err != nil {
		t.Errorf("console log file: %v", err)
	}

	if err := d.Start(bg, id); err != nil {
		t.Fatal(err)
	}
	timed(t, "undefine (running)", func() error { return d.Undefine(bg, id) })
	if _, err := d.Inspect(bg, id); !errors.Is(err, compute.ErrNotFound) {
		t.Errorf("Inspect after Undefine: %v, want ErrNotFound", err)
	}
	for _, path := range []string{disk, d.consolePath(id)} {
		if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s after Undefine: %v, want gone", path, err)
		}
	}
	if hosts := e.dhcpHostsOf(); strings.Contains(hosts, spec.Addresses[0].MAC) {
		t.Errorf("DHCP host left after Undefine:\n%s", hosts)
	}
	if err := d.Undefine(bg, id); err != nil {
		t.Errorf("second Undefine: %v", err)
	}
	for name, op := range map[string]func() error{
		"start":   func() error { return d.Start(bg, id) },
		"stop":    func() error { return d.Stop(bg, id, time.Second) },
		"reboot":  func() error { return d.Reboot(bg, id, true) },
		"suspend": func() error { return d.Suspend(bg, id) },
	} {
		if err := op(); !errors.Is(err, compute.ErrNotFound) {
			t.Errorf("%s of a missing domain: %v, want ErrNotFound", name, err)
		}
	}
	if err := d.Destroy(bg, id); err != nil {
		t.Errorf("Destroy of a missing domain: %v", err)
	}
}

// A restarted agent adopts its domains: same list, and Define changes
// nothing (same QEMU process, same definition).
func TestHypervisorAdoption(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	node := e.node("n1")
	first := e.driver(node)
	spec := e.spec("adopted", 11)
	if err := first.Define(bg, spec); err != nil {
		t.Fatal(err)
	}
	if err := first.Start(bg, spec.ID); err != nil {
		t.Fatal(err)
	}
	domID, xml := virsh(t, "domid", domainPrefix+spec.ID), virsh(t, "dumpxml", "--inactive", domainPrefix+spec.ID)
	listed, err := first.List(bg)
	if err != nil {
		t.Fatal(err)
	}
	first.Close()

	second := e.driver(node)
	events := second.Events()
	again, err := second.List(bg)
	if err != nil {
		t.Fatal(err)
	}
	if len(again) != 1 || len(listed) != 1 || again[0] != listed[0] || again[0].ID != spec.ID || again[0].PowerState != fsm.PowerRunning {
		t.Fatalf("after restart List = %+v, before %+v", again, listed)
	}
	if err := second.Define(bg, spec); err != nil {
		t.Fatal(err)
	}
	if got := virsh(t, "domid", domainPrefix+spec.ID); got != domID {
		t.Errorf("domain ID %s after Define, was %s: recreated", got, domID)
	}
	if got := virsh(t, "dumpxml", "--inactive", domainPrefix+spec.ID); got != xml {
		t.Errorf("definition changed by Define of an existing domain:\n%s\nwas\n%s", got, xml)
	}
	select {
	case id := <-events:
		t.Errorf("event for %s: Define of an existing domain redefined it", id)
	case <-time.After(300 * time.Millisecond):
	}
}

// A domain removed behind shoal's back is noticed, and cleaning up after
// it succeeds.
func TestHypervisorDomainRemovedOutside(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	d := e.driver(e.node("n1"))
	spec := e.spec("vanishing", 12)
	if err := d.Define(bg, spec); err != nil {
		t.Fatal(err)
	}
	dom, err := e.l.DomainLookupByUUID(golibvirt.UUID(uuid.MustParse(spec.ID)))
	if err != nil {
		t.Fatal(err)
	}
	if err := e.l.DomainUndefine(dom); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Inspect(bg, spec.ID); !errors.Is(err, compute.ErrNotFound) {
		t.Errorf("Inspect: %v, want ErrNotFound", err)
	}
	if list, err := d.List(bg); err != nil || len(list) != 0 {
		t.Errorf("List = %+v, %v; want empty", list, err)
	}
	if err := d.Undefine(bg, spec.ID); err != nil {
		t.Fatalf("Undefine: %v", err)
	}
	if _, err := os.Stat(filepath.Join(d.cfg.InstancesDir, spec.ID+".qcow2")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("disk of the vanished domain left: %v", err)
	}
}

// Two nodes share one libvirtd (a lab): each sees, touches and reserves
// addresses for its own domains only.
func TestHypervisorOtherNodeInvisible(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a, b := e.driver(e.node("a")), e.driver(e.node("b"))
	specA, specB := e.spec("same-name", 13), e.spec("same-name", 14)
	if err := a.Define(bg, specA); err != nil {
		t.Fatal(err)
	}
	if err := b.Define(bg, specB); err != nil {
		t.Fatal(err)
	}
	if err := b.Start(bg, specB.ID); err != nil {
		t.Fatal(err)
	}
	list, err := a.List(bg)
	if err != nil || len(list) != 1 || list[0].ID != specA.ID {
		t.Errorf("node a lists %+v, %v; want only its own", list, err)
	}
	if _, err := a.Inspect(bg, specB.ID); !errors.Is(err, compute.ErrNotFound) {
		t.Errorf("Inspect of node b's domain: %v, want ErrNotFound", err)
	}
	if err := a.Stop(bg, specB.ID, time.Second); !errors.Is(err, compute.ErrNotFound) {
		t.Errorf("Stop of node b's domain: %v, want ErrNotFound", err)
	}
	if err := a.Destroy(bg, specB.ID); err != nil {
		t.Errorf("Destroy of node b's domain: %v", err)
	}
	if err := a.Undefine(bg, specB.ID); err != nil {
		t.Errorf("Undefine of node b's domain: %v", err)
	}
	if err := a.Define(bg, specB); err == nil || errors.Is(err, compute.ErrNotFound) {
		t.Errorf("Define over node b's domain: %v, want a plain error", err)
	}
	expect(t, b, specB.ID, fsm.PowerRunning, "running")

	hosts := e.dhcpHostsOf()
	if !strings.Contains(hosts, specA.Addresses[0].IP) || !strings.Contains(hosts, specB.Addresses[0].IP) {
		t.Fatalf("both nodes' reservations should be on the shared network:\n%s", hosts)
	}
	if err := a.Undefine(bg, specA.ID); err != nil {
		t.Fatal(err)
	}
	hosts = e.dhcpHostsOf()
	if strings.Contains(hosts, specA.Addresses[0].IP) || !strings.Contains(hosts, specB.Addresses[0].IP) {
		t.Errorf("after node a's Undefine, want only node b's reservation:\n%s", hosts)
	}
}

func TestHypervisorEvents(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	d := e.driver(e.node("n1"))
	other := e.driver(e.node("n2"))
	spec, foreign := e.spec("evented", 15), e.spec("foreign", 16)
	if err := d.Define(bg, spec); err != nil {
		t.Fatal(err)
	}
	if err := other.Define(bg, foreign); err != nil {
		t.Fatal(err)
	}
	for _, step := range []struct {
		name string
		op   func() error
	}{
		{"start", func() error { return d.Start(bg, spec.ID) }},
		{"stop", func() error { return d.Stop(bg, spec.ID, 500*time.Millisecond) }},
		{"destroy after a start", func() error {
			if err := d.Start(bg, spec.ID); err != nil {
				return err
			}
			quiet(d.Events())
			return d.Destroy(bg, spec.ID)
		}},
	} {
		quiet(d.Events())
		if err := step.op(); err != nil {
			t.Fatalf("%s: %v", step.name, err)
		}
		select {
		case id := <-d.Events():
			if id != spec.ID {
				t.Errorf("%s: event for %s, want %s", step.name, id, spec.ID)
			}
		case <-time.After(5 * time.Second): // about a millisecond when idle
			t.Fatalf("no event within 5s of %s", step.name)
		}
	}

	quiet(d.Events()) // late events of the steps above
	if err := other.Start(bg, foreign.ID); err != nil {
		t.Fatal(err)
	}
	select {
	case id := <-d.Events():
		t.Errorf("event for %s after another node started %s (ours: %s)", id, foreign.ID, spec.ID)
	case <-time.After(500 * time.Millisecond):
	}
}

// quiet reads ch until nothing came for 300ms.
func quiet(ch <-chan string) {
	for {
		select {
		case <-ch:
		case <-time.After(300 * time.Millisecond):
			return
		}
	}
}

// A driver built for Fingerprint only says what it misses.
func TestHypervisorNeedsConfig(t *testing.T) {
	d := newTestDriver(t)
	if _, err := d.List(bg); err == nil || !strings.Contains(err.Error(), "Config.Node") {
		t.Errorf("List without a node: %v", err)
	}
	d.cfg.Node = "nobody-" + uuid.NewString()[:8]
	if err := d.Define(bg, compute.InstanceSpec{ID: uuid.NewString()}); err == nil || !strings.Contains(err.Error(), "Config.Images") {
		t.Errorf("Define without an image cache: %v", err)
	}
}
