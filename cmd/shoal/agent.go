package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/shoal-project/shoal/api"
	"github.com/shoal-project/shoal/cluster"
	shoalagent "github.com/shoal-project/shoal/cmd/shoal/agent"
	"github.com/shoal-project/shoal/compute"
	"github.com/shoal-project/shoal/compute/fake"
	"github.com/shoal-project/shoal/compute/libvirt"
	"github.com/shoal-project/shoal/compute/metadata"
	"github.com/shoal-project/shoal/fsm"
)

// shutdownTimeout bounds a graceful stop of the agent.
const shutdownTimeout = 15 * time.Second

func agentCommand() *cli.Command {
	host, _ := os.Hostname()
	env := func(name string) []string { return []string{"SHOAL_" + name} }
	return &cli.Command{
		Name:  "agent",
		Usage: "run a shoal node (gossip, Raft, API, scheduler and compute driver)",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "name", Value: host, EnvVars: env("NAME"), Usage: "node name, unique in the cluster"},
			&cli.StringFlag{Name: "data-dir", Value: shoalagent.DefaultDataDir, EnvVars: env("DATA_DIR"), Usage: "where Raft state, certificates, images and disks live"},
			&cli.StringFlag{Name: "bind", Value: shoalagent.DefaultBindAddr, EnvVars: env("BIND"), Usage: "IP address to listen on"},
			&cli.StringFlag{Name: "advertise", EnvVars: env("ADVERTISE"), Usage: "IP address other nodes reach this one at (default: --bind)"},
			&cli.IntFlag{Name: "http-port", Value: shoalagent.DefaultHTTPPort, EnvVars: env("HTTP_PORT"), Usage: "HTTP API port"},
			&cli.IntFlag{Name: "gossip-port", Value: shoalagent.DefaultGossipPort, EnvVars: env("GOSSIP_PORT"), Usage: "gossip (memberlist) port, TCP and UDP"},
			&cli.IntFlag{Name: "raft-port", Value: shoalagent.DefaultRaftPort, EnvVars: env("RAFT_PORT"), Usage: "Raft port"},
			&cli.BoolFlag{Name: "bootstrap", EnvVars: env("BOOTSTRAP"), Usage: "start a new cluster (ignored when Raft state exists)"},
			&cli.StringSliceFlag{Name: "join", EnvVars: env("JOIN"), Usage: "gossip HOST:PORT of any member; repeatable; retried until it answers"},
			&cli.StringFlag{Name: "join-token", EnvVars: env("JOIN_TOKEN"), Usage: "a new node's join `TOKEN` (made by shoal cluster join-token create), traded for its certificate before it starts; " +
				"without one (and without --bootstrap) a new node waits for shoal join on DATA_DIR/" + shoalagent.SocketFile},
			&cli.StringFlag{Name: "tls-cert", EnvVars: env("TLS_CERT"), TakesFile: true, Usage: "PEM certificate (chain) `FILE` the API shows clients, instead of the node's own from the cluster CA; with --tls-key"},
			&cli.StringFlag{Name: "tls-key", EnvVars: env("TLS_KEY"), TakesFile: true, Usage: "PEM key `FILE` of --tls-cert, only its owner may read it"},
			&cli.DurationFlag{Name: "cert-ttl", Hidden: true, EnvVars: env("CERT_TTL"), Usage: "lifetime of the node certificates this node signs (tests)"},
			&cli.IntFlag{Name: "max-voters", Value: 5, EnvVars: env("MAX_VOTERS"), Usage: "Raft voters; later nodes join as non-voters"},
			&cli.StringFlag{Name: "zone", Value: "nova", EnvVars: env("ZONE"), Usage: "availability zone of this host"},
			&cli.StringFlag{Name: "driver", Value: shoalagent.DriverLibvirt, EnvVars: env("DRIVER"), Usage: "compute driver: libvirt|fake"},
			&cli.StringFlag{Name: "external-interface", EnvVars: env("EXTERNAL_INTERFACE"), Usage: "libvirt driver: the `INTERFACE` that holds this host's floating IPs and carries guests' traffic out (default: the one holding the advertise address)"},
			&cli.IntFlag{Name: "metadata-port", Value: metadata.DefaultPort, EnvVars: env("METADATA_PORT"), Usage: "libvirt driver: the metadata service's port on the tenant gateway, where guests' 169.254.169.254:80 is sent; agents sharing a host need one each"},
			&cli.BoolFlag{Name: "force-config-drive", EnvVars: env("FORCE_CONFIG_DRIVE"), Usage: "libvirt driver: give every server on this host a config drive, asked for or not (Nova's force_config_drive)"},
			&cli.StringFlag{Name: "libvirt-uri", Value: libvirt.DefaultURI, EnvVars: env("LIBVIRT_URI"), Usage: "libvirt connection URI"},
			&cli.StringFlag{Name: "migration-uri", Value: shoalagent.DefaultMigrationURI, EnvVars: env("MIGRATION_URI"), Usage: "the destination libvirtd's URI for migrations this host sends; %s is the destination's cluster address"},
			&cli.DurationFlag{Name: "live-migration-max-downtime", Value: shoalagent.DefaultLiveMigrationMaxDowntime, EnvVars: env("LIVE_MIGRATION_MAX_DOWNTIME"), Usage: "longest pause of a live-migrating guest at switch-over"},
			&cli.BoolFlag{Name: "live-migration-auto-converge", Value: true, EnvVars: env("LIVE_MIGRATION_AUTO_CONVERGE"), Usage: "slow down a live-migrating guest whose memory changes faster than it is copied"},
			&cli.BoolFlag{Name: "live-migration-post-copy", EnvVars: env("LIVE_MIGRATION_POST_COPY"), Usage: "switch a live migration that has not converged to post-copy (the guest runs on the destination, fetching the memory it lacks)"},
			&cli.DurationFlag{Name: "live-migration-post-copy-after", Value: shoalagent.DefaultLiveMigrationPostCopyAfter, EnvVars: env("LIVE_MIGRATION_POST_COPY_AFTER"), Usage: "with --live-migration-post-copy: how long pre-copy runs before the switch"},
			&cli.DurationFlag{Name: "live-migration-timeout", Value: shoalagent.DefaultLiveMigrationTimeout, EnvVars: env("LIVE_MIGRATION_TIMEOUT"), Usage: "abort a live migration not completed after this long (the server stays where it was)"},
			&cli.IntFlag{Name: "fake-vcpus", Value: fake.DefaultVCPUs, EnvVars: env("FAKE_VCPUS"), Usage: "fake driver: vCPUs"},
			&cli.Int64Flag{Name: "fake-memory-mib", Value: fake.DefaultMemoryMiB, EnvVars: env("FAKE_MEMORY_MIB"), Usage: "fake driver: memory (MiB)"},
			&cli.Int64Flag{Name: "fake-disk-gib", Value: fake.DefaultDiskGiB, EnvVars: env("FAKE_DISK_GIB"), Usage: "fake driver: disk (GiB)"},
			&cli.Int64Flag{Name: "reserved-host-memory-mib", Value: compute.DefaultReservedMemoryMiB, EnvVars: env("RESERVED_HOST_MEMORY_MIB"), Usage: "memory (MiB) kept for the host itself: taken off what it offers servers, whatever the driver (Nova's reserved_host_memory_mb)"},
			&cli.IntFlag{Name: "reserved-host-cpus", Value: compute.DefaultReservedVCPUs, EnvVars: env("RESERVED_HOST_CPUS"), Usage: "vCPUs kept for the host itself: taken off what it offers servers (Nova's reserved_host_cpus)"},
			&cli.StringFlag{Name: "network-cidr", Value: fsm.DefaultNetworkCIDR, EnvVars: env("NETWORK_CIDR"), Usage: "fixed-IP range of the default network (used when bootstrapping)"},
			&cli.Float64Flag{Name: "cpu-allocation-ratio", Value: fsm.DefaultRatios.CPU, EnvVars: env("CPU_ALLOCATION_RATIO"), Usage: "vCPU overcommit the scheduler allows"},
			&cli.Float64Flag{Name: "ram-allocation-ratio", Value: fsm.DefaultRatios.RAM, EnvVars: env("RAM_ALLOCATION_RATIO"), Usage: "RAM overcommit the scheduler allows"},
			&cli.Float64Flag{Name: "disk-allocation-ratio", Value: fsm.DefaultRatios.Disk, EnvVars: env("DISK_ALLOCATION_RATIO"), Usage: "disk overcommit the scheduler allows"},
			&cli.IntFlag{Name: "drain-per-host", Value: 2, EnvVars: env("DRAIN_PER_HOST"), Usage: "a host drain moves at most this many servers from one host at once"},
			&cli.IntFlag{Name: "drain-per-cluster", Value: 5, EnvVars: env("DRAIN_PER_CLUSTER"), Usage: "host drains move at most this many servers in the whole cluster at once (every move under way counts)"},
			&cli.DurationFlag{Name: "resize-confirm-window", EnvVars: env("RESIZE_CONFIRM_WINDOW"), Usage: "confirm a resize or cold migration left in VERIFY_RESIZE this long (Nova's resize_confirm_window; 0: never)"},
			&cli.DurationFlag{Name: "lease", Value: cluster.DefaultLease, EnvVars: env("LEASE"), Usage: "how long a host may run its servers without reaching a leader with quorum; then it fences itself (0: the default)"},
			&cli.DurationFlag{Name: "lease-margin", Value: cluster.DefaultLeaseMargin, EnvVars: env("LEASE_MARGIN"), Usage: "extra wait, after a dead host's lease, before its servers are evacuated (0: the default)"},
			&cli.DurationFlag{Name: "dead-voter-timeout", Value: cluster.DefaultDeadVoterTimeout, EnvVars: env("DEAD_VOTER_TIMEOUT"), Usage: "a Raft voter dead this long is removed (a live non-voter takes its place)"},
			&cli.DurationFlag{Name: "token-ttl", Value: api.DefaultTokenTTL, EnvVars: env("TOKEN_TTL"), Usage: "how long the tokens this node issues live"},
			&cli.StringFlag{Name: "admin-password-file", EnvVars: env("ADMIN_PASSWORD_FILE"), Usage: "with --bootstrap: the bootstrap admin's password, in a file only its owner may read (default: a random one); either way it is written to DATA_DIR/" + shoalagent.OpenrcFile},
			&cli.StringFlag{Name: "log-level", Value: "info", EnvVars: env("LOG_LEVEL"), Usage: "debug|info|warn|error"},
		},
		Action: runAgent,
	}
}

