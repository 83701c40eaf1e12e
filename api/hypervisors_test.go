package api

import (
	"net/http"
	"reflect"
	"testing"
)

func TestHostEnableDisable(t *testing.T) {
	c, ts := newTestServer(t)
	c.seedCompute(t)

	resp, raw := call(t, ts, "POST", "/v1/hosts/node1/disable", `{"reason":"kernel upgrade"}`)
	h := decode[HostResponse](t, raw).Host
	if resp.StatusCode != http.StatusOK || h.Name != "node1" || h.Status != "disabled" || h.State != "up" ||
		h.DisabledReason != "kernel upgrade" || h.ModifyIndex != c.FSM.Index() || indexOf(t, resp) != c.FSM.Index() {
		t.Fatalf("disable = %d %s", resp.StatusCode, raw)
	}
	// The list shows the same shape.
	_, raw = call(t, ts, "GET", "/v1/hosts", "")
	if hosts := decode[HostList](t, raw).Hosts; !reflect.DeepEqual(hosts[0], h) {
		t.Errorf("list %+v, disable answered %+v", hosts[0], h)
	}
	// No body is fine too; node2 is down as gossip sees it.
	resp, raw = call(t, ts, "POST", "/v1/hosts/node2/disable", "")
	if h := decode[HostResponse](t, raw).Host; resp.StatusCode != 200 || h.Status != "disabled" || h.State != "down" || h.DisabledReason != "" {
		t.Errorf("disable without body = %d %s", resp.StatusCode, raw)
	}
	resp, raw = call(t, ts, "POST", "/v1/hosts/node1/enable", "")
	if h := decode[HostResponse](t, raw).Host; resp.StatusCode != 200 || h.Status != "enabled" || h.DisabledReason != "" {
		t.Errorf("enable = %d %s", resp.StatusCode, raw)
	}
	resp, raw = call(t, ts, "POST", "/v1/hosts/node1/enable", "{}")
	if resp.StatusCode != 200 {
		t.Errorf("enable {} = %d %s", resp.StatusCode, raw)
	}
}

func TestHypervisors(t *testing.T) {
	c, ts := newTestServer(t)
	c.seedCompute(t)
	for _, name := range []string{"a", "b"} {
		resp, raw := call(t, ts, "POST", "/v1/servers", `{"server":{"name":"`+name+`","flavor":"m1.small","image":"cirros"}}`)
		if resp.StatusCode != 202 {
			t.Fatalf("create = %d %s", resp.StatusCode, raw)
		}
		c.place(t, decode[ServerResponse](t, raw).Server.ID, "node1", "")
	}
	call(t, ts, "POST", "/v1/hosts/node2/disable", `{"reason":"broken"}`)

	resp, raw := call(t, ts, "GET", "/v1/hypervisors", "")
	list := decode[HypervisorList](t, raw).Hypervisors
	want := []Hypervisor{
		{Name: "node1", State: "up", Status: "enabled", HypervisorType: "QEMU", HypervisorVersion: "8.2.2", Arch: "x86_64", Zone: "nova",
			HostIP: "node1:8774", VCPUs: 8, VCPUsUsed: 2, MemoryMiB: 16384, MemoryMiBUsed: 4096, FreeRAMMiB: 12288,
			DiskGiB: 100, DiskGiBUsed: 40, FreeDiskGiB: 60, RunningVMs: 2},
		{Name: "node2", State: "down", Status: "disabled", DisabledReason: "broken", HypervisorType: "QEMU", HypervisorVersion: "8.2.2",
			Arch: "x86_64", Zone: "nova", HostIP: "node2:8774", VCPUs: 8, MemoryMiB: 16384, FreeRAMMiB: 16384, DiskGiB: 100, FreeDiskGiB: 100},
	}
	if resp.StatusCode != 200 || !reflect.DeepEqual(list, want) {
		t.Errorf("list = %d\n %+v\nwant\n %+v", resp.StatusCode, list, want)
	}
	resp, raw = call(t, ts, "GET", "/v1/hypervisors/node1", "")
	if got := decode[HypervisorResponse](t, raw).Hypervisor; resp.StatusCode != 200 || !reflect.DeepEqual(got, want[0]) {
		t.Errorf("show = %d %s", resp.StatusCode, raw)
	}
	resp, raw = call(t, ts, "GET", "/v1/hypervisors/statistics", "")
	stats := decode[HypervisorStatisticsResponse](t, raw).Statistics
	wantStats := HypervisorStatistics{Count: 2, VCPUs: 16, VCPUsUsed: 2, MemoryMiB: 32768, MemoryMiBUsed: 4096, FreeRAMMiB: 28672,
		DiskGiB: 200, DiskGiBUsed: 40, FreeDiskGiB: 160, RunningVMs: 2}
	if resp.StatusCode != 200 || stats != wantStats {
		t.Errorf("statistics = %+v, want %+v", stats, wantStats)
	}
}
