package lab

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/shoal-project/shoal/internal/testkit"
)

// Poll is how often the lab's waits check (testkit.WaitEvery): each check
// asks every host over HTTP, so not faster than this unless a timing needs it.
const Poll = 200 * time.Millisecond

func shortCtx() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), 5*time.Second)
}

// Up returns the hosts whose agent runs, in order.
func (l *Lab) Up() []*Host {
	var out []*Host
	for _, h := range l.Hosts {
		if h.AgentRunning() {
			out = append(out, h)
		}
	}
	return out
}

// Servers lists the servers through the first host that answers, starting
// with the one that answered last time.
func (l *Lab) Servers(ctx context.Context) ([]Server, error) {
	var errs []string
	n := len(l.Hosts)
	start := int(l.lastGood.Load())
	for k := range n {
		i := (start + k) % n
		h := l.Hosts[i]
		if !h.AgentRunning() {
			continue
		}
		c, cancel := context.WithTimeout(ctx, 2*time.Second)
		list, err := h.API.Servers(c)
		cancel()
		if err == nil {
			l.lastGood.Store(int32(i))
			return list, nil
		}
		errs = append(errs, fmt.Sprintf("%s: %v", h.Name, err))
	}
	return nil, fmt.Errorf("no host lists servers: %s", strings.Join(errs, "; "))
}

// Leader returns the host every answering agent names as leader, or why not.
func (l *Lab) Leader() (*Host, string) {
	names := map[string]int{}
	var notes []string
	for _, h := range l.Up() {
		ctx, cancel := shortCtx()
		hl, err := h.API.Health(ctx)
		cancel()
		if err != nil {
			notes = append(notes, fmt.Sprintf("%s: %v", h.Name, err))
			continue
		}
		names[hl.Leader]++
		notes = append(notes, fmt.Sprintf("%s: leader=%q", h.Name, hl.Leader))
	}
	if len(names) == 1 {
		for name := range names {
			if name != "" {
				return l.Host(name), ""
			}
		}
	}
	return nil, strings.Join(notes, ", ")
}

// Healthy reports whether every host's agent runs, answers "ok", is not
// fenced and agrees on one leader, and whether every member is alive and
// unfenced; the note says what is not yet so.
func (l *Lab) Healthy() (bool, string) {
	leaders := map[string]bool{}
	for _, h := range l.Hosts {
		if !h.AgentRunning() {
			return false, h.Name + ": no agent"
		}
		ctx, cancel := shortCtx()
		hl, err := h.API.Health(ctx)
		cancel()
		switch {
		case err != nil:
			return false, fmt.Sprintf("%s: %v", h.Name, err)
		case hl.Status != "ok" || hl.IsFenced():
			return false, fmt.Sprintf("%s: status %s, fenced %v", h.Name, hl.Status, hl.IsFenced())
		}
		leaders[hl.Leader] = true
	}
	if len(leaders) != 1 {
		return false, fmt.Sprintf("leaders named: %v", leaders)
	}
	for _, h := range l.Hosts {
		if ok, note := h.MemberOK(l.Hosts[0]); !ok {
			return false, note
		}
	}
	return true, ""
}

// WaitHealthy waits until Healthy.
func (l *Lab) WaitHealthy(timeout time.Duration) time.Duration {
	l.t.Helper()
	return testkit.WaitEvery(l.t, Poll, timeout, "a healthy cluster", l.Healthy)
}

// MemberOK reports whether h is an alive, unfenced member in the view of
// asker and, by its own health, ok and unfenced.
func (h *Host) MemberOK(asker *Host) (bool, string) {
	ctx, cancel := shortCtx()
	defer cancel()
	ms, err := asker.API.Members(ctx)
	if err != nil {
		return false, fmt.Sprintf("%s members: %v", asker.Name, err)
	}
	found := false
	for _, m := range ms {
		if m.Name == h.Name {
			found = true
			if m.Status != "alive" || m.Fenced {
				return false, fmt.Sprintf("%s sees %s %s, fenced %v", asker.Name, h.Name, m.Status, m.Fenced)
			}
		}
	}
	if !found {
		return false, fmt.Sprintf("%s does not list %s", asker.Name, h.Name)
	}
	hl, err := h.API.Health(ctx)
	if err != nil {
		return false, fmt.Sprintf("%s health: %v", h.Name, err)
	}
	if hl.Status != "ok" || hl.IsFenced() {
		return false, fmt.Sprintf("%s: status %s, fenced %v", h.Name, hl.Status, hl.IsFenced())
	}
	return true, ""
}

// UploadBlankImage registers a 64 MiB blank qcow2 (no OS: its domain starts
// at once and stays running) as name, through the CLI, and returns its
// name.
func (l *Lab) UploadBlankImage(via *Host, name string) string {
	l.t.Helper()
	dir, err := os.MkdirTemp("", "shoal-lab-image-")
	if err != nil {
		l.t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "blank.qcow2")
	if out, err := exec.Command("qemu-img", "create", "-f", "qcow2", path, "64M").CombinedOutput(); err != nil {
		l.t.Fatalf("qemu-img: %v\n%s", err, out)
	}
	l.CLI(via, dir, "image", "create", name, "--file", path, "--disk-format", "qcow2")
	return name
}

// LiftAdminQuota makes the admin project's instance, core and RAM quotas
// unlimited (Nova's defaults, 10 instances, would cap the scenarios, which
// size their servers to the hosts instead).
func (l *Lab) LiftAdminQuota(via *Host) {
	l.t.Helper()
	dir, err := os.MkdirTemp("", "shoal-lab-cli-")
	if err != nil {
		l.t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	l.CLI(via, dir, "quota", "set", "admin", "--instances", "-1", "--cores", "-1", "--ram", "-1")
}

// CLI runs the shoal CLI against via as the cluster's admin, with its token
// cache in dir, and fails the test if it fails.
func (l *Lab) CLI(via *Host, dir string, args ...string) {
	l.t.Helper()
	if _, err := l.cliOutput(via, dir, args...); err != nil {
		l.t.Fatal(err)
	}
}

// cliOutput runs the shoal CLI against via as the cluster's admin (the
// openrc's variables: https, OS_CACERT), with its token cache in dir, and
// returns its stdout; a failure's error holds its stderr.
func (l *Lab) cliOutput(via *Host, dir string, args ...string) (string, error) {
	env, err := l.Admin.CLIEnv(via.URL(), dir)
	if err != nil {
		return "", err
	}
	cmd := exec.Command(l.Bin, append([]string{"--addr", via.URL()}, args...)...)
	cmd.Env = append(os.Environ(), env...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return string(out), fmt.Errorf("shoal %s: %w\n%s%s", strings.Join(args, " "), err, out, stderr.String())
	}
	return string(out), nil
}
