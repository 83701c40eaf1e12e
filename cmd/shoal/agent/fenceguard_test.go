package agent

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/shoal-project/shoal/cluster"
	"github.com/shoal-project/shoal/compute"
	"github.com/shoal-project/shoal/compute/fake"
	"github.com/shoal-project/shoal/fsm"
)

const testLease = 5 * time.Second // its lead is 1.5s

var discard = slog.New(slog.DiscardHandler)

// guardHost is a fake hypervisor with domains in the given power states.
func guardHost(t *testing.T, states ...fsm.PowerState) *fake.Driver {
	t.Helper()
	hv := fake.New(fake.Config{})
	ctx := context.Background()
	for i, p := range states {
		id := "dom-" + strconv.Itoa(i)
		if err := hv.Define(ctx, compute.InstanceSpec{ID: id, Name: id, VCPUs: 1, MemoryMiB: 64}); err != nil {
			t.Fatal(err)
		}
		if p != fsm.PowerShutdown {
			if err := hv.Start(ctx, id); err != nil {
				t.Fatal(err)
			}
		}
		if p == fsm.PowerPaused {
			if err := hv.Pause(ctx, id); err != nil {
				t.Fatal(err)
			}
		}
	}
	return hv
}

func running(hv *fake.Driver) int {
	n := 0
	for _, d := range hv.Domains() {
		if d.PowerState == fsm.PowerRunning || d.PowerState == fsm.PowerPaused {
			n++
		}
	}
	return n
}

// guardNetwork records the guard's network steps, in order, and fails
// them as told. It stands in for the kernel: these tests run in the host's
// namespace, where the real steps would touch a real node's tables.
type guardNetwork struct {
	steps       []string
	withdrawErr error
	tablesErr   error
}

func (n *guardNetwork) deps(d GuardDeps) GuardDeps {
	d.WithdrawFloating = func() ([]string, error) {
		n.steps = append(n.steps, "withdraw")
		if n.withdrawErr != nil {
			return nil, n.withdrawErr
		}
		return []string{"-floating 10.66.0.201 on eth0"}, nil
	}
	d.RemoveTables = func() error {
		n.steps = append(n.steps, "tables")
		return n.tablesErr
	}
	return d
}

