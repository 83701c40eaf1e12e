//go:build e2e && libvirt

package main

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/nftables"
	"libvirt.org/go/libvirtxml"

	"github.com/shoal-project/shoal/compute/network"
	"github.com/shoal-project/shoal/compute/network/nft"
	"github.com/shoal-project/shoal/fsm"
	"github.com/shoal-project/shoal/internal/testkit"
)

// The libvirt acceptance test: one node on the real libvirtd (started by
// scripts/setup-libvirt.sh), the tiny guest image built by
// scripts/build-tiny-image.sh, a network of its own (10.77.0.0/24) so it never
// collides with a demo cluster on 10.88.0.0/16. No traffic is sent to the
// guest: its DHCP lease is read from its console log. The agent runs in this
// machine's own network namespace, and so does its network reconciler:
// cleanupNetwork leaves nothing of it behind.

func repoRoot(t *testing.T) string {
	t.Helper()
	out, err := exec.Command("git", "rev-parse", "--show-toplevel").Output()
	if err != nil {
		wd, _ := os.Getwd()
		return filepath.Join(wd, "..", "..")
	}
	return strings.TrimSpace(string(out))
}

func tinyImage(t *testing.T) string {
	t.Helper()
	root := repoRoot(t)
	path := filepath.Join(root, ".lab", "images", "shoal-tiny.qcow2")
	out, err := exec.Command(filepath.Join(root, "scripts", "build-tiny-image.sh"), path).CombinedOutput()
	if err != nil {
		t.Fatalf("building the tiny image: %v\n%s", err, out)
	}
	return path
}

func virsh(t *testing.T, args ...string) (string, error) {
	t.Helper()
	out, err := exec.Command("virsh", append([]string{"-c", "qemu:///system"}, args...)...).CombinedOutput()
	return strings.TrimSpace(string(out)), err
}

func domstate(t *testing.T, id string) string {
	out, err := virsh(t, "domstate", id)
	if err != nil {
		return "missing"
	}
	return out
}

// cleanupLibvirt removes what the node left on the shared libvirtd once it is
// gone (a failing test leaves servers behind): its domains, its storage pool
// and the test's network, the one whose gateway is gateway.
func cleanupLibvirt(t *testing.T, node, gateway string) {
	t.Cleanup(func() {
		doms, _ := virsh(t, "list", "--all", "--name")
		for _, d := range strings.Fields(doms) {
			if xml, _ := virsh(t, "dumpxml", d); strings.HasPrefix(d, "shoal-") && strings.Contains(xml, "<node>"+node+"</node>") {
				virsh(t, "destroy", d)
				virsh(t, "undefine", d, "--managed-save")
			}
		}
		pools, _ := virsh(t, "pool-list", "--all", "--name")
		for _, p := range strings.Fields(pools) {
			if strings.HasPrefix(p, "shoal-"+node+"-") {
				virsh(t, "pool-destroy", p)
				virsh(t, "pool-undefine", p)
			}
		}
		nets, _ := virsh(t, "net-list", "--all", "--name")
		for _, n := range strings.Fields(nets) {
			if xml, _ := virsh(t, "net-dumpxml", n); strings.HasPrefix(n, "shoal-") && strings.Contains(xml, "'"+gateway+"'") {
				virsh(t, "net-destroy", n)
				virsh(t, "net-undefine", n)
			}
		}
	})
}

