package cluster

import (
	"bytes"
	"context"
	"crypto/tls"
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
	cfg := n.tls.PeerClientTLS()
	// Resumed sessions make a new connection cheap under a burst of
	// writes; revocation is still checked on each (pki.Identity).
	cfg.ClientSessionCache = tls.NewLRUClientSessionCache(256)
	tr := &http.Transport{
		DialTLSContext:      dialTLS(cfg),
		MaxIdleConnsPerHost: 256,
		// Close idle connections well before the server would, so a request is
		// never written into a connection the server is closing (its fate would
		// then be unknown).
		IdleConnTimeout: 30 * time.Second,
	}
	return &forwarder{n: n, client: &http.Client{Transport: tr}}
}

// dialTLS connects and completes the TLS handshake as one dial: whatever
// fails before the connection is ready (a refused connection, a slow or
// refused handshake) is a dial error, so the request certainly was not sent
// and a forwarded write may be retried (neverSent).
func dialTLS(cfg *tls.Config) func(ctx context.Context, network, addr string) (net.Conn, error) {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		d := tls.Dialer{NetDialer: &net.Dialer{}, Config: cfg}
		conn, err := d.DialContext(ctx, network, addr)
		if err != nil {
			var op *net.OpError
			if !errors.As(err, &op) || op.Op != "dial" {
				err = &net.OpError{Op: "dial", Net: network, Err: err}
			}
			return nil, err
		}
		return conn, nil
	}
}

// wireError is how errors cross the internal hop: the kind of their sentinel
// (fsm.KindOf) and their message.
type wireError struct {
	Kind    string `json:"kind"`
	Message string `json:"message"`
}

type applyReply struct {
	Index uint64     `json:"index"`
	Error *wireError `json:"error,omitempty"`
}

// kindNotLeader is the one kind only the internal hop knows: the peer asked
// is not the leader, so the write never entered the log and the sender may
// retry elsewhere. Outside this package it is just fsm.ErrUnavailable.
const kindNotLeader = "not_leader"

// toWire names err by its kind. An error of no kind may have been applied (a
// raft failure after the entry was sent), so it travels as unavailable.
func toWire(err error) *wireError {
	kind := fsm.KindOf(err)
	switch {
	case errors.Is(err, errNotLeader):
		kind = kindNotLeader
	case kind == "":
		kind = fsm.KindOf(errUnknownOutcome)
	}
	return &wireError{Kind: kind, Message: err.Error()}
}

// fromWire rebuilds the sender's error. Unavailable, and any kind this node
// does not know (a newer peer's), is an unknown outcome: never re-sent.
func fromWire(w *wireError) error {
	sentinel := fsm.ErrorOfKind(w.Kind)
	switch {
	case w.Kind == kindNotLeader:
		sentinel = errNotLeader
	case sentinel == nil, sentinel == fsm.ErrUnavailable:
		sentinel = errUnknownOutcome
	}
	return &remoteError{sentinel: sentinel, msg: w.Message}
}

// remoteError keeps the leader's message but matches the local sentinel.
type remoteError struct {
	sentinel error
	msg      string
}

func (e *remoteError) Error() string { return e.msg }
func (e *remoteError) Unwrap() error { return e.sentinel }

func (f *forwarder) register(mux *http.ServeMux) {
	mux.HandleFunc("POST "+applyPath, f.serveApply)
	mux.HandleFunc("POST "+removePath, f.serveRemove)
	mux.HandleFunc("GET "+readIndexPath, f.serveReadIndex)
}

// serveApply is the leader's side of a forwarded write. It decodes the entry
// first: an entry the FSM cannot decode must never reach the log.
func (f *forwarder) serveApply(w http.ResponseWriter, r *http.Request) {
	data, err := io.ReadAll(io.LimitReader(r.Body, fsm.MaxEntrySize+1))
	var reply applyReply
	switch {
	case err != nil:
		reply.Error = toWire(fmt.Errorf("%w: reading body: %v", fsm.ErrInvalid, err))
	case len(data) > fsm.MaxEntrySize: // not cut short into a decode error
		reply.Error = toWire(tooLarge(int(max(r.ContentLength, int64(len(data))))))
	default:
		if c, derr := fsm.Decode(data); derr != nil {
			reply.Error = toWire(fmt.Errorf("%w: %v", fsm.ErrInvalid, derr))
		} else if c.Type() == fsm.TypeBatch {
			// Batches are made by the leader's batcher only; one nested in
			// another would be undecodable on every replica.
			reply.Error = toWire(fmt.Errorf("%w: a batch cannot be forwarded", fsm.ErrInvalid))
		} else if f.n.raft.State() != raft.Leader {
			reply.Error = toWire(errNotLeader)
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
// never sent (errNotLeader, retryable); any failure after that is ambiguous.
func (f *forwarder) forward(ctx context.Context, addr string, data []byte) (uint64, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, internalURL(addr, applyPath), bytes.NewReader(data))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/octet-stream")
	resp, err := f.client.Do(req)
	if err != nil {
		if neverSent(err) {
			return 0, fmt.Errorf("%w: leader %s unreachable: %v", errNotLeader, addr, err)
		}
		return 0, fmt.Errorf("%w: forwarding to leader %s: %v", errUnknownOutcome, addr, err)
	}
	defer resp.Body.Close()
	var reply applyReply
	if err := json.NewDecoder(resp.Body).Decode(&reply); err != nil {
		return 0, fmt.Errorf("%w: reply from leader %s: %v", errUnknownOutcome, addr, err)
	}
	if reply.Error != nil {
		return reply.Index, fromWire(reply.Error)
	}
	return reply.Index, nil
}

// neverSent reports whether a failed request certainly never reached the
// server's handler: the connection, TLS handshake included (dialTLS), was
// never made.
func neverSent(err error) bool {
	var op *net.OpError
	return errors.As(err, &op) && op.Op == "dial"
}
