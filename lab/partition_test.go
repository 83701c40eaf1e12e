//go:build lab

package lab_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/shoal-project/shoal/internal/testkit"
	"github.com/shoal-project/shoal/lab"
)

// partitionServers run on the partitioned host. The host's fence stops them
// one by one, each stop taking a second or two here, so more servers make
// the fence take longer against the same lease margin.
const partitionServers = 3

// TestLabPartition: cut the link of a host with servers. It fences itself
// (its libvirtd runs no shoal domain) before any of its servers runs
// elsewhere; they come up ACTIVE elsewhere; after healing it is unfenced and
// every server runs exactly once.
func TestLabPartition(t *testing.T) {
	e := setup(t)
	figures := reported(t, "partition → fenced", "partition → servers ACTIVE elsewhere")
	fenced, moved := figures[0], figures[1]
	for trial := range trials(t) {
		leader := e.leader()
		target := pick(trial, e.lab.Hosts, leader, func(*lab.Host) bool { return true })
		via := e.lab.Others(target)[0]
		servers := e.create(via, fmt.Sprintf("pa%d", trial), e.sized(partitionServers), target)
		e.waitPlaced(settleTimeout, "servers ACTIVE on "+target.Name, ids(servers), "")
		for _, s := range servers {
			if got, _, _ := e.placed([]string{s.ID}, ""); got[s.ID].Host != target.Name {
				t.Fatalf("trial %d: %s forced onto %s is on %q", trial, s.ID, target.Name, got[s.ID].Host)
			}
		}
		t.Logf("trial %d: leader %s, partitioning %s with %d servers", trial, leader.Name, target.Name, len(servers))

		start := time.Now()
		target.Partition()
		took := testkit.WaitEvery(t, lab.Poll, failoverTimeout, target.Name+` to report "fenced": true from inside`, func() (bool, string) {
			h, err := target.InsideHealth()
			if err != nil {
				return false, err.Error()
			}
			return h.IsFenced(), h.String()
		})
		fenced.Add(took)
		e.waitPlaced(failoverTimeout, "the servers ACTIVE outside "+target.Name, ids(servers), target.Name)
		movedAt := time.Now()
		moved.Add(movedAt.Sub(start))

		last, ran := e.chk.HostLastActive(target.Name, start, movedAt)
		var earliest lab.Mark
		for _, s := range servers {
			first, ok := e.chk.FirstActiveElsewhere(s.ID, target.Name, start)
			if ok && (earliest.At.IsZero() || first.Round < earliest.Round) {
				earliest = first
			}
			switch {
			case !ok:
				t.Fatalf("trial %d: the checker never saw %s running outside %s", trial, s.ID, target.Name)
			case ran && last.Round >= first.Round:
				t.Fatalf("trial %d: %s ran elsewhere from round %d (%s), but %s still ran shoal domains in round %d (%s)",
					trial, s.ID, first.Round, first.At.Format("15:04:05.000"), target.Name, last.Round, last.At.Format("15:04:05.000"))
			}
		}
		t.Logf("trial %d: fenced after %v, servers elsewhere after %v", trial,
			took.Round(10*time.Millisecond), movedAt.Sub(start).Round(10*time.Millisecond))
		if ran {
			t.Logf("trial %d: %s last ran a shoal domain in checker round %d, a server first ran elsewhere in round %d, %v later",
				trial, target.Name, last.Round, earliest.Round, earliest.At.Sub(last.At).Round(10*time.Millisecond))
		}

		target.Heal()
		testkit.WaitEvery(t, lab.Poll, failoverTimeout, target.Name+" unfenced after healing", func() (bool, string) {
			return target.MemberOK(via)
		})
		e.waitUndefined(target, ids(servers))
		e.waitPlaced(settleTimeout, "every server exactly once after healing", ids(servers), target.Name)
		e.remove(ids(servers))
		e.noViolations(trial)
	}
}
