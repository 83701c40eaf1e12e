package fsm

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"sync"
	"sync/atomic"

	"github.com/hashicorp/raft"
)

// FSM is the raft.FSM over State, with read methods and a watch.
type FSM struct {
	mu    sync.RWMutex
	state *State
	watch chan struct{}
	hosts atomic.Pointer[hostCache]
}

// New returns an empty FSM.
func New() *FSM {
	return &FSM{state: newState(), watch: make(chan struct{})}
}

// Apply applies one committed log entry. It returns nil or an error for a single
// command, and a BatchResult for a Batch. It panics on an entry it cannot decode:
// a replica that cannot apply the log must stop, not diverge.
func (f *FSM) Apply(l *raft.Log) any {
	c, err := Decode(l.Data)
	if err != nil {
		panic(fmt.Sprintf("fsm: undecodable log entry at index %d: %v", l.Index, err))
	}
	f.mu.Lock()
	defer f.notify()
	defer f.mu.Unlock()
	f.state.Index = l.Index
	if b, ok := c.(*Batch); ok {
		res := BatchResult{Errors: make([]error, len(b.Entries))}
		for i, e := range b.Entries {
			inner, err := Decode(e)
			if err != nil {
				panic(fmt.Sprintf("fsm: undecodable batch entry %d at index %d: %v", i, l.Index, err))
			}
			res.Errors[i] = applyOne(f.state, l.Index, inner)
		}
		return res
	}
	return applyOne(f.state, l.Index, c)
}

func applyOne(s *State, index uint64, c Command) error {
	return registry[c.Type()].apply(s, index, c)
}

// notify wakes watchers. Apply calls it after releasing the write lock; it
// swaps the channel under its own short lock.
func (f *FSM) notify() {
	f.mu.Lock()
	close(f.watch)
	f.watch = make(chan struct{})
	f.mu.Unlock()
}

// WatchCh returns a channel that is closed after the next Apply or Restore.
func (f *FSM) WatchCh() <-chan struct{} {
	f.mu.RLock()
	defer f.mu.RUnlock()
	return f.watch
}

// WaitForIndex blocks until the state has applied index idx or ctx ends.
func (f *FSM) WaitForIndex(ctx context.Context, idx uint64) error {
	for {
		ch := f.WatchCh()
		if f.Index() >= idx {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return fmt.Errorf("waiting for index %d (at %d): %w", idx, f.Index(), ctx.Err())
		}
	}
}

// Snapshot captures the state as bytes; Persist only writes them out.
func (f *FSM) Snapshot() (raft.FSMSnapshot, error) {
	f.mu.RLock()
	defer f.mu.RUnlock()
	b, err := json.Marshal(f.state)
	if err != nil {
		return nil, fmt.Errorf("fsm: snapshot: %w", err)
	}
	return snapshot(b), nil
}

// Restore builds fresh state from a snapshot and swaps it in under the lock.
func (f *FSM) Restore(rc io.ReadCloser) error {
	defer rc.Close()
	fresh := newState()
	if err := json.NewDecoder(rc).Decode(fresh); err != nil {
		return fmt.Errorf("fsm: restore: %w", err)
	}
	fresh.reindex()
	f.mu.Lock()
	f.state = fresh
	f.mu.Unlock()
	f.notify()
	return nil
}

type snapshot []byte

func (s snapshot) Persist(sink raft.SnapshotSink) error {
	if _, err := sink.Write(s); err != nil {
		sink.Cancel()
		return fmt.Errorf("fsm: persist snapshot: %w", err)
	}
	return sink.Close()
}

func (snapshot) Release() {}
