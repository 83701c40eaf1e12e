package fake

import (
	"context"
	"errors"
	"testing"

	"github.com/shoal-project/shoal/compute"
	"github.com/shoal-project/shoal/fsm"
)

// twoHosts is a world of a and b, with id running on a.
func twoHosts(t *testing.T) (a, b *Driver) {
	t.Helper()
	w := NewWorld()
	a, b = New(Config{}), New(Config{})
	w.Add("a", a)
	w.Add("b", b)
	prepare(t, a, "running")
	return a, b
}

func target(t *testing.T, dest *Driver, node string, s compute.InstanceSpec) compute.MigrationTarget {
	t.Helper()
	xml, err := dest.PrepareIncoming(context.Background(), s)
	if err != nil {
		t.Fatal(err)
	}
	return compute.MigrationTarget{Host: node, URI: "fake://" + node, Address: node, DomainXML: xml}
}

func powerOn(t *testing.T, d *Driver, id string) (fsm.PowerState, bool) {
	t.Helper()
	for _, dom := range d.Domains() {
		if dom.ID == id {
			return dom.PowerState, true
		}
	}
	return fsm.PowerNoState, false
}

func TestMigrateLive(t *testing.T) {
	ctx := context.Background()
	a, b := twoHosts(t)
	if _, err := a.MigrateTo(ctx, id, compute.MigrationTarget{Host: "b"}, compute.MigrateOptions{Live: true}); err == nil {
		t.Fatal("migrated to a host that did not prepare")
	}
	to := target(t, b, "b", spec(id))
	bad := to
	bad.DomainXML = "<domain/>"
	if _, err := a.MigrateTo(ctx, id, bad, compute.MigrateOptions{Live: true}); !errors.Is(err, compute.ErrPermanent) {
		t.Fatalf("migrate with another XML: %v", err)
	}
	if _, err := a.MigrateTo(ctx, id, to, compute.MigrateOptions{Live: true}); err != nil {
		t.Fatal(err)
	}
	if p, ok := powerOn(t, a, id); !ok || p != fsm.PowerShutdown {
		t.Errorf("source: %v defined %v, want shut off and still defined", p, ok)
	}
	if p, _ := powerOn(t, b, id); p != fsm.PowerRunning || b.Incoming(id) {
		t.Errorf("destination: %v (incoming %v), want running", p, b.Incoming(id))
	}
	// Live needs a running guest.
	to = target(t, a, "a", spec(id))
	must(t, a.Undefine(ctx, id))
	must(t, b.Stop(ctx, id, 0))
	if _, err := b.MigrateTo(ctx, id, to, compute.MigrateOptions{Live: true}); !errors.Is(err, compute.ErrInvalidState) {
		t.Errorf("live migration of a shut off domain: %v", err)
	}
}

func TestMigrateColdAndResize(t *testing.T) {
	ctx := context.Background()
	a, b := twoHosts(t)
	to := target(t, b, "b", spec(id))
	if _, err := a.MigrateTo(ctx, id, to, compute.MigrateOptions{}); !errors.Is(err, compute.ErrInvalidState) {
		t.Fatalf("cold migration of a running domain: %v", err)
	}
	must(t, a.Stop(ctx, id, 0))
	if _, err := a.MigrateTo(ctx, id, to, compute.MigrateOptions{}); err != nil {
		t.Fatal(err)
	}
	if p, _ := powerOn(t, b, id); p != fsm.PowerPaused {
		t.Fatalf("destination: %v, want paused", p)
	}
	bigger := spec(id)
	bigger.VCPUs, bigger.MemoryMiB, bigger.DiskGiB = 4, 4096, 5
	if err := b.Resize(ctx, bigger); !errors.Is(err, compute.ErrInvalidState) {
		t.Errorf("resize of a paused domain: %v", err)
	}
	must(t, b.Destroy(ctx, id))
	must(t, b.Resize(ctx, bigger))
	dom := b.Domains()[0]
	if dom.VCPUs != 4 || dom.MemoryMiB != 4096 || dom.DiskGiB != 10 {
		t.Errorf("resized %+v: want 4 vCPUs, 4096 MiB and the disk kept at 10 GiB", dom)
	}
}

func TestMigrateOutsideAWorld(t *testing.T) {
	d := New(Config{})
	prepare(t, d, "running")
	_, err := d.MigrateTo(context.Background(), id, compute.MigrationTarget{Host: "b"}, compute.MigrateOptions{Live: true})
	if !errors.Is(err, compute.ErrPermanent) {
		t.Errorf("MigrateTo without a world: %v", err)
	}
	d.FailNext(OpMigrateTo, errors.New("boom"))
	if _, err := d.MigrateTo(context.Background(), id, compute.MigrationTarget{}, compute.MigrateOptions{}); err == nil || err.Error() != "boom" {
		t.Errorf("injected failure: %v", err)
	}
}
