package cluster

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/memberlist"
	"github.com/hashicorp/raft"
	raftboltdb "github.com/hashicorp/raft-boltdb/v2"

	"github.com/shoal-project/shoal/cluster/pki"
	"github.com/shoal-project/shoal/fsm"
)

// InventorySource fingerprints the local driver. The node calls it every
// InventoryInterval and gossips what changed.
type InventorySource func(ctx context.Context) (fsm.Inventory, error)

// Node is one shoal agent's cluster membership: gossip, Raft, forwarding.
type Node struct {
	cfg    Config
	log    *slog.Logger
	fsm    *fsm.FSM
	invSrc InventorySource
	// identity is what Bootstrapping returned, for the Bootstrap command
	// this node proposes as the new cluster's first leader.
	identity *fsm.BootstrapIdentity

	raft      *raft.Raft
	store     *raftboltdb.BoltStore
	transport *raft.NetworkTransport
	tls       *pki.Identity // this node's certificate, the CA, revocation
	// gossipKeys is the keyring memberlist starts with, from the bundle.
	gossipKeys [][]byte
	leaderCh   chan bool
	ml         *memberlist.Memberlist
	keyring    *memberlist.Keyring // memberlist's, kept in line with Raft's
	// gossipAddr is read from memberlist once, before anything runs:
	// LocalNode() is not safe to read while memberlist updates it.
	gossipAddr string

	httpLn  net.Listener
	httpSrv *http.Server
	fwd     *forwarder
	batch   *batcher

	mu        sync.Mutex
	inventory fsm.Inventory
	clusterID string             // as last published in our metadata
	members   map[string]*member // gossip view, including dead and left nodes
	mergeErr  error              // last merge this node refused
	leaving   bool               // published in metadata before a graceful leave
	keyIDs    []string           // gossip keys held, primary first (metadata)

	lease  *Lease
	grants atomic.Pointer[Grants] // while this node leads
	fenced bool                   // published in metadata (under mu)

	caughtUp    atomic.Bool
	reconcileCh chan struct{}
	peersCh     chan struct{}
	cancel      context.CancelFunc
	wg          sync.WaitGroup
}

// New opens the node's stores and listeners. Nothing runs until Start.
func New(cfg Config, invSrc InventorySource) (*Node, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	n := &Node{
		cfg:         cfg,
		log:         cfg.Logger.With("node", cfg.Name),
		fsm:         fsm.New(),
		invSrc:      invSrc,
		members:     map[string]*member{},
		reconcileCh: make(chan struct{}, 1),
		peersCh:     make(chan struct{}, 1),
		leaderCh:    make(chan bool, 8),
		lease:       NewLease(cfg.LeaseDuration, nil),
	}
	if exp, err := ReadLeaseFile(cfg.DataDir); err != nil {
		n.log.Warn("reading the recorded lease; starting without one", "err", err)
	} else {
		n.lease.Restore(exp)
	}
	ok := false
	defer func() {
		if !ok {
			n.closeAll()
		}
	}()
	ln, err := net.Listen("tcp", net.JoinHostPort(cfg.BindAddr, strconv.Itoa(cfg.HTTPPort)))
	if err != nil {
		return nil, fmt.Errorf("http listener: %w", err)
	}
	n.httpLn = ln
	if err := n.setupRaft(); err != nil {
		return nil, err
	}
	n.fwd = newForwarder(n)
	n.batch = newBatcher(n.raft, cfg.MaxBatch)
	if invSrc != nil {
		inv, err := invSrc(context.Background())
		if err != nil {
			return nil, fmt.Errorf("fingerprint: %w", err)
		}
		n.inventory = n.completeInventory(inv)
	}
	if err := n.setupGossip(); err != nil {
		return nil, err
	}
	ok = true
	return n, nil
}