// cleanupNetwork undoes, once the agent is gone, what its network
// reconciler did to this machine's own namespace (the agent runs in it,
// not in a lab namespace): `shoal network-reset` removes the node's
// nftables tables, its recorded floating IPs and the routes of protocol
// 250, and the sysctls the reconciler sets get back the values they had
// before the agent started. Register it after a.dir is set and before the
// agent starts (cleanups run last first: the agent is killed before, its
// data dir removed after).
func cleanupNetwork(t *testing.T, a *agent) {
	t.Helper()
	sysctls := map[string]string{}
	for _, name := range []string{"net/ipv4/ip_forward", network.BridgeFilterSysctl} {
		if b, err := os.ReadFile(filepath.Join(network.DefaultProcSys, name)); err == nil {
			sysctls[name] = strings.TrimSpace(string(b))
		}
	}
	t.Cleanup(func() {
		if out, err := exec.Command(shoalBin, "network-reset", "--name", a.name, "--data-dir", a.dir, "--routes").CombinedOutput(); err != nil {
			t.Errorf("shoal network-reset: %v\n%s", err, out)
		}
		if nftTables(t, nft.TableFor(a.name)) != 0 {
			t.Errorf("%s's nftables tables are still there after network-reset", a.name)
		}
		for name, was := range sysctls {
			path := filepath.Join(network.DefaultProcSys, name)
			if b, err := os.ReadFile(path); err == nil && strings.TrimSpace(string(b)) != was {
				if err := os.WriteFile(path, []byte(was+"\n"), 0o644); err != nil {
					t.Errorf("restoring %s to %s: %v", name, was, err)
				}
			}
		}
	})
}

// nftTables counts this namespace's nftables tables named name (any family).
func nftTables(t *testing.T, name string) int {
	t.Helper()
	c, err := nftables.New()
	if err != nil {
		t.Fatalf("nftables: %v", err)
	}
	ts, err := c.ListTables()
	if err != nil {
		t.Fatalf("nftables: %v", err)
	}
	n := 0
	for _, tb := range ts {
		if tb.Name == name {
			n++
		}
	}
	return n
}

