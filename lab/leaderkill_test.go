//go:build lab

package lab_test

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/shoal-project/shoal/internal/testkit"
	"github.com/shoal-project/shoal/lab"
)

// creates are sent spaced out from before the kill until after a new leader
// is usually up (about 1 s), so some are acknowledged by each leader and some
// meet the election.
const (
	creates       = 8
	createSpacing = 250 * time.Millisecond
	killAfter     = 300 * time.Millisecond
)

// createResult is the outcome of one POST /v1/servers.
type createResult struct {
	name   string
	server lab.Server // when acknowledged
	code   int        // 202; 503 or 0 (no answer): unknown outcome
	err    error
}

// TestLabLeaderKill: kill -9 the leader's agent while servers are being
// created through a follower. A new leader runs the scheduler; every
// acknowledged create ends ACTIVE exactly once, before and after the killed
// agent rejoins.
func TestLabLeaderKill(t *testing.T) {
	e := setup(t)
	figures := reported(t, "leader-kill new leader+scheduler")[0]
	for trial := range trials(t) {
		leader := e.leader()
		survivors := e.lab.Others(leader)
		via := survivors[trial%2]
		prefix := fmt.Sprintf("lk%d", trial)

		results := make([]createResult, e.sized(creates))
		var wg sync.WaitGroup
		for k := range results {
			wg.Add(1)
			go func() {
				defer wg.Done()
				time.Sleep(time.Duration(k) * createSpacing)
				results[k] = createOne(via, fmt.Sprintf("%s-%d", prefix, k+1))
			}()
		}
		time.Sleep(killAfter)
		start := time.Now()
		leader.KillAgent()
		testkit.WaitEvery(t, 50*time.Millisecond, failoverTimeout, "a new leader running the scheduler", func() (bool, string) {
			return newLeader(t, survivors)
		})
		took := time.Since(start)
		figures.Add(took)
		wg.Wait()

		acked := map[string]string{} // name → ID
		var unknown []string
		codes := map[int]int{}
		for _, r := range results {
			codes[r.code]++
			switch {
			case r.err == nil:
				acked[r.name] = r.server.ID
			case r.code == 503 || r.code == 0:
				unknown = append(unknown, r.name)
			default:
				t.Errorf("trial %d: create %s: %v", trial, r.name, r.err)
			}
		}
		t.Logf("trial %d: killed leader %s; new leader with scheduler after %v; creates: %d acknowledged, %d unknown (HTTP status → count, 0 = no answer: %v)",
			trial, leader.Name, took.Round(10*time.Millisecond), len(acked), len(unknown), codes)

		all := e.waitCreated(trial, acked, unknown, leader.Name)
		leader.StartAgent()
		testkit.WaitEvery(t, lab.Poll, failoverTimeout, leader.Name+" a member again, not fenced", func() (bool, string) {
			return leader.MemberOK(via)
		})
		all = e.waitCreated(trial, acked, unknown, "")
		t.Logf("trial %d: %s back; %d servers ACTIVE exactly once (%d of the unknown creates exist)",
			trial, leader.Name, len(all), len(all)-len(acked))
		e.remove(all)
		e.noViolations(trial)
	}
}

func createOne(via *lab.Host, name string) createResult {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	s, err := via.API.WithTimeout(60*time.Second).CreateServer(ctx, lab.CreateRequest{Name: name, Flavor: flavor, Image: image})
	r := createResult{name: name, server: s, err: err, code: lab.HTTPCode(err)}
	if err == nil {
		r.code = 202
	}
	return r
}

// newLeader reports whether a survivor says it leads, is ok and runs the
// scheduler (a node that does not report "scheduler" is taken at its role).
func newLeader(t *testing.T, survivors []*lab.Host) (bool, string) {
	var notes []string
	for _, h := range survivors {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		hl, err := h.API.Health(ctx)
		cancel()
		if err != nil {
			notes = append(notes, h.Name+": "+err.Error())
			continue
		}
		if hl.Role == "leader" && hl.Status == "ok" && (hl.Scheduler == nil || *hl.Scheduler) {
			if hl.Scheduler == nil {
				t.Logf("%s's health has no scheduler field; timing the new leader only", h.Name)
			}
			return true, ""
		}
		notes = append(notes, hl.String())
	}
	return false, fmt.Sprint(notes)
}

// waitCreated waits until every acknowledged create is exactly one server
// (the one acknowledged), ACTIVE and running once where the API says, off
// avoid; an unknown create may be absent, but is then held to the same rule.
// It returns the IDs of every server of the trial.
func (e *env) waitCreated(trial int, acked map[string]string, unknown []string, avoid string) []string {
	e.t.Helper()
	var found []string
	testkit.WaitEvery(e.t, lab.Poll, settleTimeout, "every acknowledged create ACTIVE exactly once", func() (bool, string) {
		list, err := e.lab.Servers(context.Background())
		if err != nil {
			return false, err.Error()
		}
		byName := map[string][]string{}
		for _, s := range list {
			byName[s.Name] = append(byName[s.Name], s.ID)
		}
		found = found[:0]
		for _, name := range append(slices.Collect(maps.Keys(acked)), unknown...) {
			got := byName[name]
			id, ok := acked[name]
			switch {
			case len(got) > 1:
				e.t.Fatalf("trial %d: %d servers named %s: %v", trial, len(got), name, got)
			case ok && len(got) == 0:
				return false, "acknowledged " + name + " not listed"
			case ok && got[0] != id:
				e.t.Fatalf("trial %d: %s was acknowledged as %s, the API lists %s", trial, name, id, got[0])
			}
			found = append(found, got...)
		}
		_, ok, note := e.placed(found, avoid)
		return ok, note
	})
	return found
}
