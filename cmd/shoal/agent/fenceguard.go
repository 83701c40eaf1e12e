package agent

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/shoal-project/shoal/cluster"
	"github.com/shoal-project/shoal/compute"
	"github.com/shoal-project/shoal/compute/libvirt"
	"github.com/shoal-project/shoal/compute/network"
)

// The fence guard is a small process the agent starts next to itself. It
// watches the lease the agent records and, once the lease has run out,
// hard-stops this node's domains: if the agent crashes or is killed, its
// servers still stop before the leader evacuates them (lease + margin), so
// none ever runs twice. For the same reason it takes this node's floating
// IPs off the host first (they fail over with their servers, and two hosts
// answering for one would split its traffic), and once the domains are
// stopped it deletes the node's nftables tables (NAT and filters of guests
// that no longer run). It exits when the agent is gone, the lease has run
// out and nothing runs any more. It is a separate process because it must
// outlive the agent; it is the same binary, run as GuardCommand, in the
// agent's network namespace.

// GuardCommand is the binary's (hidden) subcommand that runs the guard.
const GuardCommand = "fence-guard"

const (
	guardPIDFile = "fence-guard.pid"
	guardLogFile = "fence-guard.log"
	// guardFD is where the guard finds its end of the agent's pipe (the
	// first of exec.Cmd's ExtraFiles).
	guardFD = 3
	// DefaultGuardInterval is how often the guard reads the lease.
	DefaultGuardInterval = 200 * time.Millisecond
	guardConnectTimeout  = 5 * time.Second
)

// GuardConfig configures a FenceGuard.
type GuardConfig struct {
	Name       string
	DataDir    string
	LibvirtURI string // default libvirt.DefaultURI
	// Lease is the agent's lease (default cluster.DefaultLease): the guard
	// starts stopping domains compute.FenceLead(Lease) before it ends,
	// exactly as the agent's own fence does.
	Lease    time.Duration
	Interval time.Duration // default DefaultGuardInterval
	Logger   *slog.Logger
}

