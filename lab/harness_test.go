//go:build lab

package lab_test

import (
	"context"
	"testing"
	"time"

	"github.com/shoal-project/shoal/lab"
)

// TestHarness checks the lab itself, with no failover expected: servers run
// where the API says and the checker sees them there; power-off, power-on,
// partition and heal do what they say; a kill of the agent leaves its
// domains running.
func TestHarness(t *testing.T) {
	e := setup(t)
	h3 := e.lab.Host("h3")
	servers := e.create(e.lab.Host("h1"), "harness", 2, h3)
	e.waitPlaced(settleTimeout, "servers on h3", ids(servers), "")

	h3.KillAgent()
	round := fresh(t, e.chk)
	for _, s := range servers {
		if on := round.HostsOf(s.ID); len(on) != 1 || on[0] != "h3" {
			t.Fatalf("after killing h3's agent, %s runs on %v", s.ID, on)
		}
	}
	h3.StartAgent()
	e.lab.WaitHealthy(60 * time.Second)

	h3.Partition()
	if _, err := h3.API.WithTimeout(time.Second).Health(context.Background()); err == nil {
		t.Fatal("h3's API answers from the root namespace while partitioned")
	}
	if _, err := h3.InsideHealth(); err != nil {
		t.Fatalf("h3's API from inside while partitioned: %v", err)
	}
	h3.Heal()
	e.lab.WaitHealthy(60 * time.Second)

	h3.PowerOff()
	round = fresh(t, e.chk)
	if s := round.Hosts["h3"]; s.State != lab.HostOff || len(s.Domains) != 0 {
		t.Fatalf("powered-off h3 sampled as %+v", s)
	}
	h3.PowerOn()
	e.lab.WaitHealthy(60 * time.Second)
	round = fresh(t, e.chk)
	if s := round.Hosts["h3"]; s.State != lab.HostOn {
		t.Fatalf("powered-on h3 sampled as %+v", s)
	}
	e.remove(ids(servers))
}

func fresh(t *testing.T, c *lab.Checker) lab.Round {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	r, err := c.Fresh(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return r
}
