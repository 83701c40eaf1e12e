package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shoal-project/shoal/api"
	"github.com/shoal-project/shoal/api/client/clienttest"
	"github.com/shoal-project/shoal/api/identity/identitytest"
	"github.com/shoal-project/shoal/cluster/jointoken"
	"github.com/shoal-project/shoal/fsm"
	"github.com/shoal-project/shoal/fsm/fsmtest"
)

// cluster is a one-node stand-in that applies commands to a real FSM.
type cluster struct {
	*fsmtest.Applier

	mu      sync.Mutex
	health  api.Health
	leader  bool
	keyErr  error // RotateGossipKey's answer
	members []api.Member
}

func (c *cluster) Members() []api.Member {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.members
}

func (c *cluster) Leader() (api.Leader, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return api.Leader{Name: "node1", HTTPAddress: "127.0.0.1:1"}, c.leader
}

func (c *cluster) IsLeader() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.leader
}

func (c *cluster) Barrier(context.Context) error { return nil }
func (c *cluster) Sync(context.Context) error    { return nil }

func (c *cluster) Leave(context.Context) error { return nil }

func (c *cluster) RemoveHost(ctx context.Context, name string) error {
	_, err := c.Apply(ctx, &fsm.DeregisterHost{Name: name})
	return err
}

func (c *cluster) RotateGossipKey(context.Context) (string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return "0011223344556677", c.keyErr
}

// CreateJoinToken records a token as cluster.Node does, without its bounds.
func (c *cluster) CreateJoinToken(ctx context.Context, ttl time.Duration, uses int, by string) (string, fsm.JoinToken, error) {
	if ttl == 0 {
		ttl = time.Hour
	}
	tok, err := jointoken.New([32]byte{7}, []string{"127.0.0.1:8774"})
	if err != nil {
		return "", fsm.JoinToken{}, err
	}
	now := time.Now().UTC()
	cmd := &fsm.CreateJoinToken{ID: tok.ID(), SecretHash: tok.SecretHash(), CreatedAt: now, ExpiresAt: now.Add(ttl), MaxUses: uses, CreatedBy: by}
	if _, err := c.Apply(ctx, cmd); err != nil {
		return "", fsm.JoinToken{}, err
	}
	return tok.String(), fsm.JoinToken{ID: cmd.ID, CreatedAt: now, ExpiresAt: cmd.ExpiresAt, MaxUses: uses, CreatedBy: by}, nil
}

func (c *cluster) InternalClient() *http.Client { return http.DefaultClient }

func (c *cluster) Health() api.Health {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.health
}

func newTestClient(t *testing.T) (*cluster, *Client) {
	t.Helper()
	c := &cluster{
		Applier: fsmtest.New(),
		leader:  true,
		health:  api.Health{Name: "node1", Status: "ok", ClusterID: "c1", Role: "leader"},
		members: []api.Member{
			{Name: "node2", Status: "alive", Role: "follower", Inventory: fsm.Inventory{VCPUs: 4}},
			{Name: "node1", Status: "alive", Role: "leader"},
		},
	}
	c.MustApply(t, identitytest.Bootstrap("c1")...)
	c.MustApply(t, &fsm.RegisterHost{Name: "node1", HTTPAddress: "127.0.0.1:8774"})
	// HTTPS, as nodes serve their API, named by a bare host:port.
	ts := httptest.NewTLSServer(api.New(api.Config{State: c.FSM, Cluster: c, Auth: api.Auth{Signer: identitytest.Signer}}).Handler())
	t.Cleanup(ts.Close)
	return c, New(strings.TrimPrefix(ts.URL, "https://"), WithToken(identitytest.AdminToken), WithCA(clienttest.CAPool(ts.Certificate())))
}

func TestFlavors(t *testing.T) {
	_, cl := newTestClient(t)
	ctx := context.Background()

	f, err := cl.CreateFlavor(ctx, "tiny2", 1, 256, 0, "")
	if err != nil || f.ID == "" || f.Name != "tiny2" || f.RAM != 256 {
		t.Fatalf("CreateFlavor = %+v, %v", f, err)
	}
	if _, err := cl.CreateFlavor(ctx, "with/id", 2, 512, 1, "custom-id"); err != nil {
		t.Fatal(err)
	}
	got, err := cl.Flavor(ctx, "with/id")
	if err != nil || got.ID != "custom-id" {
		t.Fatalf("Flavor = %+v, %v", got, err)
	}
	list, err := cl.Flavors(ctx)
	if err != nil || len(list) != 7 {
		t.Fatalf("Flavors = %d, %v", len(list), err)
	}
	if err := cl.DeleteFlavor(ctx, "tiny2"); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name   string
		call   func() error
		status int
		is     error
		msg    string
	}{
		{"show deleted", func() error { _, err := cl.Flavor(ctx, "tiny2"); return err }, 404, fsm.ErrNotFound, "tiny2"},
		{"delete deleted", func() error { return cl.DeleteFlavor(ctx, f.ID) }, 404, fsm.ErrNotFound, f.ID},
		{"duplicate", func() error { _, err := cl.CreateFlavor(ctx, "m1.tiny", 1, 1, 0, ""); return err }, 409, fsm.ErrConflict, "m1.tiny"},
		{"invalid", func() error { _, err := cl.CreateFlavor(ctx, "x", 0, 1, 0, ""); return err }, 400, fsm.ErrInvalid, "vcpus"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.call()
			var e *Error
			if !errors.As(err, &e) || e.Status != tt.status || !errors.Is(err, tt.is) || !strings.Contains(e.Message, tt.msg) || e.RequestID == "" {
				t.Fatalf("err = %#v", err)
			}
			if !strings.HasPrefix(err.Error(), "HTTP ") {
				t.Errorf("Error() = %q", err.Error())
			}
		})
	}
	if _, err := cl.Flavor(ctx, ""); !errors.Is(err, fsm.ErrInvalid) {
		t.Errorf("empty ref: %v", err)
	}
}

