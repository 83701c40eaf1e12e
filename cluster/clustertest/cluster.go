// Package clustertest runs several shoal nodes in one process on loopback with
// :0 ports and temporary data directories, for tests of anything that needs a
// real cluster.
package clustertest

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/shoal-project/shoal/cluster"
	"github.com/shoal-project/shoal/fsm"
	"github.com/shoal-project/shoal/internal/testkit"
)

// Node is one in-process node and what it takes to restart it.
type Node struct {
	*cluster.Node
	Config cluster.Config
	Inv    *Inventory
	up     bool
}

// Cluster is a set of in-process nodes.
type Cluster struct {
	t     testing.TB
	Nodes []*Node
	// Tune changes every node's configuration before it is created.
	Tune func(*cluster.Config)
}

// Inventory is a settable fake fingerprint.
type Inventory struct {
	mu  sync.Mutex
	inv fsm.Inventory
}

// Set replaces the inventory the node will publish.
func (i *Inventory) Set(inv fsm.Inventory) {
	i.mu.Lock()
	i.inv = inv
	i.mu.Unlock()
}

// Source is the node's InventorySource.
func (i *Inventory) Source(context.Context) (fsm.Inventory, error) {
	i.mu.Lock()
	defer i.mu.Unlock()
	return i.inv, nil
}

// New starts n nodes: the first bootstraps, the others join it over gossip.
func New(t testing.TB, n int, tune func(*cluster.Config)) *Cluster {
	t.Helper()
	c := &Cluster{t: t, Tune: tune}
	t.Cleanup(c.Close)
	for i := 0; i < n; i++ {
		var join []string
		if i > 0 {
			join = []string{c.Nodes[0].GossipAddr()}
		}
		c.Add(i == 0, join)
	}
	return c
}

// Add creates and starts one more node.
func (c *Cluster) Add(bootstrap bool, join []string) *Node {
	c.t.Helper()
	cfg := cluster.Config{
		Name:              fmt.Sprintf("node%d", len(c.Nodes)+1),
		DataDir:           c.t.TempDir(),
		BindAddr:          "127.0.0.1",
		Bootstrap:         bootstrap,
		Join:              join,
		GossipProfile:     "local",
		InventoryInterval: 200 * time.Millisecond,
		ReconcileInterval: 300 * time.Millisecond,
		Logger:            testLogger(),
	}
	if c.Tune != nil {
		c.Tune(&cfg)
	}
	nd := &Node{Config: cfg, Inv: &Inventory{}}
	nd.Inv.Set(fsm.Inventory{VCPUs: 8, VCPUsFree: 8, MemoryMiB: 16384, MemoryFreeMiB: 16384,
		DiskGiB: 100, DiskFreeGiB: 100, Arch: "x86_64", HypervisorType: "fake", HypervisorVersion: "1"})
	c.Nodes = append(c.Nodes, nd)
	idx := len(c.Nodes) - 1
	// Cleanups run last-in first-out: registered after TempDir, this stops
	// the node before its data directory is removed (a running node keeps
	// writing its lease file there).
	c.t.Cleanup(func() { c.Stop(idx) })
	c.Start(idx)
	return nd
}

// Start (re)starts node i from its data directory with its configuration.
// After the first start its ports are pinned, so a restart keeps its addresses.
func (c *Cluster) Start(i int) {
	c.t.Helper()
	nd := c.Nodes[i]
	if !nd.Config.Bootstrap && !joined(nd.Config.DataDir) {
		c.admit(nd)
	}
	node, err := cluster.New(nd.Config, nd.Inv.Source)
	if err != nil {
		c.t.Fatalf("starting %s: %v", nd.Config.Name, err)
	}
	node.Start(context.Background(), nil)
	nd.Node, nd.up = node, true
	pin(&nd.Config, node)
}

func pin(cfg *cluster.Config, n *cluster.Node) {
	var port int
	for _, p := range []struct {
		addr string
		dst  *int
	}{{n.HTTPAddr(), &cfg.HTTPPort}, {n.GossipAddr(), &cfg.GossipPort}, {n.RaftAddr(), &cfg.RaftPort}} {
		fmt.Sscanf(p.addr[len("127.0.0.1:"):], "%d", &port)
		*p.dst = port
	}
}

// joined reports whether a node's data dir holds its cluster certificate.
func joined(dataDir string) bool {
	_, err := os.Stat(filepath.Join(cluster.TLSDir(dataDir), "node.crt"))
	return err == nil
}

// admit has a running node make a one-use join token and nd trade it for
// its certificate, as `shoal agent --join-token` does.
func (c *Cluster) admit(nd *Node) {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, m := range c.Nodes {
		if !m.up {
			continue
		}
		tok, _, err := m.CreateJoinToken(ctx, time.Hour, 1, "clustertest")
		if err != nil {
			c.t.Fatalf("making a join token on %s: %v", m.Config.Name, err)
		}
		_, err = cluster.RequestJoin(ctx, cluster.JoinRequest{Token: tok, Name: nd.Config.Name,
			BindAddr: nd.Config.BindAddr, AdvertiseAddr: nd.Config.AdvertiseAddr, DataDir: nd.Config.DataDir})
		if err != nil {
			c.t.Fatalf("admitting %s: %v", nd.Config.Name, err)
		}
		return
	}
	c.t.Fatalf("admitting %s: no node is running to make a join token", nd.Config.Name)
}

// Stop shuts node i down without leaving (as a crash or kill would look to
// the others).
func (c *Cluster) Stop(i int) {
	c.t.Helper()
	nd := c.Nodes[i]
	if !nd.up {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := nd.Shutdown(ctx); err != nil {
		c.t.Logf("stopping %s: %v", nd.Config.Name, err)
	}
	nd.up = false
}

// Up reports whether node i is running.
func (c *Cluster) Up(i int) bool { return c.Nodes[i].up }

// Close stops every node.
func (c *Cluster) Close() {
	for i := range c.Nodes {
		c.Stop(i)
	}
}

// Leader returns the index of the running node that is leader, or -1.
func (c *Cluster) Leader() int {
	for i, nd := range c.Nodes {
		if nd.up && nd.IsLeader() {
			return i
		}
	}
	return -1
}

// WaitForLeader waits until some running node leads and returns its index.
func (c *Cluster) WaitForLeader(timeout time.Duration) int {
	c.t.Helper()
	testkit.WaitFor(c.t, timeout, "a leader", func() bool { return c.Leader() >= 0 })
	return c.Leader()
}

// WaitForNewLeader waits for a leader other than old.
func (c *Cluster) WaitForNewLeader(old int, timeout time.Duration) int {
	c.t.Helper()
	testkit.WaitFor(c.t, timeout, "a new leader", func() bool { l := c.Leader(); return l >= 0 && l != old })
	return c.Leader()
}

// testLogger is quiet unless SHOAL_TEST_LOG is set.
func testLogger() *slog.Logger {
	if os.Getenv("SHOAL_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}