func TestLibvirtAcceptance(t *testing.T) {
	image := tinyImage(t)
	a := newAgent(t, "lv1")
	// QEMU runs as libvirt-qemu and must traverse every directory above the
	// instance disks.
	a.dir = filepath.Join(testkit.SharedDir(t, "shoal-e2e-libvirt-", 0o711), "data")
	cleanupLibvirt(t, "lv1", "10.77.0.1")
	cleanupNetwork(t, a)
	// Every server gets a config drive, as on a Nova host with
	// force_config_drive: the whole path from the replica to QEMU runs.
	a.start(t, "--bootstrap", "--driver", "libvirt", "--network-cidr", "10.77.0.0/24", "--force-config-drive")
	testkit.WaitEvery(t, cliPoll, 30*time.Second, "the node to lead", func() bool { return leaderOf(members(t, a)) == "lv1" })
	testkit.WaitEvery(t, cliPoll, 30*time.Second, "host capacity in Raft", func() bool { return statsVCPUs(t, a) > 0 })
	mustRun(t, a, "image", "create", "tiny", "--file", image, "--disk-format", "qcow2")

	// A server whose name needs escaping everywhere boots.
	name := `<x>&'"`
	start := time.Now()
	vm := create(t, a, name, "--flavor", "m1.tiny")
	s := waitStatus(t, a, vm.ID, "ACTIVE")
	t.Logf("ACTIVE %v after POST", time.Since(start).Round(time.Millisecond))
	if s.Name != name {
		t.Fatalf("server name came back as %q", s.Name)
	}
	if got := domstate(t, vm.ID); got != "running" {
		t.Fatalf("virsh domstate %s = %q, want running", vm.ID, got)
	}
	list, _ := virsh(t, "list", "--uuid")
	if !strings.Contains(list, vm.ID) {
		t.Fatalf("virsh list --uuid lacks %s:\n%s", vm.ID, list)
	}

	// The guest boots and gets exactly its fixed IP over DHCP.
	ip := s.ip()
	dhcp := regexp.MustCompile(`shoal-tiny: dhcp address (\S+)`)
	var last string
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("last console output:\n%s\nagent log:\n%s", last, a.log)
		}
	})
	took := testkit.WaitEvery(t, cliPoll, 120*time.Second, "boot done and a DHCP lease in the console log", func() bool {
		out, err := run(t, a, "server", "console-log", vm.ID, "--lines", "200")
		last = out
		m := dhcp.FindStringSubmatch(out)
		return err == nil && strings.Contains(out, "shoal-tiny: boot done") && m != nil
	})
	out := mustRun(t, a, "server", "console-log", vm.ID)
	if m := dhcp.FindStringSubmatch(out); m == nil || m[1] != ip {
		t.Fatalf("guest DHCP address %v, want the fixed IP %s; console:\n%s", m, ip, out)
	}
	t.Logf("guest booted and leased %s within %v", ip, took.Round(time.Second))
	// The guest's kernel logs the SMBIOS system it reads (the same fields as
	// /sys/class/dmi/id/): OpenStack Nova, what cloud-init looks for.
	if !strings.Contains(out, "DMI: OpenStack Foundation OpenStack Nova,") {
		t.Errorf("the guest's kernel does not see an OpenStack Nova machine (no \"DMI: OpenStack Foundation OpenStack Nova\" line); console:\n%s", out)
	}
	// Its node's network reconciler filters it (in this machine's own
	// namespace: cleanupNetwork takes that away again).
	testkit.WaitEvery(t, cliPoll, 30*time.Second, "the node's nftables tables", func() bool {
		return nftTables(t, nft.TableFor(a.name)) == 2
	})

	for _, step := range []struct {
		args        []string
		status, dom string
	}{
		{[]string{"stop"}, "SHUTOFF", "shut off"},
		{[]string{"start"}, "ACTIVE", "running"},
		{[]string{"pause"}, "PAUSED", "paused"},
		{[]string{"unpause"}, "ACTIVE", "running"},
		{[]string{"suspend"}, "SUSPENDED", "shut off"},
		{[]string{"resume"}, "ACTIVE", "running"},
		{[]string{"reboot", "--hard"}, "ACTIVE", "running"},
	} {
		mustRun(t, a, append(append([]string{"server"}, step.args...), vm.ID)...)
		waitStatus(t, a, vm.ID, step.status)
		if got := domstate(t, vm.ID); got != step.dom {
			t.Fatalf("after %v: virsh domstate = %q, want %q", step.args, got, step.dom)
		}
	}

	disk := filepath.Join(a.dir, "instances", vm.ID+".qcow2")
	if _, err := os.Stat(disk); err != nil {
		t.Fatalf("instance disk: %v", err)
	}
	drive := configDriveOf(t, vm.ID)
	if want := filepath.Join(a.dir, "config-drive", vm.ID+".iso"); drive != want {
		t.Fatalf("config drive attached from %q, want %s", drive, want)
	}
	if st, err := os.Stat(drive); err != nil || st.Size() == 0 {
		t.Fatalf("config drive file: %v", err)
	}
	mustRun(t, a, "server", "delete", vm.ID, "--wait")
	if got := domstate(t, vm.ID); got != "missing" {
		t.Fatalf("after delete virsh domstate = %q", got)
	}
	for _, path := range []string{disk, drive} {
		if _, err := os.Stat(path); !os.IsNotExist(err) {
			t.Fatalf("%s still there after delete: %v", path, err)
		}
	}

	// A qcow2 naming a backing file could expose host files: refused.
	evil := filepath.Join(t.TempDir(), "evil.qcow2")
	if out, err := exec.Command("qemu-img", "create", "-f", "qcow2", "-F", "raw", "-b", "/etc/hostname", evil).CombinedOutput(); err != nil {
		t.Fatalf("qemu-img: %v\n%s", err, out)
	}
	out, err := run(t, a, "image", "create", "evil", "--file", evil, "--disk-format", "qcow2")
	if err == nil || !strings.Contains(out, "400") {
		t.Fatalf("backing-file qcow2 upload: err=%v, output:\n%s", err, out)
	}

	// The benchmark: POST → domain running, image already cached. With the
	// tiny guest, earlier guests still boot under TCG on the same two cores;
	// a blank disk (no OS to boot) measures shoal and libvirt alone.
	t.Log("tiny guest: " + runBench(t, a, "tiny", 20))
	blank := filepath.Join(t.TempDir(), "blank.qcow2")
	if out, err := exec.Command("qemu-img", "create", "-f", "qcow2", blank, "64M").CombinedOutput(); err != nil {
		t.Fatalf("qemu-img: %v\n%s", err, out)
	}
	mustRun(t, a, "image", "create", "blank", "--file", blank, "--disk-format", "qcow2")
	t.Log("blank disk: " + runBench(t, a, "blank", 20))
}

