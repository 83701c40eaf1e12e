package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/shoal-project/shoal/api"
	"github.com/shoal-project/shoal/cluster"
	"github.com/shoal-project/shoal/compute"
	"github.com/shoal-project/shoal/compute/fake"
	"github.com/shoal-project/shoal/compute/imagecache"
	"github.com/shoal-project/shoal/compute/libvirt"
	"github.com/shoal-project/shoal/fsm"
	"github.com/shoal-project/shoal/scheduler"
)

func agentCommand() *cli.Command {
	host, _ := os.Hostname()
	env := func(name string) []string { return []string{"SHOAL_" + name} }
	return &cli.Command{
		Name:  "agent",
		Usage: "run a shoal node (gossip, Raft, API, scheduler and compute driver)",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "name", Value: host, EnvVars: env("NAME"), Usage: "node name, unique in the cluster"},
			&cli.StringFlag{Name: "data-dir", Required: true, EnvVars: env("DATA_DIR"), Usage: "where Raft state, images and disks live"},
			&cli.StringFlag{Name: "bind", Value: "127.0.0.1", EnvVars: env("BIND"), Usage: "IP address to listen on"},
			&cli.StringFlag{Name: "advertise", EnvVars: env("ADVERTISE"), Usage: "IP address other nodes reach this one at (default: --bind)"},
			&cli.IntFlag{Name: "http-port", Value: 8774, EnvVars: env("HTTP_PORT"), Usage: "HTTP API port"},
			&cli.IntFlag{Name: "gossip-port", Value: 7946, EnvVars: env("GOSSIP_PORT"), Usage: "gossip (memberlist) port, TCP and UDP"},
			&cli.IntFlag{Name: "raft-port", Value: 7947, EnvVars: env("RAFT_PORT"), Usage: "Raft port"},
			&cli.BoolFlag{Name: "bootstrap", EnvVars: env("BOOTSTRAP"), Usage: "start a new cluster (ignored when Raft state exists)"},
			&cli.StringSliceFlag{Name: "join", EnvVars: env("JOIN"), Usage: "gossip HOST:PORT of any member; repeatable; retried until it answers"},
			&cli.IntFlag{Name: "max-voters", Value: 5, EnvVars: env("MAX_VOTERS"), Usage: "Raft voters; later nodes join as non-voters"},
			&cli.StringFlag{Name: "zone", Value: "nova", EnvVars: env("ZONE"), Usage: "availability zone of this host"},
			&cli.StringFlag{Name: "driver", Value: "libvirt", EnvVars: env("DRIVER"), Usage: "compute driver: libvirt|fake"},
			&cli.StringFlag{Name: "libvirt-uri", Value: "qemu:///system", EnvVars: env("LIBVIRT_URI"), Usage: "libvirt connection URI"},
			&cli.IntFlag{Name: "fake-vcpus", Value: 8, EnvVars: env("FAKE_VCPUS"), Usage: "fake driver: vCPUs"},
			&cli.Int64Flag{Name: "fake-memory-mib", Value: 16384, EnvVars: env("FAKE_MEMORY_MIB"), Usage: "fake driver: memory (MiB)"},
			&cli.Int64Flag{Name: "fake-disk-gib", Value: 200, EnvVars: env("FAKE_DISK_GIB"), Usage: "fake driver: disk (GiB)"},
			&cli.StringFlag{Name: "network-cidr", Value: fsm.DefaultNetworkCIDR, EnvVars: env("NETWORK_CIDR"), Usage: "fixed-IP range of the default network (used when bootstrapping)"},
			&cli.Float64Flag{Name: "cpu-allocation-ratio", Value: fsm.DefaultRatios.CPU, EnvVars: env("CPU_ALLOCATION_RATIO"), Usage: "vCPU overcommit the scheduler allows"},
			&cli.Float64Flag{Name: "ram-allocation-ratio", Value: fsm.DefaultRatios.RAM, EnvVars: env("RAM_ALLOCATION_RATIO"), Usage: "RAM overcommit the scheduler allows"},
			&cli.Float64Flag{Name: "disk-allocation-ratio", Value: fsm.DefaultRatios.Disk, EnvVars: env("DISK_ALLOCATION_RATIO"), Usage: "disk overcommit the scheduler allows"},
			&cli.DurationFlag{Name: "lease", Value: 5 * time.Second, EnvVars: env("LEASE"), Usage: "how long a host may run its servers without reaching a leader with quorum; then it fences itself"},
			&cli.DurationFlag{Name: "lease-margin", Value: 3 * time.Second, EnvVars: env("LEASE_MARGIN"), Usage: "extra wait, after a dead host's lease, before its servers are evacuated"},
			&cli.DurationFlag{Name: "dead-voter-timeout", Value: 30 * time.Second, EnvVars: env("DEAD_VOTER_TIMEOUT"), Usage: "a Raft voter dead this long is removed (a live non-voter takes its place)"},
			&cli.StringFlag{Name: "log-level", Value: "info", EnvVars: env("LOG_LEVEL"), Usage: "debug|info|warn|error"},
		},
		Action: runAgent,
	}
}

