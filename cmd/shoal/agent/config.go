package agent

import (
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/shoal-project/shoal/cluster"
	"github.com/shoal-project/shoal/compute"
	"github.com/shoal-project/shoal/compute/fake"
	"github.com/shoal-project/shoal/compute/libvirt"
	"github.com/shoal-project/shoal/compute/metadata"
	"github.com/shoal-project/shoal/fsm"
	"github.com/shoal-project/shoal/scheduler"
)

// Compute drivers an agent can run.
const (
	DriverLibvirt = "libvirt"
	DriverFake    = "fake"
)

// Defaults the binary's flags show. A zero port in Config picks a free one
// (what tests want); the well-known ports come from the flags.
const (
	DefaultBindAddr   = "127.0.0.1"
	DefaultHTTPPort   = 8774
	DefaultGossipPort = 7946
	DefaultRaftPort   = 7947
	// DefaultDataDir is the agent's data dir, and where `shoal join` looks
	// for its socket, unless told otherwise.
	DefaultDataDir = "/var/lib/shoal"
)

// maxInterfaceName is the longest Linux interface name (IFNAMSIZ - 1).
const maxInterfaceName = 15

// schedulerStartupGrace keeps a new leader from failing servers with "No
// valid host" before every host has gossiped to it.
const schedulerStartupGrace = 5 * time.Second

// Config is everything an agent is made of. Zero fields take the defaults of
// WithDefaults; the lease settings take cluster's, once, so the node, its
// fence and the fence guard all run on the same values.
type Config struct {
	Name          string
	DataDir       string
	BindAddr      string // default DefaultBindAddr
	AdvertiseAddr string // default BindAddr
	HTTPPort      int    // 0: a free port
	GossipPort    int    // 0: a free port
	RaftPort      int    // 0: a free port
	Bootstrap     bool
	Join          []string
	// JoinToken, for a node that is not a member yet, is traded for its
	// certificate before it starts (see Admit). A secret: never logged.
	JoinToken   string
	MaxVoters   int    // default cluster's
	Zone        string // default cluster's
	NetworkCIDR string // default fsm.DefaultNetworkCIDR
	// Ratios are the scheduler's allocation ratios; a zero component takes
	// fsm.DefaultRatios'.
	Ratios fsm.Ratios
	// Drains move at most DrainPerHost servers from one host and
	// DrainPerCluster in the cluster at once (0: cluster's defaults, 2 and
	// 5); the leader confirms a VERIFY_RESIZE older than
	// ResizeConfirmWindow (0: never).
	DrainPerHost        int
	DrainPerCluster     int
	ResizeConfirmWindow time.Duration

	// Lease is how long this host may run its servers without reaching a
	// leader with quorum; LeaseMargin is the leader's extra wait before it
	// evacuates a dead host. Defaults cluster.DefaultLease and friends.
	Lease            time.Duration
	LeaseMargin      time.Duration
	DeadVoterTimeout time.Duration

	// TokenTTL is how long the tokens this node issues live; 0 is
	// api.DefaultTokenTTL.
	TokenTTL time.Duration
	// AdminPasswordFile holds the bootstrap admin's password (read on a real
	// bootstrap only, and only when it is its owner's alone); empty: the
	// password is made up. Either way it ends up in DataDir/admin-openrc.
	AdminPasswordFile string

	// TLSCertFile and TLSKeyFile are the operator's own certificate for the
	// API (both or neither; the key file its owner's alone); node traffic
	// keeps the cluster CA's certificates either way.
	TLSCertFile string
	TLSKeyFile  string
	// CertTTL is how long the node certificates this node signs live; 0 is
	// cluster.DefaultCertTTL. Tests shorten it to see renewals.
	CertTTL time.Duration

	Driver     string      // DriverLibvirt (default) or DriverFake
	LibvirtURI string      // default libvirt.DefaultURI
	Fake       fake.Config // the fake driver's capacity; its state file is the agent's
	Version    string      // published in the inventory
	Logger     *slog.Logger

	// Reserved is what the host keeps for itself, taken off the driver's
	// fingerprint whatever the driver. Zero reserves nothing; the binary's
	// flags default to Nova's (compute.DefaultReservedMemoryMiB).
	Reserved compute.Reserved

	// ExternalInterface is the uplink that holds floating IPs and carries
	// guests' traffic out (libvirt driver); empty: the interface holding
	// the advertise address.
	ExternalInterface string
	// MetadataPort is the metadata service's port on the tenant gateway
	// (libvirt driver), where guests' 169.254.169.254:80 is DNATed; agents
	// sharing a host take one each. 0: metadata.DefaultPort (Nova's 8775).
	MetadataPort int
	// ForceConfigDrive gives every server on this host a config drive,
	// asked for or not (libvirt driver; Nova's force_config_drive).
	ForceConfigDrive bool

	// MigrationURI is the destination libvirtd's URI for the migrations
	// this host sends, with one %s for the destination's cluster address
	// (default DefaultMigrationURI). LiveMigration tunes live migrations:
	// zero durations take the defaults (DefaultLiveMigration*), and the
	// binary's flag turns AutoConverge on; Live is each step's own.
	MigrationURI  string
	LiveMigration compute.MigrateOptions
}

