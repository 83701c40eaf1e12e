package fsmtest_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/shoal-project/shoal/fsm"
	"github.com/shoal-project/shoal/fsm/fsmtest"
)

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func TestApplier(t *testing.T) {
	a := fsmtest.New()
	idx := a.MustApply(t,
		&fsm.Bootstrap{ClusterID: "c1", Time: t0, Flavors: fsm.DefaultFlavors(), NetworkCIDR: fsm.DefaultNetworkCIDR},
		&fsm.CreateFlavor{Flavor: fsm.Flavor{ID: "f", Name: "f", VCPUs: 1, RAM: 64}})
	if idx != 2 || a.Index() != 2 || a.FSM.Index() != 2 {
		t.Fatalf("after two commands: MustApply %d, Index %d, FSM %d; want 2", idx, a.Index(), a.FSM.Index())
	}
	for _, tc := range []struct {
		name string
		cmd  fsm.Command
		want error
	}{
		{"business error", &fsm.CreateFlavor{Flavor: fsm.Flavor{ID: "g", Name: "f", VCPUs: 1, RAM: 64}}, fsm.ErrConflict},
		{"success", &fsm.CreateFlavor{Flavor: fsm.Flavor{ID: "h", Name: "h", VCPUs: 1, RAM: 64}}, nil},
		{"batch with a failing entry", batch(t,
			&fsm.CreateFlavor{Flavor: fsm.Flavor{ID: "i", Name: "i", VCPUs: 1, RAM: 64}},
			&fsm.CreateFlavor{Flavor: fsm.Flavor{ID: "j", Name: "f", VCPUs: 1, RAM: 64}}), fsm.ErrConflict},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := a.Index()
			idx, err := a.Apply(context.Background(), tc.cmd)
			if !errors.Is(err, tc.want) || (tc.want == nil && err != nil) {
				t.Fatalf("Apply = %v, want %v", err, tc.want)
			}
			if idx != before+1 {
				t.Fatalf("index %d, want %d: every entry takes an index, failed or not", idx, before+1)
			}
		})
	}
	if _, err := a.FSM.Flavor("i"); err != nil {
		t.Fatalf("the batch's good entry was not applied: %v", err)
	}
}

func batch(t *testing.T, cmds ...fsm.Command) *fsm.Batch {
	t.Helper()
	b := &fsm.Batch{}
	for _, c := range cmds {
		data, err := fsm.Encode(c)
		if err != nil {
			t.Fatal(err)
		}
		b.Entries = append(b.Entries, data)
	}
	return b
}

// Concurrent applies take distinct indexes and all reach the FSM.
func TestApplierConcurrent(t *testing.T) {
	a := fsmtest.New()
	a.MustApply(t, &fsm.Bootstrap{ClusterID: "c1", Time: t0, NetworkCIDR: fsm.DefaultNetworkCIDR})
	const n = 20
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			id := string(rune('a' + i))
			if _, err := a.Apply(context.Background(), &fsm.CreateFlavor{Flavor: fsm.Flavor{ID: id, Name: id, VCPUs: 1, RAM: 64}}); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if a.Index() != n+1 || len(a.FSM.Flavors()) != n {
		t.Fatalf("index %d and %d flavors after %d concurrent creates", a.Index(), len(a.FSM.Flavors()), n)
	}
}
