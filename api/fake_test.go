package api

import (
	"context"
	"errors"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/raft"

	"github.com/shoal-project/shoal/fsm"
)

// fakeCluster applies commands to a real FSM with an incrementing index, so
// the FSM's own rules run; the rest of the node is canned.
type fakeCluster struct {
	fsm *fsm.FSM

	mu        sync.Mutex
	index     uint64
	applyErr  error // returned by Apply instead of applying
	applied   int   // commands that reached the FSM
	leader    bool
	leaderOf  Leader
	hasLeader bool
	barriers  int
	members   []Member
	health    Health
	joinErr   error
	left      bool
	joined    [][]string
}

func newFakeCluster(t *testing.T) *fakeCluster {
	t.Helper()
	c := &fakeCluster{
		fsm:       fsm.New(),
		leader:    true,
		hasLeader: true,
		leaderOf:  Leader{Name: "node1", RaftAddress: "127.0.0.1:7947", HTTPAddress: "127.0.0.1:8774"},
		health:    Health{Name: "node1", Status: "ok", ClusterID: "c1", Role: "leader", Leader: "node1", Version: "test"},
	}
	c.mustApply(t, &fsm.Bootstrap{ClusterID: "c1", Time: time.Unix(0, 0).UTC(), Flavors: fsm.DefaultFlavors()})
	return c
}

func (c *fakeCluster) mustApply(t *testing.T, cmd fsm.Command) {
	t.Helper()
	if _, err := c.apply(cmd); err != nil {
		t.Fatalf("apply %T: %v", cmd, err)
	}
}

func (c *fakeCluster) apply(cmd fsm.Command) (uint64, error) {
	b, err := fsm.Encode(cmd)
	if err != nil {
		return 0, err
	}
	c.mu.Lock()
	c.index++
	idx := c.index
	c.applied++
	c.mu.Unlock()
	switch res := c.fsm.Apply(&raft.Log{Index: idx, Data: b}).(type) {
	case error:
		return idx, res
	case fsm.BatchResult:
		return idx, errors.Join(res.Errors...)
	}
	return idx, nil
}

func (c *fakeCluster) Apply(_ context.Context, cmd fsm.Command) (uint64, error) {
	c.mu.Lock()
	err := c.applyErr
	c.mu.Unlock()
	if err != nil {
		return 0, err
	}
	return c.apply(cmd)
}

func (c *fakeCluster) Members() []Member {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]Member(nil), c.members...)
}

func (c *fakeCluster) Leader() (Leader, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.leaderOf, c.hasLeader
}

func (c *fakeCluster) IsLeader() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.leader
}

func (c *fakeCluster) Barrier(context.Context) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.barriers++
	return nil
}

func (c *fakeCluster) Join(_ context.Context, peers []string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.joined = append(c.joined, peers)
	return c.joinErr
}

func (c *fakeCluster) Leave(context.Context) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.left = true
	return nil
}

func (c *fakeCluster) Health() Health {
	c.mu.Lock()
	defer c.mu.Unlock()
	h := c.health
	h.Index = c.fsm.Index()
	return h
}

func (c *fakeCluster) set(f func(c *fakeCluster)) {
	c.mu.Lock()
	defer c.mu.Unlock()
	f(c)
}

// newTestServer serves an api.Server over a fake cluster on a loopback port.
func newTestServer(t *testing.T) (*fakeCluster, *httptest.Server) {
	t.Helper()
	c := newFakeCluster(t)
	ts := httptest.NewServer(New(Config{State: c.fsm, Cluster: c, NodeName: "node1"}).Handler())
	t.Cleanup(ts.Close)
	return c, ts
}

// counts reads the fake's bookkeeping under its lock.
func (c *fakeCluster) counts() (applied, barriers int, joined [][]string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.applied, c.barriers, append([][]string(nil), c.joined...)
}
