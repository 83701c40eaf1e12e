package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/shoal-project/shoal/cluster"
	"github.com/shoal-project/shoal/cluster/jointoken"
	shoalagent "github.com/shoal-project/shoal/cmd/shoal/agent"
	"github.com/shoal-project/shoal/fsm"
	"github.com/shoal-project/shoal/internal/testkit"
)

// bootstrapAgent runs a bootstrap agent with the fake driver in this
// process, leading its cluster.
func bootstrapAgent(t *testing.T) *shoalagent.Agent {
	t.Helper()
	a, err := shoalagent.New(shoalagent.Config{Name: "n1", DataDir: filepath.Join(t.TempDir(), "data"), BindAddr: "127.0.0.1",
		Bootstrap: true, Driver: shoalagent.DriverFake, Logger: slog.New(slog.DiscardHandler)}, shoalagent.Deps{})
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		if err := a.Shutdown(ctx); err != nil {
			t.Errorf("Shutdown = %v", err)
		}
	})
	testkit.WaitFor(t, 30*time.Second, "the bootstrap node to lead its cluster", func() bool {
		h := a.Health()
		return h.Status == "ok" && h.ClusterID != ""
	})
	return a
}

// blankAgent runs `shoal agent` on a new data dir, with no token: it waits
// for `shoal join`. stop ends it as SIGTERM does and returns the command's
// error.
func blankAgent(t *testing.T, name string) (dataDir string, stop func() error) {
	t.Helper()
	dataDir = filepath.Join(t.TempDir(), "data")
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- newApp().RunContext(ctx, []string{"shoal", "agent", "--name", name, "--data-dir", dataDir,
			"--driver", "fake", "--bind", "127.0.0.1", "--http-port", "0", "--gossip-port", "0", "--raft-port", "0",
			"--log-level", "error"})
	}()
	var once bool
	var err error
	stop = func() error {
		if !once {
			once = true
			cancel()
			err = <-done
		}
		return err
	}
	t.Cleanup(func() { stop() })
	return dataDir, stop
}

// localStatus is the health the agent of dataDir reports on its socket;
// "" while it has no socket.
func localStatus(dataDir string) string {
	hc := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, "unix", filepath.Join(dataDir, shoalagent.SocketFile))
		}}}
	defer hc.CloseIdleConnections()
	resp, err := hc.Get("http://shoal" + shoalagent.LocalHealthPath)
	if err != nil {
		return ""
	}
	defer resp.Body.Close()
	var h shoalagent.LocalHealth
	_ = json.NewDecoder(resp.Body).Decode(&h)
	return h.Status
}

// runJoin runs `shoal join` with args.
func runJoin(t *testing.T, args ...string) (string, error) {
	t.Helper()
	app := newApp()
	var out bytes.Buffer
	app.Writer, app.ErrWriter = &out, &out
	err := app.Run(reorderArgs(app, append([]string{"shoal", "join"}, args...)))
	return out.String(), err
}

// A blank agent waits for `shoal join` on its socket: a token the cluster
// never made, or one used up, is refused with a clear error and the agent
// goes on waiting; a good one (presented at PEER) makes it a member that
// starts; a second join is a conflict; SIGTERM stops it cleanly.
func TestJoinThroughLocalSocket(t *testing.T) {
	boot := bootstrapAgent(t)
	dir, stop := blankAgent(t, "n2")
	testkit.WaitFor(t, 30*time.Second, "the blank agent to wait for a join", func() bool {
		return localStatus(dir) == shoalagent.StatusWaiting
	})

	used, _, err := boot.Node().CreateJoinToken(t.Context(), time.Hour, 1, "test")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cluster.RequestJoin(t.Context(), cluster.JoinRequest{Token: used, Name: "ghost", BindAddr: "127.0.0.1",
		DataDir: t.TempDir()}); err != nil {
		t.Fatalf("using the token up: %v", err)
	}
	parsed, err := jointoken.Parse(used)
	if err != nil {
		t.Fatal(err)
	}
	stranger, err := jointoken.New(parsed.CA, parsed.Addrs) // the cluster's CA, a secret it never made
	if err != nil {
		t.Fatal(err)
	}
	for _, tok := range []string{used, stranger.String(), "not-a-token"} {
		out, err := runJoin(t, "--token", tok, "--data-dir", dir)
		want := fsm.ErrUnauthorized
		if tok == "not-a-token" {
			want = fsm.ErrInvalid
		}
		if !errors.Is(err, want) || out != "" || strings.Contains(err.Error(), tok) {
			t.Errorf("shoal join with a bad token: %q, %v; want %v, nothing printed, the token not echoed", out, err, want)
		}
		if s := localStatus(dir); s != shoalagent.StatusWaiting {
			t.Fatalf("after a refused join the agent reports %q, want it still waiting", s)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "tls")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("refused joins left %s/tls: %v", dir, err)
	}

	good, _, err := boot.Node().CreateJoinToken(t.Context(), time.Hour, 1, "test")
	if err != nil {
		t.Fatal(err)
	}
	out, err := runJoin(t, "--token", good, boot.HTTPAddr(), "--data-dir", dir)
	if err != nil || !strings.HasPrefix(out, "joined: n2 holds its certificate") || strings.Contains(out, good) {
		t.Fatalf("shoal join: %q, %v", out, err)
	}
	testkit.WaitFor(t, 30*time.Second, "n2 alive in the bootstrap node's members", func() bool {
		return slices.ContainsFunc(boot.Node().Members(), func(m cluster.Member) bool { return m.Name == "n2" && m.Status == "alive" })
	})
	if _, err := runJoin(t, "--token", good, "--data-dir", dir); !errors.Is(err, fsm.ErrConflict) ||
		!strings.Contains(err.Error(), "already a member") {
		t.Errorf("a second join: %v, want a conflict", err)
	}
	if err := stop(); err != nil {
		t.Errorf("the agent stopped with %v", err)
	}
	if _, err := os.Lstat(filepath.Join(dir, shoalagent.SocketFile)); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("the socket outlived the agent: %v", err)
	}
}

// SIGTERM while waiting to be joined stops the agent cleanly; `shoal join`
// with no agent says so.
func TestBlankAgentStops(t *testing.T) {
	dir, stop := blankAgent(t, "n2")
	testkit.WaitFor(t, 30*time.Second, "the blank agent to wait for a join", func() bool {
		return localStatus(dir) == shoalagent.StatusWaiting
	})
	if err := stop(); err != nil {
		t.Fatalf("the waiting agent stopped with %v", err)
	}
	if _, err := runJoin(t, "--token", "x", "--data-dir", dir); err == nil || !strings.Contains(err.Error(), "no agent listens on") {
		t.Errorf("shoal join with no agent: %v", err)
	}
}
