package agent

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	"github.com/shoal-project/shoal/api"
	"github.com/shoal-project/shoal/fsm"
)

// The local socket is the agent's door for operator commands on its own
// host, first of all `shoal join`: a node that has not joined holds no
// cluster certificate, so nothing on the network could verify it, and a
// join token must only ever go to an endpoint that can be verified. The
// socket is DATA_DIR/shoal.sock, its owner's alone (0600, root in
// practice); whoever may use it may run the agent anyway.

// SocketFile is the local socket's name in the data dir.
const SocketFile = "shoal.sock"

// Paths of the local API.
const (
	LocalJoinPath   = "/v1/join"
	LocalHealthPath = "/v1/health"
)

// Statuses the local health reports before the node runs.
const (
	StatusWaiting  = "waiting to be joined"
	StatusStarting = "starting"
)

// maxSocketPath is the longest path a unix socket may have (Linux's
// sun_path holds 108 bytes with its terminating NUL).
const maxSocketPath = 107

// ErrLocalSocket is a local socket the agent cannot own.
var ErrLocalSocket = errors.New("local socket")

// LocalJoinRequest is the body of POST /v1/join: a join token and,
// optionally, HTTPS API addresses of members to present it at before the
// token's own.
type LocalJoinRequest struct {
	Token string   `json:"token"`
	Peers []string `json:"peers,omitempty"`
}

// LocalJoinReply is what a join through the socket did: the node holds a
// certificate of the cluster whose CA has this fingerprint (hex SHA-256),
// and gossips with these members once it starts.
type LocalJoinReply struct {
	Name          string   `json:"name"`
	CAFingerprint string   `json:"ca_fingerprint"`
	GossipPeers   []string `json:"gossip_peers"`
}

// LocalHealth is the local health before the node runs.
type LocalHealth struct {
	Status string `json:"status"`
}

// joinFunc makes this node a member with a token (Admit's joiner).
type joinFunc func(ctx context.Context, token string, addrs []string) (LocalJoinReply, error)

// LocalServer serves the local socket for the agent's life.
type LocalServer struct {
	path   string
	socket os.FileInfo // ours, so Close removes no other agent's socket
	srv    *http.Server
	cancel context.CancelFunc // ends the requests in flight
	served chan struct{}

	joining sync.Mutex // one join at a time
	mu      sync.Mutex
	join    joinFunc            // set while a blank node waits
	joined  chan LocalJoinReply // a join through the socket succeeded
	agent   *Agent              // the running node, once attached
}

// ListenLocal serves DATA_DIR/shoal.sock. A socket left by an agent that
// died is replaced; one a live agent answers on is refused. The socket is
// made in a private directory, made 0600 and only then moved into place,
// so nobody else can connect in between.
func ListenLocal(dataDir string, log *slog.Logger) (*LocalServer, error) {
	path := filepath.Join(dataDir, SocketFile)
	if err := removeStaleSocket(path); err != nil {
		return nil, err
	}
	tmp, err := os.MkdirTemp(dataDir, ".s")
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrLocalSocket, err)
	}
	defer os.RemoveAll(tmp)
	if n := len(filepath.Join(tmp, "s")); n > maxSocketPath {
		return nil, fmt.Errorf("%w: the data dir's path is too long for a unix socket in it: use a shorter --data-dir (%d bytes at most)",
			ErrLocalSocket, maxSocketPath-(n-len(dataDir)))
	}
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: filepath.Join(tmp, "s"), Net: "unix"})
	if err != nil {
		return nil, fmt.Errorf("%w %s: %w", ErrLocalSocket, path, err)
	}
	ln.SetUnlinkOnClose(false) // it is renamed: Close removes it by its new name
	var st os.FileInfo
	err = os.Chmod(filepath.Join(tmp, "s"), 0o600)
	if err == nil {
		err = os.Rename(filepath.Join(tmp, "s"), path)
	}
	if err == nil {
		st, err = os.Stat(path)
	}
	if err != nil {
		ln.Close()
		return nil, fmt.Errorf("%w %s: %w", ErrLocalSocket, path, err)
	}
	if log == nil {
		log = slog.Default()
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &LocalServer{path: path, socket: st, cancel: cancel, served: make(chan struct{}),
		joined: make(chan LocalJoinReply, 1)}
	mux := http.NewServeMux()
	mux.HandleFunc("POST "+LocalJoinPath, s.serveJoin)
	mux.HandleFunc("GET "+LocalHealthPath, s.serveHealth)
	s.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second,
		BaseContext: func(net.Listener) context.Context { return ctx }, ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn)}
	go func() {
		defer close(s.served)
		_ = s.srv.Serve(ln)
	}()
	return s, nil
}

