package libvirt

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	golibvirt "github.com/digitalocean/go-libvirt"

	"github.com/shoal-project/shoal/compute"
)

func TestMigrateFlags(t *testing.T) {
	base := golibvirt.MigratePeer2peer | golibvirt.MigratePersistDest | golibvirt.MigrateNonSharedInc
	for _, tc := range []struct {
		name   string
		opt    compute.MigrateOptions
		paused bool
		want   golibvirt.DomainMigrateFlags
	}{
		{"live", compute.MigrateOptions{Live: true}, false, base | golibvirt.MigrateLive},
		{"live auto-converge", compute.MigrateOptions{Live: true, AutoConverge: true}, false,
			base | golibvirt.MigrateLive | golibvirt.MigrateAutoConverge},
		{"live post-copy", compute.MigrateOptions{Live: true, AutoConverge: true, PostCopy: true}, false,
			base | golibvirt.MigrateLive | golibvirt.MigrateAutoConverge | golibvirt.MigratePostcopy},
		{"not live", compute.MigrateOptions{AutoConverge: true, PostCopy: true}, false, base},
		{"cold (started paused)", compute.MigrateOptions{Live: true, AutoConverge: true, PostCopy: true}, true,
			base | golibvirt.MigratePaused},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := migrateFlags(tc.opt, tc.paused)
			if got != tc.want {
				t.Errorf("migrateFlags = %#x, want %#x", got, tc.want)
			}
			if got&golibvirt.MigrateUndefineSource != 0 {
				t.Error("UNDEFINE_SOURCE set: the source's definition must stay until Undefine")
			}
		})
	}
}

func TestMigrateParams(t *testing.T) {
	const doc = "<domain type='qemu'><name>shoal-x</name></domain>"
	for _, tc := range []struct{ address, uri string }{
		{"10.99.0.12", "tcp://10.99.0.12"},
		{"10.99.0.12:7400", "tcp://10.99.0.12"}, // a raft address: its host part
		{"fd00::12", "tcp://[fd00::12]"},
		{"[fd00::12]:7400", "tcp://[fd00::12]"},
		{"h2.example", "tcp://h2.example"},
	} {
		t.Run(tc.address, func(t *testing.T) {
			params, err := migrateParams(compute.MigrationTarget{Host: "h2", URI: "qemu+tcp://h2/system", Address: tc.address, DomainXML: doc})
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]string{}
			for _, p := range params {
				if p.Value.D != 7 {
					t.Errorf("param %s is of type %d, want a string (7)", p.Field, p.Value.D)
				}
				if _, dup := got[p.Field]; dup {
					t.Errorf("param %s twice", p.Field)
				}
				got[p.Field] = fmt.Sprint(p.Value.I)
			}
			want := map[string]string{
				"destination_xml": doc, "persistent_xml": doc,
				"migrate_uri": tc.uri, "disks_uri": tc.uri, "migrate_disks": "vda",
			}
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("params = %v\nwant %v", got, want)
			}
		})
	}
	if _, err := migrateParams(compute.MigrationTarget{Host: "h2", Address: " "}); !errors.Is(err, compute.ErrPermanent) {
		t.Errorf("no address: %v, want a permanent error", err)
	}
}

func TestJobStats(t *testing.T) {
	u := func(f string, v uint64) golibvirt.TypedParam {
		return golibvirt.TypedParam{Field: f, Value: *golibvirt.NewTypedParamValueUllong(v)}
	}
	got := jobStats([]golibvirt.TypedParam{
		{Field: "operation", Value: *golibvirt.NewTypedParamValueInt(6)},
		u("time_elapsed", 2345), u("downtime", 42), u("memory_processed", 1<<20),
		u("disk_processed", 3<<20), u("memory_total", 1<<30),
	})
	want := compute.MigrationStats{Total: 2345 * time.Millisecond, Downtime: 42 * time.Millisecond, Memory: 1 << 20, Disk: 3 << 20}
	if got != want {
		t.Errorf("jobStats = %+v, want %+v", got, want)
	}
}

func TestMigrateErrorClass(t *testing.T) {
	for _, tc := range []struct {
		code      golibvirt.ErrorNumber
		permanent bool
	}{
		{golibvirt.ErrMigrateUnsafe, true},
		{golibvirt.ErrCPUIncompatible, true},
		{golibvirt.ErrOperationFailed, false},
		{golibvirt.ErrOperationAborted, false},
	} {
		err := classify(migrateError(golibvirt.Error{Code: uint32(tc.code), Message: "x"}))
		if errors.Is(err, compute.ErrPermanent) != tc.permanent {
			t.Errorf("%v: permanent = %v, want %v", tc.code, !tc.permanent, tc.permanent)
		}
	}
}

