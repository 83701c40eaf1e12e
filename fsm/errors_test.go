package fsm

import (
	"errors"
	"fmt"
	"testing"
)

// TestErrorKinds checks that every sentinel of the vocabulary has its own
// kind, that the kind is found through wrapping, and that it leads back to
// the same sentinel.
func TestErrorKinds(t *testing.T) {
	seen := map[string]bool{}
	for _, err := range vocabulary {
		kind := KindOf(err)
		if kind == "" || seen[kind] {
			t.Errorf("%v: kind %q is empty or taken", err, kind)
		}
		seen[kind] = true
		wrapped := fmt.Errorf("outer: %w", fmt.Errorf("%w: detail", err))
		if got := KindOf(wrapped); got != kind {
			t.Errorf("KindOf(%v) = %q, want %q", wrapped, got, kind)
		}
		if got := ErrorOfKind(kind); got != err {
			t.Errorf("ErrorOfKind(%q) = %v, want %v", kind, got, err)
		}
	}
	if got := KindOf(errors.New("plain")); got != "" {
		t.Errorf("KindOf(plain error) = %q", got)
	}
	if got := ErrorOfKind("no_such_kind"); got != nil {
		t.Errorf("ErrorOfKind(unknown) = %v", got)
	}
	if got := KindOf(errors.Join(errors.New("x"), ErrConflict)); got != "conflict" {
		t.Errorf("KindOf(joined) = %q", got)
	}
}