// WithDefaults returns c with its zero fields set.
func (c GuardConfig) WithDefaults() GuardConfig {
	if c.LibvirtURI == "" {
		c.LibvirtURI = libvirt.DefaultURI
	}
	if c.Lease == 0 {
		c.Lease = cluster.DefaultLease
	}
	if c.Interval == 0 {
		c.Interval = DefaultGuardInterval
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return c
}

// Validate reports what the guard cannot work without.
func (c GuardConfig) Validate() error {
	c = c.WithDefaults()
	var errs []error
	if c.Name == "" || c.DataDir == "" {
		errs = append(errs, errors.New("fence guard: a node name and a data dir are required"))
	}
	if c.Lease < 0 || c.Interval < 0 {
		errs = append(errs, errors.New("fence guard: the lease and the interval must not be negative"))
	}
	return errors.Join(errs...)
}

// GuardArgs is the command line (after the binary) that runs the guard of
// cfg; the binary's GuardCommand flags parse it back.
func GuardArgs(cfg GuardConfig) []string {
	cfg = cfg.WithDefaults()
	return []string{GuardCommand, "--name", cfg.Name, "--data-dir", cfg.DataDir, "--libvirt-uri", cfg.LibvirtURI,
		"--lease", cfg.Lease.String(), "--interval", cfg.Interval.String()}
}

func (c Config) guardConfig() GuardConfig {
	return GuardConfig{Name: c.Name, DataDir: c.DataDir, LibvirtURI: c.LibvirtURI, Lease: c.Lease}
}

// GuardDeps are what a FenceGuard takes from outside; nil fields are the
// real process's and machine's.
type GuardDeps struct {
	// Agent is the guard's end of the agent's pipe: EOF means the agent is
	// gone, however it ended. Run closes it. Required.
	Agent io.ReadCloser
	// Connect reaches the hypervisor to sweep (default: libvirtd at
	// LibvirtURI, bounded by a short timeout); the guard connects only once
	// it has something to stop.
	Connect func(ctx context.Context) (compute.Hypervisor, error)
	Now     func() time.Time
	// PID is this guard's process ID; IsGuard tells whether pid is a fence
	// guard and Kill asks one to stop (defaults: /proc and SIGTERM).
	PID     int
	IsGuard func(pid int) bool
	Kill    func(pid int) error
	// WithdrawFloating takes this node's floating IPs off the host and
	// RemoveTables deletes its nftables tables (defaults: package network's,
	// for DataDir and Name, in this process's namespace).
	WithdrawFloating func() ([]string, error)
	RemoveTables     func() error
}

// FenceGuard stops this node's domains once the agent's lease has run out.
type FenceGuard struct {
	cfg  GuardConfig
	deps GuardDeps
	log  *slog.Logger
	lead time.Duration

	hv   compute.Hypervisor // connected on first need
	gone bool               // the agent is gone

	floatingErr   string // the last failure to withdraw, logged once
	tablesRemoved bool   // since the lease last ran out
}

// NewFenceGuard returns a guard; nothing happens until Run.
func NewFenceGuard(cfg GuardConfig, deps GuardDeps) (*FenceGuard, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if deps.Agent == nil {
		return nil, errors.New("fence guard: no pipe from the agent")
	}
	if deps.Connect == nil {
		deps.Connect = func(ctx context.Context) (compute.Hypervisor, error) {
			ctx, cancel := context.WithTimeout(ctx, guardConnectTimeout)
			defer cancel()
			return libvirt.New(ctx, libvirt.Config{URI: cfg.LibvirtURI, DataDir: cfg.DataDir, Node: cfg.Name,
				Logger: slog.New(slog.DiscardHandler)})
		}
	}
	if deps.Now == nil {
		deps.Now = time.Now
	}
	if deps.PID == 0 {
		deps.PID = os.Getpid()
	}
	if deps.IsGuard == nil {
		deps.IsGuard = isGuardProcess
	}
	if deps.Kill == nil {
		deps.Kill = func(pid int) error { return syscall.Kill(pid, syscall.SIGTERM) }
	}
	if deps.WithdrawFloating == nil {
		deps.WithdrawFloating = func() ([]string, error) { return network.WithdrawFloating(cfg.DataDir) }
	}
	if deps.RemoveTables == nil {
		deps.RemoveTables = func() error { return network.RemoveTables(cfg.Name) }
	}
	return &FenceGuard{cfg: cfg, deps: deps, log: cfg.Logger.With("component", "fence-guard", "node", cfg.Name),
		lead: compute.FenceLead(cfg.Lease)}, nil
}

// Run guards until there is nothing left to guard (agent gone, lease over,
// nothing running) or ctx ends (SIGTERM from the guard of a newer agent).
func (g *FenceGuard) Run(ctx context.Context) error {
	g.takeOver()
	defer func() {
		if g.hv != nil {
			g.hv.Close()
		}
	}()
	agentGone := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		_, _ = io.Copy(io.Discard, g.deps.Agent)
		close(agentGone)
	})
	defer func() {
		g.deps.Agent.Close() // ends the copy if the agent is still there
		wg.Wait()
	}()
	t := time.NewTicker(g.cfg.Interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-agentGone:
			g.agentGone()
			agentGone = nil
		case <-t.C:
		}
		if g.check(ctx) {
			return nil
		}
	}
}

func (g *FenceGuard) agentGone() {
	if !g.gone {
		g.log.Info("the agent is gone; guarding until its lease runs out")
	}
	g.gone = true
}

// check acts once the lease is within the fence's lead of its end (or
// unknown): it withdraws the floating IPs, sweeps the domains and, once
// nothing runs, removes the node's tables. It reports whether the guard may
// exit.
func (g *FenceGuard) check(ctx context.Context) (exit bool) {
	exp, err := cluster.ReadLeaseFile(g.cfg.DataDir)
	if err != nil {
		g.log.Warn("reading the lease", "err", err)
	}
	if err == nil && g.deps.Now().Before(exp.Add(-g.lead)) {
		g.tablesRemoved = false // a lease that runs out again removes them again
		return false
	}
	// First, and whatever the hypervisor does: the leader evacuates at
	// lease + margin, and the new host then announces these addresses.
	floatingOK := g.withdrawFloating()
	if g.hv == nil {
		if g.hv, err = g.deps.Connect(ctx); err != nil {
			g.hv = nil
			g.log.Warn("cannot reach the hypervisor; will retry", "err", err)
			return false
		}
	}
	stopped, err := compute.Sweep(ctx, g.hv, g.log)
	if err != nil {
		return false
	}
	// Nothing runs now: the filters and NAT have nothing left to serve.
	// (An agent still there puts its tables back, fenced, on its next pass.)
	if !g.tablesRemoved {
		if err := g.deps.RemoveTables(); err != nil {
			g.log.Warn("fenced but cannot delete this node's nftables tables; will retry", "err", err)
			return false
		}
		g.tablesRemoved = true
		g.log.Warn("fenced: this node's nftables tables deleted")
	}
	if g.gone && stopped == 0 && floatingOK {
		g.log.Info("lease over, nothing runs, agent gone: exiting")
		return true
	}
	return false
}

