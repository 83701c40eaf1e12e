package fsm_test

import (
	"bytes"
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"

	"github.com/shoal-project/shoal/fsm"
)

// readCloser records whether Restore closed it.
type readCloser struct {
	io.Reader
	closed bool
}

func (r *readCloser) Close() error { r.closed = true; return nil }

func restore(t testing.TB, f *fsm.FSM, snap []byte) {
	t.Helper()
	rc := &readCloser{Reader: bytes.NewReader(snap)}
	if err := f.Restore(rc); err != nil {
		t.Fatalf("Restore: %v", err)
	}
	if !rc.closed {
		t.Error("Restore did not close its reader")
	}
}

// populated is an FSM with every kind of object and change in it.
func populated(t testing.TB) *fsm.FSM {
	t.Helper()
	f := fsm.New()
	custom := bigFlavor()
	gone := fsm.Flavor{ID: "f-gone", Name: "x1.gone", VCPUs: 1, RAM: 1, Created: t1}
	next := mustApply(t, f, 1,
		&fsm.Bootstrap{ClusterID: "c1", Time: t0, Flavors: fsm.DefaultFlavors()},
		registerHost("h1", t0),
		registerHost("h2", t0),
		registerHost("h3", t1),
		&fsm.SetHostEnabled{Name: "h2", Reason: "maintenance", Time: t1},
		&fsm.DeregisterHost{Name: "h3"},
		&fsm.CreateFlavor{Flavor: custom},
		&fsm.CreateFlavor{Flavor: gone},
		&fsm.DeleteFlavor{ID: "f-gone"},
		&fsm.DeleteFlavor{ID: "2"},
		registerHost("h1", t2),
	)
	applyBatch(t, f, next, batchOf(t, registerHost("h4", t2), &fsm.DeleteFlavor{ID: "nope"}))
	return f
}

func TestSnapshotRestoreRoundTrip(t *testing.T) {
	src := populated(t)
	snap := snapshotBytes(t, src)

	dst := fsm.New()
	ch := dst.WatchCh()
	restore(t, dst, snap)

	if !closed(ch) {
		t.Error("WatchCh not closed by Restore")
	}
	if got, want := dst.Index(), src.Index(); got != want || got != 12 {
		t.Errorf("Index() = %d, want %d (12)", got, want)
	}
	if got, want := dst.ClusterID(), src.ClusterID(); got != want {
		t.Errorf("ClusterID() = %q, want %q", got, want)
	}
	if got, want := dst.Hosts(), src.Hosts(); !reflect.DeepEqual(got, want) {
		t.Errorf("Hosts() =\n%+v\nwant\n%+v", got, want)
	}
	if got, want := dst.Flavors(), src.Flavors(); !reflect.DeepEqual(got, want) {
		t.Errorf("Flavors() =\n%+v\nwant\n%+v", got, want)
	}
	for _, h := range src.Hosts() {
		wantHost(t, dst, h)
	}
	for _, fl := range src.Flavors() {
		wantFlavor(t, dst, fl.ID, fl)
		wantFlavor(t, dst, fl.Name, fl) // the name index is rebuilt
	}
	wantNoFlavor(t, dst, "x1.gone")
	wantNoFlavor(t, dst, "m1.small")
	wantNoHost(t, dst, "h3")

	if again := snapshotBytes(t, dst); !bytes.Equal(again, snap) {
		t.Errorf("re-snapshot differs:\nfirst  %s\nsecond %s", snap, again)
	}

	// Both replicas go on identically, name rules included.
	for _, f := range []*fsm.FSM{src, dst} {
		dup := bigFlavor()
		dup.ID = "f-dup"
		assertBusinessError(t, applyErr(t, f, 13, &fsm.CreateFlavor{Flavor: dup}), fsm.ErrConflict)
		reuse := fsm.Flavor{ID: "f-new", Name: "x1.gone", VCPUs: 2, RAM: 2, Created: t2}
		if err := applyErr(t, f, 14, &fsm.CreateFlavor{Flavor: reuse}); err != nil {
			t.Errorf("reuse a deleted flavor's name: %v", err)
		}
	}
	sameSnapshot(t, "replicas diverged after restore", src, dst)
}

