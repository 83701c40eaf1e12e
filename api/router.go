package api

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/shoal-project/shoal/fsm"
)

// Headers of the native API.
const (
	// HeaderRequestID names a request in both directions and in the logs.
	HeaderRequestID = "X-Request-Id"
	// HeaderIndex is the Raft index a read reflects or a write was applied at.
	HeaderIndex = "X-Shoal-Index"
	// HeaderForwarded marks a consistent read forwarded to the leader, so a
	// request that lands on a follower again fails instead of looping.
	HeaderForwarded = "X-Shoal-Forwarded"
)

const (
	maxBodyBytes    = 1 << 20
	maxRequestIDLen = 64
	// membershipTimeout bounds a leave and a gossip key rotation (which waits
	// for every live member); the client's timeout is set above it.
	membershipTimeout = 60 * time.Second
	// settleTimeout bounds a barrier and the wait for a write to be applied locally.
	settleTimeout = 10 * time.Second
)

// Config is what a Server needs. State and Cluster are required.
type Config struct {
	State    State
	Cluster  Cluster
	Logger   *slog.Logger // nil discards
	NodeName string       // for logs, and to know which servers run here
	Consoles Consoles     // optional: console logs of servers on this node
	Migrator Migrator     // optional: readies this node for migrating servers
	// Images stores image data on this node (optional): without it uploads
	// answer 501 and downloads 404. Uploads need NodeName too.
	Images Images
	// MaxImageBytes bounds one upload; 0 means DefaultMaxImageBytes.
	MaxImageBytes int64
	// Auth authenticates callers; its Signer is required.
	Auth Auth
	// Modules are the foreign dialects served beside /v1 (OpenStack's
	// Compute, Image, Network), each under its own prefix; see Module.
	Modules []Module
	// Ratios are the scheduler's allocation ratios, which a migration to a
	// named host is checked against; a zero component takes
	// fsm.DefaultRatios'.
	Ratios fsm.Ratios
}

// Server is the HTTP API of one node.
type Server struct {
	state    State
	cluster  Cluster
	node     string
	log      *slog.Logger
	mux      *http.ServeMux
	handler  http.Handler
	consoles Consoles
	migrator Migrator
	images   Images
	maxImage int64
	auth     Auth
	access   map[string]Access // route pattern → who may call it
	ops      *Ops
	modules  []Module
	ratios   fsm.Ratios
}

