package fsm

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
)

// FSM is the replicated state machine over State, with read methods and a
// watch. It knows nothing of Raft: package cluster adapts it to raft.FSM, so
// that the packages reading state (api/client, scheduler, compute) do not
// pull the consensus library in with it.
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

// ApplyEntry applies the committed log entry data (an Encode'd command) at
// index. It returns nil or an error for a single command, and a BatchResult
// for a Batch. It panics on an entry it cannot decode: a replica that cannot
// apply the log must stop, not diverge.
func (f *FSM) ApplyEntry(index uint64, data []byte) any {
	c, err := Decode(data)
	if err != nil {
		panic(fmt.Sprintf("fsm: undecodable log entry at index %d: %v", index, err))
	}
	f.mu.Lock()
	defer f.notify()
	defer f.mu.Unlock()
	f.state.Index = index
	if b, ok := c.(*Batch); ok {
		res := BatchResult{Errors: make([]error, len(b.Entries))}
		for i, e := range b.Entries {
			inner, err := Decode(e)
			if err != nil {
				panic(fmt.Sprintf("fsm: undecodable batch entry %d at index %d: %v", i, index, err))
			}
			res.Errors[i] = applyOne(f.state, index, inner)
		}
		return res
	}
	return applyOne(f.state, index, c)
}

func applyOne(s *State, index uint64, c Command) error {
	return registry[c.Type()].apply(s, index, c)
}

// notify wakes watchers. ApplyEntry calls it after releasing the write lock; it
// swaps the channel under its own short lock.
func (f *FSM) notify() {
	f.mu.Lock()
	close(f.watch)
	f.watch = make(chan struct{})
	f.mu.Unlock()
}

// WatchCh returns a channel that is closed after the next ApplyEntry or Restore.
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

// Snapshot captures the state as it is now. Encoding happens here, under the
// read lock, so the Snapshot is a point in time however long writing it out
// takes while ApplyEntry goes on.
func (f *FSM) Snapshot() (Snapshot, error) {
	f.mu.RLock()
	defer f.mu.RUnlock()
	b, err := json.Marshal(f.state)
	if err != nil {
		return Snapshot{}, fmt.Errorf("fsm: snapshot: %w", err)
	}
	return Snapshot{data: b}, nil
}

// Restore builds fresh state from a snapshot and swaps it in under the lock,
// so readers never see a half-restored state; on error the state is as it
// was. It closes rc.
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

// Snapshot is the state at one point in time, already encoded; Restore reads
// what WriteTo writes.
type Snapshot struct {
	data []byte
}

// WriteTo writes the snapshot to w.
func (s Snapshot) WriteTo(w io.Writer) (int64, error) {
	n, err := w.Write(s.data)
	if err != nil {
		return int64(n), fmt.Errorf("fsm: write snapshot: %w", err)
	}
	return int64(n), nil
}
