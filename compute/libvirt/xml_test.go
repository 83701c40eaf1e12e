package libvirt

import (
	"flag"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"libvirt.org/go/libvirtxml"

	"github.com/shoal-project/shoal/compute"
	"github.com/shoal-project/shoal/fsm"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -run %s -update to create it)", err, t.Name())
	}
	if got != string(want) {
		t.Errorf("%s differs from the golden file (go test -update rewrites it):\n--- got\n%s\n--- want\n%s", path, got, want)
	}
}

var testOpts = domainOpts{
	DomainType: "qemu",
	Node:       "node1",
	ClusterID:  "c0ffee00-0000-4000-8000-000000000001",
	DiskPath:   "/var/lib/shoal/instances/6a0f3c1e-1111-4000-8000-000000000001.qcow2",
	Network:    "shoal-default",
	ConsoleLog: "/var/lib/shoal/console/6a0f3c1e-1111-4000-8000-000000000001.log",
}

func testSpec(name string) compute.InstanceSpec {
	return compute.InstanceSpec{
		ID: "6a0f3c1e-1111-4000-8000-000000000001", Name: name,
		VCPUs: 2, MemoryMiB: 512, DiskGiB: 1, ImageID: "img-cirros",
		Addresses: []fsm.Address{{Network: "default", IP: "10.88.0.5", MAC: "fa:16:3e:01:02:03"}},
	}
}

func TestDomainXMLGolden(t *testing.T) {
	for _, tc := range []struct{ file, name string }{
		{"domain.xml", "web-1"},
		{"domain-escaped-name.xml", `<x>&'"`},
	} {
		t.Run(tc.file, func(t *testing.T) {
			doc, err := domainFor(testSpec(tc.name), testOpts).Marshal()
			if err != nil {
				t.Fatal(err)
			}
			golden(t, tc.file, doc+"\n")

			var back libvirtxml.Domain
			if err := back.Unmarshal(doc); err != nil {
				t.Fatal(err)
			}
			if back.Title != tc.name {
				t.Errorf("title round-trips as %q, want %q", back.Title, tc.name)
			}
			m, err := parseMetadata(back.Metadata.XML)
			if err != nil {
				t.Fatal(err)
			}
			want := instanceMetadata{UUID: testSpec("").ID, Node: "node1", Cluster: testOpts.ClusterID, Name: tc.name}
			m.XMLName = want.XMLName
			if m != want {
				t.Errorf("metadata round-trips as %+v, want %+v", m, want)
			}
		})
	}
}

// User input is escaped, never interpreted: no element or attribute comes
// from the name.
func TestDomainXMLEscapesName(t *testing.T) {
	doc, err := domainFor(testSpec(`<x>&'"`), testOpts).Marshal()
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"<title>&lt;x&gt;&amp;&#39;&#34;</title>", "<name>&lt;x&gt;&amp;&#39;&#34;</name>"} {
		if !strings.Contains(doc, want) {
			t.Errorf("domain XML lacks %s:\n%s", want, doc)
		}
	}
	if strings.Contains(doc, "<x>") {
		t.Errorf("the name leaked unescaped:\n%s", doc)
	}
}

// Every domain tells its guest, through SMBIOS, that it runs on OpenStack
// Nova, with the server's UUID as serial: what cloud-init checks.
func TestDomainXMLSysinfo(t *testing.T) {
	spec := testSpec("web-1")
	d := domainFor(spec, testOpts)
	if d.OS.SMBios == nil || d.OS.SMBios.Mode != "sysinfo" {
		t.Errorf("os smbios = %+v, want mode sysinfo", d.OS.SMBios)
	}
	if len(d.SysInfo) != 1 || d.SysInfo[0].SMBIOS == nil || d.SysInfo[0].SMBIOS.System == nil {
		t.Fatalf("sysinfo = %+v, want one SMBIOS block with a system", d.SysInfo)
	}
	got := map[string]string{}
	for _, e := range d.SysInfo[0].SMBIOS.System.Entry {
		got[e.Name] = e.Value
	}
	want := map[string]string{"manufacturer": "OpenStack Foundation", "product": "OpenStack Nova",
		"serial": spec.ID, "uuid": spec.ID, "family": "Virtual Machine"}
	if len(got) != len(want) {
		t.Errorf("sysinfo system entries = %v, want %v", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("sysinfo %s = %q, want %q", k, got[k], v)
		}
	}
}

