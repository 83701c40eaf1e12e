package apitest

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/shoal-project/shoal/api"
	"github.com/shoal-project/shoal/api/identity/identitytest"
	"github.com/shoal-project/shoal/fsm"
	"github.com/shoal-project/shoal/fsm/fsmtest"
)

// ClusterID is the ID of every fake cluster (derived OpenStack IDs start
// from it).
const ClusterID = "c1"

// NodeName is the node every Env serves as.
const NodeName = identitytest.Node

// Cluster is an api.Cluster that applies commands to a real FSM with an
// incrementing index, so the FSM's own rules run; this node always leads,
// and the rest of the node is canned. It is safe for concurrent use.
type Cluster struct {
	*fsmtest.Applier

	mu       sync.Mutex
	members  []api.Member
	noLeader bool
	client   *http.Client
	syncs    int
}

var _ api.Cluster = (*Cluster)(nil)

// NewCluster is a cluster bootstrapped with identitytest's identity (the
// bootstrap admin, the default flavors and tenant network).
func NewCluster(t testing.TB) *Cluster {
	t.Helper()
	c := &Cluster{Applier: fsmtest.New()}
	c.MustApply(t, identitytest.Bootstrap(ClusterID)...)
	return c
}

// Apply commits cmd, or fails with fsm.ErrNoLeader while the cluster has
// no leader (SetLeader).
func (c *Cluster) Apply(ctx context.Context, cmd fsm.Command) (uint64, error) {
	c.mu.Lock()
	lost := c.noLeader
	c.mu.Unlock()
	if lost {
		return 0, fsm.ErrNoLeader
	}
	return c.Applier.Apply(ctx, cmd)
}

// SetLeader says whether the cluster has a leader (this node): without
// one, writes fail with fsm.ErrNoLeader (503) and reads are served from
// the replica as it is.
func (c *Cluster) SetLeader(ok bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.noLeader = !ok
}

// SetMembers sets what gossip reports (hosts' up/down state derives from it).
func (c *Cluster) SetMembers(members ...api.Member) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.members = append([]api.Member(nil), members...)
}

// SetInternalClient sets the client the API reaches other nodes with.
func (c *Cluster) SetInternalClient(client *http.Client) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.client = client
}

// Syncs counts the Sync calls so far (every write routed syncs first).
func (c *Cluster) Syncs() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.syncs
}

func (c *Cluster) Members() []api.Member {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]api.Member(nil), c.members...)
}

func (c *Cluster) Leader() (api.Leader, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return api.Leader{Name: NodeName, RaftAddress: "127.0.0.1:7947", HTTPAddress: "127.0.0.1:8774"}, !c.noLeader
}

func (c *Cluster) IsLeader() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return !c.noLeader
}

func (c *Cluster) Barrier(context.Context) error { return nil }

func (c *Cluster) Sync(context.Context) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.syncs++
	if c.noLeader {
		return fsm.ErrNoLeader
	}
	return nil
}

func (c *Cluster) Leave(context.Context) error {
	return fmt.Errorf("%w: the test cluster cannot be left", fsm.ErrConflict)
}

func (c *Cluster) Health() api.Health {
	c.mu.Lock()
	defer c.mu.Unlock()
	h := api.Health{Name: NodeName, Status: "ok", ClusterID: ClusterID, Role: "leader", Leader: NodeName,
		Index: c.FSM.Index(), Version: "test"}
	if c.noLeader {
		h.Status, h.Role, h.Leader = "no-leader", "follower", ""
	}
	return h
}

func (c *Cluster) CreateJoinToken(context.Context, time.Duration, int, string) (string, fsm.JoinToken, error) {
	return "", fsm.JoinToken{}, fmt.Errorf("%w: the test cluster makes no join tokens", fsm.ErrInvalid)
}

func (c *Cluster) RotateGossipKey(context.Context) (string, error) {
	return "", fmt.Errorf("%w: the test cluster has no gossip", fsm.ErrConflict)
}

// InternalClient is the one SetInternalClient set, else http.DefaultClient.
func (c *Cluster) InternalClient() *http.Client {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.client == nil {
		return http.DefaultClient
	}
	return c.client
}

// RemoveHost deregisters the host as the cluster does (there is no Raft
// configuration to leave here).
func (c *Cluster) RemoveHost(ctx context.Context, name string) error {
	_, err := c.Apply(ctx, &fsm.DeregisterHost{Name: name})
	return err
}
