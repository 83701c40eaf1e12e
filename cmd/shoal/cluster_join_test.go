package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/shoal-project/shoal/api/client"
	"github.com/shoal-project/shoal/cluster/jointoken"
	shoalagent "github.com/shoal-project/shoal/cmd/shoal/agent"
	"github.com/shoal-project/shoal/fsm"
	"github.com/shoal-project/shoal/internal/testkit"
)

// The admin's side of a secured cluster, end to end in this process: the
// CLI (as admin-openrc sets it up) makes a token that a new agent joins
// with; the token is then spent. The new node fetches the image uploaded to
// the first from it, by its node certificate; it forwards a consistent read
// to the leader over HTTPS; the gossip key rotates across both.
func TestClusterCommandsOnASecuredCluster(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	boot, err := shoalagent.New(shoalagent.Config{Name: "n1", DataDir: dir, BindAddr: "127.0.0.1", Bootstrap: true,
		Driver: shoalagent.DriverFake, Logger: slog.New(slog.DiscardHandler)}, shoalagent.Deps{})
	if err != nil {
		t.Fatal(err)
	}
	if err := boot.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		if err := boot.Shutdown(ctx); err != nil {
			t.Errorf("Shutdown = %v", err)
		}
	})
	testkit.WaitFor(t, 30*time.Second, "the bootstrap node to lead its cluster", func() bool {
		h := boot.Health()
		return h.Status == "ok" && h.ClusterID != ""
	})
	testkit.WaitFor(t, 30*time.Second, "admin-openrc", func() bool { return sourceable(filepath.Join(dir, shoalagent.OpenrcFile)) })
	for _, kv := range sourced(t, filepath.Join(dir, shoalagent.OpenrcFile)) {
		k, v, _ := strings.Cut(kv, "=")
		t.Setenv(k, v)
	}
	t.Setenv("SHOAL_TOKEN", "")
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	shoal := func(args ...string) string {
		t.Helper()
		app := newApp()
		var out, errOut bytes.Buffer
		app.Writer, app.ErrWriter = &out, &errOut
		if err := app.Run(reorderArgs(app, append([]string{"shoal"}, args...))); err != nil {
			t.Fatalf("shoal %s: %v\n%s", strings.Join(args, " "), err, errOut.String())
		}
		return out.String()
	}

	token := strings.TrimSuffix(shoal("cluster", "join-token", "create", "--ttl", "10m"), "\n")
	tok, err := jointoken.Parse(token)
	if err != nil {
		t.Fatalf("create printed %q: %v", token, err)
	}
	n2 := filepath.Join(t.TempDir(), "data")
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- newApp().RunContext(ctx, []string{"shoal", "agent", "--name", "n2", "--data-dir", n2, "--driver", "fake",
			"--bind", "127.0.0.1", "--http-port", "0", "--gossip-port", "0", "--raft-port", "0", "--log-level", "error",
			"--join-token", token})
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("n2 stopped with %v", err)
		}
	})
	state := boot.Node().FSM()
	testkit.WaitFor(t, 60*time.Second, "n2 registered and up", func() bool {
		h, err := state.Host("n2")
		return err == nil && !h.Down && h.HTTPAddress != ""
	})
	if out := shoal("cluster", "join-token", "list"); !strings.Contains(out, tok.ID()+"  used") || !strings.Contains(out, "n2") ||
		strings.Contains(out, token) {
		t.Errorf("list after the join:\n%s", out)
	}

	// n2 is a replica of every image (fewer hosts than copies): it fetches
	// what n1 stores over the internal route.
	shoal("image", "create", "tiny", "--file", writeFile(t, "tiny.raw", make([]byte, 4096)), "--disk-format", "raw")
	testkit.WaitFor(t, 60*time.Second, "n2 to hold a copy of the image", func() bool {
		imgs := state.Images()
		return len(imgs) == 1 && slices.Contains(imgs[0].Locations, "n2")
	})

	// A consistent read on n2, a follower, is forwarded to n1 over HTTPS:
	// it would fail (503) were the hop plain HTTP.
	var issued struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal([]byte(shoal("token", "issue", "-o", "json")), &issued); err != nil {
		t.Fatal(err)
	}
	h2, _ := state.Host("n2")
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, "https://"+h2.HTTPAddress+"/v1/flavors/m1.tiny?consistent=true", nil)
	req.Header.Set(client.HeaderAuthToken, issued.ID)
	hc := client.HTTPClient(client.WithCAFile(filepath.Join(dir, "tls", "ca.crt")))
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), `"m1.tiny"`) {
		t.Errorf("consistent read on n2 = %d %s", resp.StatusCode, body)
	}

	id := strings.TrimPrefix(strings.TrimSuffix(shoal("cluster", "gossip-key", "rotate"), "\n"),
		"gossip key rotated: every live member now uses key ")
	if keys, primary := state.GossipKeys(); primary != id || len(keys) != 1 {
		t.Errorf("after rotating to %q: keys %v, primary %q", id, keys, primary)
	}

	other := strings.TrimSpace(shoal("cluster", "join-token", "create"))
	otherTok, err := jointoken.Parse(other)
	if err != nil {
		t.Fatal(err)
	}
	shoal("cluster", "join-token", "revoke", otherTok.ID())
	if rec, err := state.JoinToken(otherTok.ID()); err != nil || !rec.Revoked {
		t.Errorf("revoked token: %+v, %v", rec, err)
	}

	// The admin removes n2 for good: its record goes and its certificates
	// are revoked, so its consistent read above would now be refused.
	if out := shoal("host", "remove", "n2"); !strings.Contains(out, "removed host n2") {
		t.Errorf("host remove printed %q", out)
	}
	if _, err := state.Host("n2"); err == nil {
		t.Error("n2 is still a host")
	}
	certs := state.NodeCerts("n2")
	if len(certs) == 0 || slices.ContainsFunc(certs, func(c fsm.NodeCert) bool { return !c.Revoked }) {
		t.Errorf("n2's certificates after host remove: %+v", certs)
	}
}

// sourceable reports whether path holds something (the agent writes
// admin-openrc once its admin exists).
func sourceable(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.Size() > 0
}

// sourced is what `. path` sets that the CLI reads (OS_*, SHOAL_ADDR).
func sourced(t *testing.T, path string) []string {
	t.Helper()
	out, err := exec.Command("sh", "-c", `. "$1" && env -0`, "sh", path).Output()
	if err != nil {
		t.Fatalf("sourcing %s: %v", path, err)
	}
	var env []string
	for _, kv := range strings.Split(string(out), "\x00") {
		if k, _, ok := strings.Cut(kv, "="); ok && (strings.HasPrefix(k, "OS_") || k == "SHOAL_ADDR") {
			env = append(env, kv)
		}
	}
	if len(env) == 0 {
		t.Fatalf("sourcing %s set no OS_ variable", path)
	}
	return env
}
