package identity

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/shoal-project/shoal/fsm"
)

func TestHashAndCheckPassword(t *testing.T) {
	longest := strings.Repeat("p", MaxPasswordBytes)
	hash, err := HashPassword(longest)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(hash, longest) || !strings.HasPrefix(hash, "$2a$10$") {
		t.Fatalf("hash %q: want a cost-10 bcrypt hash", hash)
	}
	tests := []struct {
		name, hash, pw string
		want           bool
	}{
		{"right password", hash, longest, true},
		{"wrong password", hash, strings.Repeat("q", MaxPasswordBytes), false},
		{"prefix", hash, longest[:10], false},
		{"past bcrypt's limit", hash, longest + "x", false},
		{"empty", hash, "", false},
		{"no stored hash", "", longest, false},
		{"damaged hash", hash[:20], longest, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := CheckPassword(tt.hash, tt.pw); got != tt.want {
				t.Fatalf("CheckPassword: got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestHashPasswordRefuses(t *testing.T) {
	for name, pw := range map[string]string{
		"empty":                    "",
		"73 bytes":                 strings.Repeat("p", MaxPasswordBytes+1),
		"72 characters, 144 bytes": strings.Repeat("é", MaxPasswordBytes),
		"Keystone's 4096":          strings.Repeat("p", 4096),
	} {
		t.Run(name, func(t *testing.T) {
			hash, err := HashPassword(pw)
			if !errors.Is(err, fsm.ErrInvalid) || hash != "" {
				t.Fatalf("HashPassword: got %q, %v; want ErrInvalid", hash, err)
			}
		})
	}
}

// fakeClock records the sleeps a Throttle asks for instead of sleeping.
type fakeClock struct {
	now    time.Time
	slept  []time.Duration
	sleepE error
}

func (c *fakeClock) Now() time.Time { return c.now }
func (c *fakeClock) Sleep(_ context.Context, d time.Duration) error {
	c.slept = append(c.slept, d)
	return c.sleepE
}

func TestThrottleAnswersFailuresNoSoonerThanTheDelay(t *testing.T) {
	tests := []struct {
		name    string
		elapsed time.Duration
		want    []time.Duration
	}{
		{"fast failure waits the rest", 300 * time.Millisecond, []time.Duration{700 * time.Millisecond}},
		{"instant failure waits it all", 0, []time.Duration{time.Second}},
		{"slow failure does not wait", 1500 * time.Millisecond, nil},
		{"exactly the delay does not wait", time.Second, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock := &fakeClock{now: issuedAt}
			th := NewThrottle(time.Second, clock.Now, clock.Sleep)
			if err := th.Failed(context.Background(), "admin", issuedAt.Add(-tt.elapsed)); err != nil {
				t.Fatal(err)
			}
			if fmt.Sprint(clock.slept) != fmt.Sprint(tt.want) {
				t.Fatalf("slept %v, want %v", clock.slept, tt.want)
			}
		})
	}
}

func TestThrottleCounts(t *testing.T) {
	clock := &fakeClock{now: issuedAt}
	th := NewThrottle(time.Second, clock.Now, clock.Sleep)
	ctx := context.Background()
	for _, name := range []string{"admin", "admin", "alice", "admin"} {
		if err := th.Failed(ctx, name, issuedAt); err != nil {
			t.Fatal(err)
		}
	}
	if th.Failures("admin") != 3 || th.Failures("alice") != 1 || th.Failures("bob") != 0 || th.Total() != 4 {
		t.Fatalf("counts admin=%d alice=%d bob=%d total=%d, want 3 1 0 4",
			th.Failures("admin"), th.Failures("alice"), th.Failures("bob"), th.Total())
	}

	// Names come from whoever logs in: past the bound, new names count only
	// in the total, known ones still count.
	for i := range maxThrottledNames {
		_ = th.Failed(ctx, fmt.Sprintf("guess-%d", i), issuedAt)
	}
	_ = th.Failed(ctx, "admin", issuedAt)
	if th.Failures("guess-last") != 0 || th.Failures("admin") != 4 || th.Total() != uint64(5+maxThrottledNames) {
		t.Fatalf("past the bound: admin=%d total=%d", th.Failures("admin"), th.Total())
	}
	if len(th.failures) > maxThrottledNames {
		t.Fatalf("tracks %d names, over the bound %d", len(th.failures), maxThrottledNames)
	}
}

func TestThrottleGivesUpWithTheRequest(t *testing.T) {
	clock := &fakeClock{now: issuedAt, sleepE: context.Canceled}
	th := NewThrottle(time.Second, clock.Now, clock.Sleep)
	if err := th.Failed(context.Background(), "admin", issuedAt); !errors.Is(err, context.Canceled) {
		t.Fatalf("Failed: got %v, want the sleep's context error", err)
	}
	if th.Total() != 1 {
		t.Fatal("a failure whose client went away must still be counted")
	}

	// The real sleep returns when the context ends.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := NewThrottle(time.Hour, nil, nil).Failed(ctx, "admin", time.Now()); !errors.Is(err, context.Canceled) {
		t.Fatalf("real sleep with a cancelled context: got %v", err)
	}
}
