package cluster

import (
	"context"
	"errors"
	"slices"
	"time"

	"github.com/google/uuid"
	"github.com/hashicorp/raft"

	"github.com/shoal-project/shoal/fsm"
)

// monitorLeadership starts the leader loop when this node gains leadership and
// stops it when it loses it.
func (n *Node) monitorLeadership(ctx context.Context) {
	var running *leaderRun
	defer func() { running.stop() }()
	for {
		select {
		case <-ctx.Done():
			return
		case isLeader := <-n.leaderCh:
			if isLeader && running == nil {
				running = n.startLeaderLoop(ctx)
				n.log.Info("gained leadership")
			} else if !isLeader && running != nil {
				running.stop()
				running = nil
				n.log.Info("lost leadership")
			}
		}
	}
}

// leaderRun is one term's leader loop.
type leaderRun struct {
	cancel context.CancelFunc
	done   chan struct{}
}

func (n *Node) startLeaderLoop(ctx context.Context) *leaderRun {
	lctx, cancel := context.WithCancel(ctx)
	r := &leaderRun{cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(r.done)
		n.leaderLoop(lctx)
	}()
	return r
}

func (r *leaderRun) stop() {
	if r != nil {
		r.cancel()
		<-r.done
	}
}

// leaderLoop runs while this node leads: it waits for the log to be applied
// (Barrier), stamps the cluster identity once, then keeps Raft membership and
// the host registry in line with gossip.
func (n *Node) leaderLoop(ctx context.Context) {
	for {
		if err := n.raft.Barrier(n.cfg.HoldTimeout).Error(); err == nil {
			break
		} else if ctx.Err() != nil {
			return
		} else {
			n.log.Warn("leader barrier failed, retrying", "err", err)
		}
		if !sleepCtx(ctx, 200*time.Millisecond) {
			return
		}
	}
	if n.fsm.ClusterID() == "" {
		cmd := &fsm.Bootstrap{ClusterID: uuid.NewString(), Time: time.Now().UTC(), Flavors: fsm.DefaultFlavors(),
			NetworkCIDR: n.cfg.NetworkCIDR, Identity: n.identity}
		if _, err := n.Apply(ctx, cmd); err != nil && !errors.Is(err, fsm.ErrConflict) {
			n.log.Error("stamping cluster identity failed", "err", err)
		}
	}
	failover := make(chan struct{})
	go func() {
		defer close(failover)
		n.failoverLoop(ctx)
	}()
	defer func() { <-failover }()
	moves := make(chan struct{})
	go func() {
		defer close(moves)
		n.moverLoop(ctx)
	}()
	defer func() { <-moves }()
	if n.cfg.OnLeader != nil {
		done := make(chan struct{})
		go func() {
			defer close(done)
			n.cfg.OnLeader(ctx)
		}()
		defer func() { <-done }()
	}
	t := time.NewTicker(n.cfg.ReconcileInterval)
	defer t.Stop()
	seeded := false
	for {
		if !seeded {
			if err := n.seedSecurity(ctx); err != nil {
				n.log.Warn("seeding the cluster's certificates and keyring in raft; retrying", "err", err)
			} else {
				seeded = true
			}
		}
		n.reconcile(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-n.reconcileCh:
		}
	}
}

