package fsm_test

import (
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/shoal-project/shoal/fsm"
)

// applyCase is one command applied to a state built by setup.
type applyCase struct {
	name    string
	setup   []fsm.Command // applied at indexes 1..len(setup), each must succeed
	cmd     fsm.Command   // applied at index len(setup)+1
	wantErr error         // nil: cmd must succeed and check runs
	check   func(t *testing.T, f *fsm.FSM, index uint64)
}

func runApplyCases(t *testing.T, cases []applyCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := fsm.New()
			index := mustApply(t, f, 1, tc.setup...)
			before := snapshotBytes(t, f)

			err := applyErr(t, f, index, tc.cmd)

			if got := f.Index(); got != index {
				t.Errorf("Index() = %d, want %d", got, index)
			}
			if tc.wantErr == nil {
				if err != nil {
					t.Fatalf("apply %s: %v", tc.cmd.Type(), err)
				}
				tc.check(t, f, index)
				return
			}
			assertBusinessError(t, err, tc.wantErr)
			assertOnlyIndexChanged(t, before, snapshotBytes(t, f), index)
		})
	}
}

func wantHost(t *testing.T, f *fsm.FSM, want fsm.Host) {
	t.Helper()
	got, err := f.Host(want.Name)
	if err != nil {
		t.Fatalf("Host(%q): %v", want.Name, err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Host(%q) =\n%+v\nwant\n%+v", want.Name, got, want)
	}
}

func wantNoHost(t *testing.T, f *fsm.FSM, name string) {
	t.Helper()
	if h, err := f.Host(name); !errors.Is(err, fsm.ErrNotFound) {
		t.Errorf("Host(%q) = %+v, %v; want ErrNotFound", name, h, err)
	}
}

// wantFlavor checks that ref (an ID or a name) finds want.
func wantFlavor(t *testing.T, f *fsm.FSM, ref string, want fsm.Flavor) {
	t.Helper()
	got, err := f.Flavor(ref)
	if err != nil {
		t.Fatalf("Flavor(%q): %v", ref, err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Flavor(%q) =\n%+v\nwant\n%+v", ref, got, want)
	}
}

func wantNoFlavor(t *testing.T, f *fsm.FSM, ref string) {
	t.Helper()
	if fl, err := f.Flavor(ref); !errors.Is(err, fsm.ErrNotFound) {
		t.Errorf("Flavor(%q) = %+v, %v; want ErrNotFound", ref, fl, err)
	}
}

func TestApplyBootstrap(t *testing.T) {
	defaults := &fsm.Bootstrap{ClusterID: "c1", Time: t0, Flavors: fsm.DefaultFlavors()}
	custom := fsm.Flavor{ID: "1", Name: "custom", VCPUs: 3, RAM: 3000, Disk: 3, Created: t1}
	renamed := fsm.Flavor{ID: "x", Name: "m1.small", VCPUs: 9, RAM: 9000, Disk: 9, Created: t1}
	bad := fsm.DefaultFlavors()
	bad[2].VCPUs = 0

	runApplyCases(t, []applyCase{
		{
			name: "seeds default flavors",
			cmd:  defaults,
			check: func(t *testing.T, f *fsm.FSM, index uint64) {
				if got := f.ClusterID(); got != "c1" {
					t.Errorf("ClusterID() = %q, want c1", got)
				}
				var want []fsm.Flavor
				for _, fl := range fsm.DefaultFlavors() {
					fl.Created = t0
					want = append(want, withIndexes(fl, index, index))
				}
				if got := f.Flavors(); !reflect.DeepEqual(got, want) {
					t.Errorf("Flavors() =\n%+v\nwant\n%+v", got, want)
				}
				wantFlavor(t, f, "m1.medium", want[2])
				if hosts := f.Hosts(); len(hosts) != 0 {
					t.Errorf("Hosts() = %+v, want none", hosts)
				}
			},
		},
		{
			name: "without flavors",
			cmd:  &fsm.Bootstrap{ClusterID: "c1", Time: t0},
			check: func(t *testing.T, f *fsm.FSM, _ uint64) {
				if got := f.ClusterID(); got != "c1" {
					t.Errorf("ClusterID() = %q, want c1", got)
				}
				if fls := f.Flavors(); len(fls) != 0 {
					t.Errorf("Flavors() = %+v, want none", fls)
				}
			},
		},
		{
			name:  "keeps flavors that already exist by ID or name",
			setup: []fsm.Command{&fsm.CreateFlavor{Flavor: custom}, &fsm.CreateFlavor{Flavor: renamed}},
			cmd:   defaults,
			check: func(t *testing.T, f *fsm.FSM, index uint64) {
				wantFlavor(t, f, "1", withIndexes(custom, 1, 1))
				wantFlavor(t, f, "m1.small", withIndexes(renamed, 2, 2))
				wantNoFlavor(t, f, "m1.tiny")
				wantNoFlavor(t, f, "2")
				medium := fsm.DefaultFlavors()[2]
				medium.Created = t0
				wantFlavor(t, f, "3", withIndexes(medium, index, index))
				if got := len(f.Flavors()); got != 5 {
					t.Errorf("len(Flavors()) = %d, want 5 (2 existing + 3 defaults)", got)
				}
			},
		},
		{
			name:    "twice",
			setup:   []fsm.Command{defaults},
			cmd:     &fsm.Bootstrap{ClusterID: "c2", Time: t1},
			wantErr: fsm.ErrConflict,
		},
		{
			name:    "twice with the same cluster ID",
			setup:   []fsm.Command{defaults},
			cmd:     defaults,
			wantErr: fsm.ErrConflict,
		},
		{
			name:    "empty cluster ID",
			cmd:     &fsm.Bootstrap{Time: t0, Flavors: fsm.DefaultFlavors()},
			wantErr: fsm.ErrInvalid,
		},
		{
			name:    "invalid flavor",
			setup:   []fsm.Command{registerHost("h1", t0)},
			cmd:     &fsm.Bootstrap{ClusterID: "c1", Time: t0, Flavors: bad},
			wantErr: fsm.ErrInvalid,
		},
	})
}

func TestApplyRegisterHost(t *testing.T) {
	moved := registerHost("h1", t1)
	moved.GossipAddress, moved.RaftAddress, moved.HTTPAddress = "10.0.0.9:7946", "10.0.0.9:7000", "10.0.0.9:8774"

	runApplyCases(t, []applyCase{
		{
			name: "new host is enabled",
			cmd:  registerHost("h1", t0),
			check: func(t *testing.T, f *fsm.FSM, index uint64) {
				want := fsm.Host{
					Name: "h1", GossipAddress: "h1:7946", RaftAddress: "h1:7000", HTTPAddress: "h1:8774",
					Enabled: true, Created: t0, Updated: t0,
					Indexes: fsm.Indexes{CreateIndex: index, ModifyIndex: index},
				}
				wantHost(t, f, want)
				if got := f.Hosts(); !reflect.DeepEqual(got, []fsm.Host{want}) {
					t.Errorf("Hosts() = %+v, want [%+v]", got, want)
				}
			},
		},
		{
			name:  "again updates addresses and keeps created and disabled",
			setup: []fsm.Command{registerHost("h1", t0), &fsm.SetHostEnabled{Name: "h1", Reason: "maintenance", Time: t0}},
			cmd:   moved,
			check: func(t *testing.T, f *fsm.FSM, index uint64) {
				wantHost(t, f, fsm.Host{
					Name: "h1", GossipAddress: "10.0.0.9:7946", RaftAddress: "10.0.0.9:7000", HTTPAddress: "10.0.0.9:8774",
					Enabled: false, DisabledReason: "maintenance", Created: t0, Updated: t1,
					Indexes: fsm.Indexes{CreateIndex: 1, ModifyIndex: index},
				})
			},
		},
		{
			name:  "after deregister starts a new record",
			setup: []fsm.Command{registerHost("h1", t0), &fsm.SetHostEnabled{Name: "h1", Time: t0}, &fsm.DeregisterHost{Name: "h1"}},
			cmd:   registerHost("h1", t1),
			check: func(t *testing.T, f *fsm.FSM, index uint64) {
				wantHost(t, f, fsm.Host{
					Name: "h1", GossipAddress: "h1:7946", RaftAddress: "h1:7000", HTTPAddress: "h1:8774",
					Enabled: true, Created: t1, Updated: t1,
					Indexes: fsm.Indexes{CreateIndex: index, ModifyIndex: index},
				})
			},
		},
		{
			name:  "leaves other hosts alone",
			setup: []fsm.Command{registerHost("h1", t0)},
			cmd:   registerHost("h2", t1),
			check: func(t *testing.T, f *fsm.FSM, _ uint64) {
				hosts := f.Hosts()
				if len(hosts) != 2 || hosts[0].Name != "h1" || hosts[1].Name != "h2" {
					t.Fatalf("Hosts() = %+v, want h1 then h2", hosts)
				}
				if hosts[0].ModifyIndex != 1 || !hosts[0].Updated.Equal(t0) {
					t.Errorf("h1 changed: %+v", hosts[0])
				}
			},
		},
		{
			name:    "empty name",
			setup:   []fsm.Command{registerHost("h1", t0)},
			cmd:     registerHost("", t1),
			wantErr: fsm.ErrInvalid,
		},
	})
}

func TestApplyDeregisterHost(t *testing.T) {
	runApplyCases(t, []applyCase{
		{
			name:  "removes only that host",
			setup: []fsm.Command{registerHost("h1", t0), registerHost("h2", t0)},
			cmd:   &fsm.DeregisterHost{Name: "h1"},
			check: func(t *testing.T, f *fsm.FSM, _ uint64) {
				wantNoHost(t, f, "h1")
				wantHost(t, f, fsm.Host{
					Name: "h2", GossipAddress: "h2:7946", RaftAddress: "h2:7000", HTTPAddress: "h2:8774",
					Enabled: true, Created: t0, Updated: t0,
					Indexes: fsm.Indexes{CreateIndex: 2, ModifyIndex: 2},
				})
				if got := len(f.Hosts()); got != 1 {
					t.Errorf("len(Hosts()) = %d, want 1", got)
				}
			},
		},
		{
			name:    "unknown host",
			setup:   []fsm.Command{registerHost("h1", t0)},
			cmd:     &fsm.DeregisterHost{Name: "h9"},
			wantErr: fsm.ErrNotFound,
		},
		{
			name:    "already deregistered",
			setup:   []fsm.Command{registerHost("h1", t0), &fsm.DeregisterHost{Name: "h1"}},
			cmd:     &fsm.DeregisterHost{Name: "h1"},
			wantErr: fsm.ErrNotFound,
		},
		{
			name:    "empty name",
			setup:   []fsm.Command{registerHost("h1", t0)},
			cmd:     &fsm.DeregisterHost{},
			wantErr: fsm.ErrNotFound,
		},
	})
}

func TestApplySetHostEnabled(t *testing.T) {
	// h1Is checks h1 as registered at index 1, then last changed by the
	// applied entry at the minute updated after t0.
	h1Is := func(enabled bool, reason string, updated int) func(*testing.T, *fsm.FSM, uint64) {
		return func(t *testing.T, f *fsm.FSM, index uint64) {
			wantHost(t, f, fsm.Host{
				Name: "h1", GossipAddress: "h1:7946", RaftAddress: "h1:7000", HTTPAddress: "h1:8774",
				Enabled: enabled, DisabledReason: reason, Created: t0, Updated: t0.Add(time.Duration(updated) * time.Minute),
				Indexes: fsm.Indexes{CreateIndex: 1, ModifyIndex: index},
			})
		}
	}
	runApplyCases(t, []applyCase{
		{
			name:  "disable with reason",
			setup: []fsm.Command{registerHost("h1", t0)},
			cmd:   &fsm.SetHostEnabled{Name: "h1", Enabled: false, Reason: "maintenance", Time: t1},
			check: h1Is(false, "maintenance", 1),
		},
		{
			name:  "enable clears the reason",
			setup: []fsm.Command{registerHost("h1", t0), &fsm.SetHostEnabled{Name: "h1", Reason: "maintenance", Time: t1}},
			cmd:   &fsm.SetHostEnabled{Name: "h1", Enabled: true, Reason: "ignored", Time: t2},
			check: h1Is(true, "", 2),
		},
		{
			name:  "enable an enabled host still stamps it",
			setup: []fsm.Command{registerHost("h1", t0)},
			cmd:   &fsm.SetHostEnabled{Name: "h1", Enabled: true, Time: t2},
			check: h1Is(true, "", 2),
		},
		{
			name:    "unknown host",
			setup:   []fsm.Command{registerHost("h1", t0)},
			cmd:     &fsm.SetHostEnabled{Name: "h2", Reason: "maintenance", Time: t1},
			wantErr: fsm.ErrNotFound,
		},
	})
}

func TestApplyCreateFlavor(t *testing.T) {
	big := bigFlavor()
	with := func(edit func(*fsm.Flavor)) *fsm.CreateFlavor {
		fl := bigFlavor()
		edit(&fl)
		return &fsm.CreateFlavor{Flavor: fl}
	}
	// stored is what with(edit) applied at index leaves in the state.
	stored := func(index uint64, edit func(*fsm.Flavor)) fsm.Flavor {
		return withIndexes(with(edit).Flavor, index, index)
	}
	runApplyCases(t, []applyCase{
		{
			name:  "found by ID and by name",
			setup: []fsm.Command{&fsm.Bootstrap{ClusterID: "c1", Time: t0, Flavors: fsm.DefaultFlavors()}},
			cmd:   &fsm.CreateFlavor{Flavor: big},
			check: func(t *testing.T, f *fsm.FSM, index uint64) {
				want := withIndexes(big, index, index)
				wantFlavor(t, f, "f-big", want)
				wantFlavor(t, f, "x1.big", want)
				fls := f.Flavors()
				if len(fls) != 6 || !reflect.DeepEqual(fls[5], want) {
					t.Errorf("Flavors() = %+v, want 5 defaults then %+v", fls, want)
				}
			},
		},
		{
			name: "indexes in the command are ignored",
			cmd:  with(func(fl *fsm.Flavor) { fl.CreateIndex, fl.ModifyIndex = 99, 98 }),
			check: func(t *testing.T, f *fsm.FSM, index uint64) {
				wantFlavor(t, f, "f-big", withIndexes(big, index, index))
			},
		},
		{
			name: "zero disk",
			cmd:  with(func(fl *fsm.Flavor) { fl.Disk = 0 }),
			check: func(t *testing.T, f *fsm.FSM, index uint64) {
				wantFlavor(t, f, "x1.big", stored(index, func(fl *fsm.Flavor) { fl.Disk = 0 }))
			},
		},
		{
			name:  "name of a deleted flavor is free again",
			setup: []fsm.Command{&fsm.CreateFlavor{Flavor: big}, &fsm.DeleteFlavor{ID: "f-big"}},
			cmd:   with(func(fl *fsm.Flavor) { fl.ID = "f-big-2" }),
			check: func(t *testing.T, f *fsm.FSM, index uint64) {
				want := stored(index, func(fl *fsm.Flavor) { fl.ID = "f-big-2" })
				wantFlavor(t, f, "x1.big", want)
				wantNoFlavor(t, f, "f-big")
			},
		},
		{
			name:  "ID of a deleted flavor is free again and its old name is gone",
			setup: []fsm.Command{&fsm.CreateFlavor{Flavor: big}, &fsm.DeleteFlavor{ID: "f-big"}},
			cmd:   with(func(fl *fsm.Flavor) { fl.Name = "x1.renamed" }),
			check: func(t *testing.T, f *fsm.FSM, index uint64) {
				want := stored(index, func(fl *fsm.Flavor) { fl.Name = "x1.renamed" })
				wantFlavor(t, f, "f-big", want)
				wantFlavor(t, f, "x1.renamed", want)
				wantNoFlavor(t, f, "x1.big")
			},
		},
		{
			name:    "duplicate ID",
			setup:   []fsm.Command{&fsm.CreateFlavor{Flavor: big}},
			cmd:     with(func(fl *fsm.Flavor) { fl.Name = "x1.other" }),
			wantErr: fsm.ErrConflict,
		},
		{
			name:    "duplicate name",
			setup:   []fsm.Command{&fsm.CreateFlavor{Flavor: big}},
			cmd:     with(func(fl *fsm.Flavor) { fl.ID = "f-other" }),
			wantErr: fsm.ErrConflict,
		},
		{
			name:    "duplicate of a default flavor name",
			setup:   []fsm.Command{&fsm.Bootstrap{ClusterID: "c1", Time: t0, Flavors: fsm.DefaultFlavors()}},
			cmd:     with(func(fl *fsm.Flavor) { fl.Name = "m1.tiny" }),
			wantErr: fsm.ErrConflict,
		},
		{
			name:    "empty ID",
			cmd:     with(func(fl *fsm.Flavor) { fl.ID = "" }),
			wantErr: fsm.ErrInvalid,
		},
		{
			name:    "empty name",
			cmd:     with(func(fl *fsm.Flavor) { fl.Name = "" }),
			wantErr: fsm.ErrInvalid,
		},
		{
			name:    "zero vcpus",
			cmd:     with(func(fl *fsm.Flavor) { fl.VCPUs = 0 }),
			wantErr: fsm.ErrInvalid,
		},
		{
			name:    "zero ram",
			cmd:     with(func(fl *fsm.Flavor) { fl.RAM = 0 }),
			wantErr: fsm.ErrInvalid,
		},
		{
			name:    "negative disk",
			cmd:     with(func(fl *fsm.Flavor) { fl.Disk = -1 }),
			wantErr: fsm.ErrInvalid,
		},
		{
			// Validity is checked before uniqueness.
			name:    "invalid and duplicate",
			setup:   []fsm.Command{&fsm.CreateFlavor{Flavor: big}},
			cmd:     with(func(fl *fsm.Flavor) { fl.RAM = 0 }),
			wantErr: fsm.ErrInvalid,
		},
	})
}

func TestApplyDeleteFlavor(t *testing.T) {
	big := bigFlavor()
	runApplyCases(t, []applyCase{
		{
			name:  "gone by ID and by name",
			setup: []fsm.Command{&fsm.Bootstrap{ClusterID: "c1", Time: t0, Flavors: fsm.DefaultFlavors()}, &fsm.CreateFlavor{Flavor: big}},
			cmd:   &fsm.DeleteFlavor{ID: "f-big"},
			check: func(t *testing.T, f *fsm.FSM, _ uint64) {
				wantNoFlavor(t, f, "f-big")
				wantNoFlavor(t, f, "x1.big")
				if got := len(f.Flavors()); got != 5 {
					t.Errorf("len(Flavors()) = %d, want the 5 defaults", got)
				}
			},
		},
		{
			name:  "a default flavor",
			setup: []fsm.Command{&fsm.Bootstrap{ClusterID: "c1", Time: t0, Flavors: fsm.DefaultFlavors()}},
			cmd:   &fsm.DeleteFlavor{ID: "1"},
			check: func(t *testing.T, f *fsm.FSM, _ uint64) {
				wantNoFlavor(t, f, "1")
				wantNoFlavor(t, f, "m1.tiny")
				small := fsm.DefaultFlavors()[1]
				small.Created = t0
				wantFlavor(t, f, "m1.small", withIndexes(small, 1, 1))
			},
		},
		{
			name:    "unknown ID",
			setup:   []fsm.Command{&fsm.CreateFlavor{Flavor: big}},
			cmd:     &fsm.DeleteFlavor{ID: "f-none"},
			wantErr: fsm.ErrNotFound,
		},
		{
			name:    "by name is not by ID",
			setup:   []fsm.Command{&fsm.CreateFlavor{Flavor: big}},
			cmd:     &fsm.DeleteFlavor{ID: "x1.big"},
			wantErr: fsm.ErrNotFound,
		},
		{
			name:    "already deleted",
			setup:   []fsm.Command{&fsm.CreateFlavor{Flavor: big}, &fsm.DeleteFlavor{ID: "f-big"}},
			cmd:     &fsm.DeleteFlavor{ID: "f-big"},
			wantErr: fsm.ErrNotFound,
		},
	})
}
