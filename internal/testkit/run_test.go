package testkit

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"
)

// cleanups is a testing.TB that records Errorf and Cleanup, so a test can
// run cleanups itself and read what they reported.
type cleanups struct {
	testing.TB
	mu     sync.Mutex
	errors []string
	funcs  []func()
}

func (c *cleanups) Helper()          {}
func (c *cleanups) Cleanup(f func()) { c.funcs = append(c.funcs, f) }
func (c *cleanups) Errorf(format string, args ...any) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.errors = append(c.errors, fmt.Sprintf(format, args...))
}

func (c *cleanups) run() string {
	for i := len(c.funcs) - 1; i >= 0; i-- {
		c.funcs[i]()
	}
	return strings.Join(c.errors, "; ")
}

func TestStart(t *testing.T) {
	for _, tc := range []struct {
		name      string
		run       func(ctx context.Context)
		stopTwice bool
		fail      string // substring of the error; empty when the loop stops in time
	}{
		{"returns on cancel", func(ctx context.Context) { <-ctx.Done() }, false, ""},
		{"stop twice, cleanup once more", func(ctx context.Context) { <-ctx.Done() }, true, ""},
		{"ignores its context", func(context.Context) { time.Sleep(200 * time.Millisecond) }, false,
			"loop did not return within 10ms of cancel"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := &cleanups{}
			stop := Start(c, 10*time.Millisecond, "loop", tc.run)
			if tc.stopTwice {
				stop()
				stop()
			}
			got := c.run()
			if tc.fail == "" && got != "" || !strings.Contains(got, tc.fail) {
				t.Errorf("errors %q, want %q", got, tc.fail)
			}
		})
	}
}

func TestSharedDir(t *testing.T) {
	var dir string
	t.Run("made", func(t *testing.T) {
		dir = SharedDir(t, "testkit-shared-", 0o711)
		st, err := os.Stat(dir)
		if err != nil || !st.IsDir() || st.Mode().Perm() != 0o711 {
			t.Fatalf("SharedDir: %v, %v", st, err)
		}
	})
	if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("after cleanup: %v, want it removed", err)
	}
}