// reconcile makes Raft membership and the host registry follow gossip:
// alive members become voters (up to MaxVoters) or non-voters, members whose
// Raft address changed are removed and re-added, members that left are removed.
func (n *Node) reconcile(ctx context.Context) {
	future := n.raft.GetConfiguration()
	if err := future.Error(); err != nil {
		n.log.Warn("reading raft configuration", "err", err)
		return
	}
	servers := map[raft.ServerID]raft.Server{}
	voters := 0
	for _, s := range future.Configuration().Servers {
		servers[s.ID] = s
		if s.Suffrage == raft.Voter {
			voters++
		}
	}
	own := n.fsm.ClusterID()
	for _, m := range n.memberSnapshot() {
		id := raft.ServerID(m.name)
		srv, inRaft := servers[id]
		switch {
		case m.meta.Raft == "" || (m.meta.ClusterID != "" && m.meta.ClusterID != own):
			continue
		case m.status == "left":
			if inRaft && m.name != n.cfg.Name {
				n.changeMembership("remove", m.name, n.raft.RemoveServer(id, 0, 0))
				if srv.Suffrage == raft.Voter {
					voters--
				}
			}
			n.revokeLeft(ctx, m.name)
			continue
		case m.status != "alive" && m.status != "suspect":
			continue
		case !n.certified(m):
			// Removed (its certificates revoked) or not admitted: it has
			// no place in Raft, whatever gossip says.
			if inRaft && m.name != n.cfg.Name {
				n.changeMembership("remove (not certified)", m.name, n.raft.RemoveServer(id, 0, 0))
				if srv.Suffrage == raft.Voter {
					voters--
				}
			}
			continue
		}
		addr := raft.ServerAddress(m.meta.Raft)
		if inRaft && srv.Address != addr && m.name != n.cfg.Name {
			n.changeMembership("remove (address changed)", m.name, n.raft.RemoveServer(id, 0, 0))
			if srv.Suffrage == raft.Voter {
				voters--
			}
			inRaft = false
		}
		switch {
		case !inRaft && voters < n.cfg.MaxVoters:
			n.changeMembership("add voter", m.name, n.raft.AddVoter(id, addr, 0, 0))
			voters++
		case !inRaft:
			n.changeMembership("add non-voter", m.name, n.raft.AddNonvoter(id, addr, 0, 0))
		case srv.Suffrage == raft.Nonvoter && voters < n.cfg.MaxVoters && m.status == "alive":
			n.changeMembership("promote to voter", m.name, n.raft.AddVoter(id, addr, 0, 0))
			voters++
		}
		n.registerHost(ctx, m)
		n.updateHostInventory(ctx, m)
	}
}

// certified reports whether a member gossips the serial of a certificate
// the replica recorded for it and has not revoked.
func (n *Node) certified(m member) bool {
	if m.meta.Serial == "" || n.fsm.NodeCertRevoked(m.meta.Serial) {
		return false
	}
	return slices.ContainsFunc(n.fsm.NodeCerts(m.name), func(c fsm.NodeCert) bool { return c.Serial == m.meta.Serial })
}

// revokeLeft revokes the certificates of a member that left gracefully: a
// node that left is no longer a member, and coming back takes a new token.
func (n *Node) revokeLeft(ctx context.Context, name string) {
	live := slices.ContainsFunc(n.fsm.NodeCerts(name), func(c fsm.NodeCert) bool { return !c.Revoked })
	if !live || name == n.cfg.Name {
		return
	}
	if _, err := n.Apply(ctx, &fsm.RevokeNodeCerts{Node: name}); err != nil {
		n.log.Warn("revoking the certificates of a node that left", "node", name, "err", err)
		return
	}
	n.log.Info("revoked the certificates of a node that left", "node", name)
}

func (n *Node) changeMembership(what, name string, f raft.IndexFuture) {
	if err := f.Error(); err != nil {
		n.log.Warn("raft membership change failed", "change", what, "member", name, "err", err)
		return
	}
	n.log.Info("raft membership changed", "change", what, "member", name)
}

// registerHost records a member as a host/service, or updates its addresses.
func (n *Node) registerHost(ctx context.Context, m member) {
	h, err := n.fsm.Host(m.name)
	if err == nil && h.GossipAddress == m.addr && h.RaftAddress == m.meta.Raft && h.HTTPAddress == m.meta.HTTP {
		return
	}
	cmd := &fsm.RegisterHost{Name: m.name, GossipAddress: m.addr, RaftAddress: m.meta.Raft,
		HTTPAddress: m.meta.HTTP, Time: time.Now().UTC()}
	if _, err := n.Apply(ctx, cmd); err != nil {
		n.log.Warn("registering host failed", "host", m.name, "err", err)
	}
}

// updateHostInventory copies the Record part of a member's gossiped
// inventory (totals and identity) into its host record when it changed: the
// commit-time re-check of placements needs it in Raft, and it changes rarely,
// unlike the free figures, which stay in gossip.
func (n *Node) updateHostInventory(ctx context.Context, m member) {
	h, err := n.fsm.Host(m.name)
	if err != nil {
		return
	}
	rec := m.meta.inventory().Record()
	if h.Inventory == rec {
		return
	}
	cmd := &fsm.UpdateHostInventory{Name: m.name, Inventory: rec, Time: time.Now().UTC()}
	if _, err := n.Apply(ctx, cmd); err != nil {
		n.log.Warn("updating host inventory failed", "host", m.name, "err", err)
	}
}

func sleepCtx(ctx context.Context, d time.Duration) bool {
	select {
	case <-ctx.Done():
		return false
	case <-time.After(d):
		return true
	}
}
