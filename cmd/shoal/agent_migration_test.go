package main

import (
	"testing"
	"time"

	"github.com/urfave/cli/v2"

	shoalagent "github.com/shoal-project/shoal/cmd/shoal/agent"
	"github.com/shoal-project/shoal/compute"
)

// The migration flags reach the config, with their defaults when not
// given (auto-converge on, post-copy off).
func TestAgentMigrationFlags(t *testing.T) {
	var cfg shoalagent.Config
	capture(t, "agent", func(c *cli.Context) { cfg = agentConfig(c, nil) }, "--data-dir", "/d")
	want := compute.MigrateOptions{MaxDowntime: 300 * time.Millisecond, AutoConverge: true,
		PostCopyAfter: 10 * time.Second, Timeout: 10 * time.Minute}
	if cfg.MigrationURI != "qemu+tls://%s/system" || cfg.LiveMigration != want {
		t.Errorf("defaults: %q %+v", cfg.MigrationURI, cfg.LiveMigration)
	}
	capture(t, "agent", func(c *cli.Context) { cfg = agentConfig(c, nil) }, "--data-dir", "/d",
		"--migration-uri", "qemu+tcp://%s/system", "--live-migration-max-downtime", "500ms",
		"--live-migration-auto-converge=false", "--live-migration-post-copy", "--live-migration-post-copy-after", "30s",
		"--live-migration-timeout", "1h")
	want = compute.MigrateOptions{MaxDowntime: 500 * time.Millisecond, PostCopy: true, PostCopyAfter: 30 * time.Second, Timeout: time.Hour}
	if cfg.MigrationURI != "qemu+tcp://%s/system" || cfg.LiveMigration != want {
		t.Errorf("set: %q %+v", cfg.MigrationURI, cfg.LiveMigration)
	}
	t.Setenv("SHOAL_MIGRATION_URI", "qemu+tcp://%s:16510/system")
	capture(t, "agent", func(c *cli.Context) { cfg = agentConfig(c, nil) }, "--data-dir", "/d")
	if cfg.MigrationURI != "qemu+tcp://%s:16510/system" {
		t.Errorf("SHOAL_MIGRATION_URI gave %q", cfg.MigrationURI)
	}
}
