//go:build libvirt

package libvirt

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/bits"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	golibvirt "github.com/digitalocean/go-libvirt"
	"github.com/google/uuid"
	"libvirt.org/go/libvirtxml"

	"github.com/shoal-project/shoal/compute"
	"github.com/shoal-project/shoal/fsm"
)

const testImage = "img-blank"

// env is one test's corner of the real libvirtd: its own node name, data
// dir, storage pools, network (a random unused /24 in 10.128.0.0/9, far
// from the demo's 10.88.0.0/16) and bridge, all with a unique suffix and all removed
// at cleanup, with every domain stamped with its node.
type env struct {
	t       *testing.T
	l       *golibvirt.Libvirt // a connection of the test's own, for checks
	suffix  string
	dataDir string
	network fsm.NetworkInfo
	bridge  string
	images  *testImages
	nodes   []string // nodes whose domains and pools cleanup removes
}

func newEnv(t *testing.T) *env {
	t.Helper()
	suffix := fmt.Sprintf("%08x", rand.Uint32())
	dataDir, err := os.MkdirTemp("", "shoal-libvirt-"+suffix+"-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dataDir) })
	// QEMU runs as libvirt-qemu: it must reach the base image.
	if err := os.Chmod(dataDir, 0o755); err != nil {
		t.Fatal(err)
	}
	second, third := freeSubnet(t)
	e := &env{
		t: t, l: connect(t), suffix: suffix, dataDir: dataDir, bridge: "shoalt" + suffix,
		network: fsm.NetworkInfo{Name: "t" + suffix, CIDR: fmt.Sprintf("10.%d.%d.0/24", second, third),
			Gateway: fmt.Sprintf("10.%d.%d.1", second, third)},
	}
	t.Cleanup(e.removeNetwork)
	e.images = e.blankImage()
	return e
}

// freeSubnet picks 10.second.third.0/24 in 10.128.0.0/9 that no route of
// this host overlaps (libvirt refuses to start a network on a subnet in
// use), so parallel test runs and a running demo do not collide.
func freeSubnet(t *testing.T) (second, third int) {
	t.Helper()
	routes, err := os.ReadFile("/proc/net/route")
	if err != nil {
		t.Fatal(err)
	}
	for range 100 {
		second, third = 128+rand.IntN(128), rand.IntN(256)
		candidate := uint32(10)<<24 | uint32(second)<<16 | uint32(third)<<8
		if !routed(string(routes), candidate, 0xffffff00) {
			return second, third
		}
	}
	t.Fatal("no free /24 in 10.128.0.0/9")
	return 0, 0
}

// routed reports whether any route of /proc/net/route (little-endian hex
// destination and mask) overlaps the network addr/mask.
func routed(table string, addr, mask uint32) bool {
	for line := range strings.Lines(table) {
		f := strings.Fields(line)
		if len(f) < 8 || f[0] == "Iface" {
			continue
		}
		dst, err1 := strconv.ParseUint(f[1], 16, 32)
		msk, err2 := strconv.ParseUint(f[7], 16, 32)
		if err1 != nil || err2 != nil || msk == 0 {
			continue // the default route overlaps everything: not a conflict
		}
		d, m := bits.ReverseBytes32(uint32(dst)), bits.ReverseBytes32(uint32(msk))
		common := m & mask
		if d&common == addr&common {
			return true
		}
	}
	return false
}

// connect opens a plain go-libvirt connection, closed at cleanup.
func connect(t *testing.T) *golibvirt.Libvirt {
	t.Helper()
	d := newTestDriver(t) // fails with the set-up hint when libvirtd is down
	l, err := d.client()
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// driver starts a Driver for node (a unique name per env), as an agent on
// that node would; several may run at once, as after an agent restart.
// Options change the test's config.
func (e *env) driver(node string, opts ...func(*Config)) *Driver {
	e.t.Helper()
	if !containsString(e.nodes, node) {
		e.nodes = append(e.nodes, node)
		e.t.Cleanup(func() { e.removeNode(node) })
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cfg := Config{
		DataDir: filepath.Join(e.dataDir, node), Node: node,
		ClusterID: func() string { return "cluster-" + e.suffix },
		Images:    e.images,
		Network:   func() (fsm.NetworkInfo, bool) { return e.network, true },
		Bridge:    e.bridge, SoftRebootTimeout: time.Second,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
	for _, o := range opts {
		o(&cfg)
	}
	d, err := New(ctx, cfg)
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() { d.Close() })
	return d
}

func (e *env) node(name string) string { return name + "-" + e.suffix }

// spec is a small instance with one address on the test network.
func (e *env) spec(name string, host byte) compute.InstanceSpec {
	id := uuid.NewString()
	prefix := strings.TrimSuffix(e.network.Gateway, ".1")
	return compute.InstanceSpec{ID: id, Name: name, VCPUs: 1, MemoryMiB: 128, DiskGiB: 1, ImageID: testImage,
		Addresses: []fsm.Address{{Network: e.network.Name, IP: fmt.Sprintf("%s.%d", prefix, host),
			MAC: fmt.Sprintf("fa:16:3e:%s:%s:%02x", e.suffix[:2], e.suffix[2:4], host)}}}
}

// testImages is an ImageCache holding one blank qcow2 image.
type testImages struct {
	mu    sync.Mutex
	path  string
	calls int
}

func (c *testImages) Path(_ context.Context, id string) (string, string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.calls++
	if id != testImage {
		return "", "", fmt.Errorf("image %s not in the test cache", id)
	}
	return c.path, "qcow2", nil
}

// blankImage makes a 64 MiB qcow2 with nothing on it, through a storage
// pool of its own (libvirt runs qemu-img, the driver never does).
func (e *env) blankImage() *testImages {
	e.t.Helper()
	dir := filepath.Join(e.dataDir, "images")
	pool := e.pool("shoal-test-images-"+e.suffix, dir)
	doc, err := (&libvirtxml.StorageVolume{Name: "blank.qcow2",
		Capacity: &libvirtxml.StorageVolumeSize{Unit: "MiB", Value: 64},
		Target:   &libvirtxml.StorageVolumeTarget{Format: &libvirtxml.StorageVolumeTargetFormat{Type: "qcow2"}},
	}).Marshal()
	if err != nil {
		e.t.Fatal(err)
	}
	vol, err := e.l.StorageVolCreateXML(pool, doc, 0)
	if err != nil {
		e.t.Fatalf("create blank image: %v", err)
	}
	e.t.Cleanup(func() { e.l.StorageVolDelete(vol, 0) })
	path, err := e.l.StorageVolGetPath(vol)
	if err != nil {
		e.t.Fatal(err)
	}
	return &testImages{path: path}
}

// pool defines and starts a dir pool removed at cleanup.
func (e *env) pool(name, dir string) golibvirt.StoragePool {
	e.t.Helper()
	doc, err := poolFor(name, dir).Marshal()
	if err != nil {
		e.t.Fatal(err)
	}
	pool, err := e.l.StoragePoolCreateXML(doc, golibvirt.StoragePoolCreateWithBuild)
	if err != nil {
		e.t.Fatalf("create pool %s: %v", name, err)
	}
	e.t.Cleanup(func() { e.l.StoragePoolDestroy(pool) })
	if err := os.Chmod(dir, 0o755); err != nil {
		e.t.Fatal(err)
	}
	return pool
}

// removeNode removes every domain, volume and the pool of node.
func (e *env) removeNode(node string) {
	doms, _, err := e.l.ConnectListAllDomains(1, 0)
	if err != nil {
		e.t.Errorf("cleanup: list domains: %v", err)
	}
	for _, dom := range doms {
		m, ok, err := metadata(e.l, dom)
		if err != nil || !ok || m.Node != node {
			continue
		}
		e.l.DomainDestroy(dom)
		if err := e.l.DomainUndefineFlags(dom, golibvirt.DomainUndefineManagedSave|golibvirt.DomainUndefineNvram); err != nil {
			e.t.Errorf("cleanup: undefine %s: %v", dom.Name, err)
		}
	}
	// The node's pool is shoal-<node>-<hash of its instances dir>.
	pools, _, err := e.l.ConnectListAllStoragePools(1, 0)
	if err != nil {
		e.t.Errorf("cleanup: list pools: %v", err)
	}
	for _, pool := range pools {
		if !strings.HasPrefix(pool.Name, domainPrefix+node+"-") {
			continue
		}
		vols, _, _ := e.l.StoragePoolListAllVolumes(pool, 1, 0)
		for _, v := range vols {
			e.l.StorageVolDelete(v, 0)
		}
		e.l.StoragePoolDestroy(pool)
		if err := e.l.StoragePoolUndefine(pool); err != nil {
			e.t.Errorf("cleanup: undefine pool %s: %v", pool.Name, err)
		}
	}
}

func (e *env) removeNetwork() {
	net, err := e.l.NetworkLookupByName(networkName(e.network))
	if err != nil {
		return
	}
	e.l.NetworkDestroy(net)
	if err := e.l.NetworkUndefine(net); err != nil {
		e.t.Errorf("cleanup: undefine network: %v", err)
	}
}

// virsh runs virsh on the system daemon, as an operator would.
func virsh(t *testing.T, args ...string) string {
	t.Helper()
	out, err := exec.Command("virsh", append([]string{"-c", "qemu:///system"}, args...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("virsh %s: %v: %s", strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(string(out))
}

func domstate(t *testing.T, id string) string {
	t.Helper()
	return virsh(t, "domstate", domainPrefix+id)
}

// dhcpHostsOf is what virsh net-dumpxml shows of the test network.
func (e *env) dhcpHostsOf() string {
	e.t.Helper()
	var hosts []string
	for line := range strings.Lines(virsh(e.t, "net-dumpxml", networkName(e.network))) {
		if strings.Contains(line, "<host ") {
			hosts = append(hosts, strings.TrimSpace(line))
		}
	}
	return strings.Join(hosts, "\n")
}

func containsString(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// timed runs fn and logs how long it took.
func timed(t *testing.T, what string, fn func() error) {
	t.Helper()
	start := time.Now()
	if err := fn(); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	t.Logf("%s took %v", what, time.Since(start).Round(time.Millisecond))
}
