package backoff

import (
	"context"
	"slices"
	"testing"
	"time"
)

const ms = time.Millisecond

func TestNext(t *testing.T) {
	for _, tc := range []struct {
		name     string
		min, max time.Duration
		want     []time.Duration
	}{
		{"doubles to the cap", 100 * ms, 1000 * ms, []time.Duration{100 * ms, 200 * ms, 400 * ms, 800 * ms, 1000 * ms, 1000 * ms}},
		{"min is the cap", 50 * ms, 50 * ms, []time.Duration{50 * ms, 50 * ms, 50 * ms}},
		{"min above max waits max", 2000 * ms, 500 * ms, []time.Duration{500 * ms, 500 * ms}},
		{"zero min never waits", 0, time.Second, []time.Duration{0, 0, 0}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := Backoff{Min: tc.min, Max: tc.max}
			var got []time.Duration
			for range tc.want {
				got = append(got, b.Next())
			}
			if !slices.Equal(got, tc.want) {
				t.Fatalf("waits %v, want %v", got, tc.want)
			}
		})
	}
}

func TestReset(t *testing.T) {
	b := Backoff{Min: 10 * ms, Max: time.Second}
	b.Next()
	b.Next()
	b.Reset()
	if got := b.Next(); got != 10*ms {
		t.Fatalf("first wait after Reset = %v, want Min", got)
	}
}

// A jittered wait lies in the upper half of the unjittered one: never above
// Max, never below half of it.
func TestJitter(t *testing.T) {
	plain := Backoff{Min: 20 * ms, Max: 500 * ms}
	jittered := Backoff{Min: 20 * ms, Max: 500 * ms, Jitter: true}
	for i := range 200 {
		want, got := plain.Next(), jittered.Next()
		if got < want/2 || got > want {
			t.Fatalf("wait %d = %v, want within [%v, %v]", i, got, want/2, want)
		}
	}
}

func TestWaitEndsWithTheContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	b := Backoff{Min: time.Hour, Max: time.Hour}
	if b.Wait(ctx) {
		t.Fatal("Wait reported a full wait on an ended context")
	}
	b = Backoff{Min: 0, Max: 0}
	if !b.Wait(context.Background()) {
		t.Fatal("a zero wait did not pass")
	}
}
