package api

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/shoal-project/shoal/api/identity/identitytest"
	"github.com/shoal-project/shoal/cluster"
	"github.com/shoal-project/shoal/cluster/jointoken"
	"github.com/shoal-project/shoal/fsm"
	"github.com/shoal-project/shoal/fsm/fsmtest"
)

// fakeCluster applies commands to a real FSM with an incrementing index, so
// the FSM's own rules run; the rest of the node is canned.
type fakeCluster struct {
	*fsmtest.Applier

	mu        sync.Mutex
	applyErr  error // returned by Apply instead of applying
	leader    bool
	leaderOf  Leader
	hasLeader bool
	barriers  int
	members   []Member
	health    Health
	left      bool
	syncs     int
	rotateErr error        // returned by RotateGossipKey
	gossipKey string       // the last key RotateGossipKey made
	client    *http.Client // InternalClient; nil: http.DefaultClient
	onSync    func()       // what catching up with the leader brings, if anything
}

func newFakeCluster(t testing.TB) *fakeCluster {
	t.Helper()
	c := &fakeCluster{
		Applier:   fsmtest.New(),
		leader:    true,
		hasLeader: true,
		leaderOf:  Leader{Name: "node1", RaftAddress: "127.0.0.1:7947", HTTPAddress: "127.0.0.1:8774"},
		health:    Health{Name: "node1", Status: "ok", ClusterID: "c1", Role: "leader", Leader: "node1", Version: "test"},
	}
	c.MustApply(t, identitytest.Bootstrap("c1")...)
	return c
}

// Apply fails with applyErr when one is set; otherwise it commits cmd.
func (c *fakeCluster) Apply(ctx context.Context, cmd fsm.Command) (uint64, error) {
	c.mu.Lock()
	err := c.applyErr
	c.mu.Unlock()
	if err != nil {
		return 0, err
	}
	return c.Applier.Apply(ctx, cmd)
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

func (c *fakeCluster) Sync(context.Context) error {
	c.mu.Lock()
	c.syncs++
	f := c.onSync
	c.onSync = nil
	c.mu.Unlock()
	if f != nil {
		f()
	}
	return nil
}

func (c *fakeCluster) Barrier(context.Context) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.barriers++
	return nil
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
	h.Index = c.FSM.Index()
	return h
}

// CreateJoinToken does what cluster.Node does, over the fake's FSM: the
// cluster's bounds, a real token, its hash recorded.
func (c *fakeCluster) CreateJoinToken(ctx context.Context, ttl time.Duration, uses int, createdBy string) (string, fsm.JoinToken, error) {
	if ttl == 0 {
		ttl = cluster.DefaultJoinTokenTTL
	}
	if ttl < 0 || ttl > cluster.MaxJoinTokenTTL || uses < 1 || uses > fsm.MaxJoinTokenUses {
		return "", fsm.JoinToken{}, fmt.Errorf("%w: ttl %s, uses %d out of bounds", fsm.ErrInvalid, ttl, uses)
	}
	tok, err := jointoken.New([32]byte{1}, []string{"127.0.0.1:8774"})
	if err != nil {
		return "", fsm.JoinToken{}, err
	}
	now := time.Now().UTC()
	cmd := &fsm.CreateJoinToken{ID: tok.ID(), SecretHash: tok.SecretHash(), CreatedAt: now, ExpiresAt: now.Add(ttl),
		MaxUses: uses, CreatedBy: createdBy}
	if _, err := c.Apply(ctx, cmd); err != nil {
		return "", fsm.JoinToken{}, err
	}
	return tok.String(), fsm.JoinToken{ID: cmd.ID, CreatedAt: cmd.CreatedAt, ExpiresAt: cmd.ExpiresAt, MaxUses: uses,
		CreatedBy: createdBy}, nil
}

// RemoveHost deregisters the host as the cluster does (there is no Raft
// configuration to leave here).
func (c *fakeCluster) RemoveHost(ctx context.Context, name string) error {
	_, err := c.Apply(ctx, &fsm.DeregisterHost{Name: name})
	return err
}

func (c *fakeCluster) RotateGossipKey(context.Context) (string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.rotateErr != nil {
		return "", c.rotateErr
	}
	c.gossipKey = fmt.Sprintf("%016x", c.FSM.Index()+1)
	return c.gossipKey, nil
}

// rotated is the ID of the last key RotateGossipKey made, or "".
func (c *fakeCluster) rotated() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.gossipKey
}

func (c *fakeCluster) InternalClient() *http.Client {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.client == nil {
		return http.DefaultClient
	}
	return c.client
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
	ts := httptest.NewServer(New(Config{State: c.FSM, Cluster: c, NodeName: "node1", Auth: testAuth()}).Handler())
	t.Cleanup(ts.Close)
	return c, ts
}

