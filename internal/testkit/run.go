package testkit

import (
	"context"
	"sync"
	"testing"
	"time"
)

// Start runs run in a goroutine with a context that the returned stop
// cancels. Stop then waits for run to return and fails t if it has not
// within timeout: a loop that ignores its context is a leak, and a test
// must say so rather than hang. Stop is idempotent and also runs at
// cleanup, so a test calls it only to stop the loop early.
func Start(t testing.TB, timeout time.Duration, what string, run func(context.Context)) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		run(ctx)
	}()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			select {
			case <-done:
			case <-time.After(timeout):
				t.Errorf("%s did not return within %v of cancel", what, timeout)
			}
		})
	}
	t.Cleanup(stop)
	return stop
}
