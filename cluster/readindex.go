package cluster

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/hashicorp/raft"

	"github.com/shoal-project/shoal/fsm"
	"github.com/shoal-project/shoal/internal/backoff"
)

const readIndexPath = "/internal/v1/read-index"

// readIndex is the index of the last command the leader has applied, after a
// barrier: once the local replica has applied it, the replica holds every
// write committed before this call.
func (n *Node) readIndex(ctx context.Context) (uint64, error) {
	if n.raft.State() == raft.Leader {
		if err := n.Barrier(ctx); err != nil {
			return 0, err
		}
		return n.fsm.Index(), nil
	}
	_, id := n.raft.LeaderWithID()
	addr := n.httpAddrOf(string(id))
	if id == "" || addr == "" {
		return 0, fsm.ErrNoLeader
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, internalURL(addr, readIndexPath), nil)
	if err != nil {
		return 0, err
	}
	resp, err := n.fwd.client.Do(req)
	if err != nil {
		return 0, fmt.Errorf("%w: read index from leader %s: %v", fsm.ErrNoLeader, addr, err)
	}
	defer resp.Body.Close()
	var reply applyReply
	if err := json.NewDecoder(resp.Body).Decode(&reply); err != nil {
		return 0, fmt.Errorf("read index from %s: %w", addr, err)
	}
	if reply.Error != nil {
		return 0, fromWire(reply.Error)
	}
	return reply.Index, nil
}

func (f *forwarder) serveReadIndex(w http.ResponseWriter, r *http.Request) {
	var reply applyReply
	if f.n.raft.State() != raft.Leader {
		reply.Error = toWire(errNotLeader)
	} else if idx, err := f.n.readIndex(r.Context()); err != nil {
		reply.Error = toWire(err)
	} else {
		reply.Index = idx
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(reply)
}

// SyncReplica waits until the local replica has applied every write the
// leader had applied when it was called.
func (n *Node) SyncReplica(ctx context.Context) error {
	idx, err := n.readIndex(ctx)
	if err != nil {
		return err
	}
	return n.fsm.WaitForIndex(ctx, idx)
}

// catchUpLoop marks the node caught up once its replica has applied what the
// leader had applied when asked: after a restart the replica replays its log
// only as the leader tells it the commit index, and until then it lacks
// recent writes. It retries until it succeeds, then ends.
func (n *Node) catchUpLoop(ctx context.Context) {
	retry := backoff.Backoff{Min: 100 * time.Millisecond, Max: 2 * time.Second}
	for ctx.Err() == nil {
		rctx, cancel := context.WithTimeout(ctx, n.cfg.HoldTimeout)
		idx, err := n.readIndex(rctx)
		if err == nil {
			err = n.fsm.WaitForIndex(rctx, idx)
		}
		cancel()
		if err == nil {
			n.caughtUp.Store(true)
			n.log.Info("replica caught up with the leader", "index", idx)
			return
		}
		n.log.Debug("not caught up yet", "err", err)
		if !retry.Wait(ctx) {
			return
		}
	}
}
