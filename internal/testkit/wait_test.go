package testkit

import (
	"fmt"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// recorder is a testing.TB whose Fatalf records the message and ends the
// goroutine, as the real one does.
type recorder struct {
	testing.TB
	mu     sync.Mutex
	failed string
}

func (r *recorder) Helper() {}

func (r *recorder) Fatalf(format string, args ...any) {
	r.mu.Lock()
	r.failed = fmt.Sprintf(format, args...)
	r.mu.Unlock()
	runtime.Goexit()
}

// run calls f with a recorder on its own goroutine and returns the failure,
// if any.
func run(f func(t testing.TB)) string {
	r := &recorder{}
	done := make(chan struct{})
	go func() {
		defer close(done)
		f(r)
	}()
	<-done
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.failed
}

func TestWaitFor(t *testing.T) {
	for _, tc := range []struct {
		name string
		wait func(t testing.TB)
		fail string // substring of the failure; empty when the wait succeeds
	}{
		{"holds at once", func(t testing.TB) {
			WaitFor(t, time.Minute, "nothing", func() bool { return true })
		}, ""},
		{"holds on the third try", func(t testing.TB) {
			n := 0
			WaitEvery(t, time.Millisecond, time.Minute, "three tries", func() bool { n++; return n == 3 })
		}, ""},
		{"noted, holds", func(t testing.TB) {
			WaitFor(t, time.Minute, "a note", func() (bool, string) { return true, "fine" })
		}, ""},
		{"times out with what", func(t testing.TB) {
			WaitEvery(t, time.Millisecond, 5*time.Millisecond, "the impossible", func() bool { return false })
		}, "waiting for the impossible"},
		{"times out with the last note", func(t testing.TB) {
			n := 0
			WaitEvery(t, time.Millisecond, 5*time.Millisecond, "a count", func() (bool, string) {
				n++
				return false, "tried " + strconv.Itoa(n)
			})
		}, "; last: tried "},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := run(tc.wait)
			switch {
			case tc.fail == "" && got != "":
				t.Fatalf("failed: %s", got)
			case tc.fail != "" && !strings.Contains(got, tc.fail):
				t.Fatalf("failure %q, want it to contain %q", got, tc.fail)
			}
		})
	}
}

// The returned duration is how long the condition took to hold.
func TestWaitForReturnsTheWait(t *testing.T) {
	n := 0
	took := WaitEvery(t, time.Millisecond, time.Minute, "two tries", func() bool { n++; return n == 2 })
	if took < time.Millisecond {
		t.Fatalf("took %v for a condition that held after one interval", took)
	}
}
