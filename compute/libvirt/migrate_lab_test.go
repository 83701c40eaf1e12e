//go:build lab

package libvirt

// A real migration between two libvirtds: the network-namespace lab's h1
// and h2 (scripts/lab/netns-lab.sh, started with SHLAB_TCP=1 so each
// libvirtd listens on its lab address). Needs root; run it alone:
//
//	flock /tmp/tempest.lock go test -tags lab -count=1 -v -run TestLabMigrate ./compute/libvirt/

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	golibvirt "github.com/digitalocean/go-libvirt"
	"github.com/google/uuid"
	"golang.org/x/sys/unix"
	"libvirt.org/go/libvirtxml"

	"github.com/shoal-project/shoal/compute"
	"github.com/shoal-project/shoal/fsm"
)

const (
	labImage    = "lab-tiny"
	bootDone    = "shoal-tiny: boot done"
	bootStarted = "shoal-tiny: booting"
)

// labImages is an image cache of one image at one path.
type labImages struct{ path string }

func (c labImages) Path(_ context.Context, id string) (string, string, error) {
	if id != labImage {
		return "", "", errors.New("image " + id + " not in the lab cache")
	}
	return c.path, "qcow2", nil
}

type labHost struct {
	name, addr, tcpURI string
	d                  *Driver
	dir                string
}