func TestFenceGuardCheck(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	run, pause := fsm.PowerRunning, fsm.PowerPaused
	withdrawn, all := []string{"withdraw"}, []string{"withdraw", "tables"}
	tests := []struct {
		name        string
		lease       string // "none", "garbage", or a duration from now to the lease's end
		gone        bool
		domains     []fsm.PowerState
		connectErr  error
		listErr     error
		withdrawErr error
		tablesErr   error
		wantExit    bool
		wantRunning int
		wantConnect bool
		wantNetwork []string // the network steps, in order
	}{
		{name: "lease runs: nothing touched", lease: "5s", domains: []fsm.PowerState{run}, wantRunning: 1},
		{name: "within the fence's lead: sweeps early", lease: "1s", domains: []fsm.PowerState{run, pause}, wantConnect: true,
			wantNetwork: all},
		{name: "just outside the lead: waits", lease: "1.6s", domains: []fsm.PowerState{run}, wantRunning: 1},
		{name: "lease over, agent here: sweeps, stays", lease: "-1s", domains: []fsm.PowerState{run}, wantConnect: true,
			wantNetwork: all},
		{name: "lease over, agent here, nothing runs: stays", lease: "-1s", wantConnect: true, wantNetwork: all},
		{name: "lease over, agent gone, domains ran: stays for another look", lease: "-1s", gone: true,
			domains: []fsm.PowerState{run, run}, wantConnect: true, wantNetwork: all},
		{name: "lease over, agent gone, nothing runs: exits", lease: "-1s", gone: true,
			domains: []fsm.PowerState{fsm.PowerShutdown}, wantExit: true, wantConnect: true, wantNetwork: all},
		{name: "agent gone, lease still runs: keeps guarding", lease: "4s", gone: true, domains: []fsm.PowerState{run}, wantRunning: 1},
		{name: "no lease recorded: sweeps", lease: "none", domains: []fsm.PowerState{run}, wantConnect: true, wantNetwork: all},
		{name: "unreadable lease: sweeps", lease: "garbage", domains: []fsm.PowerState{run}, wantConnect: true, wantNetwork: all},
		{name: "hypervisor unreachable: floating IPs go anyway, tables stay, never exits", lease: "-1s", gone: true,
			connectErr: errors.New("libvirtd down"), domains: []fsm.PowerState{run}, wantRunning: 1, wantConnect: true,
			wantNetwork: withdrawn},
		{name: "cannot list: tables stay, never exits", lease: "-1s", gone: true, listErr: errors.New("list failed"),
			domains: []fsm.PowerState{run}, wantRunning: 1, wantConnect: true, wantNetwork: withdrawn},
		{name: "cannot withdraw: still sweeps, never exits", lease: "-1s", gone: true, withdrawErr: errors.New("netlink"),
			domains: []fsm.PowerState{fsm.PowerShutdown}, wantConnect: true, wantNetwork: all},
		{name: "cannot delete the tables: never exits", lease: "-1s", gone: true, tablesErr: errors.New("netlink"),
			domains: []fsm.PowerState{fsm.PowerShutdown}, wantConnect: true, wantNetwork: all},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			switch tt.lease {
			case "none":
			case "garbage":
				if err := os.WriteFile(filepath.Join(dir, cluster.LeaseFile), []byte("soon\n"), 0o600); err != nil {
					t.Fatal(err)
				}
			default:
				d, err := time.ParseDuration(tt.lease)
				if err != nil {
					t.Fatal(err)
				}
				if err := cluster.WriteLeaseFile(dir, now.Add(d)); err != nil {
					t.Fatal(err)
				}
			}
			hv := guardHost(t, tt.domains...)
			if tt.listErr != nil {
				hv.FailNext(fake.OpList, tt.listErr)
			}
			connected := false
			net := &guardNetwork{withdrawErr: tt.withdrawErr, tablesErr: tt.tablesErr}
			g, err := NewFenceGuard(GuardConfig{Name: "n1", DataDir: dir, Lease: testLease, Logger: discard}, net.deps(GuardDeps{
				Agent: nopReadCloser{},
				Now:   func() time.Time { return now },
				Connect: func(context.Context) (compute.Hypervisor, error) {
					connected = true
					if tt.connectErr != nil {
						return nil, tt.connectErr
					}
					return hv, nil
				},
			}))
			if err != nil {
				t.Fatal(err)
			}
			if tt.gone {
				g.agentGone()
			}
			if exit := g.check(context.Background()); exit != tt.wantExit {
				t.Errorf("check() = %v, want %v", exit, tt.wantExit)
			}
			if got := running(hv); got != tt.wantRunning {
				t.Errorf("%d domains run after the check, want %d", got, tt.wantRunning)
			}
			if connected != tt.wantConnect {
				t.Errorf("connected to the hypervisor: %v, want %v", connected, tt.wantConnect)
			}
			if !slices.Equal(net.steps, tt.wantNetwork) {
				t.Errorf("network steps %v, want %v", net.steps, tt.wantNetwork)
			}
		})
	}
}

// The tables are deleted once per run-out lease: the guard looks every
// 200 ms, and an agent that is still there puts them back on its next pass.
// A lease that is renewed and runs out again deletes them again.
func TestFenceGuardRemovesTablesOncePerRunOut(t *testing.T) {
	dir := t.TempDir()
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	hv := guardHost(t)
	net := &guardNetwork{}
	g, err := NewFenceGuard(GuardConfig{Name: "n1", DataDir: dir, Lease: testLease, Logger: discard}, net.deps(GuardDeps{
		Agent: nopReadCloser{}, Now: func() time.Time { return now },
		Connect: func(context.Context) (compute.Hypervisor, error) { return hv, nil },
	}))
	if err != nil {
		t.Fatal(err)
	}
	for _, lease := range []time.Duration{-time.Second, -time.Second, time.Hour, -time.Second} {
		if err := cluster.WriteLeaseFile(dir, now.Add(lease)); err != nil {
			t.Fatal(err)
		}
		g.check(context.Background())
	}
	want := []string{"withdraw", "tables", "withdraw", "withdraw", "tables"}
	if !slices.Equal(net.steps, want) {
		t.Errorf("network steps %v, want %v", net.steps, want)
	}
}

