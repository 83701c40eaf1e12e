package agent

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/shoal-project/shoal/api"
	"github.com/shoal-project/shoal/api/identity"
	"github.com/shoal-project/shoal/cluster"
	"github.com/shoal-project/shoal/compute"
	"github.com/shoal-project/shoal/compute/fake"
	"github.com/shoal-project/shoal/compute/imagecache"
	"github.com/shoal-project/shoal/compute/libvirt"
	"github.com/shoal-project/shoal/compute/network"
	"github.com/shoal-project/shoal/scheduler"
)

// libvirtTimeout bounds the first connection to libvirtd: a daemon that does
// not answer by then fails the preflight instead of hanging the start.
const libvirtTimeout = 5 * time.Second

// Deps are what an agent takes from outside its Config.
type Deps struct {
	// Host answers the preflight's questions about this machine; zero
	// fields are the real machine's.
	Host Host
	// Executable is the shoal binary the fence guard runs; empty: this
	// process's own (the agent and the guard are one binary).
	Executable string
	// FakeWorld, with the fake driver, is the world its hosts migrate in:
	// agents of one process given the same one move servers between them.
	FakeWorld *fake.World
}

// Agent is one running shoal node: its cluster node, API, compute driver,
// image cache, reconciler and fence, and (with libvirt) its fence guard.
type Agent struct {
	cfg    Config
	deps   Deps
	log    *slog.Logger
	node   *cluster.Node
	driver compute.Driver
	images *imagecache.Cache
	api    *api.Server
	signer *identity.Signer // this node's token key (DataDir/identity)

	scheduling atomic.Bool   // the scheduler runs here (leader only)
	left       chan struct{} // closed once a graceful leave is done
	leaveOnce  sync.Once

	cancel context.CancelFunc // the loops Start began
	wg     sync.WaitGroup
	guard  *guardProcess
}

// New checks the host (the preflight), then opens everything the agent
// needs: data dir, image cache, driver, the node's stores and listeners.
// Nothing serves and nothing runs until Start; an error leaves nothing
// open. New takes no context: every blocking step is bounded.
func New(cfg Config, deps Deps) (*Agent, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if err := Preflight(cfg, deps.Host); err != nil {
		return nil, err
	}
	apiCert, err := loadAPICert(cfg.TLSCertFile, cfg.TLSKeyFile)
	if err != nil {
		return nil, err
	}
	if err := makeDataDir(cfg.DataDir); err != nil {
		return nil, err
	}
	a := &Agent{cfg: cfg, deps: deps, log: cfg.Logger, left: make(chan struct{})}
	var node atomic.Pointer[cluster.Node]
	later := laterNode{&node}
	signer, err := identity.LoadOrCreateKey(filepath.Join(cfg.DataDir, "identity"))
	if err != nil {
		return nil, err
	}
	a.signer = signer
	images, err := imagecache.New(imagecache.Config{Dir: filepath.Join(cfg.DataDir, "images"),
		NodeName: cfg.Name, Logger: a.log, Images: later, Peers: later, Recorder: later, HTTPClient: later.internalClient()})
	if err != nil {
		return nil, err
	}
	a.images = images
	if a.driver, err = a.openDriver(later); err != nil {
		return nil, err
	}
	ok := false
	defer func() {
		if !ok {
			a.driver.Close()
		}
	}()
	ccfg := cfg.clusterConfig()
	ccfg.OnLeader = a.schedule
	ccfg.Bootstrapping = a.bootstrapping
	ccfg.APICert = apiCert
	if a.node, err = cluster.New(ccfg, inventorySource(a.driver, a.cfg.Reserved)); err != nil {
		return nil, err
	}
	node.Store(a.node)
	a.api = api.New(api.Config{State: a.node.FSM(), Logger: a.log, NodeName: cfg.Name,
		Migrator: migratorOf(a.driver),
		Cluster:  apiCluster{n: a.node, onLeave: a.markLeft, scheduler: &a.scheduling},
		Consoles: consolesOf(a.driver), Images: apiImages{images},
		Auth: api.Auth{Signer: signer, TokenTTL: cfg.TokenTTL}, Modules: apiModules(), Ratios: cfg.Ratios})
	ok = true
	return a, nil
}