// The fence's guard keeps the driver a Migrator and sends nothing away
// while the host is fenced (no libvirt call is made: this driver has no
// connection).
func TestGuardedMigrator(t *testing.T) {
	d := &Driver{}
	f := compute.NewFence(compute.FenceConfig{Valid: func() bool { return false },
		Resync: func(context.Context) error { return nil }}, d)
	m, ok := f.Guard(d).(compute.Migrator)
	if !ok {
		t.Fatal("the guarded libvirt driver is not a compute.Migrator")
	}
	_, err := m.MigrateTo(context.Background(), "6a0f3c1e-1111-4000-8000-000000000001", compute.MigrationTarget{}, compute.MigrateOptions{Live: true})
	if !errors.Is(err, compute.ErrFenced) {
		t.Errorf("MigrateTo while fenced = %v, want ErrFenced", err)
	}
}

func TestPostcopyRefused(t *testing.T) {
	for msg, want := range map[string]bool{
		"internal error: unable to execute QEMU command 'migrate-set-capabilities': Postcopy is not supported": true,
		"operation unsupported: post-copy migration is not supported with this QEMU binary":                    true,
		"unable to connect to server at '10.99.0.11:1': Connection refused":                                    false,
		"operation aborted: migration out: canceled by client":                                                 false,
	} {
		if got := postcopyRefused(errors.New(msg)); got != want {
			t.Errorf("postcopyRefused(%q) = %v, want %v", msg, got, want)
		}
	}
}

// The destination's XML (PrepareIncoming) is the source's but for what is
// the host's: owner node, disk, config drive and console paths. Resize's
// keeps UUID, MAC and disk and changes only vCPUs and memory. libvirt
// checks the guest ABI of the first; shoal's ownership rests on both.
func TestMigrationDomainXML(t *testing.T) {
	spec := testSpec("web-1")
	src := testOpts
	src.ConfigDrive, src.CDROMBus = "/var/lib/shoal/config-drive/"+spec.ID+".iso", "ide"
	dst := src
	dst.Node = "node2"
	dst.DiskPath = "/srv/shoal/instances/" + spec.ID + ".qcow2"
	dst.ConsoleLog = "/srv/shoal/console/" + spec.ID + ".log"
	dst.ConfigDrive = "/srv/shoal/config-drive/" + spec.ID + ".iso"
	a, b := domainFor(spec, src), domainFor(spec, dst)
	if !strings.Contains(b.Metadata.XML, "<node>node2</node>") {
		t.Errorf("destination metadata %s does not name node2", b.Metadata.XML)
	}
	unhost := func(x string) string {
		for _, r := range [][2]string{
			{"<node>node1</node>", "<node>N</node>"}, {"<node>node2</node>", "<node>N</node>"},
			{"/var/lib/shoal/", "/D/"}, {"/srv/shoal/", "/D/"},
		} {
			x = strings.ReplaceAll(x, r[0], r[1])
		}
		return x
	}
	ax, err := a.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	bx, err := b.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if unhost(ax) != unhost(bx) {
		t.Errorf("source and destination XML differ beyond the host's parts:\n%s\n---\n%s", ax, bx)
	}

	big := spec
	big.VCPUs, big.MemoryMiB, big.DiskGiB = 4, 2048, 20
	r := domainFor(big, dst)
	if r.UUID != spec.ID || r.Name != b.Name || r.Devices.Interfaces[0].MAC.Address != spec.Addresses[0].MAC ||
		r.Devices.Disks[0].Source.File.File != dst.DiskPath {
		t.Errorf("resized domain lost its identity: %+v", r)
	}
	if r.VCPU.Value != 4 || r.Memory.Value != 2048 || r.Memory.Unit != "MiB" {
		t.Errorf("resized domain: %d vCPUs, %d %s", r.VCPU.Value, r.Memory.Value, r.Memory.Unit)
	}
	r.VCPU, r.Memory = b.VCPU, b.Memory
	rx, _ := r.Marshal()
	if rx != bx {
		t.Errorf("resize changed more than vCPUs and memory:\n%s\n---\n%s", rx, bx)
	}
}