// New builds a Server. It panics when State or Cluster is missing: that is a
// wiring mistake, not a runtime condition.
func New(cfg Config) *Server {
	if cfg.State == nil || cfg.Cluster == nil || cfg.Auth.Signer == nil {
		panic("api: New needs a State, a Cluster and an Auth with a Signer")
	}
	if cfg.Images != nil && cfg.NodeName == "" {
		panic("api: New needs the NodeName to record where uploaded images are")
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if cfg.NodeName != "" {
		log = log.With("node", cfg.NodeName)
	}
	s := &Server{
		state:    cfg.State,
		cluster:  cfg.Cluster,
		node:     cfg.NodeName,
		log:      log,
		mux:      http.NewServeMux(),
		consoles: cfg.Consoles,
		migrator: cfg.Migrator,
		images:   cfg.Images,
		maxImage: cfg.MaxImageBytes,
		auth:     cfg.Auth,
		access:   map[string]Access{},
		ratios:   withDefaultRatios(cfg.Ratios),
	}
	s.auth.withDefaults()
	if s.maxImage <= 0 {
		s.maxImage = DefaultMaxImageBytes
	}
	s.ops = &Ops{s: s}
	s.routes()
	s.mount(cfg.Modules)
	s.handler = s.observe(http.HandlerFunc(s.dispatch))
	return s
}

// Handler is the root handler to mount on an http.Server.
func (s *Server) Handler() http.Handler { return s.handler }

// Ops is the facade the Server's modules are given (for tests of code
// that uses one).
func (s *Server) Ops() *Ops { return s.ops }

func (s *Server) routes() {
	s.route("GET /v1/health", AccessPublic, s.health)
	s.read("GET /v1/cluster/members", AccessAdmin, s.members)
	s.read("GET /v1/cluster/leader", AccessAdmin, s.leader)
	s.route("POST /v1/cluster/leave", AccessAdmin, s.leave)
	s.read("GET /v1/cluster/join-tokens", AccessAdmin, s.listJoinTokens)
	s.route("POST /v1/cluster/join-tokens", AccessAdmin, s.createJoinToken)
	s.route("DELETE /v1/cluster/join-tokens/{id}", AccessAdmin, s.revokeJoinToken)
	s.route("POST /v1/cluster/gossip-key/rotate", AccessAdmin, s.rotateGossipKey)

	s.collection("/v1/flavors", AccessAuthenticated, AccessAdmin, s.listFlavors, s.showFlavor, s.createFlavor, s.deleteFlavor)

	s.read("GET /v1/hosts", AccessAdmin, s.listHosts)
	s.route("POST /v1/hosts/{name}/disable", AccessAdmin, s.disableHost)
	s.route("POST /v1/hosts/{name}/enable", AccessAdmin, s.enableHost)
	s.route("POST /v1/hosts/{name}/force-down", AccessAdmin, s.forceHostDown)
	s.route("POST /v1/hosts/{name}/evacuate", AccessAdmin, s.evacuateHost)
	s.route("DELETE /v1/hosts/{name}", AccessAdmin, s.removeHost)
	s.read("GET /v1/hosts/{name}/drain", AccessAdmin, s.showHostDrain)
	s.route("POST /v1/hosts/{name}/drain", AccessAdmin, s.startHostDrain)
	s.route("DELETE /v1/hosts/{name}/drain", AccessAdmin, s.cancelHostDrain)

	s.collection("/v1/servers", AccessProjectReader, AccessProjectMember, s.listServers, s.showServer, s.createServers, s.deleteServer)
	s.route("POST /v1/servers/{id}/action", AccessProjectMember, s.serverAction)
	s.read("GET /v1/servers/{id}/actions", AccessProjectReader, s.listServerActions)
	s.route("GET /v1/servers/{id}/console-log", AccessProjectMember, s.consoleLog)
	s.route("POST /v1/servers/{id}/trigger-crash-dump", AccessProjectMember, s.triggerCrashDump)
	s.route("POST "+InternalMigrationTarget, AccessNode, s.migrationTarget) // a migration's source, to its destination

	s.collection("/v1/images", AccessProjectReader, AccessProjectMember, s.listImages, s.showImage, s.createImage, s.deleteImage)
	// Not s.read: the data is this node's copy, never the leader's. Other
	// nodes fetch it on the internal path, with their node certificate.
	s.route("GET /v1/images/{id}/file", AccessProjectReader, s.downloadImage)
	s.route("GET "+internalImageFile, AccessNode, s.downloadImage)
	s.route("PUT /v1/images/{id}/file", AccessProjectMember, s.uploadImage)

	s.collection("/v1/server-groups", AccessProjectReader, AccessProjectMember, s.listServerGroups, s.showServerGroup, s.createServerGroup, s.deleteServerGroup)

	// Networking (Neutron's policies): every network is visible to every
	// project (external networks are shared), only an admin makes and
	// removes them; floating IPs and security groups are their project's.
	s.collection("/v1/networks", AccessAuthenticated, AccessAdmin, s.listNetworks, s.showNetwork, s.createNetwork, s.deleteNetwork)
	s.collection("/v1/floating-ips", AccessProjectReader, AccessProjectMember, s.listFloatingIPs, s.showFloatingIP, s.createFloatingIP, s.deleteFloatingIP)
	s.collection("/v1/security-groups", AccessProjectReader, AccessProjectMember, s.listSecurityGroups, s.showSecurityGroup, s.createSecurityGroup, s.deleteSecurityGroup)
	s.route("PUT /v1/security-groups/{id}", AccessProjectMember, s.updateSecurityGroup)
	s.route("POST /v1/security-group-rules", AccessProjectMember, s.createSecurityGroupRule)
	s.route("DELETE /v1/security-group-rules/{id}", AccessProjectMember, s.deleteSecurityGroupRule)

	// Keypairs are their user's whatever its roles (Nova's policy: admin or
	// owner); the handlers keep a caller to its own.
	s.collection("/v1/keypairs", AccessAuthenticated, AccessAuthenticated, s.listKeyPairs, s.showKeyPair, s.createKeyPair, s.deleteKeyPair)

	// Nova's policies: a reader reads its own project's quota (the handler
	// refuses another's), anyone the defaults and its own limits; an admin
	// sets and resets.
	s.read("GET /v1/quota-sets/{project_id}", AccessProjectReader, s.showQuota)
	s.read("GET /v1/quota-sets/{project_id}/defaults", AccessAuthenticated, s.showDefaultQuota)
	s.route("PUT /v1/quota-sets/{project_id}", AccessAdmin, s.updateQuota)
	s.route("DELETE /v1/quota-sets/{project_id}", AccessAdmin, s.resetQuota)
	s.read("GET /v1/limits", AccessAuthenticated, s.showLimits)

	s.read("GET /v1/hypervisors", AccessAdmin, s.listHypervisors)
	s.read("GET /v1/hypervisors/statistics", AccessAdmin, s.hypervisorStatistics)
	s.read("GET /v1/hypervisors/{name}", AccessAdmin, s.showHypervisor)

	// What OpenStack clients change after create: ops_*_update.go.
	s.serverUpdateRoutes()
	s.flavorUpdateRoutes()
	s.imageUpdateRoutes()

	s.migrationRoutes()
	s.identityRoutes()
}

// route registers h at pattern for callers of access a: the one place a
// route and its policy meet.
func (s *Server) route(pattern string, a Access, h http.HandlerFunc) {
	if _, dup := s.access[pattern]; dup {
		panic("api: route registered twice: " + pattern)
	}
	s.access[pattern] = a
	s.mux.HandleFunc(pattern, h)
}

// collection routes the four verbs of a collection at path and of its
// members at path/{id}: list and show are reads (so ?consistent=true works)
// for readers, create and delete are writes for writers.
func (s *Server) collection(path string, readers, writers Access, list, show, create, remove http.HandlerFunc) {
	s.read("GET "+path, readers, list)
	s.read("GET "+path+"/{id}", readers, show)
	s.route("POST "+path, writers, create)
	s.route("DELETE "+path+"/{id}", writers, remove)
}

// dispatch serves routed requests through the mux and answers the rest (the
// mux's own 404 and 405) with the JSON error shape.
func (s *Server) dispatch(w http.ResponseWriter, r *http.Request) {
	h, pattern := s.mux.Handler(r)
	if pattern != "" {
		r, err := s.guard(r, pattern)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		switch syncsFirst(r.Method, pattern) {
		case syncRequired:
			ctx, cancel := context.WithTimeout(r.Context(), settleTimeout)
			err := s.cluster.Sync(ctx)
			cancel()
			if err != nil {
				s.writeError(w, r, err)
				return
			}
		case syncIfLeader:
			s.trySync(r.Context())
		}
		s.mux.ServeHTTP(w, r)
		return
	}
	rec := &recorder{header: http.Header{}}
	h.ServeHTTP(rec, r)
	if rec.status == http.StatusMethodNotAllowed {
		allow := rec.header.Get("Allow")
		w.Header().Set("Allow", allow)
		s.writeError(w, r, fmt.Errorf("%w: %s %s (allowed: %s)", errMethodNotAllowed, r.Method, r.URL.Path, allow))
		return
	}
	s.writeError(w, r, fmt.Errorf("%w: no route for %s %s", fsm.ErrNotFound, r.Method, r.URL.Path))
}

// How a routed request brings the local replica up to date before it is
// served.
type syncMode int

const (
	syncNever syncMode = iota
	// syncRequired: a write is validated against the local replica, so a
	// client that wrote through another node (an image upload, a flavor) is
	// never told that it does not exist; no leader → 503.
	syncRequired
	// syncIfLeader: logging in reads only the replica and writes nothing, so
	// it catches up when it can (a user just created through another node
	// can log in here at once) and serves from the replica as it is when
	// there is no leader, rather than answering 503.
	syncIfLeader
)

// syncsFirst says how a request for pattern syncs. Reads never do (they
// take ?consistent=true for that), nor do the cluster's membership calls,
// which must work while there is no leader.
func syncsFirst(method, pattern string) syncMode {
	switch {
	case method == http.MethodGet || method == http.MethodHead:
		return syncNever
	case strings.HasPrefix(pattern, "POST /v1/cluster/"):
		return syncNever
	case pattern == loginPattern:
		return syncIfLeader
	}
	return syncRequired
}

// trySyncTimeout bounds a best-effort catch-up: about a few heartbeats.
const trySyncTimeout = 2 * time.Second

// trySync brings the replica up to date if the leader answers soon, and
// reports whether it did.
func (s *Server) trySync(ctx context.Context) bool {
	ctx, cancel := context.WithTimeout(ctx, trySyncTimeout)
	defer cancel()
	return s.cluster.Sync(ctx) == nil
}

type requestIDKey struct{}

// RequestID is the ID observe gave the request ("req-<uuid>", or the
// client's own X-Request-Id when it is a plain token), or "".
func RequestID(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey{}).(string)
	return id
}