// removeStaleSocket removes a socket nobody answers on; a live agent's, or a
// file that is not a socket, is the operator's to sort out.
func removeStaleSocket(path string) error {
	st, err := os.Lstat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil
	case err != nil:
		return fmt.Errorf("%w: %w", ErrLocalSocket, err)
	case st.Mode().Type() != fs.ModeSocket:
		return fmt.Errorf("%w: %s exists and is not a socket; remove it", ErrLocalSocket, path)
	}
	conn, err := net.DialTimeout("unix", path, time.Second)
	if err == nil {
		conn.Close()
		return fmt.Errorf("%w: another shoal agent is running on this data dir (it answers on %s)", ErrLocalSocket, path)
	}
	if !errors.Is(err, syscall.ECONNREFUSED) {
		return fmt.Errorf("%w: %s: %w", ErrLocalSocket, path, err)
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("%w: %w", ErrLocalSocket, err)
	}
	return nil
}

// Path is the socket's path.
func (s *LocalServer) Path() string { return s.path }

// AwaitJoin serves joins with join until one succeeds, or ctx ends. A
// refused join is answered and the wait goes on.
func (s *LocalServer) AwaitJoin(ctx context.Context, join joinFunc) (LocalJoinReply, error) {
	s.mu.Lock()
	s.join = join
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		s.join = nil
		s.mu.Unlock()
	}()
	select {
	case r := <-s.joined:
		return r, nil
	case <-ctx.Done():
		return LocalJoinReply{}, ctx.Err()
	}
}

// Attach makes the local health the running node's.
func (s *LocalServer) Attach(a *Agent) {
	s.mu.Lock()
	s.agent = a
	s.mu.Unlock()
}

// Close stops serving (ending the requests in flight) and removes the
// socket.
func (s *LocalServer) Close() error {
	s.cancel()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := s.srv.Shutdown(ctx)
	if err != nil {
		err = s.srv.Close()
	}
	<-s.served
	if st, serr := os.Stat(s.path); serr == nil && os.SameFile(st, s.socket) {
		err = errors.Join(err, os.Remove(s.path))
	}
	return err
}

func (s *LocalServer) serveJoin(w http.ResponseWriter, r *http.Request) {
	var req LocalJoinRequest
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 64<<10))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		writeLocalError(w, fmt.Errorf("%w: the request is not valid JSON: %v", fsm.ErrInvalid, err))
		return
	}
	if req.Token == "" {
		writeLocalError(w, fmt.Errorf("%w: a join token is required", fsm.ErrInvalid))
		return
	}
	for _, p := range req.Peers {
		if _, _, err := net.SplitHostPort(p); err != nil {
			writeLocalError(w, fmt.Errorf("%w: peer %q is not host:port (a member's API address)", fsm.ErrInvalid, p))
			return
		}
	}
	s.joining.Lock()
	defer s.joining.Unlock()
	s.mu.Lock()
	join, a := s.join, s.agent
	s.mu.Unlock()
	if join == nil {
		writeLocalError(w, alreadyMember(a))
		return
	}
	reply, err := join(r.Context(), req.Token, req.Peers)
	if err != nil {
		writeLocalError(w, err)
		return
	}
	s.mu.Lock()
	s.join = nil // the next join hears it is already a member
	s.mu.Unlock()
	s.joined <- reply
	writeLocalJSON(w, http.StatusOK, reply)
}

// alreadyMember is the refusal of a join on a node that has joined.
func alreadyMember(a *Agent) error {
	if a != nil {
		if id := a.Health().ClusterID; id != "" {
			return fmt.Errorf("%w: already a member of cluster %s", fsm.ErrConflict, id)
		}
	}
	return fmt.Errorf("%w: already a member of a cluster (the node is starting)", fsm.ErrConflict)
}

func (s *LocalServer) serveHealth(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	join, a := s.join, s.agent
	s.mu.Unlock()
	switch {
	case a != nil:
		h := a.Health()
		status := http.StatusOK
		if h.Status != "ok" {
			status = http.StatusServiceUnavailable
		}
		writeLocalJSON(w, status, h)
	case join != nil:
		writeLocalJSON(w, http.StatusServiceUnavailable, LocalHealth{Status: StatusWaiting})
	default:
		writeLocalJSON(w, http.StatusServiceUnavailable, LocalHealth{Status: StatusStarting})
	}
}

// writeLocalError answers with the API's status and error body.
func writeLocalError(w http.ResponseWriter, err error) {
	if errors.Is(err, context.Canceled) {
		err = fmt.Errorf("%w: %v", fsm.ErrUnavailable, err)
	}
	status := api.StatusOf(err)
	writeLocalJSON(w, status, api.ErrorBody{Error: api.ErrorDetail{Code: status, Title: http.StatusText(status),
		Kind: api.KindOf(err), Message: err.Error()}})
}

func writeLocalJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
