package cluster

import (
	"fmt"
	"io"

	"github.com/hashicorp/raft"

	"github.com/shoal-project/shoal/fsm"
)

// raftFSM is the raft.FSM over *fsm.FSM. The adapter lives here, where Raft
// is wired, so that package fsm stays free of the consensus library and the
// packages that read its state do not depend on Raft.
type raftFSM struct {
	f *fsm.FSM
}

var _ raft.FSM = raftFSM{}

// Apply applies a committed command entry; Raft calls it only for those.
func (a raftFSM) Apply(l *raft.Log) any {
	return a.f.ApplyEntry(l.Index, l.Data)
}

func (a raftFSM) Snapshot() (raft.FSMSnapshot, error) {
	s, err := a.f.Snapshot()
	if err != nil {
		return nil, err
	}
	return raftSnapshot{s}, nil
}

func (a raftFSM) Restore(rc io.ReadCloser) error {
	return a.f.Restore(rc)
}

// raftSnapshot writes an fsm.Snapshot to Raft's snapshot store.
type raftSnapshot struct {
	s fsm.Snapshot
}

// Persist cancels the sink when the write fails, so Raft discards the
// partial snapshot instead of keeping it as the newest.
func (s raftSnapshot) Persist(sink raft.SnapshotSink) error {
	if _, err := s.s.WriteTo(sink); err != nil {
		sink.Cancel()
		return fmt.Errorf("persist snapshot: %w", err)
	}
	return sink.Close()
}

func (raftSnapshot) Release() {}