// makeDataDir creates the data dir private to its user. Parents it has to
// create are searchable only (0711, whatever the umask), like the libvirt
// driver's own dirs: QEMU, running as its own user, must pass through them
// to the disks, and the preflight counted on it.
func makeDataDir(dir string) error {
	dir = filepath.Clean(dir)
	var missing []string
	for p := filepath.Dir(dir); ; p = filepath.Dir(p) {
		if _, err := os.Stat(p); err == nil {
			break
		} else if !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("data dir: %w", err)
		}
		missing = append(missing, p)
		if p == filepath.Dir(p) {
			break
		}
	}
	for _, p := range slices.Backward(missing) {
		if err := os.Mkdir(p, 0o711); err != nil && !errors.Is(err, fs.ErrExist) {
			return fmt.Errorf("data dir: %w", err)
		}
		if err := os.Chmod(p, 0o711); err != nil {
			return fmt.Errorf("data dir: %w", err)
		}
	}
	if err := os.Mkdir(dir, 0o700); err != nil && !errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("data dir: %w", err)
	}
	return nil
}

func (a *Agent) openDriver(later laterNode) (compute.Driver, error) {
	switch a.cfg.Driver {
	case DriverFake:
		cfg := a.cfg.Fake
		cfg.StateFile = filepath.Join(a.cfg.DataDir, "fake-hypervisor.json")
		d, err := fake.Open(cfg)
		if err != nil {
			return nil, err
		}
		if a.deps.FakeWorld != nil {
			a.deps.FakeWorld.Add(a.cfg.Name, d)
		}
		return d, nil
	default:
		cfg := a.cfg.libvirtConfig()
		cfg.ClusterID, cfg.Images, cfg.Network = later.clusterID, a.images, later.network
		cfg.ConfigDrive = later.configDrive
		ctx, cancel := context.WithTimeout(context.Background(), libvirtTimeout)
		defer cancel()
		d, err := libvirt.New(ctx, cfg)
		if err != nil {
			return nil, libvirtPreflight(err)
		}
		return d, nil
	}
}

// schedule runs the scheduler while this node leads (cluster's OnLeader).
func (a *Agent) schedule(ctx context.Context) {
	a.scheduling.Store(true)
	defer a.scheduling.Store(false)
	scheduler.New(a.cfg.schedulerConfig(), a.node.FSM(), a.node, planner{a.node}).Run(ctx)
}

func (a *Agent) markLeft() { a.leaveOnce.Do(func() { close(a.left) }) }

// Left is closed once this node has left its cluster through the API; the
// owner then shuts the agent down.
func (a *Agent) Left() <-chan struct{} { return a.left }

// Node is the agent's cluster node, for what runs beside the API in the
// same process (tests make join tokens with it).
func (a *Agent) Node() *cluster.Node { return a.node }

// Health is the node's health as its API reports it.
func (a *Agent) Health() api.Health {
	return apiCluster{n: a.node, scheduler: &a.scheduling}.Health()
}

// HTTPAddr is the advertised address of the API.
func (a *Agent) HTTPAddr() string { return a.node.HTTPAddr() }

// Start starts the fence guard (libvirt), serves the API and runs the node's
// loops, the reconciler and the image loops. It returns at once; the loops
// run until Shutdown.
func (a *Agent) Start(ctx context.Context) error {
	if a.cfg.Driver == DriverLibvirt {
		g, err := startGuard(a.cfg, a.deps.Executable, a.log)
		if err != nil {
			return err
		}
		a.guard = g
	}
	a.node.Start(ctx, a.api.Handler())
	ctx, a.cancel = context.WithCancel(ctx)
	a.startReconciler(ctx)
	a.every(ctx, 5*time.Minute, a.pruneImages)
	a.every(ctx, 5*time.Second, a.replicateImages)
	a.wg.Go(func() { a.publishKey(ctx) })
	a.log.Info("shoal agent running", "name", a.cfg.Name, "http", a.node.HTTPAddr(), "gossip", a.node.GossipAddr(),
		"raft", a.node.RaftAddr(), "driver", a.cfg.Driver, "version", a.cfg.Version)
	return nil
}

// Shutdown stops the loops and waits for them, then the node (without
// leaving the cluster: a restart rejoins), then lets the fence guard go on
// alone and closes the driver. It may follow New without Start.
func (a *Agent) Shutdown(ctx context.Context) error {
	if a.cancel != nil {
		a.cancel()
	}
	a.wg.Wait()
	err := a.node.Shutdown(ctx)
	if a.guard != nil {
		a.guard.release()
	}
	return errors.Join(err, a.driver.Close())
}

