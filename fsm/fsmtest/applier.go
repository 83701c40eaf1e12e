package fsmtest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/shoal-project/shoal/fsm"
)

// Applier commits commands to FSM the way Raft would: each is encoded, then
// applied as the log entry at the next index. It stands in for a cluster's
// Apply. It is safe for concurrent use: entries are applied one at a time,
// in index order, as a replica applies its log.
type Applier struct {
	FSM *fsm.FSM

	mu    sync.Mutex
	index uint64
}

// New is an Applier over a fresh, empty FSM.
func New() *Applier { return &Applier{FSM: fsm.New()} }

// Apply commits cmd at the next index and returns that index with the
// command's business error; a Batch's per-entry errors come back joined.
func (a *Applier) Apply(_ context.Context, cmd fsm.Command) (uint64, error) {
	data, err := fsm.Encode(cmd)
	if err != nil {
		return 0, err
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	a.index++
	return a.index, resultErr(a.FSM.ApplyEntry(a.index, data))
}

// MustApply applies cmds in order and fails t at the first error. It returns
// the index of the last one.
func (a *Applier) MustApply(t testing.TB, cmds ...fsm.Command) uint64 {
	t.Helper()
	var idx uint64
	for _, cmd := range cmds {
		var err error
		if idx, err = a.Apply(context.Background(), cmd); err != nil {
			t.Fatalf("apply %s: %v", cmd.Type(), err)
		}
	}
	return idx
}

// Index is the index of the last entry applied.
func (a *Applier) Index() uint64 {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.index
}

// resultErr turns what FSM.ApplyEntry returns into an error.
func resultErr(res any) error {
	switch r := res.(type) {
	case nil:
		return nil
	case error:
		return r
	case fsm.BatchResult:
		return errors.Join(r.Errors...)
	}
	return fmt.Errorf("fsmtest: ApplyEntry returned %T (%v)", res, res)
}

// MustRead is get(id) for a record the test knows is there; it fails t,
// naming the read what, when get errs.
func MustRead[T any](t testing.TB, what string, get func(string) (T, error), id string) T {
	t.Helper()
	v, err := get(id)
	if err != nil {
		t.Fatalf("%s(%q): %v", what, id, err)
	}
	return v
}
