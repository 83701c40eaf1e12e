package lab

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"

	"github.com/google/uuid"
	"libvirt.org/go/libvirtxml"

	"github.com/shoal-project/shoal/internal/testkit"
)

// The tiny guest (scripts/build-tiny-image.sh) as the lab runs it: a real
// guest that leases its fixed IP over DHCP, names itself after the server,
// answers on ports 80 (httpd) and 8080 (nc) with that name, and keeps a
// root shell on its serial console, which Run types into.
const (
	TinyImage  = "lab-tiny"
	TinyFlavor = "lab.tiny" // 1 vCPU, TinyRAM MiB, 1 GiB
	TinyRAM    = 128        // MiB: the kernel and its initramfs need ~60

	// BootTimeout bounds a tiny guest's boot under TCG (~10 s alone,
	// longer while its neighbours boot on the same cores).
	BootTimeout = 3 * time.Minute
)

// Console markers of the tiny guest (scripts/tiny-image/init).
const (
	markBooting    = "shoal-tiny: booting"
	markDHCP       = "shoal-tiny: dhcp address "
	markDHCPFail   = "shoal-tiny: dhcp failed"
	markMetadata   = "shoal-tiny: metadata hostname "
	markNoMetadata = "shoal-tiny: metadata unavailable"
	markListening  = "shoal-tiny: listening 80 8080"
)