// Start runs the node's loops and serves public (the API) plus the internal
// endpoints on the HTTP listener. It returns at once.
func (n *Node) Start(ctx context.Context, public http.Handler) {
	ctx, n.cancel = context.WithCancel(ctx)
	n.httpSrv = &http.Server{Handler: n.handler(public), ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout: 120 * time.Second, ErrorLog: newHTTPErrorLogger(n.log)}
	ln := tls.NewListener(n.httpLn, n.tls.HTTPServerTLS(n.cfg.APICert))
	n.goRun(func() {
		if err := n.httpSrv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			n.log.Error("http server stopped", "err", err)
		}
	})
	n.goRun(func() { n.batch.run(ctx) })
	n.goRun(func() { n.monitorLeadership(ctx) })
	n.goRun(func() { n.inventoryLoop(ctx) })
	n.goRun(func() { n.peersLoop(ctx) })
	n.goRun(func() { n.gossipRepairLoop(ctx) })
	n.goRun(func() { n.catchUpLoop(ctx) })
	n.goRun(func() { n.renewLoop(ctx) })
	n.goRun(func() { n.keyringLoop(ctx) })
	n.goRun(func() { n.certLoop(ctx) })
	if len(n.cfg.Join) == 0 && !n.hasState() && !n.cfg.Bootstrap {
		// It has no users to authenticate a request with yet: a member of
		// the cluster is asked to pull it in.
		n.log.Info("waiting to be joined: this node has no cluster state; as the cluster's admin, run `shoal join " +
			n.gossipAddr + "` against a member, or start it with --join or --bootstrap")
	}
}

func (n *Node) goRun(f func()) {
	n.wg.Add(1)
	go func() {
		defer n.wg.Done()
		f()
	}()
}

// Shutdown stops the node without leaving the cluster (a restart rejoins).
func (n *Node) Shutdown(ctx context.Context) error {
	if n.cancel != nil {
		n.cancel()
	}
	if n.httpSrv != nil {
		_ = n.httpSrv.Shutdown(ctx)
	}
	err := n.closeAll()
	n.wg.Wait()
	return err
}

func (n *Node) closeAll() error {
	var errs []error
	if n.ml != nil {
		errs = append(errs, n.ml.Shutdown())
	}
	if n.raft != nil {
		errs = append(errs, n.raft.Shutdown().Error())
	}
	if n.transport != nil {
		errs = append(errs, n.transport.Close())
	}
	if n.store != nil {
		errs = append(errs, n.store.Close())
	}
	if n.httpSrv == nil && n.httpLn != nil {
		_ = n.httpLn.Close()
	}
	return errors.Join(errs...)
}

// Leave leaves the cluster gracefully: leadership is handed over first, the
// leader removes this node from Raft, then gossip announces the departure.
func (n *Node) Leave(ctx context.Context) error {
	if n.raft.State() == raft.Leader && n.voterCount() > 1 {
		if err := n.raft.LeadershipTransfer().Error(); err != nil {
			n.log.Warn("leadership transfer before leave failed", "err", err)
		}
	}
	if n.inConfiguration() {
		if err := n.removePeer(ctx, n.cfg.Name); err != nil {
			return fmt.Errorf("leave: removing this node from raft: %w", err)
		}
	}
	timeout := 5 * time.Second
	if d, ok := ctx.Deadline(); ok {
		timeout = time.Until(d)
	}
	n.mu.Lock()
	n.leaving = true
	n.mu.Unlock()
	if err := n.ml.UpdateNode(timeout); err != nil {
		n.log.Warn("announcing leave", "err", err)
	}
	if err := n.ml.Leave(timeout); err != nil {
		return fmt.Errorf("gossip leave: %w", err)
	}
	return nil
}

// FSM is the local replica, for reads.
func (n *Node) FSM() *fsm.FSM { return n.fsm }

// Name is the node's name (its Raft server ID and gossip name).
func (n *Node) Name() string { return n.cfg.Name }

// HTTPAddr, GossipAddr and RaftAddr are the advertised host:port addresses.
func (n *Node) HTTPAddr() string {
	return net.JoinHostPort(n.cfg.AdvertiseAddr, strconv.Itoa(n.httpLn.Addr().(*net.TCPAddr).Port))
}

func (n *Node) GossipAddr() string { return n.gossipAddr }

func (n *Node) RaftAddr() string { return string(n.transport.LocalAddr()) }
