package cluster

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/hashicorp/raft"

	"github.com/shoal-project/shoal/fsm"
)

// failoverLoop runs on the leader: it grants leases (through Grants), marks
// hosts down once they have certainly fenced themselves, which evacuates
// their servers, marks them up when they are back, and removes voters that
// stay dead so quorum stays healthy.
func (n *Node) failoverLoop(ctx context.Context) {
	g := NewGrants(n.cfg.LeaseDuration, n.cfg.LeaseMargin, nil)
	n.grants.Store(g)
	defer n.grants.Store(nil)
	deadSince := map[string]time.Time{}
	t := time.NewTicker(n.cfg.FailoverInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		status := n.gossipStatus()
		n.checkHosts(ctx, g, status)
		n.checkVoters(status, deadSince)
	}
}

// gossipStatus maps member names to alive|suspect|dead|left.
func (n *Node) gossipStatus() map[string]string {
	out := map[string]string{}
	for _, m := range n.memberSnapshot() {
		out[m.name] = m.status
	}
	return out
}

// gone reports whether gossip no longer sees a host: dead, left, or unknown
// to this leader's gossip view (it may never have met a host that died
// before it took over).
func gone(status string) bool { return status != "alive" && status != "suspect" }

// checkHosts gives the down and up verdicts.
func (n *Node) checkHosts(ctx context.Context, g *Grants, status map[string]string) {
	for _, h := range n.fsm.Hosts() {
		if h.Name == n.cfg.Name {
			continue // a leader is never down in its own eyes
		}
		st := status[h.Name]
		switch {
		case !h.Down && (gone(st) || h.ForcedDown) && g.Condemn(h.Name):
			n.markDown(ctx, g, h, st)
		case h.Down && !h.ForcedDown && st == "alive" && g.Holds(h.Name):
			if _, err := n.Apply(ctx, &fsm.MarkHostUp{Name: h.Name, Time: time.Now().UTC()}); err != nil &&
				!errors.Is(err, fsm.ErrConflict) {
				n.log.Warn("marking host up failed", "host", h.Name, "err", err)
				continue
			}
			n.log.Info("host up again", "host", h.Name)
		}
	}
}

// markDown commits the verdict on a condemned host; no lease is granted to
// it until the verdict is applied here, so its next re-read includes it.
func (n *Node) markDown(ctx context.Context, g *Grants, h fsm.Host, st string) {
	defer g.Pardon(h.Name)
	reason := "gossip says " + orUnknown(st)
	if h.ForcedDown {
		reason = "forced down by an operator"
	}
	last := g.LastSeen(h.Name)
	reason = fmt.Sprintf("%s; no lease for %.1f s", reason, time.Since(last).Seconds())
	cmd := &fsm.MarkHostDown{Name: h.Name, LastSeen: last.UTC(), Reason: reason,
		RequestID: "req-" + uuid.NewString(), Time: time.Now().UTC()}
	if _, err := n.Apply(ctx, cmd); err != nil && !errors.Is(err, fsm.ErrConflict) {
		n.log.Warn("marking host down failed", "host", h.Name, "err", err)
		return
	}
	n.log.Warn("host down: evacuating its servers", "host", h.Name, "reason", reason)
}

func orUnknown(s string) string {
	if s == "" {
		return "unknown (never seen by this leader)"
	}
	return s
}

// checkVoters removes a voter gossip has seen dead for longer than
// DeadVoterTimeout; reconcile then promotes a live non-voter into the slot.
func (n *Node) checkVoters(status map[string]string, deadSince map[string]time.Time) {
	f := n.raft.GetConfiguration()
	if f.Error() != nil {
		return
	}
	now := time.Now()
	seen := map[string]bool{}
	for _, s := range f.Configuration().Servers {
		name := string(s.ID)
		if s.Suffrage != raft.Voter || name == n.cfg.Name || status[name] != "dead" {
			continue
		}
		seen[name] = true
		since, ok := deadSince[name]
		if !ok {
			deadSince[name] = now
			continue
		}
		if now.Sub(since) < n.cfg.DeadVoterTimeout {
			continue
		}
		n.changeMembership("remove dead voter", name, n.raft.RemoveServer(s.ID, 0, 0))
		delete(deadSince, name)
		select {
		case n.reconcileCh <- struct{}{}:
		default:
		}
	}
	for name := range deadSince {
		if !seen[name] {
			delete(deadSince, name)
		}
	}
}