// configDriveOf is the file of the read-only cdrom libvirt has attached to
// the server's domain; the test fails when there is none.
func configDriveOf(t *testing.T, id string) string {
	t.Helper()
	doc, err := virsh(t, "dumpxml", id)
	if err != nil {
		t.Fatalf("virsh dumpxml %s: %v: %s", id, err, doc)
	}
	var def libvirtxml.Domain
	if err := def.Unmarshal(doc); err != nil {
		t.Fatal(err)
	}
	for _, disk := range def.Devices.Disks {
		if disk.Device == "cdrom" && disk.ReadOnly != nil && disk.Source != nil && disk.Source.File != nil {
			return disk.Source.File.File
		}
	}
	t.Fatalf("domain %s has no read-only cdrom (config drive):\n%s", id, doc)
	return ""
}

// runBench runs `shoal bench boot` with m1.tiny servers of image and
// returns its figures. It boots want servers, or fewer when the node reports
// less room (the bench keeps every server until it ends). Each boot may
// take long on a loaded machine (TCG guests share its cores), so the bench
// is bounded by its own per-server timeout (2 min), not run's.
func runBench(t *testing.T, a *agent, image string, want int) string {
	t.Helper()
	liftAdminQuota(t, a)
	n := benchCount(t, a, want)
	ctx, cancel := context.WithTimeout(context.Background(), time.Duration(n+1)*2*time.Minute)
	defer cancel()
	args := []string{"bench", "boot", "--count", strconv.Itoa(n), "--image", image, "--flavor", "m1.tiny"}
	start := time.Now()
	out, err := cliCommand(ctx, a, a.credentials(t), args...).CombinedOutput()
	if err != nil {
		t.Fatalf("shoal %s: %v after %v\n%s", strings.Join(args, " "), err, time.Since(start).Round(time.Second), out)
	}
	return strings.TrimSpace(string(out))
}

// benchCount is how many m1.tiny servers the benchmark can boot: want, or
// fewer when the node reports less room. The agent runs with the default
// allocation ratios. A node with no room at all fails the test: that is a
// host reporting nothing, not a small machine.
func benchCount(t *testing.T, a *agent, want int) int {
	t.Helper()
	h, ok := hypervisorOf(t, a, a.name)
	if !ok {
		t.Fatalf("hypervisor show %s failed", a.name)
	}
	var f struct {
		Flavor fsm.Flavor `json:"flavor"`
	}
	if out := mustRun(t, a, "flavor", "show", "m1.tiny", "-o", "json"); json.Unmarshal([]byte(out), &f) != nil {
		t.Fatalf("flavor show m1.tiny -o json:\n%s", out)
	}
	n := fitting(h, f.Flavor, fsm.DefaultRatios, want)
	t.Logf("bench sized to %d of %d m1.tiny servers: %s offers %d vCPUs (%d used), %d MiB RAM (%d used), %d GiB disk (%d used) at ratios %+v",
		n, want, h.Name, h.VCPUs, h.VCPUsUsed, h.MemoryMiB, h.MemoryMiBUsed, h.DiskGiB, h.DiskGiBUsed, fsm.DefaultRatios)
	if n < 1 {
		t.Fatalf("%s has room for no m1.tiny server: %+v", h.Name, h)
	}
	return n
}
