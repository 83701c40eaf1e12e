package cluster_test

import (
	"testing"
	"time"

	"github.com/shoal-project/shoal/cluster"
	"github.com/shoal-project/shoal/cluster/clustertest"
	"github.com/shoal-project/shoal/fsm"
	"github.com/shoal-project/shoal/internal/testkit"
)

// The leader runs the drain loop: a drained host's running server gets a
// live migration for the scheduler to place (no scheduler runs here), and
// a drained empty host's drain ends done.
func TestLeaderDrainsHosts(t *testing.T) {
	c := clustertest.New(t, 2, func(cfg *cluster.Config) { cfg.DrainInterval = 50 * time.Millisecond })
	waitFormed(t, c, 2, 0)
	leader := c.Nodes[c.WaitForLeader(settle)]
	a, b := c.Nodes[0].Name(), c.Nodes[1].Name()
	testkit.WaitFor(t, settle, "both hosts registered", func() bool { return len(leader.FSM().Hosts()) == 2 })
	putServer(t, leader, "s1", a)

	now := time.Now().UTC()
	applyCmd(t, leader, &fsm.DrainHost{Name: a, Start: true, Time: now})
	applyCmd(t, leader, &fsm.DrainHost{Name: b, Start: true, Time: now})
	testkit.WaitFor(t, settle, "the drain of "+b+" to end done", func() bool {
		return host(t, leader, b).DrainResult == fsm.DrainDone
	})
	testkit.WaitFor(t, settle, "a live migration of s1", func() bool {
		m, err := leader.FSM().MigrationOf("s1")
		return err == nil && m.Kind == fsm.MigrationLive && m.Source == a && m.Dest == "" && m.UserID == ""
	})
	if h := host(t, leader, a); !h.Draining || h.Enabled {
		t.Errorf("%s while its server waits for the scheduler: %+v", a, h)
	}
}