// agentConfig maps the agent's flags onto its Config.
func agentConfig(c *cli.Context, logger *slog.Logger) shoalagent.Config {
	return shoalagent.Config{
		Name:          c.String("name"),
		DataDir:       c.String("data-dir"),
		BindAddr:      c.String("bind"),
		AdvertiseAddr: c.String("advertise"),
		HTTPPort:      c.Int("http-port"),
		GossipPort:    c.Int("gossip-port"),
		RaftPort:      c.Int("raft-port"),
		Bootstrap:     c.Bool("bootstrap"),
		Join:          c.StringSlice("join"),
		JoinToken:     c.String("join-token"),
		TLSCertFile:   c.String("tls-cert"),
		TLSKeyFile:    c.String("tls-key"),
		CertTTL:       c.Duration("cert-ttl"),
		MaxVoters:     c.Int("max-voters"),
		Zone:          c.String("zone"),
		NetworkCIDR:   c.String("network-cidr"),
		Ratios: fsm.Ratios{CPU: c.Float64("cpu-allocation-ratio"), RAM: c.Float64("ram-allocation-ratio"),
			Disk: c.Float64("disk-allocation-ratio")},
		Lease:             c.Duration("lease"),
		LeaseMargin:       c.Duration("lease-margin"),
		DeadVoterTimeout:  c.Duration("dead-voter-timeout"),
		TokenTTL:          c.Duration("token-ttl"),
		AdminPasswordFile: c.String("admin-password-file"),
		Driver:            c.String("driver"),
		LibvirtURI:        c.String("libvirt-uri"),
		MigrationURI:      c.String("migration-uri"),
		LiveMigration: compute.MigrateOptions{MaxDowntime: c.Duration("live-migration-max-downtime"),
			AutoConverge: c.Bool("live-migration-auto-converge"), PostCopy: c.Bool("live-migration-post-copy"),
			PostCopyAfter: c.Duration("live-migration-post-copy-after"), Timeout: c.Duration("live-migration-timeout")},
		ExternalInterface: c.String("external-interface"),
		MetadataPort:      c.Int("metadata-port"),
		ForceConfigDrive:  c.Bool("force-config-drive"),
		Fake:              fake.Config{VCPUs: c.Int("fake-vcpus"), MemoryMiB: c.Int64("fake-memory-mib"), DiskGiB: c.Int64("fake-disk-gib")},
		Reserved:          compute.Reserved{MemoryMiB: c.Int64("reserved-host-memory-mib"), VCPUs: c.Int("reserved-host-cpus")},
		Version:           version,
		Logger:            logger,

		DrainPerHost:        c.Int("drain-per-host"),
		DrainPerCluster:     c.Int("drain-per-cluster"),
		ResizeConfirmWindow: c.Duration("resize-confirm-window"),
	}
}

