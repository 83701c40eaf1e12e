package main

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/shoal-project/shoal/api"
	"github.com/shoal-project/shoal/cluster"
	shoalagent "github.com/shoal-project/shoal/cmd/shoal/agent"
)

// capture runs the shoal app with args, the named command's Action replaced
// by f.
func capture(t *testing.T, name string, f func(c *cli.Context), args ...string) {
	t.Helper()
	app := newApp()
	i := slices.IndexFunc(app.Commands, func(c *cli.Command) bool { return c.Name == name })
	if i < 0 {
		t.Fatalf("no %s command", name)
	}
	ran := false
	app.Commands[i].Action = func(c *cli.Context) error { f(c); ran = true; return nil }
	if err := app.Run(append([]string{"shoal", name}, args...)); err != nil || !ran {
		t.Fatalf("shoal %s %q: ran %v, %v", name, args, ran, err)
	}
}

func TestAgentFlagsMapOntoConfig(t *testing.T) {
	var cfg shoalagent.Config
	capture(t, "agent", func(c *cli.Context) { cfg = agentConfig(c, nil) },
		"--name", "n2", "--data-dir", "/var/lib/shoal", "--driver", "fake", "--bind", "10.0.0.2", "--join", "10.0.0.1:7946",
		"--lease", "0", "--lease-margin", "2s", "--fake-vcpus", "4", "--cpu-allocation-ratio", "4",
		"--token-ttl", "1h", "--admin-password-file", "/etc/shoal/admin-password")
	if cfg.Name != "n2" || cfg.DataDir != "/var/lib/shoal" || cfg.Driver != shoalagent.DriverFake || cfg.BindAddr != "10.0.0.2" ||
		!slices.Equal(cfg.Join, []string{"10.0.0.1:7946"}) || cfg.Fake.VCPUs != 4 || cfg.Ratios.CPU != 4 ||
		cfg.HTTPPort != shoalagent.DefaultHTTPPort || cfg.LeaseMargin != 2*time.Second || cfg.TokenTTL != time.Hour ||
		cfg.AdminPasswordFile != "/etc/shoal/admin-password" {
		t.Fatalf("flags mapped to %+v", cfg)
	}
	// --lease 0 is the default lease for everything that reads it, not 0.
	if got := cfg.WithDefaults().Lease; got != cluster.DefaultLease {
		t.Errorf("--lease 0 became %v, want %v", got, cluster.DefaultLease)
	}
	if err := cfg.Validate(); err != nil {
		t.Errorf("Validate = %v", err)
	}
}

// --force-config-drive (or SHOAL_FORCE_CONFIG_DRIVE) reaches the config;
// without it a server gets a config drive only when it asks.
func TestAgentForceConfigDrive(t *testing.T) {
	var cfg shoalagent.Config
	capture(t, "agent", func(c *cli.Context) { cfg = agentConfig(c, nil) }, "--data-dir", "/d")
	if cfg.ForceConfigDrive {
		t.Error("config drives forced by default")
	}
	capture(t, "agent", func(c *cli.Context) { cfg = agentConfig(c, nil) }, "--data-dir", "/d", "--force-config-drive")
	if !cfg.ForceConfigDrive {
		t.Error("--force-config-drive did not reach the config")
	}
	t.Setenv("SHOAL_FORCE_CONFIG_DRIVE", "true")
	capture(t, "agent", func(c *cli.Context) { cfg = agentConfig(c, nil) }, "--data-dir", "/d")
	if !cfg.ForceConfigDrive {
		t.Error("SHOAL_FORCE_CONFIG_DRIVE did not reach the config")
	}
}

// The join and TLS flags map onto Config; the join token is also read from
// SHOAL_JOIN_TOKEN (kept out of the process list), and the data dir
// defaults to the one `shoal join` looks in.
func TestAgentJoinAndTLSFlags(t *testing.T) {
	var cfg shoalagent.Config
	capture(t, "agent", func(c *cli.Context) { cfg = agentConfig(c, nil) },
		"--join-token", "shoaljoin1_x", "--tls-cert", "/etc/shoal/api.crt", "--tls-key", "/etc/shoal/api.key", "--cert-ttl", "1h")
	if cfg.JoinToken != "shoaljoin1_x" || cfg.TLSCertFile != "/etc/shoal/api.crt" || cfg.TLSKeyFile != "/etc/shoal/api.key" ||
		cfg.CertTTL != time.Hour || cfg.DataDir != shoalagent.DefaultDataDir {
		t.Fatalf("flags mapped to %+v", cfg)
	}
	t.Setenv("SHOAL_JOIN_TOKEN", "shoaljoin1_env")
	capture(t, "agent", func(c *cli.Context) { cfg = agentConfig(c, nil) })
	if cfg.JoinToken != "shoaljoin1_env" {
		t.Errorf("SHOAL_JOIN_TOKEN gave %q", cfg.JoinToken)
	}
	var dataDir string
	capture(t, "join", func(c *cli.Context) { dataDir = c.String("data-dir") })
	if dataDir != cfg.DataDir {
		t.Errorf("shoal join looks in %s, the agent's default data dir is %s", dataDir, cfg.DataDir)
	}
}

// The token lifetime defaults to Keystone's, is read from SHOAL_TOKEN_TTL,
// and is refused unless positive before anything starts.
func TestAgentTokenTTL(t *testing.T) {
	var cfg shoalagent.Config
	capture(t, "agent", func(c *cli.Context) { cfg = agentConfig(c, nil) }, "--data-dir", "/d")
	if cfg.TokenTTL != api.DefaultTokenTTL {
		t.Errorf("default token lifetime %v, want %v", cfg.TokenTTL, api.DefaultTokenTTL)
	}
	t.Setenv("SHOAL_TOKEN_TTL", "30m")
	capture(t, "agent", func(c *cli.Context) { cfg = agentConfig(c, nil) }, "--data-dir", "/d")
	if cfg.TokenTTL != 30*time.Minute {
		t.Errorf("SHOAL_TOKEN_TTL=30m gave %v", cfg.TokenTTL)
	}
	for _, ttl := range []string{"0", "-1h"} {
		dir := filepath.Join(t.TempDir(), "data")
		err := newApp().Run([]string{"shoal", "agent", "--data-dir", dir, "--driver", "fake", "--token-ttl", ttl})
		if err == nil || !strings.Contains(err.Error(), "--token-ttl must be more than 0") {
			t.Errorf("--token-ttl %s: %v, want it refused", ttl, err)
		}
		if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("--token-ttl %s made the data dir: %v", ttl, err)
		}
	}
}

// What the agent writes on the guard's command line, the guard reads back.
func TestFenceGuardCommandReadsGuardArgs(t *testing.T) {
	want := shoalagent.GuardConfig{Name: "n1", DataDir: "/var/lib/shoal", LibvirtURI: "qemu:///session",
		Lease: 2 * time.Second, Interval: 50 * time.Millisecond}
	args := shoalagent.GuardArgs(want)
	if args[0] != shoalagent.GuardCommand {
		t.Fatalf("guard args %q do not start with %s", args, shoalagent.GuardCommand)
	}
	var got shoalagent.GuardConfig
	capture(t, shoalagent.GuardCommand, func(c *cli.Context) { got = guardConfig(c) }, args[1:]...)
	got.Logger = nil
	if got != want {
		t.Fatalf("the guard read %+v, want %+v", got, want)
	}
}