func TestClusterCalls(t *testing.T) {
	c, cl := newTestClient(t)
	ctx := context.Background()

	h, err := cl.Health(ctx)
	if err != nil || h.Status != "ok" || h.Name != "node1" {
		t.Fatalf("Health = %+v, %v", h, err)
	}
	c.mu.Lock()
	c.health.Status = "waiting"
	c.mu.Unlock()
	if h, err := cl.Health(ctx); err != nil || h.Status != "waiting" {
		t.Errorf("Health on 503 = %+v, %v", h, err)
	}

	members, err := cl.Members(ctx)
	if err != nil || len(members) != 2 || members[0].Name != "node1" || members[1].Inventory.VCPUs != 4 {
		t.Errorf("Members = %+v, %v", members, err)
	}
	if l, err := cl.Leader(ctx); err != nil || l.Name != "node1" {
		t.Errorf("Leader = %+v, %v", l, err)
	}
	hosts, err := cl.Hosts(ctx)
	if err != nil || len(hosts) != 1 || hosts[0].Name != "node1" || hosts[0].State != "up" || hosts[0].Status != "enabled" {
		t.Errorf("Hosts = %+v, %v", hosts, err)
	}

	c.mu.Lock()
	c.leader = false
	c.mu.Unlock()
	if _, err := cl.Leader(ctx); !errors.Is(err, fsm.ErrNoLeader) {
		t.Errorf("Leader without one: %v", err)
	}
}

func TestNonAPIError(t *testing.T) {
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "bad gateway from a proxy", http.StatusBadGateway)
	}))
	t.Cleanup(ts.Close)
	_, err := New(ts.URL + "/").Flavors(context.Background())
	var e *Error
	if !errors.As(err, &e) || e.Status != 502 || e.Message != "bad gateway from a proxy" {
		t.Fatalf("err = %#v", err)
	}
	if _, err := New(ts.URL).Health(context.Background()); err == nil {
		t.Error("Health from a proxy error succeeded")
	}
}

// TestErrorsRoundTrip sends every sentinel of the vocabulary from the node
// (as its cluster returns it, wrapped) through the API and this client, and
// checks the far side: the status, the kind, the message, and errors.Is
// against the same sentinel and no other.
func TestErrorsRoundTrip(t *testing.T) {
	vocabulary := []error{fsm.ErrInvalid, fsm.ErrNotFound, fsm.ErrConflict, fsm.ErrNoLeader, fsm.ErrUnavailable}
	tests := []struct {
		sentinel error
		status   int
		kind     string
	}{
		{fsm.ErrInvalid, http.StatusBadRequest, "invalid"},
		{fsm.ErrNotFound, http.StatusNotFound, "not_found"},
		{fsm.ErrConflict, http.StatusConflict, "conflict"},
		{fsm.ErrNoLeader, http.StatusServiceUnavailable, "no_leader"},
		{fsm.ErrUnavailable, http.StatusServiceUnavailable, "unavailable"},
	}
	if len(tests) != len(vocabulary) {
		t.Fatal("a sentinel of the vocabulary has no row")
	}
	c, cl := newTestClient(t)
	for _, tt := range tests {
		t.Run(tt.kind, func(t *testing.T) {
			c.mu.Lock()
			c.keyErr = fmt.Errorf("rotating: %w", fmt.Errorf("%w: detail for %s", tt.sentinel, tt.kind))
			c.mu.Unlock()
			_, err := cl.RotateGossipKey(context.Background())
			var e *Error
			if !errors.As(err, &e) || e.Status != tt.status || e.Kind != tt.kind || !strings.Contains(e.Message, "detail for "+tt.kind) {
				t.Fatalf("err = %#v", err)
			}
			for _, other := range vocabulary {
				if got := errors.Is(err, other); got != (other == tt.sentinel) {
					t.Errorf("errors.Is(%v, %v) = %v", err, other, got)
				}
			}
		})
	}
}

// TestErrorKindNotText: the client finds the sentinel by the kind, never
// by the message, so a message that happens to quote another error's text
// does not confuse it.
func TestErrorKindNotText(t *testing.T) {
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusServiceUnavailable)
		_ = json.NewEncoder(w).Encode(api.ErrorBody{Error: api.ErrorDetail{Code: 503, Kind: "unavailable", Message: "not no cluster leader"}})
	}))
	t.Cleanup(ts.Close)
	_, err := New(ts.URL).Flavors(context.Background())
	if !errors.Is(err, fsm.ErrUnavailable) || errors.Is(err, fsm.ErrNoLeader) {
		t.Errorf("err = %v", err)
	}
}
