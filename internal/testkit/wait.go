package testkit

import (
	"testing"
	"time"
)

// Poll is how often WaitFor tries its condition: often enough that a test
// does not idle, rarely enough that polling a whole cluster stays cheap.
const Poll = 10 * time.Millisecond

// Condition is what a wait polls: a plain check, or one that also says what
// it saw, so that a timeout reports the last state and not only the wish.
type Condition interface {
	func() bool | func() (bool, string)
}

// WaitFor polls cond every Poll until it holds and returns how long that
// took. After timeout it fails t with what it waited for and cond's last
// note. The timeout is a failure message, not a speed assertion: keep it
// generous.
func WaitFor[C Condition](t testing.TB, timeout time.Duration, what string, cond C) time.Duration {
	t.Helper()
	return WaitEvery(t, Poll, timeout, what, cond)
}

// WaitEvery is WaitFor polling every interval, for conditions that are dear
// to check (a subprocess, a round of HTTP calls) or timings that need a finer
// grain.
func WaitEvery[C Condition](t testing.TB, interval, timeout time.Duration, what string, cond C) time.Duration {
	t.Helper()
	check := noted(cond)
	start := time.Now()
	for {
		ok, note := check()
		if ok {
			return time.Since(start)
		}
		if time.Since(start) > timeout {
			if note != "" {
				t.Fatalf("timed out after %v waiting for %s; last: %s", timeout, what, note)
			}
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(interval)
	}
}

// noted gives both kinds of condition one shape.
func noted[C Condition](cond C) func() (bool, string) {
	switch c := any(cond).(type) {
	case func() bool:
		return func() (bool, string) { return c(), "" }
	case func() (bool, string):
		return c
	}
	panic("unreachable: Condition has two kinds")
}
