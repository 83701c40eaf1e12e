package main

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/shoal-project/shoal/api"
	"github.com/shoal-project/shoal/cluster"
	"github.com/shoal-project/shoal/compute"
	"github.com/shoal-project/shoal/compute/imagecache"
	"github.com/shoal-project/shoal/fsm"
)

// apiCluster shows a cluster.Node to the API in the API's own terms.
type apiCluster struct {
	n         *cluster.Node
	onLeave   func()       // stops the agent after a graceful leave
	scheduler *atomic.Bool // the scheduler runs on this node
}

func (a apiCluster) Apply(ctx context.Context, c fsm.Command) (uint64, error) {
	return a.n.Apply(ctx, c)
}

func (a apiCluster) Members() []api.Member {
	ms := a.n.Members()
	out := make([]api.Member, len(ms))
	for i, m := range ms {
		out[i] = api.Member{Name: m.Name, Address: m.Address, Status: m.Status, Role: m.Role, Fenced: m.Fenced,
			Inventory: api.Inventory(m.Inventory)}
	}
	return out
}

func (a apiCluster) Leader() (api.Leader, bool) {
	l, ok := a.n.Leader()
	return api.Leader(l), ok
}

func (a apiCluster) IsLeader() bool                    { return a.n.IsLeader() }
func (a apiCluster) Barrier(ctx context.Context) error { return a.n.Barrier(ctx) }
func (a apiCluster) Sync(ctx context.Context) error    { return a.n.SyncReplica(ctx) }
func (a apiCluster) Join(ctx context.Context, peers []string) error {
	return a.n.Join(ctx, peers)
}
func (a apiCluster) Leave(ctx context.Context) error {
	if err := a.n.Leave(ctx); err != nil {
		return err
	}
	// Stop after the reply has had time to go out.
	time.AfterFunc(500*time.Millisecond, a.onLeave)
	return nil
}

func (a apiCluster) Health() api.Health {
	h := a.n.Health()
	return api.Health{Name: h.Name, Status: h.Status, ClusterID: h.ClusterID, Role: h.Role, Leader: h.Leader,
		Index: h.Index, Version: h.Version, Fenced: h.Fenced, LeaseRemainingMS: h.LeaseRemaining.Milliseconds(),
		Scheduler: a.scheduler != nil && a.scheduler.Load() && h.Role == "leader"}
}

// planner commits the scheduler's plans through the node.
type planner struct{ n *cluster.Node }

func (p planner) SubmitPlan(ctx context.Context, plan *fsm.Plan) (uint64, error) {
	return p.n.Apply(ctx, plan)
}

// reporter commits a host's observations through the node.
type reporter struct{ n *cluster.Node }

func (r reporter) Report(ctx context.Context, rep *fsm.ReportInstances) error {
	_, err := r.n.Apply(ctx, rep)
	return err
}

// startReconciler runs this node's reconciler when its driver can run
// instances; the returned function stops it and waits.
func startReconciler(ctx context.Context, n *cluster.Node, d compute.Driver, logger *slog.Logger) func() {
	hv, ok := d.(compute.Hypervisor)
	if !ok {
		logger.Warn("this driver cannot run instances yet; servers placed on this host will stay in BUILD")
		return func() {}
	}
	ctx, cancel := context.WithCancel(ctx)
	n.SetFenced(true) // until the first lease and re-read replica
	lead := compute.FenceLead(n.Lease().Duration())
	valid := func() bool { return n.Lease().Remaining() > lead }
	fence := compute.NewFence(compute.FenceConfig{Valid: valid, Resync: n.SyncReplica,
		OnChange: n.SetFenced, Logger: logger}, hv)
	ready := func() bool { return fence.Ready() && n.CaughtUp() }
	r := compute.NewReconciler(compute.ReconcilerConfig{Host: n.Name(), Logger: logger, Epoch: fence.Epoch},
		n.FSM(), fence.Guard(hv), reporter{n}, ready)
	var wg sync.WaitGroup
	wg.Go(func() { fence.Run(ctx) })
	wg.Go(func() { r.Run(ctx) })
	return func() { cancel(); wg.Wait() }
}

// apiImages shows the image cache to the API in the API's terms.
type apiImages struct{ c *imagecache.Cache }

