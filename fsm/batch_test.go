package fsm_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/shoal-project/shoal/fsm"
)

func batchOf(t testing.TB, cmds ...fsm.Command) *fsm.Batch {
	t.Helper()
	b := &fsm.Batch{}
	for _, c := range cmds {
		b.Entries = append(b.Entries, encode(t, c))
	}
	return b
}

func applyBatch(t testing.TB, f *fsm.FSM, index uint64, b *fsm.Batch) fsm.BatchResult {
	t.Helper()
	res := apply(t, f, index, b)
	br, ok := res.(fsm.BatchResult)
	if !ok {
		t.Fatalf("Apply(batch) returned %T (%v), want fsm.BatchResult", res, res)
	}
	if len(br.Errors) != len(b.Entries) {
		t.Fatalf("BatchResult has %d errors for %d entries", len(br.Errors), len(b.Entries))
	}
	return br
}

func TestBatchResultsPerEntry(t *testing.T) {
	big := bigFlavor()
	dupID := bigFlavor()
	dupID.Name = "x1.other"
	cmds := []fsm.Command{
		&fsm.CreateFlavor{Flavor: big},
		&fsm.CreateFlavor{Flavor: dupID},                       // conflicts with the entry before it
		registerHost("h1", t1),                                 // succeeds
		&fsm.SetHostEnabled{Name: "h9", Time: t1},              // unknown host
		&fsm.SetHostEnabled{Name: "h1", Reason: "x", Time: t2}, // sees h1 from this batch
		&fsm.DeleteFlavor{ID: "1"},                             // succeeds
		registerHost("", t1),                                   // invalid
	}
	want := []error{nil, fsm.ErrConflict, nil, fsm.ErrNotFound, nil, nil, fsm.ErrInvalid}

	f := fsm.New()
	mustApply(t, f, 1, &fsm.Bootstrap{ClusterID: "c1", Time: t0, Flavors: fsm.DefaultFlavors()})
	const index = 2
	res := applyBatch(t, f, index, batchOf(t, cmds...))

	for i, w := range want {
		if w == nil {
			if res.Errors[i] != nil {
				t.Errorf("entry %d (%s): %v, want success", i, cmds[i].Type(), res.Errors[i])
			}
			continue
		}
		if !errors.Is(res.Errors[i], w) {
			t.Errorf("entry %d (%s): %v, want %v", i, cmds[i].Type(), res.Errors[i], w)
		}
	}

	// Every change carries the batch's index, and failures undid nothing.
	if got := f.Index(); got != index {
		t.Errorf("Index() = %d, want %d", got, index)
	}
	wantFlavor(t, f, "x1.big", withIndexes(big, index, index))
	wantNoFlavor(t, f, "x1.other")
	wantNoFlavor(t, f, "1")
	wantHost(t, f, fsm.Host{
		Name: "h1", GossipAddress: "h1:7946", RaftAddress: "h1:7000", HTTPAddress: "h1:8774",
		Enabled: false, DisabledReason: "x", Created: t1, Updated: t2,
		Indexes: fsm.Indexes{CreateIndex: index, ModifyIndex: index},
	})
	if got := len(f.Hosts()); got != 1 {
		t.Errorf("len(Hosts()) = %d, want 1", got)
	}

	// A batch is the same as its entries applied one by one (at the same index).
	one := fsm.New()
	mustApply(t, one, 1, &fsm.Bootstrap{ClusterID: "c1", Time: t0, Flavors: fsm.DefaultFlavors()})
	for i, c := range cmds {
		err := applyErr(t, one, index, c)
		if (err == nil) != (res.Errors[i] == nil) || (err != nil && err.Error() != res.Errors[i].Error()) {
			t.Errorf("entry %d alone: %v, in batch: %v", i, err, res.Errors[i])
		}
	}
	sameSnapshot(t, "batch and single entries differ", f, one)
}

func TestBatchEmpty(t *testing.T) {
	f := oneHost(t)
	before := snapshotBytes(t, f)
	ch := f.WatchCh()

	res := applyBatch(t, f, 2, &fsm.Batch{})

	if len(res.Errors) != 0 {
		t.Errorf("BatchResult.Errors = %v, want none", res.Errors)
	}
	if !closed(ch) {
		t.Error("WatchCh not closed after an empty batch")
	}
	assertOnlyIndexChanged(t, before, snapshotBytes(t, f), 2)
}

func TestBatchAllFailing(t *testing.T) {
	f := fsm.New()
	mustApply(t, f, 1, registerHost("h1", t0), &fsm.CreateFlavor{Flavor: bigFlavor()})
	before := snapshotBytes(t, f)

	res := applyBatch(t, f, 3, batchOf(t,
		&fsm.DeregisterHost{Name: "h2"},
		&fsm.CreateFlavor{Flavor: bigFlavor()},
		&fsm.DeleteFlavor{ID: "none"},
	))

	for i, w := range []error{fsm.ErrNotFound, fsm.ErrConflict, fsm.ErrNotFound} {
		assertBusinessError(t, res.Errors[i], w)
	}
	assertOnlyIndexChanged(t, before, snapshotBytes(t, f), 3)
}

func TestBatchBadEntries(t *testing.T) {
	good := encode(t, registerHost("h1", t0))
	nested := encode(t, batchOf(t, registerHost("h2", t0)))
	for _, tc := range []struct {
		name    string
		entries [][]byte
	}{
		{"nested batch", [][]byte{good, nested}},
		{"empty entry", [][]byte{good, {}}},
		{"nil entry", [][]byte{nil, good}},
		{"empty nested batch", [][]byte{encode(t, &fsm.Batch{})}},
		// An entry that cannot be applied rejects the whole batch, before
		// anything in it is applied.
		{"entry of unknown type", [][]byte{good, append([]byte{200}, "{}"...)}},
		{"entry with bad payload", [][]byte{good, append([]byte{byte(fsm.TypeCreateFlavor)}, "{"...)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			data := encode(t, &fsm.Batch{Entries: tc.entries})
			if c, err := fsm.Decode(data); err == nil {
				t.Fatalf("Decode = %+v, want error", c)
			}

			f := fsm.New()
			mustApply(t, f, 1, registerHost("h0", t0))
			// The whole entry is rejected before anything is applied.
			if msg := applyRejected(t, f, 2, data); !strings.Contains(msg, "index 2") {
				t.Errorf("panic %q does not name the log index", msg)
			}
		})
	}
}
