package cluster

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"

	"github.com/hashicorp/raft"

	"github.com/shoal-project/shoal/fsm"
)

const applyPath = "/internal/v1/apply"

// forwarder sends writes from a follower to the leader's internal endpoint.
type forwarder struct {
	n      *Node
	client *http.Client
}

func newForwarder(n *Node) *forwarder {
	tr := &http.Transport{
		DialContext:         (&net.Dialer{Timeout: 2 * time.Second}).DialContext,
		MaxIdleConnsPerHost: 64,
		// Close idle connections well before the server would, so a request is
		// never written into a connection the server is closing (its fate would
		// then be unknown).
		IdleConnTimeout: 30 * time.Second,
	}
	return &forwarder{n: n, client: &http.Client{Transport: tr}}
}

// wireError is how business and cluster errors cross the internal hop.
type wireError struct {
	Kind    string `json:"kind"`
	Message string `json:"message"`
}

type applyReply struct {
	Index uint64     `json:"index"`
	Error *wireError `json:"error,omitempty"`
}

var errorKinds = []struct {
	kind string
	err  error
}{
	{"not_found", fsm.ErrNotFound},
	{"conflict", fsm.ErrConflict},
	{"invalid", fsm.ErrInvalid},
	{"not_leader", ErrNotLeader},
	{"unknown_outcome", ErrUnknownOutcome},
}

func toWire(err error) *wireError {
	for _, k := range errorKinds {
		if errors.Is(err, k.err) {
			return &wireError{Kind: k.kind, Message: err.Error()}
		}
	}
	return &wireError{Kind: "unknown_outcome", Message: err.Error()}
}

func fromWire(w *wireError) error {
	for _, k := range errorKinds {
		if k.kind == w.Kind {
			return &remoteError{kind: k.err, msg: w.Message}
		}
	}
	return &remoteError{kind: ErrUnknownOutcome, msg: w.Message}
}

// remoteError keeps the leader's message but matches the local sentinel.
type remoteError struct {
	kind error
	msg  string
}

func (e *remoteError) Error() string { return e.msg }
func (e *remoteError) Unwrap() error { return e.kind }

func (f *forwarder) register(mux *http.ServeMux) {
	mux.HandleFunc("POST "+applyPath, f.serveApply)
	mux.HandleFunc("POST "+removePath, f.serveRemove)
	mux.HandleFunc("GET "+readIndexPath, f.serveReadIndex)
}

// serveApply is the leader's side of a forwarded write. It decodes the entry
// first: an entry the FSM cannot decode must never reach the log.
func (f *forwarder) serveApply(w http.ResponseWriter, r *http.Request) {
	data, err := io.ReadAll(io.LimitReader(r.Body, 8<<20))
	var reply applyReply
	switch {
	case err != nil:
		reply.Error = &wireError{Kind: "invalid", Message: "reading body: " + err.Error()}
	default:
		if c, derr := fsm.Decode(data); derr != nil {
			reply.Error = &wireError{Kind: "invalid", Message: derr.Error()}
		} else if c.Type() == fsm.TypeBatch {
			// Batches are made by the leader's batcher only; one nested in
			// another would be undecodable on every replica.
			reply.Error = &wireError{Kind: "invalid", Message: "a batch cannot be forwarded"}
		} else if f.n.raft.State() != raft.Leader {
			reply.Error = &wireError{Kind: "not_leader", Message: "not the leader"}
		} else {
			idx, aerr := f.n.batch.propose(r.Context(), data)
			reply.Index = idx
			if aerr != nil {
				reply.Error = toWire(aerr)
			}
		}
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(reply)
}

// forward sends one entry to the leader. A failure to connect means it was
// never sent (ErrNotLeader, retryable); any failure after that is ambiguous.
func (f *forwarder) forward(ctx context.Context, addr string, data []byte) (uint64, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://"+addr+applyPath, bytes.NewReader(data))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/octet-stream")
	resp, err := f.client.Do(req)
	if err != nil {
		var op *net.OpError
		if errors.As(err, &op) && op.Op == "dial" {
			return 0, fmt.Errorf("%w: leader %s unreachable: %v", ErrNotLeader, addr, err)
		}
		return 0, fmt.Errorf("%w: forwarding to leader %s: %v", ErrUnknownOutcome, addr, err)
	}
	defer resp.Body.Close()
	var reply applyReply
	if err := json.NewDecoder(resp.Body).Decode(&reply); err != nil {
		return 0, fmt.Errorf("%w: reply from leader %s: %v", ErrUnknownOutcome, addr, err)
	}
	if reply.Error != nil {
		return reply.Index, fromWire(reply.Error)
	}
	return reply.Index, nil
}