// A guard whose agent is gone and whose lease is over stops what runs, then
// exits, closing what it opened.
func TestFenceGuardRunStopsDomainsThenExits(t *testing.T) {
	dir := t.TempDir()
	if err := cluster.WriteLeaseFile(dir, time.Now().Add(-time.Second)); err != nil {
		t.Fatal(err)
	}
	hv := guardHost(t, fsm.PowerRunning, fsm.PowerRunning)
	r, w := io.Pipe()
	w.Close() // the agent is gone before the guard even looks
	net := &guardNetwork{}
	g, err := NewFenceGuard(GuardConfig{Name: "n1", DataDir: dir, Lease: testLease, Interval: time.Millisecond, Logger: discard},
		net.deps(GuardDeps{Agent: r, Connect: func(context.Context) (compute.Hypervisor, error) { return hv, nil },
			IsGuard: func(int) bool { return false }}))
	if err != nil {
		t.Fatal(err)
	}
	if err := g.Run(context.Background()); err != nil {
		t.Fatalf("Run = %v", err)
	}
	if n := running(hv); n != 0 {
		t.Fatalf("%d domains still run after the guard exited", n)
	}
	if _, err := hv.List(context.Background()); !errors.Is(err, compute.ErrClosed) {
		t.Errorf("the guard left its hypervisor connection open: List = %v", err)
	}
	if len(net.steps) < 2 || net.steps[0] != "withdraw" || !slices.Contains(net.steps, "tables") {
		t.Errorf("network steps %v: want the floating IPs withdrawn first and the tables deleted", net.steps)
	}
}

// A guard stopped by its context (a newer guard's SIGTERM) returns while the
// agent is still there, and closes its end of the pipe.
func TestFenceGuardRunEndsWithContext(t *testing.T) {
	dir := t.TempDir()
	if err := cluster.WriteLeaseFile(dir, time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	r, w := io.Pipe()
	defer w.Close()
	net := &guardNetwork{}
	g, err := NewFenceGuard(GuardConfig{Name: "n1", DataDir: dir, Lease: testLease, Interval: time.Millisecond, Logger: discard},
		net.deps(GuardDeps{Agent: r, IsGuard: func(int) bool { return false },
			Connect: func(context.Context) (compute.Hypervisor, error) {
				t.Error("connected with a valid lease")
				return nil, nil
			}}))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := g.Run(ctx); err != nil {
		t.Fatalf("Run = %v", err)
	}
	if _, err := w.Write([]byte("x")); !errors.Is(err, io.ErrClosedPipe) {
		t.Errorf("the guard's end of the pipe is still open: write = %v", err)
	}
}

// A new agent's guard replaces the one an earlier agent of the same data dir
// started, and only a fence guard is ever signalled.
func TestFenceGuardTakesOver(t *testing.T) {
	const self, previous = 2000, 1000
	tests := []struct {
		name     string
		pidFile  string // empty: none
		guards   []int  // pids that are fence guards
		wantKill []int
	}{
		{name: "first guard of this data dir"},
		{name: "replaces the previous guard", pidFile: "1000\n", guards: []int{previous}, wantKill: []int{previous}},
		{name: "pid reused by another program", pidFile: "1000\n", guards: nil},
		{name: "its own pid", pidFile: "2000\n", guards: []int{self}},
		{name: "garbage", pidFile: "guard\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, guardPIDFile)
			if tt.pidFile != "" {
				if err := os.WriteFile(path, []byte(tt.pidFile), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			var killed []int
			g, err := NewFenceGuard(GuardConfig{Name: "n1", DataDir: dir, Logger: discard}, GuardDeps{
				Agent: nopReadCloser{}, PID: self,
				IsGuard: func(pid int) bool {
					for _, p := range tt.guards {
						if p == pid {
							return true
						}
					}
					return false
				},
				Kill: func(pid int) error { killed = append(killed, pid); return nil },
			})
			if err != nil {
				t.Fatal(err)
			}
			g.takeOver()
			if len(killed) != len(tt.wantKill) || (len(killed) > 0 && killed[0] != tt.wantKill[0]) {
				t.Errorf("signalled %v, want %v", killed, tt.wantKill)
			}
			b, err := os.ReadFile(path)
			if err != nil || strings.TrimSpace(string(b)) != strconv.Itoa(self) {
				t.Errorf("pid file holds %q (%v), want this guard's %d", b, err, self)
			}
		})
	}
}

// The guard's end of the agent pipe arrives blocking; made non-blocking, a
// Close ends a pending read, so Run can join its reader.
func TestAgentPipeCloseEndsRead(t *testing.T) {
	var fds [2]int
	if err := syscall.Pipe(fds[:]); err != nil {
		t.Fatal(err)
	}
	w := os.NewFile(uintptr(fds[1]), "agent-end")
	defer w.Close()
	r, err := agentPipe(fds[0])
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		_, err := r.Read(make([]byte, 1))
		done <- err
	}()
	r.Close()
	if err := <-done; !errors.Is(err, os.ErrClosed) {
		t.Fatalf("read after close = %v, want os.ErrClosed", err)
	}
}