func TestLabMigrate(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("the lab needs root")
	}
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	image := filepath.Join(root, ".lab", "images", "shoal-tiny.qcow2")
	if out, err := exec.Command(filepath.Join(root, "scripts", "build-tiny-image.sh"), image).CombinedOutput(); err != nil {
		t.Fatalf("building the tiny image: %v\n%s", err, out)
	}
	labLock(t)
	script := filepath.Join(root, "scripts", "lab", "netns-lab.sh")
	lab := func(args ...string) {
		t.Helper()
		cmd := exec.Command(script, args...)
		cmd.Env = append(os.Environ(), "SHLAB_TCP=1")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("netns-lab.sh %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	tmp, err := os.MkdirTemp("", "shoal-mig-lab-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(tmp) })
	if err := os.Chmod(tmp, 0o755); err != nil {
		t.Fatal(err)
	}
	lab("down")
	t.Cleanup(func() { lab("down") })
	lab("up", "2")

	network := fsm.NetworkInfo{Name: "mig", CIDR: "10.77.0.0/24", Gateway: "10.77.0.1"}
	hosts := map[string]*labHost{}
	for _, name := range []string{"h1", "h2"} {
		envFile, err := os.ReadFile(filepath.Join(root, ".lab", "netns", name, "host.env"))
		if err != nil {
			t.Fatal(err)
		}
		get := func(key string) string {
			m := regexp.MustCompile(`(?m)^` + key + `=(.*)$`).FindSubmatch(envFile)
			if m == nil {
				t.Fatalf("no %s in %s's host.env", key, name)
			}
			return string(m[1])
		}
		h := &labHost{name: name, addr: get("SHLAB_ADDR"), tcpURI: get("SHLAB_TCP_URI"), dir: filepath.Join(tmp, name)}
		// Each host its own copy of the base image: nothing is shared.
		base := filepath.Join(h.dir, "images", "tiny.qcow2")
		if err := os.MkdirAll(filepath.Dir(base), 0o755); err != nil {
			t.Fatal(err)
		}
		data, err := os.ReadFile(image)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(base, data, 0o644); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		h.d, err = New(ctx, Config{URI: get("SHLAB_URI"), DataDir: h.dir, Node: name,
			ClusterID: func() string { return "cluster-mig-lab" },
			Images:    labImages{path: base},
			Network:   func() (fsm.NetworkInfo, bool) { return network, true },
			Logger:    slog.New(slog.NewTextHandler(testWriter{t, name}, nil)),
		})
		cancel()
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { h.d.Close() })
		hosts[name] = h
	}
	h1, h2 := hosts["h1"], hosts["h2"]
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	spec := compute.InstanceSpec{ID: uuid.NewString(), Name: "mover", VCPUs: 1, MemoryMiB: 128, DiskGiB: 1, ImageID: labImage,
		Addresses: []fsm.Address{{Network: network.Name, IP: "10.77.0.5", MAC: "fa:16:3e:77:00:05"}}}
	opt := compute.MigrateOptions{Live: true, MaxDowntime: 250 * time.Millisecond, AutoConverge: true, Timeout: 5 * time.Minute}
	target := func(h *labHost, doc string) compute.MigrationTarget {
		return compute.MigrationTarget{Host: h.name, URI: h.tcpURI, Address: h.addr, DomainXML: doc}
	}

	// Boot on h1, with data in its disk's overlay: 4 MiB of 'Z' at 512
	// MiB written before it starts, 4 MiB more at 600 MiB by the running
	// guest (the tiny image's filesystem is its first 40 MiB).
	must(t, "define on h1", h1.d.Define(ctx, spec))
	qemuIO(t, h1, spec.ID, "write -P 0x5a 512M 4M")
	must(t, "start on h1", h1.d.Start(ctx, spec.ID))
	waitConsole(t, h1, spec.ID, bootDone, 1, 4*time.Minute)
	out := guestRun(t, h1, spec.ID, `dd if=/dev/zero bs=1M count=4 2>/dev/null | tr '\000' Z | dd of=/dev/vda bs=1M seek=600 conv=fsync 2>/dev/null; cat /proc/uptime`)
	before := uptime(t, out)

	// Prepare h2: a disk, no domain.
	doc, err := h2.d.PrepareIncoming(ctx, spec)
	must(t, "prepare h2", err)
	if !strings.Contains(doc, "<node>h2</node>") || !strings.Contains(doc, h2.dir) || strings.Contains(doc, h1.dir) {
		t.Fatalf("h2's domain XML is not h2's:\n%s", doc)
	}
	if _, err := h2.d.Inspect(ctx, spec.ID); !errors.Is(err, compute.ErrNotFound) {
		t.Fatalf("h2 defined the domain at PrepareIncoming: %v", err)
	}
	// Twice is fine (the leftover volume is made anew).
	doc, err = h2.d.PrepareIncoming(ctx, spec)
	must(t, "prepare h2 again", err)

	// Live to h2.
	start := time.Now()
	stats, err := h1.d.MigrateTo(ctx, spec.ID, target(h2, doc), opt)
	must(t, "live migration h1 → h2", err)
	t.Logf("live migration h1 → h2: call %v; libvirt: total %v, downtime %v, memory %d bytes, disk %d bytes",
		time.Since(start).Round(time.Millisecond), stats.Total, stats.Downtime, stats.Memory, stats.Disk)
	if stats.Total == 0 || stats.Memory == 0 {
		t.Errorf("no statistics of the completed job: %+v", stats)
	}
	expectState(t, h2, spec.ID, golibvirt.DomainRunning, int32(golibvirt.DomainRunningMigrated))
	expectState(t, h1, spec.ID, golibvirt.DomainShutoff, int32(golibvirt.DomainShutoffMigrated))
	if l, _ := h2.d.client(); l != nil {
		dm, err := h2.d.lookup(l, spec.ID)
		must(t, "lookup on h2", err)
		if p, err := l.DomainIsPersistent(dm.dom); err != nil || p != 1 {
			t.Errorf("h2's domain persistent = %d, %v; want 1", p, err)
		}
	}
	if stats.Disk < 8<<20 {
		t.Errorf("%d bytes of disk copied, want the 8 MiB written at least", stats.Disk)
	}
	// The guest runs on, the same boot: its uptime went on.
	after := uptime(t, guestRun(t, h2, spec.ID, "cat /proc/uptime"))
	if after <= before {
		t.Errorf("guest uptime %v on h2, %v on h1 before: it rebooted", after, before)
	}
	t.Logf("guest uptime %.2f s on h1 before, %.2f s on h2 after", before, after)
	if log, _ := h2.d.ConsoleLog(ctx, spec.ID, 0); strings.Contains(log, bootStarted) {
		t.Fatalf("the guest rebooted on h2:\n%s", log)
	}
	// A repeat is a no-op; a second start of the source is refused.
	if s, err := h1.d.MigrateTo(ctx, spec.ID, target(h2, doc), opt); err != nil || s != (compute.MigrationStats{}) {
		t.Errorf("repeated MigrateTo = %+v, %v; want a no-op", s, err)
	}
	// The source cleans up: its domain, disk and console log go.
	must(t, "undefine on h1", h1.d.Undefine(ctx, spec.ID))
	if _, err := h1.d.Inspect(ctx, spec.ID); !errors.Is(err, compute.ErrNotFound) {
		t.Errorf("h1 after Undefine: %v, want ErrNotFound", err)
	}
	if _, err := os.Stat(filepath.Join(h1.dir, "instances", volumeName(spec.ID))); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("h1's disk after Undefine: %v", err)
	}
	expectState(t, h2, spec.ID, golibvirt.DomainRunning, -1)
	if _, err := h2.d.PrepareIncoming(ctx, spec); !errors.Is(err, compute.ErrInvalidState) {
		t.Errorf("PrepareIncoming over a running domain = %v, want ErrInvalidState", err)
	}

	// A migration over its timeout is aborted: the guest stays on h2, h1
	// has no domain.
	doc, err = h1.d.PrepareIncoming(ctx, spec)
	must(t, "prepare h1", err)
	short := opt
	short.Timeout = time.Nanosecond
	if _, err := h2.d.MigrateTo(ctx, spec.ID, target(h1, doc), short); err == nil || !strings.Contains(err.Error(), "timeout") {
		t.Fatalf("migration over its timeout = %v, want an abort", err)
	} else {
		t.Logf("aborted migration: %v", err)
	}
	expectState(t, h2, spec.ID, golibvirt.DomainRunning, -1)
	if _, err := h1.d.Inspect(ctx, spec.ID); !errors.Is(err, compute.ErrNotFound) {
		t.Errorf("h1 after an aborted migration: %v, want ErrNotFound", err)
	}

	// Post-copy, switched to as soon as the job runs; where QEMU cannot
	// use userfaultfd (this machine's libvirt 9.0) the driver falls back
	// to pre-copy.
	doc, err = h1.d.PrepareIncoming(ctx, spec)
	must(t, "prepare h1", err)
	pc := opt
	pc.PostCopy, pc.PostCopyAfter = true, 0
	start = time.Now()
	stats, err = h2.d.MigrateTo(ctx, spec.ID, target(h1, doc), pc)
	must(t, "post-copy migration h2 → h1", err)
	t.Logf("post-copy migration h2 → h1: call %v; libvirt: total %v, downtime %v, memory %d bytes, disk %d bytes",
		time.Since(start).Round(time.Millisecond), stats.Total, stats.Downtime, stats.Memory, stats.Disk)
	expectState(t, h1, spec.ID, golibvirt.DomainRunning, -1)
	if again := uptime(t, guestRun(t, h1, spec.ID, "cat /proc/uptime")); again <= after {
		t.Errorf("guest uptime %v on h1 after post-copy, %v before: it rebooted", again, after)
	}
	must(t, "undefine on h2", h2.d.Undefine(ctx, spec.ID))
	src, dst := h1, h2

	// Cold to the other host, then resized there. A cold migration that
	// fails leaves the source shut off, as it was.
	must(t, "stop on "+src.name, src.d.Stop(ctx, spec.ID, time.Minute))
	doc, err = dst.d.PrepareIncoming(ctx, spec)
	must(t, "prepare "+dst.name, err)
	bad := target(dst, doc)
	bad.URI = strings.Replace(bad.URI, "/system", ":1/system", 1) // nobody listens there
	if _, err := src.d.MigrateTo(ctx, spec.ID, bad, compute.MigrateOptions{}); err == nil {
		t.Fatal("cold migration to a libvirtd that is not there succeeded")
	} else {
		t.Logf("cold migration to nowhere: %v", err)
	}
	expectState(t, src, spec.ID, golibvirt.DomainShutoff, -1)
	start = time.Now()
	stats, err = src.d.MigrateTo(ctx, spec.ID, target(dst, doc), compute.MigrateOptions{Timeout: 5 * time.Minute})
	must(t, "cold migration", err)
	t.Logf("cold migration %s → %s: call %v; libvirt: total %v, downtime %v, memory %d bytes, disk %d bytes", src.name, dst.name,
		time.Since(start).Round(time.Millisecond), stats.Total, stats.Downtime, stats.Memory, stats.Disk)
	expectState(t, dst, spec.ID, golibvirt.DomainPaused, -1)
	expectState(t, src, spec.ID, golibvirt.DomainShutoff, int32(golibvirt.DomainShutoffMigrated))
	if err := dst.d.Start(ctx, spec.ID); !errors.Is(err, compute.ErrInvalidState) {
		t.Errorf("Start of the domain arrived paused = %v, want ErrInvalidState (it is not in flight)", err)
	}
	must(t, "destroy the paused copy", dst.d.Destroy(ctx, spec.ID))
	// Both writes came with the disk.
	qemuIO(t, dst, spec.ID, "read -P 0x5a 512M 4M")
	qemuIO(t, dst, spec.ID, "read -P 0x5a 600M 4M")
	big := spec
	big.VCPUs, big.MemoryMiB, big.DiskGiB = 2, 192, 2
	must(t, "resize", dst.d.Resize(ctx, big))
	must(t, "resize again", dst.d.Resize(ctx, big))
	checkSize(t, dst, big)
	boots := strings.Count(consoleLog(t, dst, spec.ID), bootDone)
	must(t, "start after resize", dst.d.Start(ctx, spec.ID))
	waitConsole(t, dst, spec.ID, bootDone, boots+1, 4*time.Minute)
	if err := dst.d.Resize(ctx, big); !errors.Is(err, compute.ErrInvalidState) {
		t.Errorf("Resize of a running domain = %v, want ErrInvalidState", err)
	}
	must(t, "undefine on "+src.name, src.d.Undefine(ctx, spec.ID))
	must(t, "undefine on "+dst.name, dst.d.Undefine(ctx, spec.ID))
}

