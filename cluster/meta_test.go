package cluster

import (
	"math"
	"strings"
	"testing"

	"github.com/shoal-project/shoal/fsm"
)

func TestMetaSize(t *testing.T) {
	v6 := "[fd00:1234:5678:9abc:def0:1234:5678:9abc]:65535"
	worst := fsm.Inventory{
		VCPUs: math.MaxInt32, VCPUsFree: math.MaxInt32, MemoryMiB: math.MaxInt64, MemoryFreeMiB: math.MaxInt64,
		DiskGiB: math.MaxInt64, DiskFreeGiB: math.MaxInt64, Instances: math.MaxInt32,
		Arch: strings.Repeat("a", 100), HypervisorType: strings.Repeat("t", 100),
		HypervisorVersion: strings.Repeat("9", 100), Zone: strings.Repeat("z", maxZoneLen),
		AgentVersion: strings.Repeat("v", 100),
	}
	m := newMeta("0f8fad5b-d9cb-469f-a165-70867728950e", v6, v6, worst)
	m.Leaving, m.Fenced = true, true
	b, err := m.encode(metaLimit)
	if err != nil {
		t.Fatalf("worst-case metadata: %v", err)
	}
	if len(b) > metaLimit {
		t.Fatalf("worst-case metadata is %d bytes, over %d", len(b), metaLimit)
	}
	back, err := decodeMeta(b)
	if err != nil {
		t.Fatal(err)
	}
	if back.Zone != worst.Zone || back.Raft != v6 || back.inventory().MemoryMiB != math.MaxInt64 {
		t.Fatalf("worst case lost fields that fit: %+v", back)
	}
	t.Logf("worst-case node metadata: %d of %d bytes", len(b), metaLimit)
}

func TestMetaEncodeDropsStringsWhenTight(t *testing.T) {
	m := newMeta("id", "127.0.0.1:1", "127.0.0.1:2", fsm.Inventory{Zone: "nova", Arch: "x86_64"})
	full, err := m.encode(metaLimit)
	if err != nil {
		t.Fatal(err)
	}
	tight, err := m.encode(len(full) - 1)
	if err != nil {
		t.Fatalf("a limit just under the full form should drop descriptive strings: %v", err)
	}
	back, _ := decodeMeta(tight)
	if back.Raft != "127.0.0.1:1" || back.Zone != "" {
		t.Fatalf("tight encoding = %+v, want addresses kept and strings dropped", back)
	}
	if _, err := m.encode(10); err == nil {
		t.Fatal("a limit nothing fits in must be an error, not a panic in memberlist")
	}
}

func TestMetaRoundTrip(t *testing.T) {
	inv := fsm.Inventory{VCPUs: 4, VCPUsFree: 3, MemoryMiB: 8192, MemoryFreeMiB: 4096, DiskGiB: 100, DiskFreeGiB: 50,
		Arch: "x86_64", HypervisorType: "QEMU", HypervisorVersion: "7.2.0", Zone: "az1", Instances: 2, AgentVersion: "0.1.0"}
	b, err := newMeta("c", "r:1", "h:2", inv).encode(metaLimit)
	if err != nil {
		t.Fatal(err)
	}
	m, err := decodeMeta(b)
	if err != nil {
		t.Fatal(err)
	}
	if got := m.inventory(); got != inv {
		t.Fatalf("round trip: got %+v, want %+v", got, inv)
	}
	if _, err := decodeMeta(nil); err == nil {
		t.Fatal("empty metadata must not decode")
	}
}
