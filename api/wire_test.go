package api

import (
	"testing"
	"time"

	"github.com/shoal-project/shoal/fsm"
)

// The JSON of hosts, members and hypervisors is pinned byte for byte: the
// host record and the member view share fsm.Inventory, yet each keeps the
// shape it had before the inventory was one type.
func TestInventoryWireShapes(t *testing.T) {
	c, ts := newTestServer(t)
	at := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	c.MustApply(t, &fsm.RegisterHost{Name: "node1", GossipAddress: "10.0.0.1:7946", RaftAddress: "10.0.0.1:7947",
		HTTPAddress: "10.0.0.1:8774", Time: at})
	// The leader copies only the Record part; a command carrying free
	// figures must not bring them into the record.
	c.MustApply(t, &fsm.UpdateHostInventory{Name: "node1", Inventory: fsm.Inventory{VCPUs: 8, VCPUsFree: 6, MemoryMiB: 16384,
		MemoryFreeMiB: 8192, DiskGiB: 100, DiskFreeGiB: 80, Arch: "x86_64", HypervisorType: "QEMU", HypervisorVersion: "8.2.2",
		Zone: "nova", Instances: 2, AgentVersion: "0.1.0"}, Time: at})
	c.set(func(c *fakeCluster) {
		c.members = []Member{
			{Name: "node1", Address: "10.0.0.1:7946", Status: "alive", Role: "leader", Inventory: fsm.Inventory{
				VCPUs: 8, VCPUsFree: 6, MemoryMiB: 16384, MemoryFreeMiB: 8192, DiskGiB: 100, DiskFreeGiB: 80, Arch: "x86_64",
				HypervisorType: "QEMU", HypervisorVersion: "8.2.2", Zone: "nova", Instances: 2, AgentVersion: "0.1.0"}},
			{Name: "node2", Address: "10.0.0.2:7946", Status: "dead", Role: "none"},
		}
	})
	for _, tc := range []struct{ path, want string }{
		{"/v1/hosts", `{"hosts":[{"name":"node1","gossip_address":"10.0.0.1:7946","raft_address":"10.0.0.1:7947",` +
			`"http_address":"10.0.0.1:8774","enabled":true,"vcpus":8,"memory_mib":16384,"disk_gib":100,"arch":"x86_64",` +
			`"hypervisor_type":"QEMU","hypervisor_version":"8.2.2","zone":"nova","created":"2026-03-01T12:00:00Z",` +
			`"updated":"2026-03-01T12:00:00Z","create_index":3,"modify_index":4,"state":"up","status":"enabled"}]}`},
		{"/v1/cluster/members", `{"members":[{"name":"node1","address":"10.0.0.1:7946","status":"alive","role":"leader",` +
			`"fenced":false,"inventory":{"vcpus":8,"vcpus_free":6,"memory_mib":16384,"memory_free_mib":8192,"disk_gib":100,` +
			`"disk_free_gib":80,"arch":"x86_64","hypervisor_type":"QEMU","hypervisor_version":"8.2.2","zone":"nova",` +
			`"instances":2,"agent_version":"0.1.0"}},{"name":"node2","address":"10.0.0.2:7946","status":"dead","role":"none",` +
			`"fenced":false,"inventory":{"vcpus":0,"vcpus_free":0,"memory_mib":0,"memory_free_mib":0,"disk_gib":0,` +
			`"disk_free_gib":0,"arch":"","hypervisor_type":"","hypervisor_version":"","zone":"","instances":0,"agent_version":""}}]}`},
		{"/v1/hypervisors", `{"hypervisors":[{"name":"node1","state":"up","status":"enabled","hypervisor_type":"QEMU",` +
			`"hypervisor_version":"8.2.2","arch":"x86_64","zone":"nova","host_ip":"10.0.0.1:8774","vcpus":8,"vcpus_used":0,` +
			`"memory_mib":16384,"memory_mib_used":0,"free_ram_mib":16384,"disk_gib":100,"disk_gib_used":0,"free_disk_gib":100,` +
			`"running_vms":0}]}`},
	} {
		resp, body := call(t, ts, "GET", tc.path, "")
		if got := string(body); resp.StatusCode != 200 || got != tc.want+"\n" {
			t.Errorf("GET %s = %d\n%s\nwant\n%s", tc.path, resp.StatusCode, got, tc.want)
		}
	}
}
