package cluster

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/shoal-project/shoal/fsm"
)

// TestErrorsCrossTheHop sends each error the leader can answer through the
// follower's side of the internal hop and checks that the follower sees the
// same sentinel (and so retries only what never entered the log) and the
// leader's message.
func TestErrorsCrossTheHop(t *testing.T) {
	tests := []struct {
		name  string
		sent  error
		want  []error // each must match on the follower's side
		retry bool    // the follower may send the write again
	}{
		{"invalid", fmt.Errorf("%w: bad entry", fsm.ErrInvalid), []error{fsm.ErrInvalid}, false},
		{"not found", fmt.Errorf("%w: flavor %q", fsm.ErrNotFound, "x"), []error{fsm.ErrNotFound}, false},
		{"conflict", fmt.Errorf("%w: name taken", fsm.ErrConflict), []error{fsm.ErrConflict}, false},
		{"no leader", fmt.Errorf("%w: election", fsm.ErrNoLeader), []error{fsm.ErrNoLeader}, false},
		{"unavailable", fmt.Errorf("%w: busy", fsm.ErrUnavailable), []error{fsm.ErrUnavailable, errUnknownOutcome}, false},
		{"not leader", fmt.Errorf("%w: stepped down", errNotLeader), []error{errNotLeader, fsm.ErrUnavailable}, true},
		{"unknown outcome", fmt.Errorf("%w: lost leadership", errUnknownOutcome), []error{errUnknownOutcome, fsm.ErrUnavailable}, false},
		{"forced down", errForcedDown, []error{fsm.ErrConflict}, false},
		{"no kind", errors.New("raft: log is corrupt"), []error{errUnknownOutcome, fsm.ErrUnavailable}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			leader := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				_ = json.NewEncoder(w).Encode(applyReply{Index: 7, Error: toWire(tt.sent)})
			}))
			t.Cleanup(leader.Close)
			f := &forwarder{client: leader.Client()}
			_, err := f.forward(context.Background(), strings.TrimPrefix(leader.URL, "https://"), []byte{1})
			for _, want := range tt.want {
				if !errors.Is(err, want) {
					t.Errorf("forward = %v; does not match %v", err, want)
				}
			}
			if got := errors.Is(err, errNotLeader); got != tt.retry {
				t.Errorf("forward = %v: retryable %v, want %v", err, got, tt.retry)
			}
			if err == nil || err.Error() != tt.sent.Error() {
				t.Errorf("message = %v, want %q", err, tt.sent.Error())
			}
		})
	}
}

// TestUnknownKindIsUnknownOutcome: a kind this node does not know (a newer
// leader's) must not be retried.
func TestUnknownKindIsUnknownOutcome(t *testing.T) {
	err := fromWire(&wireError{Kind: "from_the_future", Message: "m"})
	if !errors.Is(err, errUnknownOutcome) || errors.Is(err, errNotLeader) || err.Error() != "m" {
		t.Errorf("fromWire(unknown kind) = %v", err)
	}
}

// TestRefusedHandshakeIsNeverSent: a leader whose certificate this node
// refuses never received the write, so the follower may send it elsewhere.
func TestRefusedHandshakeIsNeverSent(t *testing.T) {
	reached := false
	leader := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { reached = true }))
	t.Cleanup(leader.Close)
	untrusting := &tls.Config{RootCAs: x509.NewCertPool(), MinVersion: tls.VersionTLS13}
	f := &forwarder{client: &http.Client{Transport: &http.Transport{DialTLSContext: dialTLS(untrusting)}}}
	_, err := f.forward(context.Background(), strings.TrimPrefix(leader.URL, "https://"), []byte{1})
	if !errors.Is(err, errNotLeader) || reached {
		t.Fatalf("forward = %v (handler reached: %v); want a retryable never-sent error", err, reached)
	}
}

// TestEntryOverTheLimit: a write larger than fsm.MaxEntrySize is refused as
// invalid (400 at the API) on the node that takes it, before any Raft or
// network step, and the leader's side of the hop refuses one too, naming
// the limit rather than failing to decode a body cut short.
func TestEntryOverTheLimit(t *testing.T) {
	big := &fsm.CreateInstances{Instances: []fsm.NewInstance{{UserData: strings.Repeat("QUJD", fsm.MaxEntrySize/4)}}}
	if _, err := (&Node{}).Apply(context.Background(), big); !errors.Is(err, fsm.ErrInvalid) ||
		!strings.Contains(err.Error(), fmt.Sprint(fsm.MaxEntrySize)) {
		t.Errorf("Apply of an oversized entry = %v, want ErrInvalid naming the limit", err)
	}

	for _, tc := range []struct {
		size    int
		refused bool
	}{{fsm.MaxEntrySize, false}, {fsm.MaxEntrySize + 1, true}} {
		body := make([]byte, tc.size)
		w := httptest.NewRecorder()
		(&forwarder{}).serveApply(w, httptest.NewRequest(http.MethodPost, applyPath, bytes.NewReader(body)))
		var reply applyReply
		if err := json.NewDecoder(w.Body).Decode(&reply); err != nil {
			t.Fatal(err)
		}
		err := fromWire(reply.Error)
		if got := err != nil && strings.Contains(err.Error(), "one Raft entry may carry"); got != tc.refused || !errors.Is(err, fsm.ErrInvalid) {
			t.Errorf("a forwarded body of %d bytes: %v; refused for its size %v, want %v (and ErrInvalid either way)", tc.size, err, got, tc.refused)
		}
	}
}
