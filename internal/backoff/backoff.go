package backoff

import (
	"context"
	"math/rand/v2"
	"time"
)

// Backoff is an exponential backoff. Next returns Min first, then twice the
// previous wait, never more than Max. With Jitter each wait is drawn at
// random from its upper half ("equal jitter"), so it still never exceeds Max
// and retries from many nodes do not fall into step. Without Jitter the
// waits are exact, so a caller's schedule can be tested without a clock.
//
// The zero value of the state is ready: set Min, Max and Jitter and call
// Next. A Backoff is not safe for concurrent use; each loop owns its own.
type Backoff struct {
	Min, Max time.Duration
	Jitter   bool

	next    time.Duration // the unjittered wait Next returns next
	started bool
}

// Next is the wait before the next try.
func (b *Backoff) Next() time.Duration {
	if !b.started {
		b.next, b.started = b.Min, true
	}
	wait := min(b.next, b.Max)
	b.next = min(2*wait, b.Max)
	if b.Jitter {
		return wait/2 + rand.N(wait/2+1)
	}
	return wait
}

// Reset starts the schedule again from Min, after a success.
func (b *Backoff) Reset() { b.next, b.started = 0, false }

// Wait sleeps for Next, or until ctx ends; it reports whether the full wait
// passed (false: ctx ended, stop retrying).
func (b *Backoff) Wait(ctx context.Context) bool {
	t := time.NewTimer(b.Next())
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
