package client

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/shoal-project/shoal/api"
	"github.com/shoal-project/shoal/fsm"
)

func TestImagesAndGroups(t *testing.T) {
	_, cl := newTestClient(t)
	ctx := context.Background()

	img, err := cl.CreateImage(ctx, api.ImageCreate{Name: "cirros", DiskFormat: "qcow2", ContainerFormat: "bare",
		MinRAM: 64, Properties: map[string]string{"os_distro": "cirros"}})
	if err != nil || img.ID == "" || img.Status != "queued" || img.Properties["os_distro"] != "cirros" {
		t.Fatalf("CreateImage = %+v, %v", img, err)
	}
	if got, err := cl.Image(ctx, "cirros"); err != nil || !reflect.DeepEqual(got, img) {
		t.Errorf("Image = %+v, %v", got, err)
	}
	if list, err := cl.Images(ctx); err != nil || len(list) != 1 {
		t.Errorf("Images = %+v, %v", list, err)
	}
	if _, err := cl.CreateImage(ctx, api.ImageCreate{Name: "x", DiskFormat: "exe", ContainerFormat: "bare"}); !errors.Is(err, fsm.ErrInvalid) {
		t.Errorf("bad disk format: %v", err)
	}

	g, err := cl.CreateServerGroup(ctx, "spread", fsm.PolicyAntiAffinity)
	if err != nil || g.ID == "" || g.Policy != fsm.PolicyAntiAffinity || g.Members == nil {
		t.Fatalf("CreateServerGroup = %+v, %v", g, err)
	}
	if got, err := cl.ServerGroup(ctx, "spread"); err != nil || got.ID != g.ID {
		t.Errorf("ServerGroup = %+v, %v", got, err)
	}
	if list, err := cl.ServerGroups(ctx); err != nil || len(list) != 1 {
		t.Errorf("ServerGroups = %+v, %v", list, err)
	}
	if _, err := cl.CreateServerGroup(ctx, "x", "together"); !errors.Is(err, fsm.ErrInvalid) {
		t.Errorf("bad policy: %v", err)
	}
	if err := cl.DeleteServerGroup(ctx, g.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := cl.ServerGroup(ctx, g.ID); !errors.Is(err, fsm.ErrNotFound) {
		t.Errorf("deleted group: %v", err)
	}
	if err := cl.DeleteImage(ctx, "cirros"); err != nil {
		t.Fatal(err)
	}
	for _, err := range []error{cl.DeleteImage(ctx, ""), cl.DeleteServerGroup(ctx, "")} {
		if !errors.Is(err, fsm.ErrInvalid) {
			t.Errorf("empty ref: %v", err)
		}
	}
}

func TestServers(t *testing.T) {
	c, cl := newTestClient(t)
	ctx := context.Background()
	c.MustApply(t, &fsm.UpdateHostInventory{Name: "node1", Inventory: fsm.Inventory{VCPUs: 4, MemoryMiB: 8192, DiskGiB: 50, HypervisorType: "QEMU"}})
	if _, err := cl.CreateImage(ctx, api.ImageCreate{Name: "cirros", DiskFormat: "qcow2", ContainerFormat: "bare"}); err != nil {
		t.Fatal(err)
	}
	img, _ := c.FSM.Image("cirros")
	c.MustApply(t, &fsm.ImageUploaded{ID: img.ID, Node: "node1", Size: 1 << 20, Checksum: strings.Repeat("ab", 32), Time: time.Now().UTC()})

	one, err := cl.CreateServer(ctx, api.ServerCreate{Name: "vm", Flavor: "m1.tiny", Image: "cirros", Metadata: map[string]string{"a": "b"}})
	if err != nil || len(one) != 1 || one[0].Name != "vm" || one[0].Status != "BUILD" || one[0].Metadata["a"] != "b" {
		t.Fatalf("CreateServer = %+v, %v", one, err)
	}
	three, err := cl.CreateServer(ctx, api.ServerCreate{Name: "web", Flavor: "1", Image: "cirros", Count: 3})
	if err != nil || len(three) != 3 || three[2].Name != "web-3" {
		t.Fatalf("CreateServer count 3 = %+v, %v", three, err)
	}
	if _, err := cl.CreateServer(ctx, api.ServerCreate{Name: "x", Flavor: "nope", Image: "cirros"}); !errors.Is(err, fsm.ErrInvalid) ||
		!strings.Contains(err.Error(), "nope") {
		t.Errorf("unknown flavor: %v", err)
	}

	now := time.Now().UTC()
	c.MustApply(t, &fsm.Plan{Time: now, Ratios: fsm.DefaultRatios, MaxAttempts: 1, Placements: []fsm.Placement{{InstanceID: one[0].ID, Host: "node1"}}})
	placed, _ := c.FSM.Instance(one[0].ID)
	c.MustApply(t, &fsm.ReportInstances{Host: "node1", Time: now, Reports: []fsm.InstanceReport{{ID: one[0].ID, PowerState: fsm.PowerRunning, Done: fsm.TaskSpawning, TaskIndex: placed.TaskIndex}}})

	list, err := cl.Servers(ctx, api.ServerFilter{})
	if err != nil || len(list) != 4 {
		t.Fatalf("Servers = %d, %v", len(list), err)
	}
	tests := []struct {
		filter api.ServerFilter
		want   int
	}{
		{api.ServerFilter{Status: "active"}, 1},
		{api.ServerFilter{Host: "node1"}, 1},
		{api.ServerFilter{Name: "^web-[12]$"}, 2},
		{api.ServerFilter{Limit: 2, Marker: list[1].ID}, 2},
		{api.ServerFilter{Status: "BUILD", Limit: 1}, 1},
	}
	for _, tt := range tests {
		got, err := cl.Servers(ctx, tt.filter)
		if err != nil || len(got) != tt.want {
			t.Errorf("Servers(%+v) = %d, %v; want %d", tt.filter, len(got), err, tt.want)
		}
	}
	if _, err := cl.Servers(ctx, api.ServerFilter{Name: "("}); !errors.Is(err, fsm.ErrInvalid) {
		t.Errorf("bad regexp: %v", err)
	}

	s, err := cl.Server(ctx, one[0].ID)
	if err != nil || s.Status != "ACTIVE" || s.Host != "node1" {
		t.Fatalf("Server = %+v, %v", s, err)
	}
	s, err = cl.ServerAction(ctx, s.ID, api.ServerActionRequest{Action: "reboot", Type: "HARD"})
	if err != nil || s.Status != "HARD_REBOOT" {
		t.Errorf("ServerAction reboot = %+v, %v", s, err)
	}
	if _, err := cl.ServerAction(ctx, s.ID, api.ServerActionRequest{Action: "start"}); !errors.Is(err, fsm.ErrConflict) {
		t.Errorf("start while rebooting: %v", err)
	}
	actions, err := cl.ServerActions(ctx, s.ID)
	if err != nil || len(actions) != 2 || actions[0].Action != "reboot (hard)" || actions[1].Action != "create" {
		t.Errorf("ServerActions = %+v, %v", actions, err)
	}
	if err := cl.DeleteServer(ctx, three[0].ID); err != nil {
		t.Fatal(err)
	}
	if _, err := cl.Server(ctx, three[0].ID); !errors.Is(err, fsm.ErrNotFound) {
		t.Errorf("deleted unplaced server: %v", err)
	}
	if _, err := cl.Server(ctx, ""); !errors.Is(err, fsm.ErrInvalid) {
		t.Errorf("empty ID: %v", err)
	}
}

func TestHostsAndHypervisors(t *testing.T) {
	c, cl := newTestClient(t)
	ctx := context.Background()
	c.MustApply(t, &fsm.UpdateHostInventory{Name: "node1", Inventory: fsm.Inventory{VCPUs: 4, MemoryMiB: 8192, DiskGiB: 50, HypervisorType: "QEMU", HypervisorVersion: "8.2"}})

	h, err := cl.DisableHost(ctx, "node1", "maintenance")
	if err != nil || h.Status != "disabled" || h.DisabledReason != "maintenance" || h.State != "up" {
		t.Fatalf("DisableHost = %+v, %v", h, err)
	}
	if h, err = cl.EnableHost(ctx, "node1"); err != nil || h.Status != "enabled" || h.DisabledReason != "" {
		t.Fatalf("EnableHost = %+v, %v", h, err)
	}
	if _, err := cl.DisableHost(ctx, "ghost", ""); !errors.Is(err, fsm.ErrNotFound) {
		t.Errorf("DisableHost unknown: %v", err)
	}

	hv, err := cl.Hypervisors(ctx)
	if err != nil || len(hv) != 1 || hv[0].Name != "node1" || hv[0].VCPUs != 4 || hv[0].FreeRAMMiB != 8192 {
		t.Fatalf("Hypervisors = %+v, %v", hv, err)
	}
	one, err := cl.Hypervisor(ctx, "node1")
	if err != nil || !reflect.DeepEqual(one, hv[0]) {
		t.Errorf("Hypervisor = %+v, %v", one, err)
	}
	st, err := cl.HypervisorStats(ctx)
	if want := (api.HypervisorStatistics{Count: 1, VCPUs: 4, MemoryMiB: 8192, FreeRAMMiB: 8192, DiskGiB: 50, FreeDiskGiB: 50}); err != nil || st != want {
		t.Errorf("HypervisorStats = %+v, %v", st, err)
	}
	if _, err := cl.Hypervisor(ctx, "ghost"); !errors.Is(err, fsm.ErrNotFound) {
		t.Errorf("Hypervisor unknown: %v", err)
	}
}