func (a apiImages) Put(ctx context.Context, r io.Reader, format string, max int64) (api.StoredImage, error) {
	st, err := a.c.Put(ctx, r, format, max)
	return api.StoredImage(st), err
}
func (a apiImages) Has(sum string) bool                           { return a.c.Has(sum) }
func (a apiImages) Open(sum string) (io.ReadCloser, int64, error) { return a.c.Open(sum) }

// laterNode lets what must exist before the node (the image cache, the
// driver) reach it once it does.
type laterNode struct{ n **cluster.Node }

var errNodeNotReady = errors.New("the node is not running yet")

func (l laterNode) Image(ref string) (fsm.Image, error) {
	if *l.n == nil {
		return fsm.Image{}, errNodeNotReady
	}
	return (*l.n).FSM().Image(ref)
}

func (l laterNode) HostHTTPAddress(name string) (string, bool) {
	if *l.n == nil {
		return "", false
	}
	h, err := (*l.n).FSM().Host(name)
	return h.HTTPAddress, err == nil && h.HTTPAddress != ""
}

func (l laterNode) Apply(ctx context.Context, c fsm.Command) (uint64, error) {
	if *l.n == nil {
		return 0, errNodeNotReady
	}
	return (*l.n).Apply(ctx, c)
}

func (l laterNode) clusterID() string {
	if *l.n == nil {
		return ""
	}
	return (*l.n).FSM().ClusterID()
}

func (l laterNode) network() (fsm.NetworkInfo, bool) {
	if *l.n == nil {
		return fsm.NetworkInfo{}, false
	}
	return (*l.n).FSM().Network()
}

// startImagePruner removes cached images no image record names any more,
// every few minutes once the replica has caught up; the returned function
// stops it and waits.
func startImagePruner(ctx context.Context, n *cluster.Node, c *imagecache.Cache, logger *slog.Logger) func() {
	return every(ctx, 5*time.Minute, func(context.Context) {
		if !n.CaughtUp() {
			return
		}
		removed, err := c.Prune(imagecache.InUse(n.FSM().Images()), time.Hour)
		if err != nil {
			logger.Warn("pruning the image cache", "err", err)
		}
		if len(removed) > 0 {
			logger.Info("removed cached images of deleted images", "checksums", removed)
		}
	})
}

// startImageReplicator keeps copies of the images this host is a replica of
// (imagecache.DefaultCopies hosts per image, among hosts that are up), so a
// server can be rebuilt elsewhere when the host that had its image dies.
func startImageReplicator(ctx context.Context, n *cluster.Node, c *imagecache.Cache) func() {
	return every(ctx, 5*time.Second, func(ctx context.Context) {
		if !n.CaughtUp() {
			return
		}
		var hosts []string
		for _, h := range n.FSM().Hosts() {
			if !h.Down && !h.ForcedDown {
				hosts = append(hosts, h.Name)
			}
		}
		c.Replicate(ctx, n.FSM().Images(), hosts, imagecache.DefaultCopies)
	})
}

// every runs f every interval until ctx ends; the returned function stops
// it and waits.
func every(ctx context.Context, interval time.Duration, f func(ctx context.Context)) func() {
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			f(ctx)
		}
	}()
	return func() { cancel(); <-done }
}

// consolesOf serves console logs from the driver when it runs instances.
func consolesOf(d compute.Driver) api.Consoles {
	if hv, ok := d.(compute.Hypervisor); ok {
		return hv
	}
	return nil
}

// inventorySource turns the driver's fingerprint into gossip inventory.
func inventorySource(d compute.Driver) cluster.InventorySource {
	return func(ctx context.Context) (cluster.Inventory, error) {
		f, err := d.Fingerprint(ctx)
		if err != nil {
			return cluster.Inventory{}, err
		}
		return cluster.Inventory{
			VCPUs: f.VCPUs, VCPUsFree: f.VCPUsFree, MemoryMiB: f.MemoryMiB, MemoryFreeMiB: f.MemoryFreeMiB,
			DiskGiB: f.DiskGiB, DiskFreeGiB: f.DiskFreeGiB, Arch: f.Arch, HypervisorType: f.HypervisorType,
			HypervisorVersion: f.HypervisorVersion, Instances: f.Instances,
		}, nil
	}
}
