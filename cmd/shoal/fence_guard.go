package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/shoal-project/shoal/cluster"
	"github.com/shoal-project/shoal/compute"
	"github.com/shoal-project/shoal/compute/libvirt"
)

// The fence guard is a small process the agent starts next to itself. It
// watches the lease the agent records and, once the lease has run out,
// hard-stops this node's domains: if the agent crashes or is killed, its
// servers still stop before the leader evacuates them (lease + margin), so
// none ever runs twice. It exits when the agent is gone, the lease has run
// out and nothing runs any more.

const guardPIDFile = "fence-guard.pid"

func fenceGuardCommand() *cli.Command {
	return &cli.Command{
		Name:   "fence-guard",
		Usage:  "stop this node's servers when its lease runs out (started by the agent)",
		Hidden: true,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "name", Required: true},
			&cli.StringFlag{Name: "data-dir", Required: true},
			&cli.StringFlag{Name: "libvirt-uri", Value: "qemu:///system"},
			&cli.DurationFlag{Name: "interval", Value: 200 * time.Millisecond},
			&cli.DurationFlag{Name: "lead", Usage: "start stopping domains this long before the lease ends"},
		},
		Action: runFenceGuard,
	}
}

// startFenceGuard starts the guard with one end of a pipe; the guard sees
// EOF on its end when this process is gone, however it ended.
func startFenceGuard(c *cli.Context, logger *slog.Logger) (func(), error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("fence guard: %w", err)
	}
	r, w, err := os.Pipe()
	if err != nil {
		return nil, fmt.Errorf("fence guard: %w", err)
	}
	dir := c.String("data-dir")
	logFile, err := os.OpenFile(filepath.Join(dir, "fence-guard.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, fmt.Errorf("fence guard: %w", err)
	}
	defer logFile.Close()
	cmd := exec.Command(exe, "fence-guard", "--name", c.String("name"), "--data-dir", dir,
		"--libvirt-uri", c.String("libvirt-uri"), "--lead", compute.FenceLead(c.Duration("lease")).String())
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.ExtraFiles = []*os.File{r}                       // fd 3
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true} // outlives a Ctrl-C to the agent
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("fence guard: %w", err)
	}
	r.Close()
	go func() { _ = cmd.Wait() }()
	logger.Info("fence guard started", "pid", cmd.Process.Pid)
	return func() { w.Close() }, nil
}

func runFenceGuard(c *cli.Context) error {
	logger := slog.New(slog.NewTextHandler(os.Stderr, nil)).With("component", "fence-guard", "node", c.String("name"))
	ctx, stop := signal.NotifyContext(c.Context, syscall.SIGTERM, os.Interrupt)
	defer stop()
	dir := c.String("data-dir")
	takeOver(dir, logger)
	agentGone := make(chan struct{})
	go func() {
		_, _ = io.Copy(io.Discard, os.NewFile(3, "agent"))
		close(agentGone)
	}()
	var hv compute.Hypervisor
	defer func() {
		if hv != nil {
			hv.Close()
		}
	}()
	gone := false
	t := time.NewTicker(c.Duration("interval"))
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-agentGone:
			if !gone {
				logger.Info("the agent is gone; guarding until its lease runs out")
			}
			gone, agentGone = true, nil
		case <-t.C:
		}
		exp, err := cluster.ReadLeaseFile(dir)
		if err != nil {
			logger.Warn("reading the lease", "err", err)
		}
		if err == nil && time.Now().Before(exp.Add(-c.Duration("lead"))) {
			continue
		}
		if hv == nil {
			if hv, err = connectGuard(ctx, c); err != nil {
				logger.Warn("cannot reach libvirt; will retry", "err", err)
				continue
			}
		}
		stopped, err := compute.Sweep(ctx, hv, logger)
		if gone && err == nil && stopped == 0 {
			logger.Info("lease over, nothing runs, agent gone: exiting")
			return nil
		}
	}
}

func connectGuard(ctx context.Context, c *cli.Context) (compute.Hypervisor, error) {
	cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	return libvirt.New(cctx, libvirt.Config{URI: c.String("libvirt-uri"), DataDir: c.String("data-dir"),
		Node: c.String("name"), Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
}

// takeOver stops the guard an earlier agent of this data dir started (it is
// no longer needed: this one guards the same lease) and records this one.
func takeOver(dir string, logger *slog.Logger) {
	path := filepath.Join(dir, guardPIDFile)
	if b, err := os.ReadFile(path); err == nil {
		if pid, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil && pid != os.Getpid() && isGuard(pid) {
			if err := syscall.Kill(pid, syscall.SIGTERM); err == nil {
				logger.Info("took over from the previous fence guard", "pid", pid)
			}
		}
	}
	if err := os.WriteFile(path, []byte(strconv.Itoa(os.Getpid())+"\n"), 0o600); err != nil {
		logger.Warn("recording the guard's pid", "err", err)
	}
}

func isGuard(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	if errors.Is(err, os.ErrNotExist) {
		return false
	}
	return err == nil && strings.Contains(string(b), "fence-guard")
}
