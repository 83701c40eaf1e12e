package cluster

import (
	"context"
	"fmt"

	"github.com/shoal-project/shoal/fsm"
)

// RemoveHost takes a node out of the cluster for good (Nova's service
// delete): its host record goes and its certificates are revoked in one
// entry, so every node refuses them from then on, and then it leaves the
// Raft configuration. The leader will not take it back in (its gossiped
// certificate is revoked); coming back takes a new join token. A host that
// still has servers is refused, and so is this node itself (it leaves with
// `shoal leave`).
func (n *Node) RemoveHost(ctx context.Context, name string) error {
	if name == n.cfg.Name {
		return fmt.Errorf("%w: %s is the node serving this request; remove it from another node, or run `shoal leave` on it",
			fsm.ErrConflict, name)
	}
	if _, err := n.Apply(ctx, &fsm.DeregisterHost{Name: name}); err != nil {
		return err
	}
	if err := n.removePeer(ctx, name); err != nil {
		return fmt.Errorf("host %s removed and its certificates revoked, but taking it out of raft failed "+
			"(the leader retries on its own): %w", name, err)
	}
	return nil
}
