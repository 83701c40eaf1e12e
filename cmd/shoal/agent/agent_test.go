package agent

import (
	"context"
	"errors"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/shoal-project/shoal/api/client"
	"github.com/shoal-project/shoal/cluster"
	"github.com/shoal-project/shoal/cluster/pki"
	"github.com/shoal-project/shoal/internal/testkit"
)

// fakeAgent is a bootstrapping agent with the fake driver on loopback with
// free ports, as clustertest's nodes are.
func fakeAgent(dir string) Config {
	return Config{Name: "n1", DataDir: dir, BindAddr: "127.0.0.1", Bootstrap: true, Driver: DriverFake, Logger: discard}
}

// caFile is the cluster CA of the agent whose data dir is dir.
func caFile(dir string) string { return filepath.Join(cluster.TLSDir(dir), pki.CACertFile) }

// An agent starts, serves a healthy node through its API, and Shutdown
// leaves nothing of it running.
func TestAgentStartsHealthyAndShutsDownClean(t *testing.T) {
	ignore := goleak.IgnoreCurrent()
	dir := filepath.Join(t.TempDir(), "data")
	a, err := New(fakeAgent(dir), Deps{})
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	c := client.New(a.HTTPAddr(), client.WithCAFile(caFile(dir)))
	testkit.WaitFor(t, 30*time.Second, "the agent to report itself healthy, unfenced and scheduling", func() bool {
		h, err := c.Health(context.Background())
		return err == nil && h.Status == "ok" && h.Name == "n1" && h.Role == "leader" && !h.Fenced && h.Scheduler
	})
	if d := a.node.Lease().Duration(); d != cluster.DefaultLease {
		t.Errorf("the node runs a lease of %v, want the default %v", d, cluster.DefaultLease)
	}
	if st, err := os.Stat(dir); err != nil || st.Mode().Perm() != 0o700 {
		t.Errorf("data dir: %v, %v; want it private (0700)", st.Mode(), err)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := a.Shutdown(ctx); err != nil {
		t.Fatalf("Shutdown = %v", err)
	}
	if ctx.Err() != nil {
		t.Fatal("Shutdown used up its whole context")
	}
	http.DefaultTransport.(*http.Transport).CloseIdleConnections()
	goleak.VerifyNone(t, ignore)
	if _, err := net.Dial("tcp", a.HTTPAddr()); err == nil {
		t.Error("the API still listens after Shutdown")
	}
}

// A failed preflight leaves nothing behind: no data dir, no listener.
func TestAgentPreflightStartsNothing(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	cfg := fakeAgent(dir)
	cfg.BindAddr = "192.0.2.1"
	host := Host{InterfaceAddrs: func() ([]net.Addr, error) { return []net.Addr{cidr("127.0.0.1/8")}, nil }}
	a, err := New(cfg, Deps{Host: host})
	if !errors.Is(err, ErrPreflight) {
		t.Fatalf("New = %v, %v; want a preflight error", a, err)
	}
	if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the data dir was made before the preflight passed: %v", err)
	}
}

// New without Start releases everything on Shutdown: a second agent can
// open the same data dir.
func TestAgentShutdownWithoutStart(t *testing.T) {
	ignore := goleak.IgnoreCurrent()
	dir := t.TempDir()
	for range 2 {
		a, err := New(fakeAgent(dir), Deps{})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		err = a.Shutdown(ctx)
		cancel()
		if err != nil {
			t.Fatalf("Shutdown = %v", err)
		}
	}
	goleak.VerifyNone(t, ignore)
}

// Parents the agent creates for its data dir are searchable by others
// (QEMU's user), the data dir itself private.
func TestMakeDataDir(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, "a", "b", "data")
	if err := makeDataDir(dir); err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]os.FileMode{
		filepath.Join(root, "a"): 0o711, filepath.Join(root, "a", "b"): 0o711, dir: 0o700,
	} {
		if st, err := os.Stat(path); err != nil || st.Mode().Perm() != want {
			t.Errorf("%s: %v %v, want %v", path, st.Mode().Perm(), err, want)
		}
	}
	if err := makeDataDir(dir); err != nil {
		t.Errorf("a second time: %v", err)
	}
}
