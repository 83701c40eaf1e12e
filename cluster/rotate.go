package cluster

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/shoal-project/shoal/cluster/pki"
	"github.com/shoal-project/shoal/fsm"
)

// RotateGossipKey replaces the cluster's gossip key with no downtime, in
// memberlist's three steps, each through Raft: install a new key on every
// node (each still sends under the old one and reads both), make it the key
// every node sends under, then retire the old ones. Before each next step
// it waits until every live member advertises the outcome of the last in
// its gossip metadata, so no node ever receives under a key it lacks. A
// node that is down meanwhile learns the new keyring from Raft when it
// comes back. It returns the new key's ID.
func (n *Node) RotateGossipKey(ctx context.Context) (string, error) {
	old, _ := n.fsm.GossipKeys()
	key, err := pki.NewGossipKey()
	if err != nil {
		return "", err
	}
	sealed, err := n.tls.CA().Seal(key)
	if err != nil {
		return "", err
	}
	id := pki.GossipKeyID(key)
	if _, err := n.Apply(ctx, &fsm.InstallGossipKey{ID: id, Sealed: sealed}); err != nil {
		return "", fmt.Errorf("installing the new gossip key: %w", err)
	}
	if err := n.waitKeyring(ctx, func(m meta) bool { return slices.Contains(m.Keys, id) }); err != nil {
		return "", fmt.Errorf("new gossip key %s installed in raft, but %w; the old key is still in use", id, err)
	}
	if _, err := n.Apply(ctx, &fsm.UseGossipKey{ID: id}); err != nil {
		return "", fmt.Errorf("switching to the new gossip key: %w", err)
	}
	if err := n.waitKeyring(ctx, func(m meta) bool { return len(m.Keys) > 0 && m.Keys[0] == id }); err != nil {
		return "", fmt.Errorf("gossip key %s in use in raft, but %w; the old keys are kept", id, err)
	}
	for _, k := range old {
		if _, err := n.Apply(ctx, &fsm.RemoveGossipKey{ID: k.ID}); err != nil {
			return "", fmt.Errorf("retiring gossip key %s: %w", k.ID, err)
		}
	}
	n.log.Info("rotated the gossip key", "key", id, "retired", len(old))
	return id, nil
}

// waitKeyring waits until every live member's metadata (this node's own
// included) satisfies done.
func (n *Node) waitKeyring(ctx context.Context, done func(meta) bool) error {
	for {
		var behind []string
		for _, m := range n.memberSnapshot() {
			if m.status == "alive" && !done(m.meta) {
				behind = append(behind, m.name)
			}
		}
		if len(behind) == 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%w: members %v did not follow the keyring in time", fsm.ErrUnavailable, behind)
		case <-time.After(100 * time.Millisecond):
		}
	}
}
