package cluster

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/shoal-project/shoal/fsm"
	"github.com/shoal-project/shoal/internal/backoff"
)

// Join joins the cluster that peers (gossip host:port) belong to and returns
// once the leader has made this node a Raft member and its replica has caught
// up with the cluster's identity.
func (n *Node) Join(ctx context.Context, peers []string) error {
	n.mu.Lock()
	n.mergeErr = nil
	n.mu.Unlock()
	if _, err := n.ml.Join(peers); err != nil {
		n.mu.Lock()
		merr := n.mergeErr
		n.mu.Unlock()
		if merr != nil {
			return fmt.Errorf("%w: %v", fsm.ErrConflict, merr)
		}
		return fmt.Errorf("cannot reach any of %v over gossip: %w", peers, err)
	}
	n.kickReconcile()
	for {
		if n.inConfiguration() && n.fsm.ClusterID() != "" {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%w: joined gossip through %v but the leader has not added this node to raft "+
				"(is that cluster bootstrapped and does it have a leader?)", fsm.ErrUnavailable, peers)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// gossipRepairLoop keeps this node in gossip. While it is alone, or while
// Raft still has it at an old address (the others have not accepted it back),
// it joins through every address it knows: --join, the peers it saved when it
// last ran, and the hosts in its replica. That is how --join is retried until
// it succeeds, how a restarted node finds its cluster without flags, and how a
// node that moved or that gossip forgot comes back.
func (n *Node) gossipRepairLoop(ctx context.Context) {
	const check = 250 * time.Millisecond // while nothing needs repair
	retry := backoff.Backoff{Min: 500 * time.Millisecond, Max: 5 * time.Second}
	for {
		wait := check
		if n.needsGossipJoin() {
			wait = retry.Next()
			if addrs := n.knownPeers(); len(addrs) > 0 {
				joined, err := n.ml.Join(addrs)
				if joined > 0 {
					n.log.Info("joined gossip", "contacted", joined)
					n.kickReconcile()
				} else {
					n.log.Warn("gossip join failed, retrying", "peers", addrs, "in", wait, "err", err)
				}
			}
		} else {
			retry.Reset()
		}
		if !sleepCtx(ctx, wait) {
			return
		}
	}
}

func (n *Node) needsGossipJoin() bool {
	if n.ml.NumMembers() <= 1 {
		return true
	}
	if !n.hasState() {
		return false
	}
	f := n.raft.GetConfiguration()
	if f.Error() != nil {
		return false
	}
	for _, s := range f.Configuration().Servers {
		if string(s.ID) == n.cfg.Name {
			return string(s.Address) != n.RaftAddr()
		}
	}
	return true
}

// knownPeers lists gossip addresses worth trying, without this node's own.
func (n *Node) knownPeers() []string {
	addrs := slices.Clone(n.cfg.Join)
	if n.hasState() {
		addrs = append(addrs, n.loadPeers()...)
		for _, h := range n.fsm.Hosts() {
			if h.Name != n.cfg.Name && h.GossipAddress != "" {
				addrs = append(addrs, h.GossipAddress)
			}
		}
	}
	self := n.GossipAddr()
	addrs = slices.DeleteFunc(addrs, func(a string) bool { return a == self })
	slices.Sort(addrs)
	return slices.Compact(addrs)
}

func (n *Node) peersFile() string { return filepath.Join(n.cfg.DataDir, "peers.json") }

func (n *Node) loadPeers() []string {
	b, err := os.ReadFile(n.peersFile())
	if err != nil {
		return nil
	}
	var addrs []string
	if err := json.Unmarshal(b, &addrs); err != nil {
		n.log.Warn("ignoring unreadable peers file", "err", err)
		return nil
	}
	return addrs
}

// peersLoop keeps the gossip addresses of known members on disk so a restarted
// node can find its cluster without join flags.
func (n *Node) peersLoop(ctx context.Context) {
	var last []string
	for {
		var addrs []string
		for _, m := range n.memberSnapshot() {
			if m.name != n.cfg.Name && m.status != "left" {
				addrs = append(addrs, m.addr)
			}
		}
		slices.Sort(addrs)
		if len(addrs) > 0 && !slices.Equal(addrs, last) {
			if err := writeFileAtomic(n.peersFile(), addrs); err != nil {
				n.log.Warn("saving peers", "err", err)
			} else {
				last = addrs
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(2 * time.Second):
		case <-n.peersCh:
		}
	}
}

func writeFileAtomic(path string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return err
	}
	return errors.Join(os.Rename(tmp, path))
}