// A config drive is a read-only raw cdrom on the bus the machine type has,
// never booted from; without one the domain has its disk only.
func TestDomainXMLConfigDrive(t *testing.T) {
	opts := testOpts
	opts.ConfigDrive = "/var/lib/shoal/config-drive/6a0f3c1e-1111-4000-8000-000000000001.iso"
	opts.CDROMBus = cdromBus("pc-i440fx-7.2")
	doc, err := domainFor(testSpec("web-1"), opts).Marshal()
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "domain-config-drive.xml", doc+"\n")

	for _, tc := range []struct{ machine, bus, dev string }{
		{"pc-i440fx-7.2", "ide", "hdd"},
		{"pc", "ide", "hdd"},
		{"", "ide", "hdd"},
		{"pc-q35-7.2", "sata", "sda"},
		{"q35", "sata", "sda"},
	} {
		opts.CDROMBus = cdromBus(tc.machine)
		disks := domainFor(testSpec("web-1"), opts).Devices.Disks
		if len(disks) != 2 {
			t.Fatalf("%s: %d disks, want the root disk and the config drive", tc.machine, len(disks))
		}
		cd := disks[1]
		if cd.Device != "cdrom" || cd.ReadOnly == nil || cd.Driver.Type != "raw" || cd.Source.File.File != opts.ConfigDrive ||
			cd.Target.Bus != tc.bus || cd.Target.Dev != tc.dev || cd.Boot != nil {
			t.Errorf("machine %q: config drive %+v (target %+v), want a read-only raw cdrom %s on %s",
				tc.machine, cd, cd.Target, tc.dev, tc.bus)
		}
	}
	if disks := domainFor(testSpec("web-1"), testOpts).Devices.Disks; len(disks) != 1 {
		t.Errorf("without a config drive: %d disks, want 1", len(disks))
	}
}

func TestTitleIsOneLine(t *testing.T) {
	if got := title("  web\n1\tfront  "); got != "web 1 front" {
		t.Errorf("title = %q", got)
	}
}

func TestNetworkXMLGolden(t *testing.T) {
	n, err := networkFor(fsm.NetworkInfo{Name: "default", CIDR: "10.88.0.0/16", Gateway: "10.88.0.1"}, "shoalbr0")
	if err != nil {
		t.Fatal(err)
	}
	doc, err := n.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "network.xml", doc+"\n")
	if strings.Contains(doc, "<range") {
		t.Errorf("network must have no dynamic range:\n%s", doc)
	}
	if !hasShape(n, bridgeMAC("10.88.0.0/16")) {
		t.Errorf("network must forward open with the anycast bridge MAC:\n%s", doc)
	}
	for _, bad := range []fsm.NetworkInfo{
		{Name: "x", CIDR: "fd00::/64", Gateway: "fd00::1"},
		{Name: "x", CIDR: "10.0.0.0/24", Gateway: "10.0.1.1"},
		{Name: "x", CIDR: "nonsense", Gateway: "10.0.0.1"},
	} {
		if _, err := networkFor(bad, "br"); err == nil {
			t.Errorf("networkFor(%+v) accepted", bad)
		}
	}
}

// Every host derives the same bridge MAC from the CIDR alone, and another
// network gets another one.
func TestBridgeMAC(t *testing.T) {
	a, b := bridgeMAC("10.88.0.0/16"), bridgeMAC("10.78.0.0/24")
	if a != bridgeMAC("10.88.0.0/16") || a == b {
		t.Errorf("bridgeMAC: %s, %s", a, b)
	}
	for _, mac := range []string{a, b} {
		hw, err := net.ParseMAC(mac)
		if err != nil || len(hw) != 6 || !strings.HasPrefix(mac, "fa:16:3f:") {
			t.Errorf("bridgeMAC = %q (%v), want fa:16:3f:xx:xx:xx", mac, err)
		}
	}
}

func TestTapName(t *testing.T) {
	for id, want := range map[string]string{
		"6a0f3c1e-1111-4000-8000-000000000001": "tap6a0f3c1e-11",
		"short":                                "tapshort",
	} {
		if got := TapName(id); got != want {
			t.Errorf("TapName(%q) = %q, want %q", id, got, want)
		}
	}
	if n := len(TapName("6a0f3c1e-1111-4000-8000-000000000001")); n > maxBridgeName {
		t.Errorf("tap name is %d bytes, more than IFNAMSIZ-1", n)
	}
}

func TestDomainXMLTapOnFirstPortOnly(t *testing.T) {
	spec := testSpec("web-1")
	spec.Addresses = append(spec.Addresses, fsm.Address{Network: "default", IP: "10.88.0.6", MAC: "fa:16:3e:01:02:04"})
	nics := domainFor(spec, testOpts).Devices.Interfaces
	if len(nics) != 2 || nics[0].Target == nil || nics[0].Target.Dev != TapName(spec.ID) || nics[1].Target != nil {
		t.Errorf("interfaces' targets: %+v", nics)
	}
}

func TestVolumeXMLGolden(t *testing.T) {
	doc, err := volumeFor("6a0f3c1e-1111-4000-8000-000000000001.qcow2", 2*gib,
		"/var/lib/shoal/images/sha256-ab.qcow2", "qcow2").Marshal()
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "volume.xml", doc+"\n")
}

func TestNetmask(t *testing.T) {
	for bits, want := range map[int]string{0: "0.0.0.0", 8: "255.0.0.0", 16: "255.255.0.0", 23: "255.255.254.0", 32: "255.255.255.255"} {
		if got := netmask(bits); got != want {
			t.Errorf("netmask(%d) = %s, want %s", bits, got, want)
		}
	}
}

func TestInterfaces(t *testing.T) {
	doc, err := domainFor(testSpec("web-1"), testOpts).Marshal()
	if err != nil {
		t.Fatal(err)
	}
	nics, err := interfaces(doc)
	if err != nil {
		t.Fatal(err)
	}
	if got := nics["shoal-default"]; len(nics) != 1 || len(got) != 1 || got[0] != "fa:16:3e:01:02:03" {
		t.Errorf("interfaces = %v", nics)
	}
}
