package lab

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/shoal-project/shoal/internal/testkit"
)

// Config describes a lab bring-up. The zero value is 3 hosts with
// DefaultAgentFlags.
type Config struct {
	Hosts int // default 3
	// AgentFlags are added to every agent's command line, after the ones
	// the harness sets (name, data dir, bind, driver, join). A flag that
	// `shoal agent --help` does not list is dropped with a log line, so the
	// lab runs against binaries that predate it. Nil: DefaultAgentFlags.
	AgentFlags []string
}

// DefaultAgentFlags are the agent flags every lab host gets: short leases so
// that a failover takes seconds, and migrations between the hosts' libvirtds
// over plain TCP (the lab starts them listening, without auth, on the hosts'
// lab addresses: see MigrationURI). A binary that predates --migration-uri
// runs without it (supportedFlags).
var DefaultAgentFlags = []string{
	"--driver", "libvirt", "--libvirt-uri", "qemu:///system",
	"--network-cidr", "10.78.0.0/24",
	"--lease", "5s", "--lease-margin", "3s",
	"--migration-uri", MigrationURI,
}

// MigrationURI is the lab agents' --migration-uri: the destination's
// libvirtd, which the source's dials peer to peer, at the destination's
// cluster address (%s). netns-lab.sh makes every libvirtd listen there on
// TCP (SHLAB_TCP=1, which the harness sets for every bring-up and
// power-on).
const MigrationURI = "qemu+tcp://%s/system"

// Lab is a running lab: the hosts, each with a shoal agent.
type Lab struct {
	t      testing.TB
	Root   string // repository root
	Script string // scripts/lab/netns-lab.sh
	Dir    string // .lab/netns
	Bin    string // the shoal binary
	Hosts  []*Host
	flags  []string
	// Admin is the cluster's bootstrap admin (h1's admin-openrc): every
	// host's API client acts as it.
	Admin *Admin
	// joinToken is what h2..hN join h1 with on their first start: made by
	// the admin once h1 runs, one use per host.
	joinToken string

	lastGood atomic.Int32 // index of the host that last listed servers
}

// Start builds the binary (unless $SHOAL_BIN names one), brings the lab up
// from scratch, starts one agent per host (h1 bootstraps; its admin makes a
// join token with the CLI; the others join with it) and waits for a healthy
// cluster. Every call speaks HTTPS and trusts the cluster CA that h1's
// admin-openrc names. Cleanup tears everything down, also when the test
// fails.
func Start(t testing.TB, cfg Config) *Lab {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("the lab needs root")
	}
	if cfg.Hosts == 0 {
		cfg.Hosts = 3
	}
	if cfg.AgentFlags == nil {
		cfg.AgentFlags = DefaultAgentFlags
	}
	root, err := repoRoot()
	if err != nil {
		t.Fatal(err)
	}
	l := &Lab{t: t, Root: root, Script: filepath.Join(root, "scripts", "lab", "netns-lab.sh"), Dir: filepath.Join(root, ".lab", "netns")}
	l.lock()
	keepInheritedFDs()
	l.Bin = buildBinary(t, root)
	l.flags = supportedFlags(t, l.Bin, cfg.AgentFlags)

	l.script("down")
	t.Cleanup(l.down)
	l.script("up", fmt.Sprint(cfg.Hosts))
	l.Admin = &Admin{Openrc: filepath.Join(l.Dir, "h1", "shoal", "admin-openrc")}
	for i := 1; i <= cfg.Hosts; i++ {
		l.Hosts = append(l.Hosts, newHost(l, i))
	}
	l.Hosts[0].StartAgent()
	// h1 writes its admin-openrc once it has bootstrapped the identity.
	var roots *x509.CertPool
	testkit.WaitEvery(t, Poll, 30*time.Second, "lab: h1's admin-openrc and CA", func() (bool, string) {
		var err error
		roots, err = l.Admin.RootCAs()
		return err == nil, fmt.Sprint(err)
	})
	for _, h := range l.Hosts {
		h.API = NewClient(h.URL(), l.Admin, roots)
	}
	if cfg.Hosts > 1 {
		l.joinToken = l.makeJoinToken(cfg.Hosts - 1)
	}
	for _, h := range l.Hosts[1:] {
		h.StartAgent()
	}
	l.WaitHealthy(90 * time.Second)
	return l
}

// AgentFlag reports whether the agents run with flag (e.g.
// "--migration-uri"): it was asked for and the binary knows it.
func (l *Lab) AgentFlag(flag string) bool { return slices.Contains(l.flags, flag) }

// CAFile is the cluster CA's certificate, in h1's data dir (every node
// holds the same).
func (l *Lab) CAFile() string { return filepath.Join(l.Dir, "h1", "shoal", "tls", "ca.crt") }