// observe names the request (X-Request-Id), logs it, and turns a panic into a 500.
func (s *Server) observe(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		id := r.Header.Get(HeaderRequestID)
		if !isToken(id, maxRequestIDLen) {
			id = "req-" + uuid.NewString()
		}
		w.Header().Set(HeaderRequestID, id)
		r = r.WithContext(context.WithValue(r.Context(), requestIDKey{}, id))
		sw := &statusWriter{ResponseWriter: w}
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				s.log.Error("api: handler panicked", "panic", v, "request_id", id, "stack", string(debug.Stack()))
				if sw.status == 0 {
					s.writeError(sw, r, fmt.Errorf("internal error: %v", v))
				}
			}
			s.log.LogAttrs(r.Context(), slog.LevelDebug, "api: request",
				slog.String("method", r.Method), slog.String("path", r.URL.Path),
				slog.Int("status", sw.code()), slog.Duration("duration", time.Since(start)),
				slog.String("request_id", id))
		}()
		next.ServeHTTP(sw, r)
	})
}

// isToken reports whether s is 1..max characters of [A-Za-z0-9-_.].
func isToken(s string, max int) bool {
	if s == "" || len(s) > max {
		return false
	}
	for _, c := range []byte(s) {
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == '-', c == '_', c == '.':
		default:
			return false
		}
	}
	return true
}

