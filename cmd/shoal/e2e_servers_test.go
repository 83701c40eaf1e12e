//go:build e2e

package main

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/shoal-project/shoal/api"
	"github.com/shoal-project/shoal/fsm"
	"github.com/shoal-project/shoal/internal/testkit"
)

// server is the part of the API's server shape these tests look at.
type server struct {
	ID        string `json:"id"`
	Name      string `json:"name"`
	Status    string `json:"status"`
	Host      string `json:"host"`
	Addresses []struct {
		IP  string `json:"ip"`
		MAC string `json:"mac"`
	} `json:"addresses"`
	Fault *struct {
		Message string `json:"message"`
	} `json:"fault"`
}

func (s server) ip() string {
	if len(s.Addresses) == 0 {
		return ""
	}
	return s.Addresses[0].IP
}

var fakeCapacity = []string{"--fake-vcpus", "8", "--fake-memory-mib", "16384", "--fake-disk-gib", "200"}

// startCluster brings up n1 (bootstrap), n2 and n3 (joined) with the fake driver.
func startCluster(t *testing.T) []*agent {
	n1, n2, n3 := newAgent(t, "n1"), newAgent(t, "n2"), newAgent(t, "n3")
	n1.start(t, append([]string{"--bootstrap"}, fakeCapacity...)...)
	n2.start(t, append([]string{"--join", n1.gossipAddr()}, fakeCapacity...)...)
	n3.start(t, append([]string{"--join", n1.gossipAddr()}, fakeCapacity...)...)
	all := []*agent{n1, n2, n3}
	for _, a := range all {
		testkit.WaitEvery(t, cliPoll, 30*time.Second, "a healthy 3-node view on "+a.name, func() bool { return healthy(members(t, a)) })
	}
	// Capacity reaches Raft through the leader's reconcile loop.
	testkit.WaitEvery(t, cliPoll, 30*time.Second, "hypervisor capacity on every host", func() bool { return statsVCPUs(t, n1) == 24 })
	// The fake driver boots nothing, but a server needs an active image: upload a blank qcow2.
	mustRun(t, n1, "image", "create", "tiny", "--disk-format", "qcow2", "--file", writeFile(t, "tiny.qcow2", qcow2Image(64<<10, false)))
	return all
}

// liftAdminQuota makes the admin project's instance, core and RAM quotas
// unlimited, for tests that size their servers to the hosts rather than to
// Nova's default quota (10 instances).
func liftAdminQuota(t *testing.T, a *agent) {
	t.Helper()
	mustRun(t, a, "quota", "set", "admin", "--instances", "-1", "--cores", "-1", "--ram", "-1")
}