func must(t *testing.T, what string, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// expectState checks libvirt's state (and reason, unless -1) of the domain on h.
func expectState(t *testing.T, h *labHost, id string, st golibvirt.DomainState, reason int32) {
	t.Helper()
	l, err := h.d.client()
	must(t, h.name, err)
	dm, err := h.d.lookup(l, id)
	must(t, "lookup on "+h.name, err)
	gotSt, gotReason, err := l.DomainGetState(dm.dom, 0)
	must(t, "state on "+h.name, err)
	if golibvirt.DomainState(gotSt) != st || reason >= 0 && gotReason != reason {
		t.Fatalf("%s: state %s reason %d, want %s reason %d", h.name, stateName(golibvirt.DomainState(gotSt)), gotReason, stateName(st), reason)
	}
}

// checkSize checks the domain's definition and disk on h are spec's size.
func checkSize(t *testing.T, h *labHost, spec compute.InstanceSpec) {
	t.Helper()
	l, err := h.d.client()
	must(t, h.name, err)
	dm, err := h.d.lookup(l, spec.ID)
	must(t, "lookup", err)
	_, _, mem, vcpus, _, err := l.DomainGetInfo(dm.dom)
	must(t, "info", err)
	if mem != uint64(spec.MemoryMiB)*1024 || int(vcpus) != spec.VCPUs {
		t.Errorf("after Resize: %d KiB, %d vCPUs; want %d MiB, %d", mem, vcpus, spec.MemoryMiB, spec.VCPUs)
	}
	pool, err := l.StoragePoolLookupByName(h.d.poolName())
	must(t, "pool", err)
	vol, err := l.StorageVolLookupByName(pool, volumeName(spec.ID))
	must(t, "volume", err)
	_, capacity, _, err := l.StorageVolGetInfo(vol)
	must(t, "volume info", err)
	if capacity != uint64(spec.DiskGiB)*gib {
		t.Errorf("after Resize: disk of %d bytes, want %d GiB", capacity, spec.DiskGiB)
	}
	if doc, _ := l.DomainGetXMLDesc(dm.dom, golibvirt.DomainXMLInactive); !strings.Contains(doc, spec.Addresses[0].MAC) || !strings.Contains(doc, h.dir) {
		t.Errorf("after Resize the domain lost its MAC or disk:\n%s", doc)
	}
}

func consoleLog(t *testing.T, h *labHost, id string) string {
	t.Helper()
	log, err := h.d.ConsoleLog(context.Background(), id, 0)
	must(t, "console log on "+h.name, err)
	return log
}

// waitConsole waits until h's console log of id shows mark n times.
func waitConsole(t *testing.T, h *labHost, id, mark string, n int, timeout time.Duration) {
	t.Helper()
	start := time.Now()
	for {
		log := consoleLog(t, h, id)
		if strings.Count(log, mark) >= n {
			t.Logf("%s: %q after %v", h.name, mark, time.Since(start).Round(time.Millisecond))
			return
		}
		if time.Since(start) > timeout {
			t.Fatalf("%s: no %q (%d times) within %v; console:\n%s", h.name, mark, n, timeout, log)
		}
		time.Sleep(500 * time.Millisecond)
	}
}

// labLock takes the lab's lock (the lab package's: one lab user on the
// machine at a time), waiting up to 20 minutes for another run to end.
func labLock(t *testing.T) {
	t.Helper()
	path := filepath.Join(os.TempDir(), "shoal-netns-lab.lock")
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Minute)
	for syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB) != nil {
		if time.Now().After(deadline) {
			f.Close()
			t.Fatalf("another lab run holds %s", path)
		}
		time.Sleep(time.Second)
	}
	t.Cleanup(func() { f.Close() }) // registered first, released last
}