// WithDefaults returns c with its zero fields set.
func (c Config) WithDefaults() Config {
	if c.BindAddr == "" {
		c.BindAddr = DefaultBindAddr
	}
	if c.Driver == "" {
		c.Driver = DriverLibvirt
	}
	if c.LibvirtURI == "" {
		c.LibvirtURI = libvirt.DefaultURI
	}
	if c.MetadataPort == 0 {
		c.MetadataPort = metadata.DefaultPort
	}
	c.Fake = c.Fake.WithDefaults()
	c = c.migrationWithDefaults()
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	// The lease settings are cluster's to default: take its values so
	// what the fence and the guard are told is what the node runs on.
	cc := c.clusterConfig().WithDefaults()
	c.Lease, c.LeaseMargin, c.DeadVoterTimeout = cc.LeaseDuration, cc.LeaseMargin, cc.DeadVoterTimeout
	return c
}

// Validate reports every problem with c (after its defaults), so a bad flag
// is refused before anything starts.
func (c Config) Validate() error {
	c = c.WithDefaults()
	var errs []error
	if err := c.clusterConfig().WithDefaults().Validate(); err != nil {
		errs = append(errs, err)
	}
	if err := c.schedulerConfig().Validate(); err != nil {
		errs = append(errs, err)
	}
	if err := c.Reserved.Validate(); err != nil {
		errs = append(errs, err)
	}
	if len(c.ExternalInterface) > maxInterfaceName || strings.ContainsAny(c.ExternalInterface, "/ \t\n") {
		errs = append(errs, fmt.Errorf("external interface %q is not an interface name", c.ExternalInterface))
	}
	if c.MetadataPort < 1 || c.MetadataPort > 65535 {
		errs = append(errs, fmt.Errorf("metadata port %d is out of range", c.MetadataPort))
	}
	errs = append(errs, c.validateMigration()...)
	if c.TokenTTL < 0 {
		errs = append(errs, fmt.Errorf("the token lifetime must be positive, not %v", c.TokenTTL))
	}
	if c.CertTTL < 0 {
		errs = append(errs, fmt.Errorf("the node certificate lifetime must be positive, not %v", c.CertTTL))
	}
	if c.Bootstrap && c.JoinToken != "" {
		// One of the two is a mistake, and guessing which would either
		// make a cluster nobody wanted or spend a token: refuse both.
		errs = append(errs, errors.New("--bootstrap starts a new cluster and --join-token joins an existing one: give one of them"))
	}
	if (c.TLSCertFile == "") != (c.TLSKeyFile == "") {
		errs = append(errs, fmt.Errorf("%w: give both the certificate and its key, or neither", ErrAPICert))
	}
	switch c.Driver {
	case DriverFake:
		if err := c.Fake.Validate(); err != nil {
			errs = append(errs, err)
		}
	case DriverLibvirt:
		if err := c.libvirtConfig().WithDefaults().Validate(); err != nil {
			errs = append(errs, err)
		}
	default:
		errs = append(errs, fmt.Errorf("unknown driver %q: use %s or %s", c.Driver, DriverLibvirt, DriverFake))
	}
	return errors.Join(errs...)
}

// clusterConfig is the node's share of c; OnLeader is set by New.
func (c Config) clusterConfig() cluster.Config {
	return cluster.Config{
		Name:             c.Name,
		DataDir:          c.DataDir,
		BindAddr:         c.BindAddr,
		AdvertiseAddr:    c.AdvertiseAddr,
		HTTPPort:         c.HTTPPort,
		GossipPort:       c.GossipPort,
		RaftPort:         c.RaftPort,
		Bootstrap:        c.Bootstrap,
		Join:             c.Join,
		MaxVoters:        c.MaxVoters,
		Zone:             c.Zone,
		Version:          c.Version,
		NetworkCIDR:      c.NetworkCIDR,
		Logger:           c.Logger,
		LeaseDuration:    c.Lease,
		LeaseMargin:      c.LeaseMargin,
		DeadVoterTimeout: c.DeadVoterTimeout,
		CertTTL:          c.CertTTL,
		Ratios:           c.Ratios,
		DrainPerHost:     c.DrainPerHost,
		DrainPerCluster:  c.DrainPerCluster,

		ResizeConfirmWindow: c.ResizeConfirmWindow,
	}
}

func (c Config) schedulerConfig() scheduler.Config {
	return scheduler.Config{Logger: c.Logger, StartupGrace: schedulerStartupGrace, Ratios: c.Ratios}
}

// libvirtConfig is the driver's share of c; the image cache and the
// cluster's views are added by New.
func (c Config) libvirtConfig() libvirt.Config {
	return libvirt.Config{URI: c.LibvirtURI, DataDir: c.DataDir, Logger: c.Logger, Node: c.Name,
		ForceConfigDrive: c.ForceConfigDrive}
}
