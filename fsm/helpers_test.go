package fsm_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/shoal-project/shoal/fsm"
)

// Times are UTC without a monotonic reading so that they survive the JSON codec
// unchanged and reflect.DeepEqual can compare what was applied with what is read.
var (
	t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	t1 = t0.Add(time.Minute)
	t2 = t0.Add(2 * time.Minute)
)

// sentinels are the business errors Apply may return; a failure wraps exactly one.
var sentinels = []error{fsm.ErrNotFound, fsm.ErrConflict, fsm.ErrInvalid}

// encode is fsm.Encode that fails the test on error.
func encode(t testing.TB, c fsm.Command) []byte {
	t.Helper()
	b, err := fsm.Encode(c)
	if err != nil {
		t.Fatalf("Encode(%T): %v", c, err)
	}
	return b
}

// apply sends cmd through the path raft uses: Encode, then ApplyEntry.
func apply(t testing.TB, f *fsm.FSM, index uint64, c fsm.Command) any {
	t.Helper()
	return f.ApplyEntry(index, encode(t, c))
}

// applyErr applies a single (non-batch) command and returns its business error.
func applyErr(t testing.TB, f *fsm.FSM, index uint64, c fsm.Command) error {
	t.Helper()
	res := apply(t, f, index, c)
	if res == nil {
		return nil
	}
	err, ok := res.(error)
	if !ok {
		t.Fatalf("Apply(%s) returned %T (%v), want error or nil", c.Type(), res, res)
	}
	return err
}

// mustApply applies commands at consecutive indexes starting at first; each must succeed.
func mustApply(t testing.TB, f *fsm.FSM, first uint64, cmds ...fsm.Command) uint64 {
	t.Helper()
	index := first
	for _, c := range cmds {
		if err := applyErr(t, f, index, c); err != nil {
			t.Fatalf("apply %s at %d: %v", c.Type(), index, err)
		}
		index++
	}
	return index
}

// snapshotBytes is what the FSM would persist to a raft snapshot.
func snapshotBytes(t testing.TB, f *fsm.FSM) []byte {
	t.Helper()
	snap, err := f.Snapshot()
	if err != nil {
		t.Fatalf("Snapshot: %v", err)
	}
	return writeSnapshot(t, snap)
}

// oneHost is a fresh FSM with host h1 registered at index 1.
func oneHost(t testing.TB) *fsm.FSM {
	t.Helper()
	f := fsm.New()
	mustApply(t, f, 1, registerHost("h1", t0))
	return f
}

// sameSnapshot reports whether a and b snapshot to the same bytes; when they
// do not, it records the error what with both snapshots.
func sameSnapshot(t testing.TB, what string, a, b *fsm.FSM) bool {
	t.Helper()
	x, y := snapshotBytes(t, a), snapshotBytes(t, b)
	if !bytes.Equal(x, y) {
		t.Errorf("%s:\nfirst  %s\nsecond %s", what, x, y)
		return false
	}
	return true
}

// writeSnapshot is snap as WriteTo writes it.
func writeSnapshot(t testing.TB, snap fsm.Snapshot) []byte {
	t.Helper()
	var buf bytes.Buffer
	n, err := snap.WriteTo(&buf)
	if err != nil {
		t.Fatalf("WriteTo: %v", err)
	}
	if n != int64(buf.Len()) {
		t.Fatalf("WriteTo = %d, wrote %d bytes", n, buf.Len())
	}
	return buf.Bytes()
}

// assertOnlyIndexChanged checks that a failing command applied at index left the
// state as it was, except that the last applied index moved to index.
func assertOnlyIndexChanged(t testing.TB, before, after []byte, index uint64) {
	t.Helper()
	var b, a fsm.State
	if err := json.Unmarshal(before, &b); err != nil {
		t.Fatalf("decode snapshot before: %v", err)
	}
	if err := json.Unmarshal(after, &a); err != nil {
		t.Fatalf("decode snapshot after: %v", err)
	}
	if a.Index != index {
		t.Errorf("snapshot index = %d, want %d", a.Index, index)
	}
	b.Index = a.Index
	rb, err := json.Marshal(&b)
	if err != nil {
		t.Fatal(err)
	}
	ra, err := json.Marshal(&a)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(rb, ra) {
		t.Errorf("failing command changed state:\nbefore %s\nafter  %s", before, after)
	}
}

// assertBusinessError checks that err wraps want and no other sentinel.
func assertBusinessError(t testing.TB, err, want error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Fatalf("err = %v, want errors.Is %v", err, want)
	}
	for _, s := range sentinels {
		if s != want && errors.Is(err, s) {
			t.Errorf("err = %v also wraps %v", err, s)
		}
	}
}

// applyPanic applies data at index and returns the panic value as text; it fails
// the test if Apply does not panic.
func applyPanic(t testing.TB, f *fsm.FSM, index uint64, data []byte) (msg string) {
	t.Helper()
	defer func() {
		r := recover()
		if r == nil {
			t.Fatalf("Apply(%q) did not panic", data)
		}
		msg = fmt.Sprint(r)
	}()
	f.ApplyEntry(index, data)
	return ""
}

// applyRejected applies data at index, which must panic, and checks that
// the replica stopped before changing its state or waking its watchers. It
// returns the panic message.
func applyRejected(t testing.TB, f *fsm.FSM, index uint64, data []byte) string {
	t.Helper()
	before := snapshotBytes(t, f)
	ch := f.WatchCh()
	msg := applyPanic(t, f, index, data)
	if after := snapshotBytes(t, f); !bytes.Equal(after, before) {
		t.Errorf("state changed by the rejected entry:\nbefore %s\nafter  %s", before, after)
	}
	if closed(ch) {
		t.Error("WatchCh closed by the rejected entry")
	}
	return msg
}

// closed reports whether ch is closed, without waiting.
func closed(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

func registerHost(name string, at time.Time) *fsm.RegisterHost {
	return &fsm.RegisterHost{
		Name:          name,
		GossipAddress: name + ":7946",
		RaftAddress:   name + ":7000",
		HTTPAddress:   name + ":8774",
		Time:          at,
	}
}

func bigFlavor() fsm.Flavor {
	return fsm.Flavor{ID: "f-big", Name: "x1.big", VCPUs: 16, RAM: 65536, Disk: 200, Created: t0}
}

func withIndexes(f fsm.Flavor, create, modify uint64) fsm.Flavor {
	f.CreateIndex, f.ModifyIndex = create, modify
	return f
}
