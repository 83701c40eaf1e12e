package cluster

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/hashicorp/raft"

	"github.com/shoal-project/shoal/fsm"
)

const removePath = "/internal/v1/remove-peer"

// removePeer asks the leader to take a server out of the Raft configuration,
// retrying through elections like a write. Removing is idempotent, so a retry
// after an ambiguous failure is safe here.
func (n *Node) removePeer(ctx context.Context, name string) error {
	deadline := holdDeadline(ctx, n.cfg.HoldTimeout)
	for {
		err := n.removeOnce(ctx, name)
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return err
		}
		if !sleepCtx(ctx, 100*time.Millisecond) {
			return ctx.Err()
		}
	}
}

func (n *Node) removeOnce(ctx context.Context, name string) error {
	if n.raft.State() == raft.Leader {
		return n.raft.RemoveServer(raft.ServerID(name), 0, 0).Error()
	}
	_, id := n.raft.LeaderWithID()
	addr := n.httpAddrOf(string(id))
	if id == "" || addr == "" {
		return fsm.ErrNoLeader
	}
	body := fmt.Sprintf(`{"name":%q}`, name)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, internalURL(addr, removePath), strings.NewReader(body))
	if err != nil {
		return err
	}
	resp, err := n.fwd.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	var reply applyReply
	if err := json.NewDecoder(resp.Body).Decode(&reply); err != nil {
		return err
	}
	if reply.Error != nil {
		return fromWire(reply.Error)
	}
	return nil
}

func (f *forwarder) serveRemove(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Name string `json:"name"`
	}
	var reply applyReply
	switch {
	case json.NewDecoder(http.MaxBytesReader(w, r.Body, 4096)).Decode(&req) != nil || req.Name == "":
		reply.Error = toWire(fmt.Errorf(`%w: body must be {"name":"..."}`, fsm.ErrInvalid))
	case f.n.raft.State() != raft.Leader:
		reply.Error = toWire(errNotLeader)
	default:
		fut := f.n.raft.RemoveServer(raft.ServerID(req.Name), 0, 0)
		if err := fut.Error(); err != nil {
			reply.Error = toWire(classifyRaftError(err))
		} else {
			reply.Index = fut.Index()
			f.n.log.Info("raft membership changed", "change", "remove (left)", "member", req.Name)
		}
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(reply)
}
