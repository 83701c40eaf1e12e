package identity

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/shoal-project/shoal/fsm"
	"golang.org/x/crypto/bcrypt"
)

// PasswordCost is bcrypt's work factor: about 50 ms a hash on one core.
const PasswordCost = 10

// MaxPasswordBytes is bcrypt's limit. Keystone accepts longer passwords, but
// bcrypt would silently ignore everything past it, so longer ones are refused.
const MaxPasswordBytes = 72

// HashPassword returns the bcrypt hash to store for pw. It runs on the node
// that received the password, before Raft: only the hash enters the log.
func HashPassword(pw string) (string, error) {
	if pw == "" {
		return "", fmt.Errorf("%w: password must not be empty", fsm.ErrInvalid)
	}
	if len(pw) > MaxPasswordBytes {
		return "", fmt.Errorf("%w: password is %d bytes, over the %d-byte limit", fsm.ErrInvalid, len(pw), MaxPasswordBytes)
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(pw), PasswordCost)
	if err != nil {
		return "", fmt.Errorf("identity: hash password: %w", err)
	}
	return string(hash), nil
}

// noUserHash is a hash of a password nobody has. CheckPassword compares
// against it when there is no stored hash, so a login for an unknown user
// costs the same bcrypt time as one for a known user.
const noUserHash = "$2a$10$mJqLNeKrk8bsaSbMFWzlhO2ZPguaJ9mPywG9PbDLqS480jBE3UA2W"

// CheckPassword tells whether pw matches hash, in time that does not depend
// on how much of it matches. An empty hash (unknown user, or a user without
// a password) never matches but costs a full comparison all the same.
func CheckPassword(hash, pw string) bool {
	if hash == "" || len(pw) > MaxPasswordBytes {
		_ = bcrypt.CompareHashAndPassword([]byte(noUserHash), []byte(pw))
		return false
	}
	return bcrypt.CompareHashAndPassword([]byte(hash), []byte(pw)) == nil
}

// DefaultFailedLoginDelay is how long a failed login takes at least: long
// enough to make guessing slow, short enough for a person who mistyped.
const DefaultFailedLoginDelay = time.Second

// maxThrottledNames bounds the per-name failure counts: names are chosen by
// whoever sends the login, so an unbounded map would be theirs to fill.
const maxThrottledNames = 10000

// Throttle answers failed logins slowly and counts them. Every failed
// attempt returns no sooner than the delay after it started, so guessing
// costs a guesser time whatever bcrypt's speed, and a failure for an unknown
// user takes as long as one for a wrong password.
type Throttle struct {
	delay time.Duration
	now   func() time.Time
	sleep func(context.Context, time.Duration) error

	mu       sync.Mutex
	total    uint64
	failures map[string]uint64
}

// NewThrottle returns a Throttle that holds failed attempts for delay. now and
// sleep may be nil (the real clock); tests pass fakes.
func NewThrottle(delay time.Duration, now func() time.Time, sleep func(context.Context, time.Duration) error) *Throttle {
	if now == nil {
		now = time.Now
	}
	if sleep == nil {
		sleep = sleepContext
	}
	return &Throttle{delay: delay, now: now, sleep: sleep, failures: make(map[string]uint64)}
}

// Failed counts a failed login for name that started at started, and waits
// out the rest of the delay. It returns early, with ctx's error, when ctx
// ends (the client went away).
func (t *Throttle) Failed(ctx context.Context, name string, started time.Time) error {
	t.mu.Lock()
	t.total++
	if _, seen := t.failures[name]; seen || len(t.failures) < maxThrottledNames {
		t.failures[name]++
	}
	t.mu.Unlock()
	if wait := t.delay - t.now().Sub(started); wait > 0 {
		return t.sleep(ctx, wait)
	}
	return nil
}

// Failures returns the failed logins counted for name. Once the throttle
// tracks maxThrottledNames names, new names are counted only in Total.
func (t *Throttle) Failures(name string) uint64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.failures[name]
}

// Total returns all failed logins counted.
func (t *Throttle) Total() uint64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.total
}

func sleepContext(ctx context.Context, d time.Duration) error {
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
