package agent

import (
	"strings"
	"testing"
	"time"

	"github.com/shoal-project/shoal/fsm"
)

// The drain bounds and the confirm window reach the node with the
// scheduler's ratios; zero bounds take cluster's defaults, negative ones
// and a negative window are refused.
func TestConfigDrainSettings(t *testing.T) {
	c := Config{Name: "n1", DataDir: "/d", Driver: DriverFake, DrainPerHost: 3, DrainPerCluster: 7,
		ResizeConfirmWindow: time.Hour, Ratios: fsm.Ratios{CPU: 4}}
	node := c.WithDefaults().clusterConfig().WithDefaults()
	if node.DrainPerHost != 3 || node.DrainPerCluster != 7 || node.ResizeConfirmWindow != time.Hour ||
		node.Ratios != (fsm.Ratios{CPU: 4, RAM: fsm.DefaultRatios.RAM, Disk: fsm.DefaultRatios.Disk}) {
		t.Errorf("node config: per host %d, per cluster %d, window %v, ratios %+v",
			node.DrainPerHost, node.DrainPerCluster, node.ResizeConfirmWindow, node.Ratios)
	}
	defaults := Config{Name: "n1", DataDir: "/d", Driver: DriverFake}.WithDefaults().clusterConfig().WithDefaults()
	if defaults.DrainPerHost != 2 || defaults.DrainPerCluster != 5 || defaults.ResizeConfirmWindow != 0 {
		t.Errorf("defaults: per host %d, per cluster %d, window %v", defaults.DrainPerHost, defaults.DrainPerCluster,
			defaults.ResizeConfirmWindow)
	}
	for _, bad := range []func(*Config){
		func(c *Config) { c.DrainPerHost = -1 },
		func(c *Config) { c.DrainPerCluster = -1 },
		func(c *Config) { c.ResizeConfirmWindow = -time.Second },
	} {
		c := Config{Name: "n1", DataDir: "/d", Driver: DriverFake}
		bad(&c)
		if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "drain") && !strings.Contains(err.Error(), "confirm window") {
			t.Errorf("Validate(%+v) = %v", c, err)
		}
	}
}