// startReconciler runs this node's fence and reconciler when its driver can
// run instances and, with libvirt, the network reconciler, which the fence's
// changes wake at once, and the metadata service its DNAT leads to.
func (a *Agent) startReconciler(ctx context.Context) {
	hv, ok := a.driver.(compute.Hypervisor)
	if !ok {
		a.log.Warn("this driver cannot run instances yet; servers placed on this host will stay in BUILD")
		return
	}
	n := a.node
	n.SetFenced(true) // until the first lease and re-read replica
	lead := compute.FenceLead(a.cfg.Lease)
	valid := func() bool { return n.Lease().Remaining() > lead }
	var fence *compute.Fence
	onChange := n.SetFenced
	plane := a.networkReconciler(func() bool { return !fence.Ready() })
	if plane != nil {
		onChange = func(fenced bool) {
			n.SetFenced(fenced)
			plane.Kick() // a fenced host withdraws its floating IPs at once
		}
	}
	fence = compute.NewFence(compute.FenceConfig{Valid: valid, Resync: n.SyncReplica,
		OnChange: onChange, Logger: a.log}, hv)
	ready := func() bool { return fence.Ready() && n.CaughtUp() }
	r := compute.NewReconciler(compute.ReconcilerConfig{Host: n.Name(), Logger: a.log, Epoch: fence.Epoch,
		Peers: peers{hosts: n.FSM(), client: n.InternalClient, uri: a.cfg.MigrationURI}, Migrate: a.cfg.LiveMigration},
		n.FSM(), fence.Guard(hv), reporter{n}, ready)
	a.wg.Go(func() { fence.Run(ctx) })
	a.wg.Go(func() { r.Run(ctx) })
	if plane != nil {
		a.wg.Go(func() { plane.Run(ctx) })
		if d, ok := a.driver.(*libvirt.Driver); ok {
			a.startMetadata(ctx, d)
		}
	}
}

// networkReconciler is the host's data plane reconciler (routes, floating
// IPs, NAT, security groups), with the libvirt driver only: it programs the
// bridge libvirt makes. fenced tells it to hold no floating IP.
func (a *Agent) networkReconciler(fenced func() bool) *network.Reconciler {
	d, ok := a.driver.(*libvirt.Driver)
	if !ok {
		return nil
	}
	var addr netip.Addr // the advertise address, as peers see this host
	if host, _, err := net.SplitHostPort(a.node.RaftAddr()); err == nil {
		addr, _ = netip.ParseAddr(host)
	}
	r, err := network.New(network.Config{Host: a.node.Name(), Address: addr, ExternalInterface: a.cfg.ExternalInterface,
		MetadataPort: uint16(a.cfg.MetadataPort), Bridge: d.Bridge, Fenced: fenced, Logger: a.log},
		a.node.FSM(), network.NewKernelDataplane(a.node.Name(), a.cfg.DataDir, a.log))
	if err != nil {
		a.log.Error("network reconciler not started", "err", err)
		return nil
	}
	return r
}

// pruneImages removes cached images no image record names any more, once
// the replica has caught up.
func (a *Agent) pruneImages(context.Context) {
	if !a.node.CaughtUp() {
		return
	}
	removed, err := a.images.Prune(imagecache.InUse(a.node.FSM().Images()), time.Hour)
	if err != nil {
		a.log.Warn("pruning the image cache", "err", err)
	}
	if len(removed) > 0 {
		a.log.Info("removed cached images of deleted images", "checksums", removed)
	}
}

// replicateImages keeps copies of the images this host is a replica of
// (imagecache.DefaultCopies hosts per image, among hosts that are up), so a
// server can be rebuilt elsewhere when the host that had its image dies.
func (a *Agent) replicateImages(ctx context.Context) {
	if !a.node.CaughtUp() {
		return
	}
	var hosts []string
	for _, h := range a.node.FSM().Hosts() {
		if !h.Down && !h.ForcedDown {
			hosts = append(hosts, h.Name)
		}
	}
	a.images.Replicate(ctx, a.node.FSM().Images(), hosts, imagecache.DefaultCopies)
}

// every runs f every interval until ctx ends, as one of the agent's loops.
func (a *Agent) every(ctx context.Context, interval time.Duration, f func(ctx context.Context)) {
	a.wg.Go(func() {
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
	})
}
