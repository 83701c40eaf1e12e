package metadata

import (
	"fmt"
	"testing"
	"time"
)

// TestLimiterPrune: past pruneAbove buckets, the full ones (guests idle
// long enough, or gone) are dropped and a drained one is kept.
func TestLimiterPrune(t *testing.T) {
	l := newLimiter(1, 2)
	t0 := time.Unix(0, 0)
	l.allow("drained", t0)
	l.allow("drained", t0)
	for i := range pruneAbove - 1 {
		l.allow(fmt.Sprint("idle-", i), t0)
	}
	// One second on: the idle buckets are full again, the drained one
	// holds one token.
	l.allow("new", t0.Add(time.Second))
	if _, ok := l.buckets["drained"]; !ok || len(l.buckets) != 2 {
		t.Errorf("after pruning: %d buckets (drained kept: %v), want drained and new", len(l.buckets), ok)
	}
	if _, ok := l.allow("drained", t0.Add(time.Second)); !ok {
		t.Error("drained refused with a token refilled")
	}
	if _, ok := l.allow("drained", t0.Add(time.Second)); ok {
		t.Error("drained allowed twice on one refilled token")
	}
}
