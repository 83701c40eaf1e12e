package main

import (
	"strings"
	"testing"
	"time"

	"github.com/urfave/cli/v2"

	shoalagent "github.com/shoal-project/shoal/cmd/shoal/agent"
)

func TestAgentDrainFlags(t *testing.T) {
	var cfg shoalagent.Config
	capture(t, "agent", func(c *cli.Context) { cfg = agentConfig(c, nil) }, "--data-dir", "/d")
	if cfg.DrainPerHost != 2 || cfg.DrainPerCluster != 5 || cfg.ResizeConfirmWindow != 0 {
		t.Errorf("defaults: per host %d, per cluster %d, window %v", cfg.DrainPerHost, cfg.DrainPerCluster, cfg.ResizeConfirmWindow)
	}
	capture(t, "agent", func(c *cli.Context) { cfg = agentConfig(c, nil) }, "--data-dir", "/d",
		"--drain-per-host", "1", "--drain-per-cluster", "9", "--resize-confirm-window", "1h")
	if cfg.DrainPerHost != 1 || cfg.DrainPerCluster != 9 || cfg.ResizeConfirmWindow != time.Hour {
		t.Errorf("flags: per host %d, per cluster %d, window %v", cfg.DrainPerHost, cfg.DrainPerCluster, cfg.ResizeConfirmWindow)
	}
	for _, flag := range []string{"--drain-per-host", "--drain-per-cluster"} {
		err := newApp().Run([]string{"shoal", "agent", "--data-dir", t.TempDir(), flag, "0"})
		if err == nil || !strings.Contains(err.Error(), flag+" must be at least 1") {
			t.Errorf("%s 0: %v", flag, err)
		}
	}
}