// SetIndex sets X-Shoal-Index: the Raft index a read reflects or a write
// was applied at.
func SetIndex(w http.ResponseWriter, idx uint64) {
	w.Header().Set(HeaderIndex, strconv.FormatUint(idx, 10))
}

// WriteJSON answers status with v encoded as JSON.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		// Only a programming error (an unencodable type) gets here.
		status = http.StatusInternalServerError
		b, _ = json.Marshal(ErrorBody{Error: ErrorDetail{Code: status, Title: http.StatusText(status), Kind: kindInternal, Message: "encoding response: " + err.Error()}})
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(append(b, '\n'))
}

// statusWriter remembers the status for the log line.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(status int) {
	if w.status == 0 {
		w.status = status
	}
	w.ResponseWriter.WriteHeader(status)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController (used by the reverse proxy) reach the
// underlying writer.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (w *statusWriter) code() int {
	if w.status == 0 {
		return http.StatusOK
	}
	return w.status
}

// recorder captures what the mux's fallback handlers would have written.
type recorder struct {
	header http.Header
	status int
}

func (r *recorder) Header() http.Header { return r.header }
func (r *recorder) WriteHeader(status int) {
	if r.status == 0 {
		r.status = status
	}
}
func (r *recorder) Write(b []byte) (int, error) {
	r.WriteHeader(http.StatusOK)
	return len(b), nil
}
