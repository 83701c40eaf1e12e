package cluster

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/hashicorp/raft"

	"github.com/shoal-project/shoal/fsm"
	"github.com/shoal-project/shoal/internal/backoff"
)

// Apply commits a command and returns the Raft index it was applied at. On the
// leader it goes into the batcher; on a follower it is forwarded to the leader.
// Through an election it is retried with jitter until HoldTimeout, but only
// while it certainly has not entered the log: once it may have, the caller gets
// an error wrapping fsm.ErrUnavailable (errUnknownOutcome) instead of a blind
// re-send. No leader within the hold time wraps fsm.ErrNoLeader.
func (n *Node) Apply(ctx context.Context, c fsm.Command) (uint64, error) {
	if c.Type() == fsm.TypeBatch {
		return 0, fmt.Errorf("%w: batches are formed by the leader, not proposed", fsm.ErrInvalid)
	}
	data, err := fsm.Encode(c)
	if err != nil {
		return 0, fmt.Errorf("%w: %v", fsm.ErrInvalid, err)
	}
	if len(data) > fsm.MaxEntrySize {
		return 0, tooLarge(len(data))
	}
	return n.applyEncoded(ctx, data)
}

// tooLarge refuses an entry the forwarding hop would not carry, on the
// leader as well, so a write's fate does not depend on where it lands.
func tooLarge(size int) error {
	return fmt.Errorf("%w: a write of %d bytes is over the %d bytes one Raft entry may carry", fsm.ErrInvalid, size, fsm.MaxEntrySize)
}

func (n *Node) applyEncoded(ctx context.Context, data []byte) (uint64, error) {
	deadline := holdDeadline(ctx, n.cfg.HoldTimeout)
	retry := backoff.Backoff{Min: 20 * time.Millisecond, Max: 500 * time.Millisecond, Jitter: true}
	for attempt := 1; ; attempt++ {
		idx, err := n.applyOnce(ctx, data)
		if err == nil || !errors.Is(err, errNotLeader) {
			return idx, err
		}
		// Never entered the log: safe to try again once a leader is known.
		sleep := retry.Next()
		if time.Now().Add(sleep).After(deadline) {
			return 0, fmt.Errorf("%w after %d attempts: %v", fsm.ErrNoLeader, attempt, err)
		}
		if !sleepCtx(ctx, sleep) {
			return 0, ctx.Err()
		}
	}
}

func (n *Node) applyOnce(ctx context.Context, data []byte) (uint64, error) {
	if n.raft.State() == raft.Leader {
		return n.batch.propose(ctx, data)
	}
	_, id := n.raft.LeaderWithID()
	if id == "" {
		return 0, fmt.Errorf("%w: no leader known", errNotLeader)
	}
	addr := n.httpAddrOf(string(id))
	if addr == "" {
		return 0, fmt.Errorf("%w: no HTTP address known for leader %s", errNotLeader, id)
	}
	return n.fwd.forward(ctx, addr, data)
}

// httpAddrOf finds a member's HTTP address from gossip, then from the registry.
func (n *Node) httpAddrOf(name string) string {
	n.mu.Lock()
	m := n.members[name]
	n.mu.Unlock()
	if m != nil && m.meta.HTTP != "" {
		return m.meta.HTTP
	}
	if h, err := n.fsm.Host(name); err == nil {
		return h.HTTPAddress
	}
	return ""
}
