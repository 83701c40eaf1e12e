package cluster

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/hashicorp/raft"

	"github.com/shoal-project/shoal/fsm"
)

// batcher group-commits proposals on the leader: whatever commands are waiting
// when the previous entry has been handed to Raft go into one Batch entry. Raft
// pipelines the entries; a waiter resolves them in order.
type batcher struct {
	raft     *raft.Raft
	max      int
	in       chan proposal
	inflight chan pending
	stopped  chan struct{} // closed when run has returned
}

type proposal struct {
	data []byte
	done chan applyResult
}

type applyResult struct {
	index uint64
	err   error
}

type pending struct {
	future raft.ApplyFuture
	batch  []proposal
}

func newBatcher(r *raft.Raft, max int) *batcher {
	return &batcher{raft: r, max: max, in: make(chan proposal, 4*max), inflight: make(chan pending, 64),
		stopped: make(chan struct{})}
}

// propose submits one encoded command and waits for its result. An error
// wrapping errNotLeader means the command never entered the log.
func (b *batcher) propose(ctx context.Context, data []byte) (uint64, error) {
	p := proposal{data: data, done: make(chan applyResult, 1)}
	select {
	case b.in <- p:
	case <-ctx.Done():
		return 0, ctx.Err()
	case <-b.stopped:
		return 0, fmt.Errorf("%w: node shutting down", errNotLeader)
	}
	// Once handed over, wait for the outcome even if ctx ends: the command may
	// commit, and the caller must not be told it failed when it did not. Only
	// a batcher that stopped (shutdown) cannot answer any more.
	select {
	case r := <-p.done:
		return r.index, r.err
	case <-b.stopped:
		select {
		case r := <-p.done:
			return r.index, r.err
		default:
			return 0, fmt.Errorf("%w: node shut down with the write queued", errUnknownOutcome)
		}
	}
}

func (b *batcher) run(ctx context.Context) {
	waiterDone := make(chan struct{})
	go func() {
		defer close(waiterDone)
		for p := range b.inflight {
			b.resolve(ctx, p)
		}
	}()
	defer func() {
		close(b.inflight)
		<-waiterDone
		b.failQueued()
		close(b.stopped)
		b.failQueued() // what slipped in while the first pass drained
	}()
	for {
		var first proposal
		select {
		case <-ctx.Done():
			return
		case first = <-b.in:
		}
		batch := []proposal{first}
	drain:
		for len(batch) < b.max {
			select {
			case p := <-b.in:
				batch = append(batch, p)
			default:
				break drain
			}
		}
		b.inflight <- pending{future: b.raft.Apply(entry(batch), 0), batch: batch}
	}
}

// failQueued answers proposals still queued at shutdown: they never entered
// the log, so they are safe to retry elsewhere.
func (b *batcher) failQueued() {
	for {
		select {
		case p := <-b.in:
			p.done <- applyResult{err: fmt.Errorf("%w: node shutting down", errNotLeader)}
		default:
			return
		}
	}
}

func entry(batch []proposal) []byte {
	if len(batch) == 1 {
		return batch[0].data
	}
	b := &fsm.Batch{Entries: make([][]byte, len(batch))}
	for i, p := range batch {
		b.Entries[i] = p.data
	}
	data, err := fsm.Encode(b)
	if err != nil {
		panic(fmt.Sprintf("cluster: encoding a batch of valid entries: %v", err))
	}
	return data
}

func (b *batcher) resolve(ctx context.Context, p pending) {
	done := make(chan error, 1)
	go func() { done <- p.future.Error() }()
	var err error
	select {
	case err = <-done:
	case <-ctx.Done():
		// Shutting down: raft may never answer, and the entry may still commit.
		err = fmt.Errorf("%w: node shutting down", errUnknownOutcome)
	}
	if err != nil {
		if !errors.Is(err, errUnknownOutcome) {
			err = classifyRaftError(err)
		}
		for _, q := range p.batch {
			q.done <- applyResult{err: err}
		}
		return
	}
	idx := p.future.Index()
	switch resp := p.future.Response().(type) {
	case fsm.BatchResult:
		for i, q := range p.batch {
			q.done <- applyResult{index: idx, err: resp.Errors[i]}
		}
	case error:
		p.batch[0].done <- applyResult{index: idx, err: resp}
	default:
		for _, q := range p.batch {
			q.done <- applyResult{index: idx}
		}
	}
}

// classifyRaftError separates "never entered the log" (safe to retry) from
// "may have been committed" (must not be re-sent).
func classifyRaftError(err error) error {
	switch {
	case errors.Is(err, raft.ErrNotLeader), errors.Is(err, raft.ErrEnqueueTimeout):
		return fmt.Errorf("%w: %v", errNotLeader, err)
	}
	return fmt.Errorf("%w: %v", errUnknownOutcome, err)
}

// holdDeadline bounds how long a write waits for a leader.
func holdDeadline(ctx context.Context, hold time.Duration) time.Time {
	d := time.Now().Add(hold)
	if cd, ok := ctx.Deadline(); ok && cd.Before(d) {
		return cd
	}
	return d
}
