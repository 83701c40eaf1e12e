package fsm_test

import (
	"reflect"
	"testing"

	"github.com/shoal-project/shoal/fsm"
)

func TestApplyCatalog(t *testing.T) {
	boot := &fsm.Bootstrap{ClusterID: "c1", Time: t0, Flavors: fsm.DefaultFlavors(), NetworkCIDR: testCIDR}
	img := activeImage("img-1")
	group := fsm.ServerGroup{ID: "g1", Name: "web", Policy: fsm.PolicyAffinity, Members: []string{"smuggled"}, Created: t1}
	withServer := []fsm.Command{boot, &fsm.CreateImage{Image: img}, &fsm.CreateServerGroup{Group: group},
		&fsm.CreateInstances{RequestID: "r", Time: t1, Instances: []fsm.NewInstance{
			{ID: "a", Name: "a", FlavorID: "1", ImageID: "img-1", ServerGroupID: "g1"}}}}

	runApplyCases(t, []applyCase{
		{
			name:  "inventory",
			setup: []fsm.Command{registerHost("h1", t0)},
			cmd:   inventory("h1", 8, 16384, 100),
			check: func(t *testing.T, f *fsm.FSM, index uint64) {
				wantHost(t, f, fsm.Host{Name: "h1", GossipAddress: "h1:7946", RaftAddress: "h1:7000", HTTPAddress: "h1:8774",
					Enabled: true, Inventory: fsm.Inventory{VCPUs: 8, MemoryMiB: 16384, DiskGiB: 100, Arch: "x86_64", HypervisorType: "QEMU",
						HypervisorVersion: "8.2.0", Zone: "nova"}, Created: t0, Updated: t0,
					Indexes: fsm.Indexes{CreateIndex: 1, ModifyIndex: index}})
			},
		},
		{
			name:  "inventory keeps the disabled flag",
			setup: []fsm.Command{registerHost("h1", t0), &fsm.SetHostEnabled{Name: "h1", Reason: "r", Time: t0}},
			cmd:   inventory("h1", 0, 0, 0),
			check: func(t *testing.T, f *fsm.FSM, _ uint64) {
				h, _ := f.Host("h1")
				if h.Enabled || h.DisabledReason != "r" || h.VCPUs != 0 {
					t.Errorf("host %+v", h)
				}
			},
		},
		{name: "inventory of an unknown host", cmd: inventory("h9", 1, 1, 1), wantErr: fsm.ErrNotFound},
		{name: "negative vcpus", setup: []fsm.Command{registerHost("h1", t0)}, cmd: inventory("h1", -1, 1, 1), wantErr: fsm.ErrInvalid},
		{name: "negative ram", setup: []fsm.Command{registerHost("h1", t0)}, cmd: inventory("h1", 1, -1, 1), wantErr: fsm.ErrInvalid},
		{name: "negative disk", setup: []fsm.Command{registerHost("h1", t0)}, cmd: inventory("h1", 1, 1, -1), wantErr: fsm.ErrInvalid},
		{
			name: "create image",
			cmd:  &fsm.CreateImage{Image: img},
			check: func(t *testing.T, f *fsm.FSM, index uint64) {
				want := withImageIndexes(img, index, index)
				want.Locations = []string{}
				for _, ref := range []string{"img-1", "cirros-img-1"} {
					if got, err := f.Image(ref); err != nil || !reflect.DeepEqual(got, want) {
						t.Errorf("Image(%q) = %+v, %v; want %+v", ref, got, err, want)
					}
				}
			},
		},
		{
			name:  "image names may repeat; the name is then ambiguous",
			setup: []fsm.Command{&fsm.CreateImage{Image: img}},
			cmd:   &fsm.CreateImage{Image: func() fsm.Image { i := activeImage("img-2"); i.Name = img.Name; return i }()},
			check: func(t *testing.T, f *fsm.FSM, _ uint64) {
				if _, err := f.Image(img.Name); err == nil {
					t.Error("Image(ambiguous name) succeeded")
				} else {
					assertBusinessError(t, err, fsm.ErrConflict)
				}
				if got, err := f.Image("img-2"); err != nil || got.ID != "img-2" {
					t.Errorf("Image(img-2) = %+v, %v", got, err)
				}
			},
		},
		{name: "image without ID", cmd: &fsm.CreateImage{Image: fsm.Image{Name: "x", Status: "active"}}, wantErr: fsm.ErrInvalid},
		{name: "image without name", cmd: &fsm.CreateImage{Image: fsm.Image{ID: "x", Status: "active"}}, wantErr: fsm.ErrInvalid},
		{name: "image with bad status", cmd: &fsm.CreateImage{Image: fsm.Image{ID: "x", Name: "x", Status: "saving"}}, wantErr: fsm.ErrInvalid},
		{name: "image with negative size", cmd: &fsm.CreateImage{Image: fsm.Image{ID: "x", Name: "x", Status: "active", Size: -1}}, wantErr: fsm.ErrInvalid},
		{name: "image with negative min_ram", cmd: &fsm.CreateImage{Image: fsm.Image{ID: "x", Name: "x", Status: "active", MinRAM: -1}}, wantErr: fsm.ErrInvalid},
		{name: "image ID taken", setup: []fsm.Command{&fsm.CreateImage{Image: img}}, cmd: &fsm.CreateImage{Image: img}, wantErr: fsm.ErrConflict},
		{
			name:  "delete image",
			setup: []fsm.Command{&fsm.CreateImage{Image: img}},
			cmd:   &fsm.DeleteImage{ID: "img-1"},
			check: func(t *testing.T, f *fsm.FSM, _ uint64) {
				if imgs := f.Images(); len(imgs) != 0 {
					t.Errorf("Images() = %+v", imgs)
				}
			},
		},
		{name: "delete unknown image", cmd: &fsm.DeleteImage{ID: "img-1"}, wantErr: fsm.ErrNotFound},
		{name: "delete image in use", setup: withServer, cmd: &fsm.DeleteImage{ID: "img-1"}, wantErr: fsm.ErrConflict},
		{
			name: "create server group ignores members",
			cmd:  &fsm.CreateServerGroup{Group: group},
			check: func(t *testing.T, f *fsm.FSM, index uint64) {
				want := group
				want.Members = []string{}
				want.CreateIndex, want.ModifyIndex = index, index
				for _, ref := range []string{"g1", "web"} {
					if got, err := f.ServerGroup(ref); err != nil || !reflect.DeepEqual(got, want) {
						t.Errorf("ServerGroup(%q) = %+v, %v; want %+v", ref, got, err, want)
					}
				}
			},
		},
		{name: "group without name", cmd: &fsm.CreateServerGroup{Group: fsm.ServerGroup{ID: "g", Policy: fsm.PolicyAffinity}}, wantErr: fsm.ErrInvalid},
		{name: "group with bad policy", cmd: &fsm.CreateServerGroup{Group: fsm.ServerGroup{ID: "g", Name: "g", Policy: "Affinity"}}, wantErr: fsm.ErrInvalid},
		{name: "group ID taken", setup: []fsm.Command{&fsm.CreateServerGroup{Group: group}}, cmd: &fsm.CreateServerGroup{Group: group}, wantErr: fsm.ErrConflict},
		{name: "delete unknown group", cmd: &fsm.DeleteServerGroup{ID: "g1"}, wantErr: fsm.ErrNotFound},
		{
			name:  "delete group keeps its servers, ungrouped",
			setup: withServer,
			cmd:   &fsm.DeleteServerGroup{ID: "g1"},
			check: func(t *testing.T, f *fsm.FSM, _ uint64) {
				i, err := f.Instance("a")
				if err != nil || i.ServerGroupID != "" {
					t.Errorf("Instance(a) = %+v, %v", i, err)
				}
				if gs := f.ServerGroups(); len(gs) != 0 {
					t.Errorf("ServerGroups() = %+v", gs)
				}
				checkDerived(t, f)
			},
		},
	})

	for _, p := range []string{fsm.PolicyAffinity, fsm.PolicyAntiAffinity, fsm.PolicySoftAffinity, fsm.PolicySoftAntiAffinity} {
		if !fsm.ValidPolicy(p) {
			t.Errorf("ValidPolicy(%q) = false", p)
		}
	}
	for _, p := range []string{"", "Affinity", "anti_affinity", "strict"} {
		if fsm.ValidPolicy(p) {
			t.Errorf("ValidPolicy(%q) = true", p)
		}
	}
}
