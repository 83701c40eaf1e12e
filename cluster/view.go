package cluster

import (
	"context"
	"sort"
	"time"

	"github.com/hashicorp/raft"

	"github.com/shoal-project/shoal/fsm"
)

// Member is one node as this node sees it through gossip and Raft.
type Member struct {
	Name      string
	Address   string // gossip host:port
	Status    string // alive|suspect|dead|left
	Role      string // leader|follower|nonvoter|none
	Fenced    bool   // the node has no lease and runs nothing
	Inventory fsm.Inventory
}

// LeaderInfo names the current leader.
type LeaderInfo struct {
	Name        string
	RaftAddress string
	HTTPAddress string
}

// Health is this node's view of itself.
type Health struct {
	Name      string
	Status    string // ok|waiting|no-leader
	ClusterID string
	Role      string
	Leader    string
	Index     uint64
	Version   string
	// Fenced: the node's lease ran out, it stopped its domains and starts
	// none. LeaseRemaining is how long its lease still runs.
	Fenced         bool
	LeaseRemaining time.Duration
}

// Members lists every node gossip has seen, dead and left ones included.
func (n *Node) Members() []Member {
	roles := n.roles()
	var out []Member
	for _, m := range n.memberSnapshot() {
		role := roles[m.name]
		if role == "" {
			role = "none"
		}
		fenced := m.meta.Fenced
		if m.name == n.cfg.Name {
			fenced = n.isFenced()
		}
		out = append(out, Member{Name: m.name, Address: m.addr, Status: m.status, Role: role, Fenced: fenced,
			Inventory: m.meta.inventory()})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// roles maps Raft server IDs to leader|follower|nonvoter.
func (n *Node) roles() map[string]string {
	roles := map[string]string{}
	f := n.raft.GetConfiguration()
	if f.Error() != nil {
		return roles
	}
	_, leader := n.raft.LeaderWithID()
	for _, s := range f.Configuration().Servers {
		switch {
		case s.ID == leader:
			roles[string(s.ID)] = "leader"
		case s.Suffrage == raft.Voter:
			roles[string(s.ID)] = "follower"
		default:
			roles[string(s.ID)] = "nonvoter"
		}
	}
	return roles
}

// Leader returns the current leader, or ok=false while there is none.
func (n *Node) Leader() (LeaderInfo, bool) {
	addr, id := n.raft.LeaderWithID()
	if id == "" {
		return LeaderInfo{}, false
	}
	return LeaderInfo{Name: string(id), RaftAddress: string(addr), HTTPAddress: n.httpAddrOf(string(id))}, true
}

// IsLeader reports whether this node is the Raft leader.
func (n *Node) IsLeader() bool { return n.raft.State() == raft.Leader }

// Barrier waits until every committed entry is applied here (leader only).
func (n *Node) Barrier(ctx context.Context) error {
	timeout := n.cfg.HoldTimeout
	if d, ok := ctx.Deadline(); ok {
		timeout = min(timeout, time.Until(d))
	}
	if err := n.raft.Barrier(timeout).Error(); err != nil {
		return classifyRaftError(err)
	}
	return nil
}

// Health reports whether this node is part of a cluster with a leader.
func (n *Node) Health() Health {
	h := Health{Name: n.cfg.Name, ClusterID: n.fsm.ClusterID(), Index: n.fsm.Index(), Version: n.cfg.Version,
		Fenced: n.isFenced(), LeaseRemaining: n.lease.Remaining()}
	h.Role = n.roles()[n.cfg.Name]
	if h.Role == "" {
		h.Role = "none"
	}
	if _, id := n.raft.LeaderWithID(); id != "" {
		h.Leader = string(id)
	}
	switch {
	case h.Role == "none":
		h.Status = "waiting"
	case h.Leader == "":
		h.Status = "no-leader"
	default:
		h.Status = "ok"
	}
	return h
}

// inConfiguration reports whether this node is in its own Raft configuration.
func (n *Node) inConfiguration() bool {
	f := n.raft.GetConfiguration()
	if f.Error() != nil {
		return false
	}
	for _, s := range f.Configuration().Servers {
		if s.ID == raft.ServerID(n.cfg.Name) {
			return true
		}
	}
	return false
}

func (n *Node) voterCount() int {
	count := 0
	if f := n.raft.GetConfiguration(); f.Error() == nil {
		for _, s := range f.Configuration().Servers {
			if s.Suffrage == raft.Voter {
				count++
			}
		}
	}
	return count
}

// AliveHosts names the members gossip sees as alive or suspect.
func (n *Node) AliveHosts() map[string]bool {
	out := map[string]bool{}
	for _, m := range n.memberSnapshot() {
		if m.status == "alive" || m.status == "suspect" {
			out[m.name] = true
		}
	}
	return out
}

// CaughtUp reports whether this node's replica has, since the node started,
// applied everything the leader had applied at some moment after the start
// (a read index). Nothing that judges by absence in the local replica (the
// reconciler removing orphans) may act before. raft's AppliedIndex is not
// enough: it counts entries handed to the FSM, not applied by it.
func (n *Node) CaughtUp() bool { return n.caughtUp.Load() }

// Snapshot takes a Raft snapshot now (admin and tests).
func (n *Node) Snapshot() error { return n.raft.Snapshot().Error() }

// RaftStats exposes hashicorp/raft's counters (last_snapshot_index, ...).
func (n *Node) RaftStats() map[string]string { return n.raft.Stats() }

// MetaSize is the size of the gossip metadata this node publishes now.
func (n *Node) MetaSize() int {
	b, _ := n.localMeta().encode(metaLimit)
	return len(b)
}

func (n *Node) isFenced() bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.fenced
}
