package cluster

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/shoal-project/shoal/fsm"
)

const leasePath = "/internal/v1/lease"

// LeaseFile is where a node records when its lease ends, so a restarted
// agent keeps it and the fence guard (a separate process) can stop the
// host's domains when the agent is gone.
const LeaseFile = "lease"

type leaseRequest struct {
	Node string `json:"node"`
}

type leaseReply struct {
	Error *wireError `json:"error,omitempty"`
}

// errForcedDown refuses a lease to a host an operator forced down.
var errForcedDown = fmt.Errorf("%w: this host is forced down: no lease until an operator clears it", fsm.ErrConflict)

// Lease is this node's lease. It starts as the previous run left it.
func (n *Node) Lease() *Lease { return n.lease }

// renewLoop asks the leader for a lease every quarter of its duration. Each
// answer extends the lease from when the request was sent.
func (n *Node) renewLoop(ctx context.Context) {
	every := n.cfg.LeaseDuration / 4
	t := time.NewTicker(every)
	defer t.Stop()
	warned := false
	for {
		sent := time.Now()
		rctx, cancel := context.WithTimeout(ctx, n.cfg.LeaseDuration/2)
		err := n.requestLease(rctx)
		cancel()
		switch {
		case err == nil:
			n.lease.Renewed(sent)
			n.saveLease()
			warned = false
		case ctx.Err() != nil:
			return
		case !warned && !n.lease.Valid():
			n.log.Warn("lease not renewed", "err", err)
			warned = true
		default:
			n.log.Debug("lease not renewed", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// requestLease gets a grant from the leader (itself, when it leads).
func (n *Node) requestLease(ctx context.Context) error {
	if n.IsLeader() {
		return n.grantLease(ctx, n.cfg.Name)
	}
	l, ok := n.Leader()
	if !ok || l.HTTPAddress == "" {
		return fsm.ErrNoLeader
	}
	body, _ := json.Marshal(leaseRequest{Node: n.cfg.Name})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, internalURL(l.HTTPAddress, leasePath), bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := n.fwd.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	var reply leaseReply
	if err := json.NewDecoder(resp.Body).Decode(&reply); err != nil {
		return fmt.Errorf("lease reply from %s: %w", l.Name, err)
	}
	if reply.Error != nil {
		return fromWire(reply.Error)
	}
	return nil
}

// grantLease is the leader's side: it grants only while it still leads a
// quorum (VerifyLeader), and never to a host forced down.
func (n *Node) grantLease(ctx context.Context, node string) error {
	g := n.grants.Load()
	if g == nil || !n.IsLeader() {
		return errNotLeader
	}
	if h, err := n.fsm.Host(node); err == nil && h.ForcedDown {
		return errForcedDown
	}
	f := n.raft.VerifyLeader()
	done := make(chan error, 1)
	go func() { done <- f.Error() }()
	select {
	case err := <-done:
		if err != nil {
			return fmt.Errorf("%w: %v", errNotLeader, err)
		}
	case <-ctx.Done():
		return ctx.Err()
	}
	if !g.Grant(node) {
		return fmt.Errorf("%w: host %s is being marked down", fsm.ErrConflict, node)
	}
	return nil
}

func (n *Node) serveLease(w http.ResponseWriter, r *http.Request) {
	var req leaseRequest
	var reply leaseReply
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 4096)).Decode(&req); err != nil || req.Node == "" {
		reply.Error = toWire(fmt.Errorf("%w: a lease request names its node", fsm.ErrInvalid))
	} else if err := n.grantLease(r.Context(), req.Node); err != nil {
		reply.Error = toWire(err)
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(reply)
}

// saveLease records the lease's end for a restart and for the fence guard.
func (n *Node) saveLease() {
	if err := WriteLeaseFile(n.cfg.DataDir, n.lease.Expires()); err != nil {
		n.log.Warn("recording the lease", "err", err)
	}
}

// WriteLeaseFile records in dataDir that the lease ends at expires,
// atomically: a reader sees the old end or the new one, never half of it.
func WriteLeaseFile(dataDir string, expires time.Time) error {
	path := filepath.Join(dataDir, LeaseFile)
	tmp := path + ".tmp"
	data := []byte(expires.UTC().Format(time.RFC3339Nano) + "\n")
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// ReadLeaseFile returns when the lease recorded in dataDir ends (zero when
// there is none).
func ReadLeaseFile(dataDir string) (time.Time, error) {
	b, err := os.ReadFile(filepath.Join(dataDir, LeaseFile))
	if errors.Is(err, os.ErrNotExist) {
		return time.Time{}, nil
	}
	if err != nil {
		return time.Time{}, err
	}
	return time.Parse(time.RFC3339Nano, strings.TrimSpace(string(b)))
}
