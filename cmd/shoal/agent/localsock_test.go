package agent

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/shoal-project/shoal/api"
	"github.com/shoal-project/shoal/fsm"
	"github.com/shoal-project/shoal/internal/testkit"
)

// localClient speaks HTTP over the socket at path.
func localClient(path string) *http.Client {
	return &http.Client{Timeout: time.Minute, Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, "unix", path)
		}}}
}

// localCall sends body (nil: a GET) to the socket and decodes the answer.
func localCall(t *testing.T, path, route string, body any, out any) int {
	t.Helper()
	code, err := localTry(path, route, body, out)
	if err != nil {
		t.Fatal(err)
	}
	return code
}

func localTry(path, route string, body any, out any) (int, error) {
	method, rd := http.MethodGet, &bytes.Reader{}
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return 0, err
		}
		method, rd = http.MethodPost, bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, "http://shoal"+route, rd)
	if err != nil {
		return 0, err
	}
	hc := localClient(path)
	defer hc.CloseIdleConnections()
	resp, err := hc.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		return 0, fmt.Errorf("%s %s: decoding the answer: %w", method, route, err)
	}
	return resp.StatusCode, nil
}

func listenLocal(t *testing.T, dir string) *LocalServer {
	t.Helper()
	s, err := ListenLocal(dir, discard)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// The socket is its owner's alone from the start, a second agent on the
// same data dir is refused, a dead agent's socket is replaced, and Close
// removes the socket.
func TestLocalSocketOwnership(t *testing.T) {
	dir := t.TempDir()
	s := listenLocal(t, dir)
	path := filepath.Join(dir, SocketFile)
	st, err := os.Lstat(path)
	if err != nil || st.Mode().Type() != fs.ModeSocket || st.Mode().Perm() != 0o600 {
		t.Fatalf("%s: %v, %v; want a socket of mode 0600", path, st.Mode(), err)
	}
	if left, _ := filepath.Glob(filepath.Join(dir, ".s*")); len(left) > 0 {
		t.Errorf("temporary files left behind: %v", left)
	}
	if _, err := ListenLocal(dir, discard); !errors.Is(err, ErrLocalSocket) || !strings.Contains(err.Error(), "another shoal agent") {
		t.Fatalf("a second agent on the same data dir: %v, want it refused", err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Lstat(path); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("the socket outlived Close: %v", err)
	}

	// A socket nobody answers on (an agent killed with -9) is replaced.
	dead, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	dead.SetUnlinkOnClose(false)
	dead.Close()
	listenLocal(t, dir)
	var h LocalHealth
	if code := localCall(t, path, LocalHealthPath, nil, &h); code != http.StatusServiceUnavailable || h.Status != StatusStarting {
		t.Errorf("health of an agent not waiting for a join: %d %+v", code, h)
	}

	other := t.TempDir()
	if err := os.WriteFile(filepath.Join(other, SocketFile), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := ListenLocal(other, discard); !errors.Is(err, ErrLocalSocket) || !strings.Contains(err.Error(), "not a socket") {
		t.Errorf("over a regular file: %v, want it refused", err)
	}
}

// A waiting node answers joins with its join function: a refusal is a 4xx
// JSON error and the wait goes on; the first success ends the wait, and any
// later join is a conflict. Malformed requests never reach the join.
func TestLocalSocketJoin(t *testing.T) {
	dir := t.TempDir()
	s := listenLocal(t, dir)
	path := s.Path()
	var tokens []string
	join := func(_ context.Context, token string, addrs []string) (LocalJoinReply, error) {
		tokens = append(tokens, token)
		if token != "good" {
			return LocalJoinReply{}, fmt.Errorf("%w: join token used up", fsm.ErrUnauthorized)
		}
		return LocalJoinReply{Name: "n2", CAFingerprint: "ab", GossipPeers: addrs}, nil
	}
	done := make(chan LocalJoinReply, 1)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		r, err := s.AwaitJoin(ctx, join)
		if err != nil {
			t.Errorf("AwaitJoin = %v", err)
		}
		done <- r
	}()
	waitWaiting(t, path)

	for _, tc := range []struct {
		name string
		body any
		code int
		kind string
	}{
		{"no token", LocalJoinRequest{}, 400, "invalid"},
		{"peer without a port", LocalJoinRequest{Token: "good", Peers: []string{"10.0.0.1"}}, 400, "invalid"},
		{"unknown field", map[string]string{"token": "good", "secret": "x"}, 400, "invalid"},
		{"refused token", LocalJoinRequest{Token: "used"}, 401, "unauthorized"},
	} {
		var e api.ErrorBody
		if code := localCall(t, path, LocalJoinPath, tc.body, &e); code != tc.code || e.Error.Code != tc.code ||
			e.Error.Kind != tc.kind || e.Error.Message == "" {
			t.Errorf("%s: %d %+v, want a %d JSON error of kind %s", tc.name, code, e, tc.code, tc.kind)
		}
		waitWaiting(t, path)
	}
	var reply LocalJoinReply
	if code := localCall(t, path, LocalJoinPath, LocalJoinRequest{Token: "good", Peers: []string{"10.0.0.1:8774"}}, &reply); code != 200 ||
		reply.Name != "n2" || len(reply.GossipPeers) != 1 {
		t.Fatalf("good token: %d %+v", code, reply)
	}
	if got := <-done; got.Name != "n2" {
		t.Errorf("AwaitJoin returned %+v", got)
	}
	var e api.ErrorBody
	if code := localCall(t, path, LocalJoinPath, LocalJoinRequest{Token: "good"}, &e); code != 409 || !strings.Contains(e.Error.Message, "already a member") {
		t.Errorf("a second join: %d %+v, want 409", code, e)
	}
	if strings.Join(tokens, ",") != "used,good" {
		t.Errorf("the join function saw tokens %q; malformed requests must not reach it", tokens)
	}
}

// waitWaiting waits for the socket to report a node waiting to be joined
// (AwaitJoin runs in another goroutine).
func waitWaiting(t *testing.T, path string) {
	t.Helper()
	testkit.WaitFor(t, 10*time.Second, "the node to wait for a join", func() bool {
		var h LocalHealth
		code, err := localTry(path, LocalHealthPath, nil, &h)
		return err == nil && code == http.StatusServiceUnavailable && h.Status == StatusWaiting
	})
}

// A wait ended by its context (SIGTERM) returns the context's error.
func TestLocalSocketWaitEnds(t *testing.T) {
	s := listenLocal(t, t.TempDir())
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := s.AwaitJoin(ctx, nil); !errors.Is(err, context.Canceled) {
		t.Fatalf("AwaitJoin = %v, want context.Canceled", err)
	}
}

// A data dir too deep for a unix socket is named as the problem.
func TestLocalSocketPathTooLong(t *testing.T) {
	dir := filepath.Join(t.TempDir(), strings.Repeat("d", 100))
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if _, err := ListenLocal(dir, discard); !errors.Is(err, ErrLocalSocket) || !strings.Contains(err.Error(), "shorter --data-dir") {
		t.Fatalf("ListenLocal = %v", err)
	}
	if left, _ := os.ReadDir(dir); len(left) > 0 {
		t.Errorf("left behind: %v", left)
	}
}