// withdrawFloating takes this node's floating IPs off the host; a lasting
// failure is logged once. It reports success.
func (g *FenceGuard) withdrawFloating() bool {
	removed, err := g.deps.WithdrawFloating()
	if len(removed) > 0 {
		g.log.Warn("fenced: floating IPs withdrawn", "changes", removed)
	}
	switch {
	case err == nil:
		g.floatingErr = ""
		return true
	case err.Error() != g.floatingErr:
		g.floatingErr = err.Error()
		g.log.Warn("fenced but cannot withdraw this node's floating IPs; will retry", "err", err)
	}
	return false
}

// takeOver stops the guard an earlier agent of this data dir started (it is
// no longer needed: this one guards the same lease) and records this one.
func (g *FenceGuard) takeOver() {
	path := filepath.Join(g.cfg.DataDir, guardPIDFile)
	if b, err := os.ReadFile(path); err == nil {
		pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
		if err == nil && pid > 0 && pid != g.deps.PID && g.deps.IsGuard(pid) {
			if err := g.deps.Kill(pid); err == nil {
				g.log.Info("took over from the previous fence guard", "pid", pid)
			}
		}
	}
	if err := os.WriteFile(path, []byte(strconv.Itoa(g.deps.PID)+"\n"), 0o600); err != nil {
		g.log.Warn("recording the guard's pid", "err", err)
	}
}

func isGuardProcess(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	return err == nil && strings.Contains(string(b), GuardCommand)
}

// InheritedAgentPipe is the guard's end of the pipe the agent started it
// with.
func InheritedAgentPipe() (io.ReadCloser, error) { return agentPipe(guardFD) }

// agentPipe makes fd non-blocking before wrapping it, so that closing it
// ends a pending read (a blocking descriptor would keep Run's reader, and
// Run, waiting).
func agentPipe(fd int) (io.ReadCloser, error) {
	if err := syscall.SetNonblock(fd, true); err != nil {
		return nil, fmt.Errorf("fence guard: no pipe from the agent on fd %d (the agent starts this command): %w", fd, err)
	}
	return os.NewFile(uintptr(fd), "agent"), nil
}

// guardProcess is the agent's side of its fence guard.
type guardProcess struct {
	w    *os.File // the agent's end of the pipe: closed, the guard sees EOF
	mu   sync.Mutex
	gone bool // released: the guard now runs on its own
}

// startGuard starts the guard of cfg with one end of a pipe; the guard sees
// EOF on its end when this process is gone, however it ended.
//
// The goroutine that reaps the guard is the one an agent does not join: the
// guard outlives the agent by design (until the lease is over and nothing
// runs), so the goroutine ends with the guard or with this process.
func startGuard(cfg Config, exe string, log *slog.Logger) (*guardProcess, error) {
	if exe == "" {
		var err error
		if exe, err = os.Executable(); err != nil {
			return nil, fmt.Errorf("fence guard: %w", err)
		}
	}
	r, w, err := os.Pipe()
	if err != nil {
		return nil, fmt.Errorf("fence guard: %w", err)
	}
	defer r.Close()
	logFile, err := os.OpenFile(filepath.Join(cfg.DataDir, guardLogFile), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("fence guard: %w", err)
	}
	defer logFile.Close()
	cmd := exec.Command(exe, GuardArgs(cfg.guardConfig())...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.ExtraFiles = []*os.File{r}                       // guardFD
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true} // outlives a Ctrl-C to the agent
	if err := cmd.Start(); err != nil {
		w.Close()
		return nil, fmt.Errorf("fence guard: %w", err)
	}
	g := &guardProcess{w: w}
	go func() {
		err := cmd.Wait()
		g.mu.Lock()
		defer g.mu.Unlock()
		if !g.gone {
			log.Warn("the fence guard exited while the agent runs; see "+guardLogFile, "err", err)
		}
	}()
	log.Info("fence guard started", "pid", cmd.Process.Pid)
	return g, nil
}

// release leaves the guard to run on its own: it sees EOF and guards the
// lease until it is over.
func (g *guardProcess) release() {
	g.mu.Lock()
	g.gone = true
	g.mu.Unlock()
	g.w.Close()
}
