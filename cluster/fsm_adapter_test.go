package cluster

import (
	"bytes"
	"errors"
	"io"
	"testing"
	"time"

	"github.com/hashicorp/raft"

	"github.com/shoal-project/shoal/fsm"
)

// memSink is an in-memory raft.SnapshotSink.
type memSink struct {
	buf       bytes.Buffer
	writeErr  error
	closed    bool
	cancelled bool
}

func (s *memSink) Write(p []byte) (int, error) {
	if s.writeErr != nil {
		return 0, s.writeErr
	}
	return s.buf.Write(p)
}

func (s *memSink) Close() error  { s.closed = true; return nil }
func (s *memSink) ID() string    { return "mem" }
func (s *memSink) Cancel() error { s.cancelled = true; return nil }

var _ raft.SnapshotSink = (*memSink)(nil)

// adapterWithHost is the adapter over an FSM that has applied one host
// registration at index 7.
func adapterWithHost(t *testing.T) raftFSM {
	t.Helper()
	b, err := fsm.Encode(&fsm.RegisterHost{Name: "h1", GossipAddress: "h1:7946", RaftAddress: "h1:7947",
		HTTPAddress: "h1:8774", Time: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)})
	if err != nil {
		t.Fatal(err)
	}
	a := raftFSM{fsm.New()}
	if res := a.Apply(&raft.Log{Index: 7, Type: raft.LogCommand, Data: b}); res != nil {
		t.Fatalf("Apply = %v", res)
	}
	return a
}

func TestRaftFSMRoundTrip(t *testing.T) {
	src := adapterWithHost(t)
	if got := src.f.Index(); got != 7 {
		t.Fatalf("Index() = %d after Apply at 7", got)
	}
	snap, err := src.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	defer snap.Release()
	var sink memSink
	if err := snap.Persist(&sink); err != nil {
		t.Fatalf("Persist: %v", err)
	}
	if !sink.closed || sink.cancelled {
		t.Fatalf("Persist left sink closed=%v cancelled=%v, want closed only", sink.closed, sink.cancelled)
	}

	dst := raftFSM{fsm.New()}
	if err := dst.Restore(io.NopCloser(&sink.buf)); err != nil {
		t.Fatalf("Restore: %v", err)
	}
	if got := dst.f.Index(); got != 7 {
		t.Errorf("restored Index() = %d, want 7", got)
	}
	if _, err := dst.f.Host("h1"); err != nil {
		t.Errorf("restored Host(h1): %v", err)
	}
}

// A failed write cancels the sink, so Raft drops the partial snapshot
// rather than keep it as the newest.
func TestPersistCancelsOnWriteError(t *testing.T) {
	snap, err := adapterWithHost(t).Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	defer snap.Release()
	errDisk := errors.New("disk full")
	sink := &memSink{writeErr: errDisk}

	err = snap.Persist(sink)

	if !errors.Is(err, errDisk) {
		t.Errorf("Persist = %v, want %v", err, errDisk)
	}
	if !sink.cancelled || sink.closed {
		t.Errorf("sink cancelled=%v closed=%v, want cancelled only", sink.cancelled, sink.closed)
	}
}
