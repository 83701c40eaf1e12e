//go:build lab

package lab_test

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/shoal-project/shoal/internal/testkit"
	"github.com/shoal-project/shoal/lab"
)

// TestLabPowerOff: power off the host of servers; each is ACTIVE on another
// host with the same UUID, fixed IP and MAC. Powered on again, the host
// rejoins, is not fenced, and keeps no domain of the servers that moved.
func TestLabPowerOff(t *testing.T) {
	e := setup(t)
	figures := reported(t, "power-off failover")[0]
	for trial := range trials(t) {
		leader := e.leader()
		via := e.lab.Others(leader)[trial%2]
		servers := e.create(via, fmt.Sprintf("po%d", trial), e.sized(3), nil)
		before := e.waitPlaced(settleTimeout, "new servers ACTIVE", ids(servers), "")
		target := pick(trial, e.lab.Hosts, leader, func(h *lab.Host) bool {
			for _, s := range before {
				if s.Host == h.Name {
					return true
				}
			}
			return false
		})
		var moved []string
		for id, s := range before {
			if s.Host == target.Name {
				moved = append(moved, id)
			}
		}
		slices.Sort(moved)
		t.Logf("trial %d: leader %s, powering off %s with %d of %d servers", trial, leader.Name, target.Name, len(moved), len(servers))

		peer := e.lab.Others(target)[0]
		start := time.Now()
		target.PowerOff()
		var after map[string]lab.Server
		testkit.WaitEvery(t, lab.Poll, failoverTimeout, fmt.Sprintf("the servers of %s ACTIVE elsewhere", target.Name), func() (bool, string) {
			got, ok, note := e.placed(moved, target.Name)
			after = got
			return ok, note
		})
		took := time.Since(start)
		figures.Add(took)
		for _, id := range moved {
			if a, b := before[id].Addresses, after[id].Addresses; !slices.Equal(a, b) {
				t.Errorf("trial %d: %s moved %s→%s with addresses %v, had %v", trial, id, target.Name, after[id].Host, b, a)
			}
			if ok, acts := e.hasAction(peer, id, "evacuate"); !ok {
				t.Errorf("trial %d: %s has no evacuate action: %v", trial, id, acts)
			}
		}
		t.Logf("trial %d: %s's servers ACTIVE elsewhere after %v", trial, target.Name, took.Round(10*time.Millisecond))

		target.PowerOn()
		back := testkit.WaitEvery(t, lab.Poll, failoverTimeout, target.Name+" a member again, not fenced", func() (bool, string) {
			return target.MemberOK(peer)
		})
		e.waitUndefined(target, moved)
		e.waitPlaced(settleTimeout, "every server once, where the API says", ids(servers), "")
		t.Logf("trial %d: %s back and clean %v after power-on", trial, target.Name, back.Round(10*time.Millisecond))

		e.remove(ids(servers))
		e.noViolations(trial)
	}
}