// UploadTinyImage builds the tiny guest image (cached in .lab/images, as the
// e2e test does) and registers it as TinyImage through the CLI, with the
// flavor TinyFlavor.
func (l *Lab) UploadTinyImage(via *Host) {
	l.t.Helper()
	path := filepath.Join(l.Root, ".lab", "images", "shoal-tiny.qcow2")
	if out, err := exec.Command(filepath.Join(l.Root, "scripts", "build-tiny-image.sh"), path).CombinedOutput(); err != nil {
		l.t.Fatalf("building the tiny image: %v\n%s", err, out)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := via.API.CreateFlavor(ctx, TinyFlavor, 1, TinyRAM, 1); err != nil {
		l.t.Fatalf("creating flavor %s: %v", TinyFlavor, err)
	}
	dir, err := os.MkdirTemp("", "shoal-lab-image-")
	if err != nil {
		l.t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	l.CLI(via, dir, "image", "create", TinyImage, "--file", path, "--disk-format", "qcow2")
}

// Guest is a server booted from the tiny image. Its busybox (Debian 12's
// busybox-static 1.35) has a wget that crashes: HTTP from a guest is nc
// with the request on its stdin, as TestLabGuest does.
type Guest struct {
	ID   string
	Name string
	lab  *Lab
	mu   sync.Mutex // one Run at a time: they share the console
}

// CreateGuest creates a tiny guest named name through via, forced onto on
// unless on is nil; WaitBooted waits for it.
func (l *Lab) CreateGuest(via *Host, name string, on *Host) *Guest {
	l.t.Helper()
	return l.Boot(via, CreateRequest{Name: name, Flavor: TinyFlavor, Image: TinyImage}, on)
}

// Boot creates the server req describes through via, forced onto on unless
// on is nil, and returns it as a Guest (whose Run needs the tiny image's
// console shell; its console log is any image's).
func (l *Lab) Boot(via *Host, req CreateRequest, on *Host) *Guest {
	l.t.Helper()
	if on != nil {
		req.AvailabilityZone = "nova:" + on.Name
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s, err := via.API.WithTimeout(30*time.Second).CreateServer(ctx, req)
	if err != nil {
		l.t.Fatalf("creating server %s through %s: %v", req.Name, via.Name, err)
	}
	return &Guest{ID: s.ID, Name: req.Name, lab: l}
}

// Server is the guest's server as the API shows it now.
func (g *Guest) Server(ctx context.Context) (Server, error) {
	var errs []string
	for _, h := range g.lab.Up() {
		c, cancel := context.WithTimeout(ctx, 2*time.Second)
		s, err := h.API.Server(c, g.ID)
		cancel()
		if err == nil {
			return s, nil
		}
		errs = append(errs, fmt.Sprintf("%s: %v", h.Name, err))
	}
	return Server{}, fmt.Errorf("no host shows server %s: %s", g.ID, strings.Join(errs, "; "))
}

// FixedIP is the server's fixed IP on the tenant network ("" if none).
func (s Server) FixedIP() string {
	for _, a := range s.Addresses {
		if a.Type != "floating" {
			return a.IP
		}
	}
	return ""
}

// WaitBooted waits until the guest is ACTIVE and its console on its host
// shows, since its last boot began, its fixed IP leased over DHCP and its
// listeners up (by then it has asked the metadata service: BootMetadata);
// it returns the server. A guest reporting "dhcp failed" fails the test at
// once.
func (g *Guest) WaitBooted(timeout time.Duration) Server {
	g.lab.t.Helper()
	var s Server
	testkit.WaitEvery(g.lab.t, Poll, timeout, "guest "+g.Name+" booted", func() (bool, string) {
		var err error
		if s, err = g.Server(context.Background()); err != nil {
			return false, err.Error()
		}
		if s.Status != "ACTIVE" || s.Host == "" {
			return false, fmt.Sprintf("%s on %q", s.Status, s.Host)
		}
		log, err := g.console(s.Host)
		if err != nil {
			return false, err.Error()
		}
		boot := lastBoot(log)
		switch {
		case strings.Contains(boot, markDHCPFail):
			g.lab.t.Fatalf("guest %s on %s: dhcp failed; console:\n%s", g.Name, s.Host, tail(log, 30))
		case !strings.Contains(boot, markDHCP+s.FixedIP()+"\n"):
			return false, fmt.Sprintf("no lease of %s on %s's console yet:\n%s", s.FixedIP(), s.Host, tail(boot, 10))
		case !strings.Contains(boot, markListening):
			return false, "listeners not up yet on " + s.Host
		}
		return true, ""
	})
	return s
}

// BootMetadata is what the guest's last boot read from the metadata
// service, as its console shows it: the hostname in its
// /openstack/latest/meta_data.json, or "" with ok false when it printed
// "metadata unavailable". An error when the console holds neither line
// (not booted that far yet).
func (g *Guest) BootMetadata(ctx context.Context) (hostname string, ok bool, err error) {
	log, err := g.Console(ctx)
	if err != nil {
		return "", false, err
	}
	return bootMetadata(lastBoot(log))
}

func bootMetadata(boot string) (string, bool, error) {
	for _, line := range strings.Split(boot, "\n") {
		if h, found := strings.CutPrefix(line, markMetadata); found {
			return h, true, nil
		}
		if line == markNoMetadata {
			return "", false, nil
		}
	}
	return "", false, errors.New("lab: no metadata line on the console since the last boot")
}

// lastBoot is the console from the last boot's first line on, lines ended
// by "\n" alone: a half-written last line is left out.
func lastBoot(log string) string {
	log = strings.ReplaceAll(log, "\r", "")
	if i := strings.LastIndex(log, markBooting); i >= 0 {
		log = log[i:]
	}
	return log[:strings.LastIndex(log, "\n")+1]
}

// Console is the guest's serial console log on the host it runs on now.
func (g *Guest) Console(ctx context.Context) (string, error) {
	s, err := g.Server(ctx)
	if err != nil {
		return "", err
	}
	return g.console(s.Host)
}

func (g *Guest) console(host string) (string, error) {
	h := g.lab.hostNamed(host)
	if h == nil {
		return "", fmt.Errorf("guest %s: no lab host %q", g.Name, host)
	}
	b, err := os.ReadFile(h.ConsoleLogPath(g.ID))
	return string(b), err
}

// ConsoleLogPath is where the host's agent keeps the serial console log of
// instance id (the libvirt driver's ConsoleDir under the agent's data dir).
func (h *Host) ConsoleLogPath(id string) string {
	return filepath.Join(h.DataDir(), "console", id+".log")
}

func (l *Lab) hostNamed(name string) *Host {
	for _, h := range l.Hosts {
		if h.Name == name {
			return h
		}
	}
	return nil
}

// probes numbers Run's markers: unique in the test binary, and each Run
// reads the console only from where it stood when the Run began.
var probes atomic.Int64

// ErrNoAnswer means the guest's console did not show the end of a command
// before the context ended: the guest hangs, is gone, or the command runs on.
var ErrNoAnswer = errors.New("lab: no answer on the guest's console")

// Run types cmd into the guest's serial console (a root shell), on the host
// the API says it runs on, and returns what it printed and its exit status,
// read from the console log. The line typed is
//
//	echo shoal-probe-N be''gin; CMD; echo shoal-probe-N rc=$?
//
// so neither marker matches its own echo: the output is what lies between
// the line "shoal-probe-N begin" and "shoal-probe-N rc=<digits>". cmd is one
// line of busybox sh; it must end (give ping a count, nc and wget a
// timeout). err is set when no answer came before ctx ended (ErrNoAnswer)
// or the console cannot be reached; then rc is -1.
func (g *Guest) Run(ctx context.Context, cmd string) (output string, rc int, err error) {
	if strings.ContainsAny(cmd, "\r\n") {
		return "", -1, fmt.Errorf("lab: Run %q: one line only", cmd)
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	s, err := g.Server(ctx)
	if err != nil {
		return "", -1, err
	}
	h := g.lab.hostNamed(s.Host)
	if h == nil {
		return "", -1, fmt.Errorf("guest %s: no lab host %q", g.Name, s.Host)
	}
	logPath := h.ConsoleLogPath(g.ID)
	var offset int64
	if fi, err := os.Stat(logPath); err == nil {
		offset = fi.Size()
	}
	pty, err := g.openConsole(h)
	if err != nil {
		return "", -1, err
	}
	// QEMU's serial stalls the guest once the pty is full: drain it while
	// open. The answer is read from the log, which has everything.
	drained := make(chan struct{})
	go func() { _, _ = io.Copy(io.Discard, pty); close(drained) }()
	defer func() { pty.Close(); <-drained }()

	marker := fmt.Sprintf("shoal-probe-%d", probes.Add(1))
	line := fmt.Sprintf("echo %s be''gin; %s; echo %s rc=$?\n", marker, cmd, marker)
	if _, err := pty.WriteString(line); err != nil {
		return "", -1, fmt.Errorf("guest %s: typing into %s: %w", g.Name, pty.Name(), err)
	}
	begin := marker + " begin\n"
	end := regexp.MustCompile(regexp.QuoteMeta(marker) + ` rc=([0-9]+)\n`)
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		out, done, code := probeAnswer(readFrom(logPath, offset), begin, end)
		if done {
			return out, code, nil
		}
		select {
		case <-ctx.Done():
			return out, -1, fmt.Errorf("%w: guest %s on %s, %q: %v", ErrNoAnswer, g.Name, h.Name, cmd, ctx.Err())
		case <-tick.C:
		}
	}
}

// Dial connects from the guest to ip:port with nc (2 s to connect), sends
// nothing, and returns what the other end says before it closes; an error
// when nc fails (no connection) or the guest does not answer.
func (g *Guest) Dial(ctx context.Context, ip string, port int) (string, error) {
	return g.runOK(ctx, fmt.Sprintf("nc -w 2 %s %d </dev/null", ip, port))
}

// Ping sends one ICMP echo from the guest: nil when the reply came within
// 2 s.
func (g *Guest) Ping(ctx context.Context, ip string) error {
	_, err := g.runOK(ctx, "ping -c 1 -W 2 "+ip)
	return err
}

// runOK is Run, with a non-zero exit status as an error.
func (g *Guest) runOK(ctx context.Context, cmd string) (string, error) {
	out, rc, err := g.Run(ctx, cmd)
	if err == nil && rc != 0 {
		err = fmt.Errorf("guest %s: %q exited %d: %s", g.Name, cmd, rc, strings.TrimSpace(out))
	}
	return out, err
}

// probeAnswer finds a Run's answer in the console text after the Run began:
// the output between the begin line and the end marker, and the exit status.
func probeAnswer(console, begin string, end *regexp.Regexp) (string, bool, int) {
	console = "\n" + strings.ReplaceAll(console, "\r", "")
	i := strings.Index(console, "\n"+begin)
	if i < 0 {
		return "", false, 0
	}
	rest := console[i+1+len(begin):]
	m := end.FindStringSubmatchIndex(rest)
	if m == nil {
		return rest, false, 0
	}
	code, err := strconv.Atoi(rest[m[2]:m[3]])
	if err != nil {
		return rest, false, 0
	}
	return rest[:m[0]], true, code
}

func readFrom(path string, offset int64) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	if _, err := f.Seek(offset, io.SeekStart); err != nil {
		return ""
	}
	b, _ := io.ReadAll(f)
	return string(b)
}

// openConsole opens the guest's serial console: the pty QEMU made, named in
// its live domain XML on host's libvirtd. The path is valid here too: every
// lab host's mount namespace shares the machine's /dev/pts. The pty is put
// in raw mode, so nothing is echoed back into the guest and "\n" arrives as
// typed.
func (g *Guest) openConsole(h *Host) (*os.File, error) {
	env, err := hostEnv(h.EnvPath())
	if err != nil {
		return nil, fmt.Errorf("%s: %w", h.Name, err)
	}
	c, err := dialHost(env)
	if err != nil {
		return nil, fmt.Errorf("%s: libvirt: %w", h.Name, err)
	}
	defer c.close()
	id, err := uuid.Parse(g.ID)
	if err != nil {
		return nil, err
	}
	dom, err := c.l.DomainLookupByUUID([16]byte(id))
	if err != nil {
		return nil, fmt.Errorf("%s: domain of %s: %w", h.Name, g.Name, err)
	}
	doc, err := c.l.DomainGetXMLDesc(dom, 0)
	if err != nil {
		return nil, fmt.Errorf("%s: domain of %s: %w", h.Name, g.Name, err)
	}
	var def libvirtxml.Domain
	if err := def.Unmarshal(doc); err != nil {
		return nil, err
	}
	path := ""
	if def.Devices != nil && len(def.Devices.Serials) > 0 {
		if src := def.Devices.Serials[0].Source; src != nil && src.Pty != nil {
			path = src.Pty.Path
		}
	}
	if path == "" {
		return nil, fmt.Errorf("%s: guest %s has no serial pty (not running?)", h.Name, g.Name)
	}
	f, err := os.OpenFile(path, os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		return nil, fmt.Errorf("%s: console of %s: %w", h.Name, g.Name, err)
	}
	if err := makeRaw(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("%s: console of %s: %w", h.Name, g.Name, err)
	}
	return f, nil
}

// makeRaw is cfmakeraw(3) on a terminal.
func makeRaw(f *os.File) error {
	raw, err := f.SyscallConn()
	if err != nil {
		return err
	}
	var errno syscall.Errno
	err = raw.Control(func(fd uintptr) {
		var t syscall.Termios
		if _, _, errno = syscall.Syscall(syscall.SYS_IOCTL, fd, syscall.TCGETS, uintptr(unsafe.Pointer(&t))); errno != 0 {
			return
		}
		t.Iflag &^= syscall.IGNBRK | syscall.BRKINT | syscall.PARMRK | syscall.ISTRIP | syscall.INLCR | syscall.IGNCR | syscall.ICRNL | syscall.IXON
		t.Oflag &^= syscall.OPOST
		t.Lflag &^= syscall.ECHO | syscall.ECHONL | syscall.ICANON | syscall.ISIG | syscall.IEXTEN
		t.Cflag &^= syscall.CSIZE | syscall.PARENB
		t.Cflag |= syscall.CS8
		_, _, errno = syscall.Syscall(syscall.SYS_IOCTL, fd, syscall.TCSETS, uintptr(unsafe.Pointer(&t)))
	})
	if err != nil {
		return err
	}
	if errno != 0 {
		return fmt.Errorf("termios: %w", errno)
	}
	return nil
}

// Outside runs a command in the outside network namespace (shlab-out: on
// the lab's bridge with 10.99.0.2/24 and 10.66.0.1/24, the external
// network's gateway) and returns its output, stdout and stderr together; a
// command that fails returns an *exec.ExitError.
func (l *Lab) Outside(ctx context.Context, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, l.Script, append([]string{"outside"}, args...)...)
	cmd.Dir = l.Root
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// OutsideGet fetches url from the outside with curl (the machine's busybox
// wget is static and crashes on Debian 12), giving up after 2 s without an
// answer: a dropped packet is a timeout, not a refusal.
func (l *Lab) OutsideGet(ctx context.Context, url string) (string, error) {
	return l.Outside(ctx, "curl", "-sS", "--max-time", "2", url)
}

// OutsideDial connects from the outside to ip:port with busybox nc, sends
// nothing, and returns what the other end says before it closes; connecting
// gives up after 2 s.
func (l *Lab) OutsideDial(ctx context.Context, ip string, port int) (string, error) {
	return l.Outside(ctx, "busybox", "nc", "-w", "2", ip, strconv.Itoa(port))
}
