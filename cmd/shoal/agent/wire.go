package agent

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
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
	onLeave   func()       // tells the agent's owner to shut it down
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
			Inventory: m.Inventory}
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
func (a apiCluster) InternalClient() *http.Client      { return a.n.InternalClient() }

// CreateJoinToken makes a join token; a ttl of 0 (the API's "not given")
// is the cluster's default.
func (a apiCluster) CreateJoinToken(ctx context.Context, ttl time.Duration, uses int, by string) (string, fsm.JoinToken, error) {
	if ttl == 0 {
		ttl = cluster.DefaultJoinTokenTTL
	}
	return a.n.CreateJoinToken(ctx, ttl, uses, by)
}

func (a apiCluster) RemoveHost(ctx context.Context, name string) error {
	return a.n.RemoveHost(ctx, name)
}

func (a apiCluster) RotateGossipKey(ctx context.Context) (string, error) {
	return a.n.RotateGossipKey(ctx)
}

// Leave leaves the cluster, then asks the agent's owner to shut it down; the
// HTTP server's graceful shutdown still delivers this request's reply.
func (a apiCluster) Leave(ctx context.Context) error {
	if err := a.n.Leave(ctx); err != nil {
		return err
	}
	a.onLeave()
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

// apiImages shows the image cache to the API in the API's terms.
type apiImages struct{ c *imagecache.Cache }

func (a apiImages) Put(ctx context.Context, r io.Reader, format string, max int64) (api.StoredImage, error) {
	st, err := a.c.Put(ctx, r, format, max)
	return api.StoredImage(st), err
}
func (a apiImages) Has(sum string) bool                           { return a.c.Has(sum) }
func (a apiImages) Open(sum string) (io.ReadCloser, int64, error) { return a.c.Open(sum) }

// laterNode lets what must exist before the node (the image cache, the
// driver: the node needs the driver's fingerprint) reach it once it does.
// The pointer is atomic because the libvirt driver's goroutines may ask
// while New is still building the node.
type laterNode struct{ n *atomic.Pointer[cluster.Node] }

var errNodeNotReady = errors.New("the node is not running yet")

func (l laterNode) Image(ref string) (fsm.Image, error) {
	n := l.n.Load()
	if n == nil {
		return fsm.Image{}, errNodeNotReady
	}
	return n.FSM().Image(ref)
}

func (l laterNode) HostHTTPAddress(name string) (string, bool) {
	n := l.n.Load()
	if n == nil {
		return "", false
	}
	h, err := n.FSM().Host(name)
	return h.HTTPAddress, err == nil && h.HTTPAddress != ""
}

// internalClient is the node's TLS client (cluster.Node.InternalClient) for
// what is built before the node: each request goes through the node's
// client as it is when the request is made.
func (l laterNode) internalClient() *http.Client { return &http.Client{Transport: l} }

// RoundTrip makes laterNode the transport of internalClient.
func (l laterNode) RoundTrip(req *http.Request) (*http.Response, error) {
	n := l.n.Load()
	if n == nil {
		if req.Body != nil {
			req.Body.Close()
		}
		return nil, errNodeNotReady
	}
	return n.InternalClient().Transport.RoundTrip(req)
}

func (l laterNode) Apply(ctx context.Context, c fsm.Command) (uint64, error) {
	n := l.n.Load()
	if n == nil {
		return 0, errNodeNotReady
	}
	return n.Apply(ctx, c)
}

func (l laterNode) clusterID() string {
	n := l.n.Load()
	if n == nil {
		return ""
	}
	return n.FSM().ClusterID()
}

func (l laterNode) network() (fsm.NetworkInfo, bool) {
	n := l.n.Load()
	if n == nil {
		return fsm.NetworkInfo{}, false
	}
	return n.FSM().Network()
}

// consolesOf serves console logs and NMIs from the driver when it runs
// instances.
func consolesOf(d compute.Driver) api.Consoles {
	if hv, ok := d.(compute.Hypervisor); ok {
		return consoles{hv}
	}
	return nil
}

// consoles is a Hypervisor as api.Consoles: a domain that is missing or
// not running is api's conflict.
type consoles struct{ compute.Hypervisor }

func (c consoles) InjectNMI(ctx context.Context, id string) error {
	err := c.Hypervisor.InjectNMI(ctx, id)
	if errors.Is(err, compute.ErrNotFound) || errors.Is(err, compute.ErrInvalidState) {
		return fmt.Errorf("%w: %v", fsm.ErrConflict, err)
	}
	return err
}

// inventorySource gossips the driver's fingerprint less what the host keeps
// for itself.
func inventorySource(d compute.Driver, reserved compute.Reserved) cluster.InventorySource {
	return func(ctx context.Context) (fsm.Inventory, error) {
		inv, err := d.Fingerprint(ctx)
		if err != nil {
			return fsm.Inventory{}, err
		}
		return reserved.Apply(inv), nil
	}
}