func TestRestoreReplacesState(t *testing.T) {
	src := oneHost(t)
	snap := snapshotBytes(t, src)

	dst := populated(t)
	restore(t, dst, snap)

	if got := dst.Index(); got != 1 {
		t.Errorf("Index() = %d, want 1 (restore may move the index back)", got)
	}
	if got := dst.ClusterID(); got != "" {
		t.Errorf("ClusterID() = %q, want empty", got)
	}
	if got := dst.Hosts(); len(got) != 1 || got[0].Name != "h1" {
		t.Errorf("Hosts() = %+v, want only h1", got)
	}
	if got := dst.Flavors(); len(got) != 0 {
		t.Errorf("Flavors() = %+v, want none", got)
	}
	wantNoFlavor(t, dst, "x1.big") // the old name index is gone too
	if again := snapshotBytes(t, dst); !bytes.Equal(again, snap) {
		t.Errorf("re-snapshot differs:\nfirst  %s\nsecond %s", snap, again)
	}
}

// A snapshot whose maps are null or missing restores to usable empty state.
func TestRestoreNullMaps(t *testing.T) {
	for _, snap := range []string{
		`{"cluster_id":"c1","index":5,"hosts":null,"flavors":null}`,
		`{"index":5}`,
	} {
		t.Run(snap, func(t *testing.T) {
			f := fsm.New()
			restore(t, f, []byte(snap))
			if got := f.Index(); got != 5 {
				t.Errorf("Index() = %d, want 5", got)
			}
			mustApply(t, f, 6, registerHost("h1", t0), &fsm.CreateFlavor{Flavor: bigFlavor()})
			wantFlavor(t, f, "x1.big", withIndexes(bigFlavor(), 7, 7))
		})
	}
}

func TestRestoreBadSnapshotKeepsState(t *testing.T) {
	for _, snap := range []string{
		``,
		`{"hosts":`,
		`not json`,
		`{"index":"five"}`,
		`{"hosts":{"h1":{"created":"yesterday"}}}`,
	} {
		t.Run(snap, func(t *testing.T) {
			f := populated(t)
			before := snapshotBytes(t, f)
			ch := f.WatchCh()
			rc := &readCloser{Reader: strings.NewReader(snap)}

			if err := f.Restore(rc); err == nil {
				t.Fatal("Restore succeeded, want error")
			}
			if !rc.closed {
				t.Error("Restore did not close its reader")
			}
			if after := snapshotBytes(t, f); !bytes.Equal(after, before) {
				t.Errorf("failed Restore changed state:\nbefore %s\nafter  %s", before, after)
			}
			if closed(ch) {
				t.Error("WatchCh closed by a failed Restore")
			}
		})
	}
}

// errWriter fails every write.
type errWriter struct{ err error }

func (w errWriter) Write([]byte) (int, error) { return 0, w.err }

func TestSnapshotWriteError(t *testing.T) {
	snap, err := populated(t).Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	errDisk := errors.New("disk full")

	_, err = snap.WriteTo(errWriter{errDisk})

	if !errors.Is(err, errDisk) {
		t.Errorf("WriteTo = %v, want %v", err, errDisk)
	}
}

// The snapshot is taken when Snapshot is called, not when it is written:
// raft persists it while ApplyEntry goes on.
func TestSnapshotIsPointInTime(t *testing.T) {
	f := populated(t)
	want := snapshotBytes(t, f)
	snap, err := f.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	mustApply(t, f, 13, registerHost("h9", t2), &fsm.DeleteFlavor{ID: "f-big"})

	if got := writeSnapshot(t, snap); !bytes.Equal(got, want) {
		t.Errorf("written snapshot includes later changes:\ngot  %s\nwant %s", got, want)
	}
}
