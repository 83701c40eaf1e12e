package fsm_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/shoal-project/shoal/fsm"
)

// waitLimit bounds waits for things that should happen at once; it is a
// safety net against hangs, never what a test asserts.
const waitLimit = 10 * time.Second

func TestWatchChClosesAfterApply(t *testing.T) {
	f := fsm.New()
	ch := f.WatchCh()
	if closed(ch) {
		t.Fatal("WatchCh closed before any Apply")
	}

	mustApply(t, f, 1, registerHost("h1", t0))

	if !closed(ch) {
		t.Fatal("WatchCh not closed after Apply")
	}
	next := f.WatchCh()
	if closed(next) {
		t.Fatal("WatchCh after Apply is already closed")
	}

	// A command that fails still advances the index, so it wakes watchers too.
	assertBusinessError(t, applyErr(t, f, 2, &fsm.DeregisterHost{Name: "h9"}), fsm.ErrNotFound)
	if !closed(next) {
		t.Fatal("WatchCh not closed after a failing Apply")
	}
}

func TestWaitForIndex(t *testing.T) {
	f := oneHost(t)

	t.Run("already reached", func(t *testing.T) {
		// Reached is reached, even with a context that is already over.
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		for _, idx := range []uint64{0, 1} {
			if err := f.WaitForIndex(ctx, idx); err != nil {
				t.Errorf("WaitForIndex(%d) at index 1 = %v, want nil", idx, err)
			}
		}
	})

	t.Run("timeout", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
		defer cancel()
		err := f.WaitForIndex(ctx, 5)
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("WaitForIndex = %v, want context.DeadlineExceeded", err)
		}
	})

	t.Run("cancelled", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		if err := f.WaitForIndex(ctx, 5); !errors.Is(err, context.Canceled) {
			t.Errorf("WaitForIndex = %v, want context.Canceled", err)
		}
	})

	t.Run("reached later", func(t *testing.T) {
		done := waitAsync(t, f, 4)

		mustApply(t, f, 2, registerHost("h2", t0), registerHost("h3", t0))
		select {
		case err := <-done:
			t.Fatalf("WaitForIndex(4) returned %v at index 3", err)
		default:
		}

		mustApply(t, f, 4, registerHost("h4", t0))
		if err := <-done; err != nil {
			t.Fatalf("WaitForIndex(4) = %v, want nil", err)
		}
	})

	t.Run("skipped past", func(t *testing.T) {
		done := waitAsync(t, f, 6)
		// Raft indexes need not be consecutive in the FSM (config entries).
		mustApply(t, f, 9, registerHost("h5", t0))
		if err := <-done; err != nil {
			t.Fatalf("WaitForIndex(6) at index 9 = %v, want nil", err)
		}
	})
}

// waitAsync starts f.WaitForIndex(idx) with waitLimit to wait; its result
// comes on the channel.
func waitAsync(t *testing.T, f *fsm.FSM, idx uint64) <-chan error {
	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	t.Cleanup(cancel)
	done := make(chan error, 1)
	go func() { done <- f.WaitForIndex(ctx, idx) }()
	return done
}

func TestWaitForIndexWokenByRestore(t *testing.T) {
	src := populated(t)
	snap := snapshotBytes(t, src)
	f := fsm.New()

	done := waitAsync(t, f, src.Index())

	restore(t, f, snap)
	if err := <-done; err != nil {
		t.Fatalf("WaitForIndex(%d) after Restore = %v, want nil", src.Index(), err)
	}
}

// Readers, watchers and snapshots run alongside Apply; run with -race.
func TestConcurrentReadersAndApply(t *testing.T) {
	log := generateLog(t, 7, 300)
	f := fsm.New()
	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	defer cancel()

	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for range 4 {
		wg.Go(func() {
			if err := f.WaitForIndex(ctx, uint64(len(log))); err != nil {
				errs <- err
			}
		})
	}
	stop := make(chan struct{})
	wg.Go(func() {
		for {
			select {
			case <-stop:
				return
			case <-f.WatchCh():
			}
			_, _ = f.Flavor("n1")
			_, _ = f.Host("h1")
			_ = f.Flavors()
			_ = f.Hosts()
			_ = f.ClusterID()
			_, _ = f.Snapshot()
		}
	})

	replay(f, log, 1)
	close(stop)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("WaitForIndex: %v", err)
	}
}