// makeJoinToken has the admin make a join token of uses uses with the CLI
// through h1, as an operator does, once h1's admin can log in.
func (l *Lab) makeJoinToken(uses int) string {
	l.t.Helper()
	dir, err := os.MkdirTemp("", "shoal-lab-cli-")
	if err != nil {
		l.t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	var token string
	testkit.WaitEvery(l.t, Poll, 30*time.Second, "lab: h1's admin to make a join token", func() (bool, string) {
		out, err := l.cliOutput(l.Hosts[0], dir, "cluster", "join-token", "create", "--uses", fmt.Sprint(uses))
		token = strings.TrimSpace(out)
		return err == nil && token != "", fmt.Sprint(err)
	})
	return token
}

// Host returns the host named name (h1, h2, …).
func (l *Lab) Host(name string) *Host {
	if h := l.hostNamed(name); h != nil {
		return h
	}
	l.t.Fatalf("lab: no host %q", name)
	return nil
}

// Others returns every host but h.
func (l *Lab) Others(h *Host) []*Host {
	var out []*Host
	for _, o := range l.Hosts {
		if o != h {
			out = append(out, o)
		}
	}
	return out
}

// script runs netns-lab.sh and fails the test if it fails.
func (l *Lab) script(args ...string) string {
	l.t.Helper()
	out, err := l.runScript(args...)
	if err != nil {
		l.t.Fatalf("netns-lab.sh %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

// runScript runs netns-lab.sh with SHLAB_TCP=1, so that `up` and
// `power-on` start libvirtds that listen for migrations on TCP.
func (l *Lab) runScript(args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, l.Script, args...)
	cmd.Dir = l.Root
	cmd.Env = append(os.Environ(), "SHLAB_TCP=1")
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// down stops the agents, keeps their logs if the test failed, and removes
// the lab.
func (l *Lab) down() {
	for _, h := range l.Hosts {
		h.KillAgent()
	}
	if l.t.Failed() {
		l.keepLogs()
	}
	if out, err := l.runScript("down"); err != nil {
		l.t.Errorf("netns-lab.sh down: %v\n%s", err, out)
	}
}

// keepLogs copies the agents' logs to .lab/lab-logs/<test>/, which survives
// `down`, and prints the tail of each.
func (l *Lab) keepLogs() {
	dir := filepath.Join(l.Root, ".lab", "lab-logs", strings.ReplaceAll(l.t.Name(), "/", "_"))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		l.t.Logf("lab: keeping logs: %v", err)
		return
	}
	for _, h := range l.Hosts {
		for src, dst := range map[string]string{
			h.logPath: h.Name + ".log",
			filepath.Join(h.Dir, "shoal", "fence-guard.log"): h.Name + "-fence-guard.log",
		} {
			if data, err := os.ReadFile(src); err == nil {
				_ = os.WriteFile(filepath.Join(dir, dst), data, 0o644)
			}
		}
		l.t.Logf("lab: %s agent log, last lines:\n%s", h.Name, tail(readFile(h.logPath), 40))
	}
	l.t.Logf("lab: agent logs kept in %s", dir)
}

// lock makes this the only lab user on the machine until cleanup: the
// bridge, addresses and namespaces have fixed names.
func (l *Lab) lock() {
	path := filepath.Join(os.TempDir(), "shoal-netns-lab.lock")
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		l.t.Fatal(err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		l.t.Fatalf("lab: another lab run holds %s: %v", path, err)
	}
	l.t.Cleanup(func() { f.Close() }) // registered first, so released last
}

// keepInheritedFDs marks the descriptors the test inherited (beyond stdin,
// stdout and stderr) close-on-exec, so that the lab's daemons and agents do
// not inherit them: `flock /tmp/tempest.lock go test …` passes its lock
// down as fd 3, and libvirtds that outlive a killed test would hold it
// until `netns-lab.sh down`, stalling every other run waiting for it.
func keepInheritedFDs() {
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return
	}
	for _, e := range ents {
		if fd, err := strconv.Atoi(e.Name()); err == nil && fd > 2 {
			syscall.CloseOnExec(fd)
		}
	}
}

func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("lab: no go.mod above the working directory")
		}
		dir = parent
	}
}

// buildBinary returns $SHOAL_BIN or builds ./cmd/shoal into a temp dir that
// the lab hosts can read (they share the machine's /tmp).
func buildBinary(t testing.TB, root string) string {
	t.Helper()
	if bin := os.Getenv("SHOAL_BIN"); bin != "" {
		abs, err := filepath.Abs(bin)
		if err != nil {
			t.Fatal(err)
		}
		return abs
	}
	bin := filepath.Join(testkit.SharedDir(t, "shoal-lab-bin-", 0o755), "shoal")
	cmd := exec.Command("go", "build", "-o", bin, "./cmd/shoal")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("building shoal: %v\n%s", err, out)
	}
	return bin
}

// supportedFlags drops the flags (and their values) `agent --help` does not
// list.
func supportedFlags(t testing.TB, bin string, flags []string) []string {
	t.Helper()
	help, err := exec.Command(bin, "agent", "--help").CombinedOutput()
	if err != nil {
		t.Fatalf("shoal agent --help: %v\n%s", err, help)
	}
	var out []string
	for i := 0; i < len(flags); i++ {
		f := flags[i]
		hasValue := i+1 < len(flags) && !strings.HasPrefix(flags[i+1], "--")
		name, _, _ := strings.Cut(f, "=")
		if strings.Contains(string(help), name+" ") {
			out = append(out, f)
			if hasValue {
				out = append(out, flags[i+1])
			}
		} else {
			t.Logf("lab: this shoal agent has no %s flag; running without it", name)
		}
		if hasValue {
			i++
		}
	}
	return out
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
