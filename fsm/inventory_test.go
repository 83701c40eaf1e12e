package fsm_test

import (
	"reflect"
	"strings"
	"testing"

	"github.com/shoal-project/shoal/fsm"
)

// full is an inventory with every field set, as a node gossips it.
var full = fsm.Inventory{VCPUs: 8, VCPUsFree: 6, MemoryMiB: 16384, MemoryFreeMiB: 8192, DiskGiB: 100, DiskFreeGiB: 80,
	Arch: "x86_64", HypervisorType: "QEMU", HypervisorVersion: "8.2.0", Zone: "nova", Instances: 2, AgentVersion: "0.1.0"}

func TestInventoryRecord(t *testing.T) {
	want := fsm.Inventory{VCPUs: 8, MemoryMiB: 16384, DiskGiB: 100,
		Arch: "x86_64", HypervisorType: "QEMU", HypervisorVersion: "8.2.0", Zone: "nova"}
	if got := full.Record(); got != want {
		t.Errorf("Record() = %+v, want %+v", got, want)
	}
	if got := want.Record(); got != want {
		t.Errorf("Record of a record = %+v, want it unchanged", got)
	}
	// What moves with every server does not make a record differ.
	busy := full
	busy.VCPUsFree, busy.MemoryFreeMiB, busy.DiskFreeGiB, busy.Instances, busy.AgentVersion = -4, 0, 1, 40, "0.2.0"
	if busy.Record() != full.Record() {
		t.Errorf("records of one host differ with its load: %+v, %+v", busy.Record(), full.Record())
	}
}

// The host record keeps only the Record part, whatever the command carries.
func TestUpdateHostInventoryKeepsRecord(t *testing.T) {
	f := fsm.New()
	mustApply(t, f, 1, registerHost("h1", t0), &fsm.UpdateHostInventory{Name: "h1", Inventory: full, Time: t1})
	h, err := f.Host("h1")
	if err != nil {
		t.Fatal(err)
	}
	if h.Inventory != full.Record() {
		t.Errorf("host inventory = %+v, want %+v", h.Inventory, full.Record())
	}
	if c := h.Capacity(); c != (fsm.Resources{VCPUs: 8, MemoryMiB: 16384, DiskGiB: 100}) {
		t.Errorf("Capacity() = %+v", c)
	}
}

// An UpdateHostInventory entry written before the inventory had a type of
// its own (memory and disk as int, no free figures) decodes to the same
// command and applies the same.
func TestUpdateHostInventoryOldEntry(t *testing.T) {
	old := "\x08" + `{"name":"h1","vcpus":8,"memory_mib":16384,"disk_gib":100,"arch":"x86_64",` +
		`"hypervisor_type":"QEMU","hypervisor_version":"8.2.0","zone":"nova","time":"2026-03-01T12:00:00Z"}`
	c, err := fsm.Decode([]byte(old))
	if err != nil {
		t.Fatalf("Decode: %v", err)
	}
	if want := inventory("h1", 8, 16384, 100); !reflect.DeepEqual(c, want) {
		t.Fatalf("Decode = %#v, want %#v", c, want)
	}
	f := fsm.New()
	mustApply(t, f, 1, registerHost("h1", t0))
	if res := f.ApplyEntry(2, []byte(old)); res != nil {
		t.Fatalf("Apply(old entry) = %v", res)
	}
	h, _ := f.Host("h1")
	if want := inventory("h1", 8, 16384, 100).Inventory; h.Inventory != want {
		t.Errorf("host inventory = %+v, want %+v", h.Inventory, want)
	}
}

// A host record from a snapshot written before the inventory had a type of
// its own restores with its capacity and identity.
func TestRestoreOldHostRecord(t *testing.T) {
	old := `{"hosts":{"h1":{"name":"h1","gossip_address":"h1:7946","raft_address":"h1:7000","http_address":"h1:8774",` +
		`"enabled":true,"vcpus":8,"memory_mib":16384,"disk_gib":100,"arch":"x86_64","hypervisor_type":"QEMU",` +
		`"hypervisor_version":"8.2.0","zone":"nova","created":"2026-03-01T12:00:00Z","updated":"2026-03-01T12:00:00Z",` +
		`"create_index":1,"modify_index":2}}}`
	f := fsm.New()
	restore(t, f, []byte(old))
	h, err := f.Host("h1")
	if err != nil {
		t.Fatal(err)
	}
	want := fsm.Host{Name: "h1", GossipAddress: "h1:7946", RaftAddress: "h1:7000", HTTPAddress: "h1:8774", Enabled: true,
		Inventory: inventory("h1", 8, 16384, 100).Inventory, Created: t0, Updated: t0,
		Indexes: fsm.Indexes{CreateIndex: 1, ModifyIndex: 2}}
	if !reflect.DeepEqual(h, want) {
		t.Errorf("restored host =\n%+v\nwant\n%+v", h, want)
	}
	if snap := string(snapshotBytes(t, f)); !strings.Contains(snap, `"vcpus":8,`) {
		t.Errorf("snapshot lost the host's capacity: %s", snap)
	}
}
