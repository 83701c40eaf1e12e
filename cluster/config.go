package cluster

import (
	"context"
	"crypto/tls"
	"fmt"
	"log/slog"
	"net"
	"time"

	"github.com/shoal-project/shoal/fsm"
)

// Config configures a Node. Zero values take the defaults in WithDefaults.
type Config struct {
	Name          string
	DataDir       string
	BindAddr      string // IP to listen on
	AdvertiseAddr string // IP others reach this node at; defaults to BindAddr
	HTTPPort      int    // 0 picks a free port
	GossipPort    int
	RaftPort      int
	Bootstrap     bool     // start a new cluster if there is no state
	Join          []string // gossip host:port of members, retried until one answers
	MaxVoters     int      // voters beyond this join as non-voters
	Zone          string   // availability zone published in the inventory
	Version       string   // agent version published in the inventory

	// Raft timing. Heartbeat and election default to 500 ms: fast failover on a LAN.
	HeartbeatTimeout  time.Duration
	ElectionTimeout   time.Duration
	SnapshotThreshold uint64
	TrailingLogs      uint64
	SnapshotInterval  time.Duration

	// GossipProfile is "lan" (default) or "local" (faster failure detection,
	// for loopback tests).
	GossipProfile string

	InventoryInterval time.Duration // how often the driver is fingerprinted
	ReconcileInterval time.Duration // how often the leader reconciles gossip into Raft
	HoldTimeout       time.Duration // how long a write waits for a leader
	MaxBatch          int           // commands per log entry when batching

	// Leases and failover. A node holds a lease of LeaseDuration while it
	// reaches a leader with quorum, and fences itself when it runs out. The
	// leader declares a host down (and evacuates it) once gossip says dead
	// and no lease was granted for LeaseDuration + LeaseMargin. A voter dead
	// for DeadVoterTimeout is removed from Raft. Defaults DefaultLease,
	// DefaultLeaseMargin, DefaultDeadVoterTimeout; the leader checks every
	// FailoverInterval (250ms).
	LeaseDuration    time.Duration
	LeaseMargin      time.Duration
	DeadVoterTimeout time.Duration
	FailoverInterval time.Duration

	// Moves the leader starts itself (drain.go): a drained host's servers,
	// at most DrainPerHost (2) moving from one host and DrainPerCluster (5)
	// in the whole cluster, with the scheduler's Ratios (fsm.DefaultRatios'
	// for a zero component); and the confirmation of a VERIFY_RESIZE older
	// than ResizeConfirmWindow (Nova's resize_confirm_window; 0: never).
	// The leader looks every DrainInterval (1 s).
	DrainPerHost        int
	DrainPerCluster     int
	ResizeConfirmWindow time.Duration
	DrainInterval       time.Duration
	Ratios              fsm.Ratios

	// CertTTL is how long the node certificates this node issues are valid
	// (DefaultCertTTL); each node renews its own at two thirds of its life.
	CertTTL time.Duration
	// APICert, if set, is the certificate the API presents to clients that
	// do not ask for a node (an operator's own, from a CA their users trust).
	// Node-to-node traffic always uses the cluster CA.
	APICert *tls.Certificate

	// NetworkCIDR is the default network's range, stamped at bootstrap.
	NetworkCIDR string
	// Bootstrapping runs once, when this node is about to bootstrap a new
	// cluster (Bootstrap set, no Raft state yet), with the node's advertised
	// HTTP address. The identity it returns (Keystone's bootstrap: roles,
	// project and user admin) goes into the cluster's Bootstrap command; nil
	// makes a cluster without users. An error stops New before anything is
	// bootstrapped. The agent makes the admin's password and writes its
	// credentials here: they exist before the cluster does, and a restart,
	// which finds Raft state, never makes them again.
	Bootstrapping func(httpAddr string) (*fsm.BootstrapIdentity, error)
	// OnLeader runs while this node leads, after the leader's barrier; its
	// context ends when leadership is lost. The scheduler runs here.
	OnLeader func(ctx context.Context)

	Logger *slog.Logger
}

const (
	maxZoneLen    = 64
	maxVersionLen = 32
)

// Defaults of the lease settings. They live here, once: the agent's flags,
// its in-process fence and the fence guard process all take them from here,
// so a zero lease can never mean 5s to one of them and 0 to another.
const (
	DefaultLease            = 5 * time.Second
	DefaultLeaseMargin      = 3 * time.Second
	DefaultDeadVoterTimeout = 30 * time.Second
)