func runAgent(c *cli.Context) error {
	if c.NArg() > 0 {
		return usageError(c, "agent takes no arguments, got "+strings.Join(c.Args().Slice(), " "))
	}
	logger, err := newLogger(c.String("log-level"))
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(c.Context, os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := os.MkdirAll(c.String("data-dir"), 0o700); err != nil {
		return fmt.Errorf("data dir: %w", err)
	}
	// The image cache and the driver exist before the node (the node needs
	// the driver's fingerprint); they reach the node through a late-bound
	// pointer once it exists.
	var node *cluster.Node
	later := laterNode{&node}
	images, err := imagecache.New(imagecache.Config{Dir: filepath.Join(c.String("data-dir"), "images"),
		NodeName: c.String("name"), Logger: logger, Images: later, Peers: later, Recorder: later})
	if err != nil {
		return err
	}
	driver, err := newDriver(ctx, c, logger, later, images)
	if err != nil {
		return err
	}
	defer driver.Close()
	cfg := cluster.Config{
		Name:          c.String("name"),
		DataDir:       c.String("data-dir"),
		BindAddr:      c.String("bind"),
		AdvertiseAddr: c.String("advertise"),
		HTTPPort:      c.Int("http-port"),
		GossipPort:    c.Int("gossip-port"),
		RaftPort:      c.Int("raft-port"),
		Bootstrap:     c.Bool("bootstrap"),
		Join:          c.StringSlice("join"),
		MaxVoters:     c.Int("max-voters"),
		Zone:          c.String("zone"),
		Version:       version,
		NetworkCIDR:   c.String("network-cidr"),
		Logger:        logger,

		LeaseDuration:    c.Duration("lease"),
		LeaseMargin:      c.Duration("lease-margin"),
		DeadVoterTimeout: c.Duration("dead-voter-timeout"),
	}
	schedCfg := scheduler.Config{Logger: logger, StartupGrace: 5 * time.Second, Ratios: fsm.Ratios{
		CPU: c.Float64("cpu-allocation-ratio"), RAM: c.Float64("ram-allocation-ratio"), Disk: c.Float64("disk-allocation-ratio")}}
	if err := schedCfg.Validate(); err != nil {
		return err
	}
	var scheduling atomic.Bool
	cfg.OnLeader = func(ctx context.Context) {
		scheduling.Store(true)
		defer scheduling.Store(false)
		scheduler.New(schedCfg, node.FSM(), node, planner{node}).Run(ctx)
	}
	node, err = cluster.New(cfg, inventorySource(driver))
	if err != nil {
		return err
	}
	server := api.New(api.Config{State: node.FSM(), Cluster: apiCluster{n: node, onLeave: stop, scheduler: &scheduling}, Logger: logger, NodeName: cfg.Name,
		Consoles: consolesOf(driver), Images: apiImages{images}})
	if c.String("driver") == "libvirt" {
		stopGuard, err := startFenceGuard(c, logger)
		if err != nil {
			return err
		}
		defer stopGuard()
	}
	node.Start(ctx, server.Handler())
	stopReconciler := startReconciler(ctx, node, driver, logger)
	stopPruner := startImagePruner(ctx, node, images, logger)
	stopReplicator := startImageReplicator(ctx, node, images)
	logger.Info("shoal agent running", "name", cfg.Name, "http", node.HTTPAddr(), "gossip", node.GossipAddr(),
		"raft", node.RaftAddr(), "driver", c.String("driver"), "version", version)
	<-ctx.Done()
	logger.Info("shutting down")
	stopReconciler()
	stopPruner()
	stopReplicator()
	sctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	return node.Shutdown(sctx)
}

func newDriver(ctx context.Context, c *cli.Context, logger *slog.Logger, later laterNode, images compute.ImageCache) (compute.Driver, error) {
	switch c.String("driver") {
	case "fake":
		cfg := fake.Config{VCPUs: c.Int("fake-vcpus"), MemoryMiB: c.Int64("fake-memory-mib"), DiskGiB: c.Int64("fake-disk-gib"),
			StateFile: filepath.Join(c.String("data-dir"), "fake-hypervisor.json")}
		if err := cfg.Validate(); err != nil {
			return nil, err
		}
		return fake.Open(cfg)
	case "libvirt":
		return libvirt.New(ctx, libvirt.Config{URI: c.String("libvirt-uri"), DataDir: c.String("data-dir"), Logger: logger,
			Node: c.String("name"), ClusterID: later.clusterID, Images: images, Network: later.network})
	default:
		return nil, fmt.Errorf("unknown driver %q: use libvirt or fake", c.String("driver"))
	}
}

func newLogger(level string) (*slog.Logger, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("log level %q: use debug, info, warn or error", level)
	}
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: l})), nil
}
