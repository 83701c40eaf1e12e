package agent

import (
	"context"
	"testing"

	"github.com/shoal-project/shoal/compute"
	"github.com/shoal-project/shoal/compute/fake"
)

// The node gossips what the driver reports less what the host reserves.
func TestInventorySourceReserves(t *testing.T) {
	d := fake.New(fake.Config{VCPUs: 8, MemoryMiB: 16384, DiskGiB: 200})
	inv, err := inventorySource(d, compute.Reserved{MemoryMiB: compute.DefaultReservedMemoryMiB, VCPUs: 2})(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if inv.VCPUs != 6 || inv.VCPUsFree != 6 || inv.MemoryMiB != 15872 || inv.MemoryFreeMiB != 15872 ||
		inv.DiskGiB != 200 || inv.DiskFreeGiB != 200 {
		t.Errorf("inventory %+v: want 6 vCPUs and 15872 MiB (total and free), the disk as reported", inv)
	}
}