// WithDefaults returns c with its zero fields set to the defaults; New
// applies it, and callers that hand the same values to other parts (the
// agent's fence) apply it first so they all see what the node will use.
func (c Config) WithDefaults() Config {
	setDefault(&c.AdvertiseAddr, c.BindAddr)
	setDefault(&c.MaxVoters, 5)
	setDefault(&c.Zone, "nova")
	setDefault(&c.Version, "dev")
	setDefault(&c.HeartbeatTimeout, 500*time.Millisecond)
	setDefault(&c.ElectionTimeout, 500*time.Millisecond)
	setDefault(&c.SnapshotInterval, 60*time.Second)
	setDefault(&c.InventoryInterval, 2*time.Second)
	setDefault(&c.ReconcileInterval, 5*time.Second)
	setDefault(&c.HoldTimeout, 10*time.Second)
	setDefault(&c.LeaseDuration, DefaultLease)
	setDefault(&c.LeaseMargin, DefaultLeaseMargin)
	setDefault(&c.DeadVoterTimeout, DefaultDeadVoterTimeout)
	setDefault(&c.FailoverInterval, 250*time.Millisecond)
	setDefault(&c.SnapshotThreshold, 8192)
	setDefault(&c.TrailingLogs, 10240)
	setDefault(&c.MaxBatch, 256)
	setDefault(&c.NetworkCIDR, fsm.DefaultNetworkCIDR)
	setDefault(&c.CertTTL, DefaultCertTTL)
	setDefault(&c.GossipProfile, "lan")
	setDefault(&c.Logger, slog.Default())
	setDefault(&c.DrainPerHost, 2)
	setDefault(&c.DrainPerCluster, 5)
	setDefault(&c.DrainInterval, time.Second)
	setDefault(&c.Ratios.CPU, fsm.DefaultRatios.CPU)
	setDefault(&c.Ratios.RAM, fsm.DefaultRatios.RAM)
	setDefault(&c.Ratios.Disk, fsm.DefaultRatios.Disk)
	return c
}

// setDefault sets *field to v when it is zero: in Config, zero means "the
// default".
func setDefault[T comparable](field *T, v T) {
	var zero T
	if *field == zero {
		*field = v
	}
}

// Validate reports the first problem with the configuration.
func (c Config) Validate() error {
	switch {
	case c.Name == "" || len(c.Name) > 63:
		return fmt.Errorf("node name must be 1 to 63 characters")
	case c.DataDir == "":
		return fmt.Errorf("a data directory is required")
	case net.ParseIP(c.BindAddr) == nil:
		return fmt.Errorf("bind address %q is not an IP address", c.BindAddr)
	case net.ParseIP(c.AdvertiseAddr) == nil:
		return fmt.Errorf("advertise address %q is not an IP address", c.AdvertiseAddr)
	case net.ParseIP(c.AdvertiseAddr).IsUnspecified():
		return fmt.Errorf("cannot advertise %s: set an advertise address others can reach", c.AdvertiseAddr)
	case c.MaxVoters < 1:
		return fmt.Errorf("max voters must be at least 1")
	case len(c.Zone) > maxZoneLen:
		return fmt.Errorf("zone must be at most %d characters", maxZoneLen)
	case c.GossipProfile != "lan" && c.GossipProfile != "local":
		return fmt.Errorf("gossip profile must be lan or local")
	case c.LeaseDuration < 100*time.Millisecond || c.LeaseMargin < 0:
		return fmt.Errorf("the lease must be at least 100ms and its margin not negative")
	case c.DeadVoterTimeout < time.Second:
		return fmt.Errorf("the dead voter timeout must be at least 1s")
	case c.DrainPerHost < 1 || c.DrainPerCluster < 1:
		return fmt.Errorf("drains must move at least 1 server at a time per host and in the cluster")
	case c.ResizeConfirmWindow < 0:
		return fmt.Errorf("the resize confirm window must not be negative (0: never)")
	}
	if _, err := fsm.NewNetwork("default", c.NetworkCIDR); err != nil {
		return err
	}
	for _, p := range []int{c.HTTPPort, c.GossipPort, c.RaftPort} {
		if p < 0 || p > 65535 {
			return fmt.Errorf("port %d out of range", p)
		}
	}
	for _, j := range c.Join {
		if _, _, err := net.SplitHostPort(j); err != nil {
			return fmt.Errorf("join address %q: %w", j, err)
		}
	}
	return nil
}