// counts reads the fake's bookkeeping under its lock; applied counts the
// commands that reached the FSM.
func (c *fakeCluster) counts() (applied, barriers int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return int(c.Index()), c.barriers
}

// compute seeds what servers need: two hosts with capacity (node1 up, node2
// down as gossip sees them), an active image "cirros" and a server group.
type compute struct {
	image fsm.Image
	group fsm.ServerGroup
}

func (c *fakeCluster) seedCompute(t *testing.T) compute {
	t.Helper()
	now := time.Unix(100, 0).UTC()
	for _, h := range []string{"node1", "node2"} {
		c.MustApply(t, &fsm.RegisterHost{Name: h, HTTPAddress: h + ":8774", Time: now})
		c.MustApply(t, &fsm.UpdateHostInventory{Name: h, Inventory: fsm.Inventory{VCPUs: 8, MemoryMiB: 16384, DiskGiB: 100,
			Arch: "x86_64", HypervisorType: "QEMU", HypervisorVersion: "8.2.2", Zone: "nova"}, Time: now})
	}
	c.set(func(c *fakeCluster) {
		c.members = []Member{{Name: "node1", Status: "alive"}, {Name: "node2", Status: "dead"}}
	})
	img := fsm.Image{ID: "0f0e0d0c-0000-4000-8000-000000000001", Name: "cirros", DiskFormat: "qcow2",
		ContainerFormat: "bare", Size: 20 << 20, Status: "active", MinRAM: 64, Created: now, Updated: now}
	c.MustApply(t, &fsm.CreateImage{Image: img})
	g := fsm.ServerGroup{ID: "9a9a9a9a-0000-4000-8000-000000000001", Name: "spread", Policy: fsm.PolicyAntiAffinity, Created: now}
	c.MustApply(t, &fsm.CreateServerGroup{Group: g})
	image, err := c.FSM.Image(img.ID)
	if err != nil {
		t.Fatal(err)
	}
	group, err := c.FSM.ServerGroup(g.ID)
	if err != nil {
		t.Fatal(err)
	}
	return compute{image: image, group: group}
}

// place does what the scheduler and the host's reconciler would: put the
// server on host and report it running (or failed, when buildErr is set).
func (c *fakeCluster) place(t *testing.T, id, host, buildErr string) {
	t.Helper()
	now := time.Unix(200, 0).UTC()
	c.MustApply(t, &fsm.Plan{Time: now, Ratios: fsm.DefaultRatios, MaxAttempts: 3,
		Placements: []fsm.Placement{{InstanceID: id, Host: host}}})
	power := fsm.PowerRunning
	if buildErr != "" {
		power = fsm.PowerNoState
	}
	inst, _ := c.FSM.Instance(id)
	c.MustApply(t, &fsm.ReportInstances{Host: host, Time: now, Reports: []fsm.InstanceReport{
		{ID: id, PowerState: power, Done: fsm.TaskSpawning, TaskIndex: inst.TaskIndex, Error: buildErr}}})
}

// snapshot is what a refused request must leave untouched.
type stateSnapshot struct {
	index     uint64
	applied   int
	instances []fsm.Instance
	images    []fsm.Image
	groups    []fsm.ServerGroup
	hosts     []fsm.Host
	flavors   []fsm.Flavor
}

func (c *fakeCluster) snapshot() stateSnapshot {
	applied, _ := c.counts()
	return stateSnapshot{index: c.FSM.Index(), applied: applied, instances: c.FSM.Instances(nil),
		images: c.FSM.Images(), groups: c.FSM.ServerGroups(), hosts: c.FSM.Hosts(), flavors: c.FSM.Flavors()}
}

// seedOddImages adds images a server cannot be built from with m1.tiny
// (512 MiB, 1 GiB), and two images sharing a name.
func (c *fakeCluster) seedOddImages(t *testing.T) {
	t.Helper()
	for k, img := range []fsm.Image{
		{Name: "twin", Status: "active"},
		{Name: "twin", Status: "active"},
		{Name: "queued", Status: "queued"},
		{Name: "hungry", Status: "active", MinRAM: 1024},
		{Name: "fat", Status: "active", Size: 2 << 30},
		{Name: "picky", Status: "active", MinDisk: 5},
	} {
		img.ID = fmt.Sprintf("00000000-0000-4000-8000-%012d", k+1)
		img.DiskFormat, img.ContainerFormat = "qcow2", "bare"
		c.MustApply(t, &fsm.CreateImage{Image: img})
	}
}
