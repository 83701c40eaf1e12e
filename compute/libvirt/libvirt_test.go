//go:build libvirt

package libvirt

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	golibvirt "github.com/digitalocean/go-libvirt"

	"github.com/shoal-project/shoal/compute"
	"github.com/shoal-project/shoal/fsm"
	"github.com/shoal-project/shoal/internal/testkit"
)

// These tests need a running libvirtd on qemu:///system; they fail, never
// skip, without one: run scripts/setup-libvirt.sh as root first.

func newTestDriver(t *testing.T) *Driver {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	d, err := New(ctx, Config{DataDir: t.TempDir()})
	if err != nil {
		t.Fatalf("libvirtd is not reachable; run `scripts/setup-libvirt.sh` as root, then the tests again: %v", err)
	}
	t.Cleanup(func() {
		if err := d.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return d
}

func fingerprint(t *testing.T, d *Driver) fsm.Inventory {
	t.Helper()
	f, err := d.Fingerprint(context.Background())
	if err != nil {
		t.Fatalf("Fingerprint: %v", err)
	}
	return f
}

func TestFingerprintLibvirt(t *testing.T) {
	d := newTestDriver(t)
	f := fingerprint(t, d)
	t.Logf("fingerprint: %+v", f)

	if f.VCPUs < 1 || f.VCPUsFree > f.VCPUs {
		t.Errorf("vCPUs %d, free %d", f.VCPUs, f.VCPUsFree)
	}
	if f.MemoryMiB <= 0 || f.MemoryFreeMiB <= 0 || f.MemoryFreeMiB > f.MemoryMiB {
		t.Errorf("memory %d MiB, free %d MiB", f.MemoryMiB, f.MemoryFreeMiB)
	}
	if f.DiskGiB <= 0 || f.DiskFreeGiB < 0 || f.DiskFreeGiB > f.DiskGiB {
		t.Errorf("disk %d GiB, free %d GiB", f.DiskGiB, f.DiskFreeGiB)
	}
	// The whole host's memory, as the kernel counts it, not one NUMA cell's
	// (libvirtd runs on this machine).
	if want := memTotalMiB(t); f.MemoryMiB != want {
		t.Errorf("memory %d MiB, want /proc/meminfo's MemTotal, %d MiB", f.MemoryMiB, want)
	}
	d.mu.RLock()
	domainType := d.domainType // decided by the first fingerprint
	d.mu.RUnlock()
	for _, c := range []struct{ field, got, want string }{
		{"Arch", f.Arch, "x86_64"},
		{"HypervisorType", f.HypervisorType, "QEMU"},
		// These machines expose /dev/kvm, but their CPUs lack vmx/svm.
		{"domain type", domainType, "qemu"},
	} {
		if c.got != c.want {
			t.Errorf("%s = %q, want %q", c.field, c.got, c.want)
		}
	}
	if parts := strings.Split(f.HypervisorVersion, "."); len(parts) != 3 || parts[0] == "0" {
		t.Errorf("HypervisorVersion = %q, want major.minor.release", f.HypervisorVersion)
	}
	if f.Instances < 0 {
		t.Errorf("Instances = %d", f.Instances)
	}
}

// memTotalMiB is this machine's MemTotal from /proc/meminfo.
func memTotalMiB(t *testing.T) int64 {
	t.Helper()
	b, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		t.Fatal(err)
	}
	for line := range strings.Lines(string(b)) {
		if f := strings.Fields(line); len(f) == 3 && f[0] == "MemTotal:" && f[2] == "kB" {
			kib, err := strconv.ParseInt(f[1], 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			return kib >> 10
		}
	}
	t.Fatalf("no MemTotal in /proc/meminfo:\n%s", b)
	return 0
}

func TestInstancesAreShoalDomainsOnly(t *testing.T) {
	d := newTestDriver(t)
	// A node of its own, so shoal domains of other tests do not count.
	d.cfg.Node = testDomainName(t)
	l, err := d.client()
	if err != nil {
		t.Fatal(err)
	}
	before := fingerprint(t, d)

	defineDomain(t, l, "")
	if f := fingerprint(t, d); f.Instances != before.Instances || f.VCPUsFree != before.VCPUsFree {
		t.Errorf("a domain without shoal metadata changed the count: %d instances, %d vCPUs free; was %d, %d",
			f.Instances, f.VCPUsFree, before.Instances, before.VCPUsFree)
	}

	defineDomain(t, l, "another-node")
	if f := fingerprint(t, d); f.Instances != before.Instances || f.VCPUsFree != before.VCPUsFree {
		t.Errorf("another node's domain changed the count: %d instances, %d vCPUs free; was %d, %d",
			f.Instances, f.VCPUsFree, before.Instances, before.VCPUsFree)
	}

	defineDomain(t, l, d.cfg.Node)
	if f := fingerprint(t, d); f.Instances != before.Instances+1 || f.VCPUsFree != before.VCPUsFree {
		t.Errorf("defined shoal domain: %d instances, %d vCPUs free; want %d, %d (stopped: holds no vCPUs)",
			f.Instances, f.VCPUsFree, before.Instances+1, before.VCPUsFree)
	}

	startPausedDomain(t, l, d.cfg.Node)
	if f := fingerprint(t, d); f.Instances != before.Instances+2 || f.VCPUsFree != before.VCPUsFree-1 {
		t.Errorf("active shoal domain: %d instances, %d vCPUs free; want %d, %d",
			f.Instances, f.VCPUsFree, before.Instances+2, before.VCPUsFree-1)
	}
}

func TestReconnect(t *testing.T) {
	d := newTestDriver(t)
	old, err := d.client()
	if err != nil {
		t.Fatal(err)
	}
	// Dropping our side looks to the driver like libvirtd going away.
	if err := old.Disconnect(); err != nil {
		t.Fatal(err)
	}
	testkit.WaitFor(t, 15*time.Second, "a new libvirt connection", func() bool {
		l, err := d.client()
		return err == nil && l != old && l.IsConnected()
	})
	fingerprint(t, d)

	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Fingerprint(context.Background()); !errors.Is(err, compute.ErrClosed) {
		t.Errorf("Fingerprint after Close: %v, want ErrClosed", err)
	}
}

// domainXML is a tiny diskless TCG guest; name is generated by the test.
// With a node, it carries shoal metadata naming that node as its owner.
func domainXML(name, node string) string {
	metadata := ""
	if node != "" {
		metadata = `<metadata><shoal:instance xmlns:shoal="` + MetadataNamespace +
			`"><shoal:node>` + node + `</shoal:node></shoal:instance></metadata>`
	}
	return fmt.Sprintf(`<domain type="qemu"><name>%s</name>%s<memory unit="MiB">32</memory>`+
		`<vcpu>1</vcpu><os><type>hvm</type></os></domain>`, name, metadata)
}

func testDomainName(t *testing.T) string {
	return fmt.Sprintf("shoal-test-%s-%08x", strings.ToLower(strings.ReplaceAll(t.Name(), "/", "-")), rand.Uint32())
}

// defineDomain defines, without starting, a persistent domain undefined at
// cleanup; owned by node when node is not empty.
func defineDomain(t *testing.T, l *golibvirt.Libvirt, node string) {
	t.Helper()
	dom, err := l.DomainDefineXML(domainXML(testDomainName(t), node))
	if err != nil {
		t.Fatalf("define domain: %v", err)
	}
	t.Cleanup(func() {
		if err := l.DomainUndefine(dom); err != nil {
			t.Errorf("undefine %s: %v", dom.Name, err)
		}
	})
}

// startPausedDomain creates a transient shoal domain, paused so it burns no
// CPU, and destroys it at cleanup.
func startPausedDomain(t *testing.T, l *golibvirt.Libvirt, node string) {
	t.Helper()
	dom, err := l.DomainCreateXML(domainXML(testDomainName(t), node), golibvirt.DomainStartPaused)
	if err != nil {
		t.Fatalf("create domain: %v", err)
	}
	t.Cleanup(func() {
		if err := l.DomainDestroy(dom); err != nil {
			t.Errorf("destroy %s: %v", dom.Name, err)
		}
	})
}