func mustRun(t *testing.T, a *agent, args ...string) string {
	t.Helper()
	out, err := run(t, a, args...)
	if err != nil {
		t.Fatalf("shoal %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

func servers(t *testing.T, a *agent) []server {
	t.Helper()
	out := mustRun(t, a, "server", "list", "-o", "json")
	var list struct {
		Servers []server `json:"servers"`
	}
	if err := json.Unmarshal([]byte(out), &list); err != nil {
		t.Fatalf("server list -o json: %v\n%s", err, out)
	}
	return list.Servers
}

func create(t *testing.T, a *agent, name string, extra ...string) server {
	t.Helper()
	out := mustRun(t, a, append([]string{"server", "create", name, "--image", "tiny", "-o", "json"}, extra...)...)
	var resp struct {
		Server server `json:"server"`
	}
	if err := json.Unmarshal([]byte(out), &resp); err != nil || resp.Server.ID == "" {
		t.Fatalf("server create -o json: %v\n%s", err, out)
	}
	return resp.Server
}

func show(t *testing.T, a *agent, id string) (server, bool) {
	t.Helper()
	out, err := run(t, a, "server", "show", id, "-o", "json")
	if err != nil {
		return server{}, false
	}
	var resp struct {
		Server server `json:"server"`
	}
	if err := json.Unmarshal([]byte(out), &resp); err != nil {
		t.Fatalf("server show -o json: %v\n%s", err, out)
	}
	return resp.Server, true
}

func waitStatus(t *testing.T, a *agent, id, status string) server {
	t.Helper()
	var s server
	testkit.WaitEvery(t, cliPoll, 60*time.Second, id+" to be "+status, func() bool {
		s, _ = show(t, a, id)
		return s.Status == status
	})
	return s
}

func TestServersAcceptance(t *testing.T) {
	nodes := startCluster(t)
	network := netip.MustParsePrefix("10.88.0.0/16")

	// 12 m1.small servers through different nodes: all ACTIVE, spread, distinct IPs.
	liftAdminQuota(t, nodes[0])
	start := time.Now()
	var ids []string
	for i := 0; i < 12; i++ {
		ids = append(ids, create(t, nodes[i%3], fmt.Sprintf("web%02d", i), "--flavor", "m1.small").ID)
	}
	perHost, ips := map[string]int{}, map[string]bool{}
	for _, id := range ids {
		s := waitStatus(t, nodes[0], id, "ACTIVE")
		perHost[s.Host]++
		ip, err := netip.ParseAddr(s.ip())
		if err != nil || !network.Contains(ip) || ips[s.ip()] {
			t.Fatalf("%s has IP %q: want a distinct address in %s", s.Name, s.ip(), network)
		}
		ips[s.ip()] = true
	}
	t.Logf("12 servers ACTIVE %v after the first create; per host %v", time.Since(start), perHost)
	if len(perHost) != 3 {
		t.Fatalf("servers landed on %d hosts, want all 3: %v", len(perHost), perHost)
	}

	// Bigger than any host: ERROR, No valid host.
	mustRun(t, nodes[1], "flavor", "create", "huge", "--vcpus", "4", "--ram", "65536", "--disk", "10")
	huge := create(t, nodes[1], "huge1", "--flavor", "huge")
	s := waitStatus(t, nodes[2], huge.ID, "ERROR")
	if s.Fault == nil || !strings.HasPrefix(s.Fault.Message, "No valid host was found") {
		t.Fatalf("oversized server fault = %+v, want it to start with No valid host was found", s.Fault)
	}

	// Anti-affinity: 3 members on 3 hosts, the 4th fails.
	mustRun(t, nodes[0], "server-group", "create", "spread", "--policy", "anti-affinity")
	hosts := map[string]bool{}
	for i := 0; i < 3; i++ {
		m := create(t, nodes[i], fmt.Sprintf("aa%d", i), "--flavor", "m1.tiny", "--server-group", "spread")
		hosts[waitStatus(t, nodes[0], m.ID, "ACTIVE").Host] = true
	}
	if len(hosts) != 3 {
		t.Fatalf("anti-affinity members on %d hosts, want 3", len(hosts))
	}
	fourth := create(t, nodes[0], "aa3", "--flavor", "m1.tiny", "--server-group", "spread")
	if s := waitStatus(t, nodes[0], fourth.ID, "ERROR"); s.Fault == nil || !strings.HasPrefix(s.Fault.Message, "No valid host was found") {
		t.Fatalf("4th anti-affinity member fault = %+v", s.Fault)
	}

	// Clean up some room, then disable n2: nothing new lands there.
	for _, id := range ids[:9] {
		mustRun(t, nodes[0], "server", "delete", id, "--wait")
	}
	mustRun(t, nodes[0], "host", "disable", "n2", "--reason", "maintenance")
	for i := 0; i < 6; i++ {
		s := waitStatus(t, nodes[0], create(t, nodes[i%3], fmt.Sprintf("after-disable%d", i), "--flavor", "m1.tiny").ID, "ACTIVE")
		if s.Host == "n2" {
			t.Fatalf("%s landed on disabled host n2", s.Name)
		}
	}
	mustRun(t, nodes[0], "host", "enable", "n2")

	t.Run("lifecycle", func(t *testing.T) { lifecycle(t, nodes) })
	t.Run("restart adopts", func(t *testing.T) { restartAdopts(t, nodes) })
}

func lifecycle(t *testing.T, nodes []*agent) {
	a := nodes[1]
	vm := create(t, a, "life", "--flavor", "m1.tiny")
	waitStatus(t, a, vm.ID, "ACTIVE")
	for _, step := range []struct {
		args []string
		want string
	}{
		{[]string{"stop"}, "SHUTOFF"},
		{[]string{"start"}, "ACTIVE"},
		{[]string{"pause"}, "PAUSED"},
		{[]string{"unpause"}, "ACTIVE"},
		{[]string{"reboot", "--hard"}, "ACTIVE"},
		{[]string{"suspend"}, "SUSPENDED"},
		{[]string{"resume"}, "ACTIVE"},
		{[]string{"stop"}, "SHUTOFF"},
	} {
		mustRun(t, a, append(append([]string{"server"}, step.args...), vm.ID)...)
		waitStatus(t, nodes[0], vm.ID, step.want)
	}
	out, err := run(t, a, "server", "pause", vm.ID)
	if err == nil || !strings.Contains(out, "409") || !strings.Contains(out, "SHUTOFF") {
		t.Fatalf("pause of a SHUTOFF server: err=%v, output %s; want a 409 that says why", err, out)
	}
	got, _ := show(t, a, vm.ID)
	ip := got.ip()
	mustRun(t, a, "server", "delete", vm.ID, "--wait")
	if _, ok := show(t, a, vm.ID); ok {
		t.Fatal("deleted server still shown")
	}
	// Lowest-free allocation: the freed address is handed out again.
	again := create(t, nodes[2], "reuse", "--flavor", "m1.tiny")
	if again.ip() != ip {
		t.Fatalf("new server got %s; want the freed %s reused", again.ip(), ip)
	}
}

// fakeDomain is the fake hypervisor's on-disk record of a domain.
type fakeDomain struct {
	ID      string `json:"id"`
	Defines int    `json:"defines"`
}

func fakeDomains(t *testing.T, a *agent) map[string]fakeDomain {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(a.dir, "fake-hypervisor.json"))
	if err != nil {
		t.Fatalf("fake hypervisor state of %s: %v", a.name, err)
	}
	var state struct {
		Domains []fakeDomain `json:"domains"`
	}
	if err := json.Unmarshal(b, &state); err != nil {
		t.Fatalf("fake hypervisor state of %s: %v\n%s", a.name, err, b)
	}
	out := map[string]fakeDomain{}
	for _, d := range state.Domains {
		out[d.ID] = d
	}
	return out
}

func restartAdopts(t *testing.T, nodes []*agent) {
	a := nodes[2]
	before := fakeDomains(t, a)
	if len(before) == 0 {
		t.Fatalf("%s runs no domains; the test needs some", a.name)
	}
	a.kill()
	a.start(t, fakeCapacity...)
	testkit.WaitEvery(t, cliPoll, 30*time.Second, a.name+" back", func() bool { return healthy(members(t, a)) })
	time.Sleep(3 * time.Second) // let its reconciler run a few passes (nothing to wait for: it must do nothing)
	after := fakeDomains(t, a)
	if len(after) != len(before) {
		t.Fatalf("%s had %d domains before restart and %d after; its log:\n%s", a.name, len(before), len(after), a.log)
	}
	for id, d := range after {
		if d.Defines != 1 {
			t.Fatalf("domain %s defined %d times; a restart must adopt, not recreate", id, d.Defines)
		}
	}
	for _, s := range servers(t, nodes[0]) {
		if s.Host == a.name && s.Status != "ACTIVE" && s.Status != "SHUTOFF" {
			t.Fatalf("after restart %s is %s", s.Name, s.Status)
		}
	}
}

// hypervisorOf is host name as a's API shows it: what the host reports
// (less its reservations) against what is claimed on it.
func hypervisorOf(t *testing.T, a *agent, name string) (api.Hypervisor, bool) {
	t.Helper()
	out, err := run(t, a, "hypervisor", "show", name, "-o", "json")
	var resp api.HypervisorResponse
	if err != nil || json.Unmarshal([]byte(out), &resp) != nil {
		return api.Hypervisor{}, false
	}
	return resp.Hypervisor, true
}

// fitting is how many more servers of flavor f, up to want, host h can take
// at ratios r, counted with fsm.Fit: the rule the scheduler and the plan
// applier judge by, here only to size a test's work to the machine.
func fitting(h api.Hypervisor, f fsm.Flavor, r fsm.Ratios, want int) int {
	capacity := fsm.Resources{VCPUs: h.VCPUs, MemoryMiB: h.MemoryMiB, DiskGiB: h.DiskGiB}
	claimed := fsm.Resources{VCPUs: h.VCPUsUsed, MemoryMiB: h.MemoryMiBUsed, DiskGiB: h.DiskGiBUsed}
	request := fsm.Resources{VCPUs: f.VCPUs, MemoryMiB: f.RAM, DiskGiB: f.Disk}
	n := 0
	for ; n < want; n++ {
		if _, ok := fsm.Fit(capacity, claimed, request, r); !ok {
			break
		}
		claimed.VCPUs += request.VCPUs
		claimed.MemoryMiB += request.MemoryMiB
		claimed.DiskGiB += request.DiskGiB
	}
	return n
}

func TestFitting(t *testing.T) {
	tiny := fsm.Flavor{Name: "m1.tiny", VCPUs: 1, RAM: 512, Disk: 1}
	for _, tc := range []struct {
		name string
		h    api.Hypervisor
		want int
	}{
		// NodeGetInfo's one NUMA cell (6.1 GiB) less 512 MiB reserved, × 1.5.
		{"one NUMA cell", api.Hypervisor{VCPUs: 2, MemoryMiB: 5734, DiskGiB: 251}, 16},
		{"the whole host", api.Hypervisor{VCPUs: 2, MemoryMiB: 23593, DiskGiB: 251}, 32},
		{"claims count", api.Hypervisor{VCPUs: 2, VCPUsUsed: 30, MemoryMiB: 23593, MemoryMiBUsed: 15360, DiskGiB: 251}, 2},
		{"small disk", api.Hypervisor{VCPUs: 8, MemoryMiB: 65536, DiskGiB: 5, DiskGiBUsed: 2}, 3},
		{"overcommitted already", api.Hypervisor{VCPUs: 1, VCPUsUsed: 20, MemoryMiB: 1024, DiskGiB: 10}, 0},
		{"no inventory yet", api.Hypervisor{}, 0},
		{"more room than wanted", api.Hypervisor{VCPUs: 64, MemoryMiB: 1 << 20, DiskGiB: 1 << 10}, 100},
	} {
		if got := fitting(tc.h, tiny, fsm.DefaultRatios, 100); got != tc.want {
			t.Errorf("%s: fitting(%+v) = %d, want %d", tc.name, tc.h, got, tc.want)
		}
	}
}

// The agent keeps what --reserved-host-memory-mib and --reserved-host-cpus
// (or their SHOAL_ variables) say for the host: the hypervisor shows the
// fake's capacity less them. Negative reservations stop the agent at once.
func TestAgentReservedCapacity(t *testing.T) {
	a := newAgent(t, "r1")
	t.Setenv("SHOAL_RESERVED_HOST_CPUS", "2")
	a.start(t, append([]string{"--bootstrap", "--reserved-host-memory-mib", "2048"}, fakeCapacity...)...)
	var h api.Hypervisor
	testkit.WaitEvery(t, cliPoll, 30*time.Second, "r1's capacity less its reservations in Raft", func() bool {
		h, _ = hypervisorOf(t, a, "r1")
		return h.VCPUs == 6 && h.MemoryMiB == 16384-2048 && h.DiskGiB == 200
	})
	t.Logf("fake host of 8 vCPUs, 16384 MiB reserving 2 vCPUs, 2048 MiB: offers %d vCPUs, %d MiB", h.VCPUs, h.MemoryMiB)

	for _, flag := range []string{"--reserved-host-memory-mib", "--reserved-host-cpus"} {
		out, err := exec.Command(shoalBin, "agent", "--name", "bad", "--data-dir", t.TempDir(), "--driver", "fake",
			flag, "-1").CombinedOutput()
		if err == nil || !strings.Contains(string(out), "must be 0 or more") {
			t.Errorf("agent %s -1: err=%v, output:\n%s\nwant it refused, saying why", flag, err, out)
		}
	}
}