// testWriter sends a driver's log lines to the test log.
type testWriter struct {
	t    *testing.T
	name string
}

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Logf("%s: %s", w.name, strings.TrimSpace(string(p)))
	return len(p), nil
}

var _ io.Writer = testWriter{}

// qemuIO runs one qemu-io command on the (shut off) instance's disk on h;
// a read's pattern must match.
func qemuIO(t *testing.T, h *labHost, id, cmd string) {
	t.Helper()
	path := filepath.Join(h.dir, "instances", volumeName(id))
	out, err := exec.Command("qemu-io", "-f", "qcow2", "-c", cmd, path).CombinedOutput()
	if err != nil || strings.Contains(string(out), "failed") || !strings.Contains(string(out), "4194304/4194304") {
		t.Fatalf("%s: qemu-io %q on %s: %v\n%s", h.name, cmd, path, err, out)
	}
}

// guestRun types cmd into the guest's serial console on h (the tiny
// image keeps a root shell there) and returns its output, read from the
// console log.
func guestRun(t *testing.T, h *labHost, id, cmd string) string {
	t.Helper()
	l, err := h.d.client()
	must(t, h.name, err)
	dm, err := h.d.lookup(l, id)
	must(t, "lookup on "+h.name, err)
	doc, err := l.DomainGetXMLDesc(dm.dom, 0)
	must(t, "domain XML", err)
	var def libvirtxml.Domain
	must(t, "domain XML", def.Unmarshal(doc))
	if len(def.Devices.Serials) == 0 || def.Devices.Serials[0].Source.Pty == nil || def.Devices.Serials[0].Source.Pty.Path == "" {
		t.Fatalf("%s: no serial pty", h.name)
	}
	pty, err := os.OpenFile(def.Devices.Serials[0].Source.Pty.Path, os.O_RDWR|unix.O_NOCTTY, 0)
	must(t, "console", err)
	defer pty.Close()
	tio, err := unix.IoctlGetTermios(int(pty.Fd()), unix.TCGETS)
	must(t, "termios", err)
	tio.Iflag &^= unix.IGNBRK | unix.BRKINT | unix.PARMRK | unix.ISTRIP | unix.INLCR | unix.IGNCR | unix.ICRNL | unix.IXON
	tio.Oflag &^= unix.OPOST
	tio.Lflag &^= unix.ECHO | unix.ECHONL | unix.ICANON | unix.ISIG | unix.IEXTEN
	tio.Cflag = tio.Cflag&^(unix.CSIZE|unix.PARENB) | unix.CS8
	must(t, "termios", unix.IoctlSetTermios(int(pty.Fd()), unix.TCSETS, tio))
	go func() { _, _ = io.Copy(io.Discard, pty) }() // QEMU stalls on a full pty
	marker := fmt.Sprintf("mig-probe-%d", time.Now().UnixNano())
	offset := len(consoleLog(t, h, id))
	if _, err := fmt.Fprintf(pty, "echo %s be''gin; %s; echo %s e''nd\n", marker, cmd, marker); err != nil {
		t.Fatal(err)
	}
	re := regexp.MustCompile(`(?s)` + marker + ` begin\r?\n(.*)` + marker + ` end`)
	deadline := time.Now().Add(time.Minute)
	for {
		log := consoleLog(t, h, id)
		if m := re.FindStringSubmatch(log[min(offset, len(log)):]); m != nil {
			return m[1]
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: no answer to %q on the console:\n%s", h.name, cmd, log)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// uptime is the first number of /proc/uptime in out.
func uptime(t *testing.T, out string) float64 {
	t.Helper()
	f := strings.Fields(out)
	if len(f) < 2 {
		t.Fatalf("no uptime in %q", out)
	}
	v, err := strconv.ParseFloat(f[len(f)-2], 64)
	if err != nil {
		t.Fatalf("no uptime in %q: %v", out, err)
	}
	return v
}
