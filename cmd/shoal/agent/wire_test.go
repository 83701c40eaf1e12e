package agent

import (
	"context"
	"testing"

	"github.com/shoal-project/shoal/compute"
	"github.com/shoal-project/shoal/compute/fake"
	"github.com/shoal-project/shoal/compute/metadata"
	"github.com/shoal-project/shoal/fsm"
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

// The metadata port defaults to Nova's.
func TestMetadataPortDefault(t *testing.T) {
	if got := (Config{}).WithDefaults().MetadataPort; got != metadata.DefaultPort {
		t.Errorf("default metadata port %d, want %d", got, metadata.DefaultPort)
	}
}

type networkInfo struct {
	info fsm.NetworkInfo
	ok   bool
}

func (n networkInfo) Network() (fsm.NetworkInfo, bool) { return n.info, n.ok }

// The metadata service follows the tenant network's gateway; without a
// network, or with a gateway that does not parse, it has none.
func TestTenantGateway(t *testing.T) {
	for _, tc := range []struct {
		st   networkInfo
		want string
	}{
		{networkInfo{fsm.NetworkInfo{CIDR: "10.0.0.0/24", Gateway: "10.0.0.1"}, true}, "10.0.0.1"},
		{networkInfo{}, ""},
		{networkInfo{fsm.NetworkInfo{Gateway: "nonsense"}, true}, ""},
	} {
		gw, ok := tenantGateway(tc.st)()
		if ok != (tc.want != "") || (ok && gw.String() != tc.want) {
			t.Errorf("%+v: %v %v, want %q", tc.st, gw, ok, tc.want)
		}
	}
}
