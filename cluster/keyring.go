package cluster

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/shoal-project/shoal/cluster/pki"
	"github.com/shoal-project/shoal/fsm"
)

// keyringLoop makes memberlist's keyring follow the one in Raft. Raft is the
// keyring's truth (sealed under the CA key, never in clear), so a node that
// was down during a rotation, and can no longer read gossip, still learns
// the new key from the leader over mutual TLS and comes back.
func (n *Node) keyringLoop(ctx context.Context) {
	for {
		// Watched before the sync, so that a change applied while it reads
		// the replica (a node catching up applies a rotation's install, use
		// and remove in a burst) wakes the next sync instead of being missed.
		watch := n.fsm.WatchCh()
		if err := n.syncKeyring(); err != nil {
			n.log.Warn("gossip keyring", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-watch:
		}
	}
}

// syncKeyring installs the replica's keys, switches to its primary, then
// removes what the replica no longer holds, and saves the result for the
// next start. An empty replica keyring (a cluster not yet seeded) changes
// nothing.
func (n *Node) syncKeyring() error {
	sealed, primary := n.fsm.GossipKeys()
	if len(sealed) == 0 || primary == "" {
		return nil
	}
	want := make(map[string][]byte, len(sealed))
	for _, k := range sealed {
		plain, err := n.tls.CA().Open(k.Sealed)
		if err != nil {
			return fmt.Errorf("opening gossip key %s: %w", k.ID, err)
		}
		want[k.ID] = plain
	}
	if want[primary] == nil {
		return fmt.Errorf("the replica's primary gossip key %s is not among its keys", primary)
	}
	kr := n.keyring
	have := kr.GetKeys()
	changed := false
	for _, key := range want {
		if !slices.ContainsFunc(have, func(h []byte) bool { return bytes.Equal(h, key) }) {
			if err := kr.AddKey(key); err != nil {
				return err
			}
			changed = true
		}
	}
	if !bytes.Equal(kr.GetPrimaryKey(), want[primary]) {
		if err := kr.UseKey(want[primary]); err != nil {
			return err
		}
		changed = true
	}
	for _, key := range have {
		if want[pki.GossipKeyID(key)] == nil {
			if err := kr.RemoveKey(key); err != nil {
				return err
			}
			changed = true
		}
	}
	if !changed {
		return nil
	}
	keys := n.currentGossipKeys()
	n.log.Info("gossip keyring changed", "primary", primary, "keys", len(keys))
	n.setKeyIDs(keys)
	go func() { _ = n.ml.UpdateNode(time.Second) }()
	return pki.SaveGossipKeys(TLSDir(n.cfg.DataDir), keys)
}

// setKeyIDs records the IDs of keys (primary first) for the metadata.
func (n *Node) setKeyIDs(keys [][]byte) {
	ids := make([]string, len(keys))
	for i, k := range keys {
		ids[i] = pki.GossipKeyID(k)
	}
	n.mu.Lock()
	n.keyIDs = ids
	n.mu.Unlock()
}

// seedSecurity runs on every new leader: it records the leader's own
// certificate if the replica does not know it (the first node's, made
// before there was a Raft) and, on a cluster whose Raft holds no gossip key
// yet, puts the keys this node gossips with there, sealed.
func (n *Node) seedSecurity(ctx context.Context) error {
	leaf := n.tls.Certificate().Leaf
	serial := pki.SerialOf(leaf)
	known := slices.ContainsFunc(n.fsm.NodeCerts(n.cfg.Name), func(c fsm.NodeCert) bool { return c.Serial == serial })
	if !known {
		if _, err := n.Apply(ctx, &fsm.RecordNodeCert{Serial: serial, Node: n.cfg.Name,
			NotAfter: leaf.NotAfter.UTC(), Now: time.Now().UTC()}); err != nil {
			return fmt.Errorf("recording this node's certificate: %w", err)
		}
	}
	if keys, _ := n.fsm.GossipKeys(); len(keys) > 0 {
		return nil
	}
	kr := n.keyring
	for _, key := range kr.GetKeys() {
		sealed, err := n.tls.CA().Seal(key)
		if err != nil {
			return err
		}
		_, err = n.Apply(ctx, &fsm.InstallGossipKey{ID: pki.GossipKeyID(key), Sealed: sealed})
		if err != nil && !errors.Is(err, fsm.ErrConflict) {
			return fmt.Errorf("putting the gossip keyring in Raft: %w", err)
		}
	}
	_, err := n.Apply(ctx, &fsm.UseGossipKey{ID: pki.GossipKeyID(kr.GetPrimaryKey())})
	return err
}