func runAgent(c *cli.Context) error {
	if c.NArg() > 0 {
		return usageError(c, "agent takes no arguments, got "+strings.Join(c.Args().Slice(), " "))
	}
	for _, f := range []string{"drain-per-host", "drain-per-cluster"} {
		if c.Int(f) < 1 {
			return usageError(c, fmt.Sprintf("--%s must be at least 1, not %d", f, c.Int(f)))
		}
	}
	if c.Duration("token-ttl") <= 0 {
		return usageError(c, fmt.Sprintf("--token-ttl must be more than 0, not %v", c.Duration("token-ttl")))
	}
	logger, err := newLogger(c.String("log-level"))
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(c.Context, os.Interrupt, syscall.SIGTERM)
	defer stop()
	// A node that is not a member yet joins first (with its token, or
	// waiting for `shoal join`): New only starts a member.
	local, cfg, err := shoalagent.Admit(ctx, agentConfig(c, logger), shoalagent.Deps{})
	if err != nil {
		if ctx.Err() != nil {
			logger.Info("stopped before joining a cluster")
			return nil
		}
		return err
	}
	defer local.Close()
	a, err := shoalagent.New(cfg, shoalagent.Deps{})
	if err != nil {
		return err
	}
	if err := a.Start(ctx); err != nil {
		return errors.Join(err, shutdown(a))
	}
	local.Attach(a)
	select {
	case <-ctx.Done():
	case <-a.Left():
	}
	logger.Info("shutting down")
	return shutdown(a)
}

func shutdown(a *shoalagent.Agent) error {
	ctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	return a.Shutdown(ctx)
}

func newLogger(level string) (*slog.Logger, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("log level %q: use debug, info, warn or error", level)
	}
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: l})), nil
}
