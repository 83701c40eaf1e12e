package lab

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/shoal-project/shoal/internal/testkit"
)

// Host is one lab host: a network namespace with its own libvirtd, and the
// shoal agent the harness runs in it.
type Host struct {
	Name    string // h1, h2, …
	Index   int
	Addr    string  // 10.99.0.(10+Index)
	API     *Client // from the root namespace: fails while partitioned
	Dir     string  // .lab/netns/hI
	lab     *Lab
	logPath string

	mu    sync.Mutex
	agent *exec.Cmd
	done  chan struct{} // closed when the agent has been reaped
}

func newHost(l *Lab, i int) *Host {
	h := &Host{Name: fmt.Sprintf("h%d", i), Index: i, Addr: fmt.Sprintf("10.99.0.%d", 10+i), lab: l}
	h.Dir = filepath.Join(l.Dir, h.Name)
	h.logPath = filepath.Join(h.Dir, "agent.log")
	return h
}

// URL is the host's API endpoint.
func (h *Host) URL() string { return "https://" + h.Addr + ":8774" }

// DataDir is the agent's data dir.
func (h *Host) DataDir() string { return filepath.Join(h.Dir, "shoal") }

// member reports whether the host's agent holds its cluster certificate
// (it bootstrapped or joined): then it restarts with no bootstrap or join
// flag, finding its cluster from its data dir.
func (h *Host) member() bool {
	_, err := os.Stat(filepath.Join(h.DataDir(), "tls", "node.crt"))
	return err == nil
}

// EnvPath is the host's host.env (absent while powered off).
func (h *Host) EnvPath() string { return filepath.Join(h.Dir, "host.env") }

// PoweredOn reports whether the host is powered on (it has a host.env).
func (h *Host) PoweredOn() bool {
	_, err := os.Stat(h.EnvPath())
	return err == nil
}

// StartAgent runs the agent in the host, in a process group of its own so
// KillAgent can kill it alone. On the first start h1 bootstraps and the
// others join it with the lab's join token; later starts pass neither,
// since a node holding its certificate finds its cluster by itself. It
// waits until the agent answers HTTPS from inside the host.
func (h *Host) StartAgent() {
	h.lab.t.Helper()
	done := h.spawn()
	testkit.WaitEvery(h.lab.t, Poll, 30*time.Second, "lab: "+h.Name+": agent to answer HTTPS", func() (bool, string) {
		if _, err := h.InsideHealth(); err == nil {
			return true, ""
		}
		select {
		case <-done:
			h.mu.Lock()
			h.agent, h.done = nil, nil
			h.mu.Unlock()
			h.lab.t.Fatalf("lab: %s: agent exited at start; log:\n%s", h.Name, tail(readFile(h.logPath), 30))
		default:
		}
		return false, "log:\n" + tail(readFile(h.logPath), 30)
	})
}

// spawn starts the agent process and returns the channel closed when it
// has been reaped.
func (h *Host) spawn() chan struct{} {
	h.lab.t.Helper()
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.agent != nil {
		h.lab.t.Fatalf("lab: %s: agent already running", h.Name)
	}
	data := h.DataDir()
	args := []string{"exec", h.Name, h.lab.Bin, "agent", "--name", h.Name, "--data-dir", data, "--bind", h.Addr}
	var env []string
	switch {
	case h.member():
	case h.Index == 1:
		args = append(args, "--bootstrap")
	case h.lab.joinToken == "":
		h.lab.t.Fatalf("lab: %s: no join token to join h1 with", h.Name)
	default:
		// The token goes in the environment, where ps does not show it.
		args = append(args, "--join", h.lab.Hosts[0].Addr+":7946")
		env = append(env, "SHOAL_JOIN_TOKEN="+h.lab.joinToken)
	}
	args = append(args, h.lab.flags...)
	if err := os.MkdirAll(data, 0o755); err != nil {
		h.lab.t.Fatal(err)
	}
	log, err := os.OpenFile(h.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		h.lab.t.Fatal(err)
	}
	defer log.Close()
	fmt.Fprintf(log, "=== lab: %s starting agent: %s\n", time.Now().Format(time.RFC3339Nano), strings.Join(args[2:], " "))
	cmd := exec.Command(h.lab.Script, args...)
	cmd.Dir = h.lab.Root
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdout, cmd.Stderr = log, log
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		h.lab.t.Fatalf("lab: %s: starting agent: %v", h.Name, err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	h.agent, h.done = cmd, done
	return done
}

// KillAgent SIGKILLs the agent's process group; libvirtd and the VMs keep
// running. A no-op when no agent runs.
func (h *Host) KillAgent() {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.agent == nil {
		return
	}
	_ = syscall.Kill(-h.agent.Process.Pid, syscall.SIGKILL)
	h.reap()
}

// reap waits for the agent to be gone; h.mu is held.
func (h *Host) reap() {
	select {
	case <-h.done:
	case <-time.After(10 * time.Second):
		h.lab.t.Errorf("lab: %s: agent %d not reaped 10 s after SIGKILL", h.Name, h.agent.Process.Pid)
	}
	h.agent, h.done = nil, nil
}

// AgentRunning reports whether the harness's agent process is alive.
func (h *Host) AgentRunning() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.agent == nil {
		return false
	}
	select {
	case <-h.done:
		return false
	default:
		return true
	}
}

// PowerOff kills everything in the host at once: agent, libvirtd, QEMU.
func (h *Host) PowerOff() {
	h.lab.t.Helper()
	h.lab.script("power-off", h.Name)
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.agent != nil {
		h.reap()
	}
}

// PowerOn boots the host's libvirtd again and restarts its agent.
func (h *Host) PowerOn() {
	h.lab.t.Helper()
	h.lab.script("power-on", h.Name)
	h.StartAgent()
}

// Partition cuts the host's link; Heal restores it.
func (h *Host) Partition() { h.lab.t.Helper(); h.lab.script("partition", h.Name) }

// Heal restores the host's link.
func (h *Host) Heal() { h.lab.t.Helper(); h.lab.script("heal", h.Name) }

// InsideHealth asks the host's API from inside its namespace, which works
// while it is partitioned: curl through `netns-lab.sh exec`, trusting the
// cluster CA.
func (h *Host) InsideHealth() (Health, error) {
	var out Health
	err := h.insideGet("/v1/health", &out)
	return out, err
}

// Exec runs a command inside the host (`netns-lab.sh exec`: its network
// and mount namespaces) and returns its output, stdout and stderr together;
// a command that fails returns an *exec.ExitError.
func (h *Host) Exec(ctx context.Context, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, h.lab.Script, append([]string{"exec", h.Name}, args...)...)
	cmd.Dir = h.lab.Root
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func (h *Host) insideGet(path string, out any) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, h.lab.Script, "exec", h.Name, "curl", "-sS", "-m", "3", "--cacert", h.lab.CAFile(), h.URL()+path)
	cmd.Dir = h.lab.Root
	body, err := cmd.Output()
	if err != nil {
		return fmt.Errorf("%s: curl %s inside: %w", h.Name, path, err)
	}
	if err := json.Unmarshal(body, out); err != nil {
		return fmt.Errorf("%s: %s inside: %w: %.200s", h.Name, path, err, body)
	}
	return nil
}

func readFile(path string) string {
	b, _ := os.ReadFile(path)
	return string(b)
}
