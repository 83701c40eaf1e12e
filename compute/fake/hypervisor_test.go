package fake

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shoal-project/shoal/compute"
	"github.com/shoal-project/shoal/fsm"
)

const id = "3f1c2a8e-0000-4000-8000-000000000001"

func spec(id string) compute.InstanceSpec {
	return compute.InstanceSpec{ID: id, Name: "vm-" + id[len(id)-2:], VCPUs: 2, MemoryMiB: 1024, DiskGiB: 10,
		ImageID: "img-1", Addresses: []fsm.Address{{Network: "default", IP: "10.88.0.2", MAC: "fa:16:3e:00:00:01"}},
		Metadata: map[string]string{"role": "web"}}
}

// prepare brings a new domain into state ("missing" defines nothing).
func prepare(t *testing.T, d *Driver, state string) {
	t.Helper()
	ctx := context.Background()
	if state == "missing" {
		return
	}
	must(t, d.Define(ctx, spec(id)))
	switch state {
	case "shut off":
	case "running":
		must(t, d.Start(ctx, id))
	case "paused":
		must(t, d.Start(ctx, id))
		must(t, d.Pause(ctx, id))
	case "suspended":
		must(t, d.Start(ctx, id))
		must(t, d.Suspend(ctx, id))
	case "crashed":
		must(t, d.SetPowerState(id, fsm.PowerCrashed))
	default:
		t.Fatalf("unknown state %q", state)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

var opsByName = map[string]func(context.Context, *Driver) error{
	"define":      func(ctx context.Context, d *Driver) error { return d.Define(ctx, spec(id)) },
	"start":       func(ctx context.Context, d *Driver) error { return d.Start(ctx, id) },
	"stop":        func(ctx context.Context, d *Driver) error { return d.Stop(ctx, id, time.Second) },
	"destroy":     func(ctx context.Context, d *Driver) error { return d.Destroy(ctx, id) },
	"undefine":    func(ctx context.Context, d *Driver) error { return d.Undefine(ctx, id) },
	"reboot":      func(ctx context.Context, d *Driver) error { return d.Reboot(ctx, id, false) },
	"hard reboot": func(ctx context.Context, d *Driver) error { return d.Reboot(ctx, id, true) },
	"pause":       func(ctx context.Context, d *Driver) error { return d.Pause(ctx, id) },
	"unpause":     func(ctx context.Context, d *Driver) error { return d.Unpause(ctx, id) },
	"suspend":     func(ctx context.Context, d *Driver) error { return d.Suspend(ctx, id) },
	"resume":      func(ctx context.Context, d *Driver) error { return d.Resume(ctx, id) },
}

// gone is the power state column for a domain that does not exist.
const gone fsm.PowerState = -1

func TestStateRules(t *testing.T) {
	const (
		running   = fsm.PowerRunning
		paused    = fsm.PowerPaused
		off       = fsm.PowerShutdown
		crashed   = fsm.PowerCrashed
		suspended = fsm.PowerSuspended
	)
	invalid, notFound := compute.ErrInvalidState, compute.ErrNotFound
	for _, tc := range []struct {
		from, op string
		err      error
		want     fsm.PowerState
		boots    int // boots after the op
	}{
		{"missing", "define", nil, off, 0},
		{"running", "define", nil, running, 1}, // never recreated
		{"shut off", "start", nil, running, 1},
		{"running", "start", nil, running, 1},
		{"crashed", "start", nil, running, 1},
		{"suspended", "start", nil, running, 1}, // restore, not a boot
		{"paused", "start", invalid, paused, 1},
		{"missing", "start", notFound, gone, 0},
		{"running", "stop", nil, off, 1},
		{"paused", "stop", nil, off, 1},
		{"suspended", "stop", nil, off, 1},
		{"shut off", "stop", nil, off, 0},
		{"missing", "stop", notFound, gone, 0},
		{"running", "destroy", nil, off, 1},
		{"paused", "destroy", nil, off, 1},
		{"crashed", "destroy", nil, off, 0},
		{"shut off", "destroy", nil, off, 0},
		{"suspended", "destroy", nil, suspended, 1},
		{"missing", "destroy", nil, gone, 0},
		{"shut off", "undefine", nil, gone, 0},
		{"suspended", "undefine", nil, gone, 0},
		{"running", "undefine", invalid, running, 1},
		{"paused", "undefine", invalid, paused, 1},
		{"missing", "undefine", nil, gone, 0},
		{"running", "reboot", nil, running, 2},
		{"paused", "reboot", invalid, paused, 1},
		{"shut off", "reboot", invalid, off, 0},
		{"shut off", "hard reboot", nil, running, 1},
		{"paused", "hard reboot", nil, running, 2},
		{"suspended", "hard reboot", nil, running, 2},
		{"running", "hard reboot", nil, running, 2},
		{"missing", "hard reboot", notFound, gone, 0},
		{"running", "pause", nil, paused, 1},
		{"paused", "pause", nil, paused, 1},
		{"shut off", "pause", invalid, off, 0},
		{"suspended", "pause", invalid, suspended, 1},
		{"paused", "unpause", nil, running, 1},
		{"running", "unpause", nil, running, 1},
		{"shut off", "unpause", invalid, off, 0},
		{"running", "suspend", nil, suspended, 1},
		{"paused", "suspend", nil, suspended, 1},
		{"suspended", "suspend", nil, suspended, 1},
		{"shut off", "suspend", invalid, off, 0},
		{"suspended", "resume", nil, running, 1},
		{"running", "resume", nil, running, 1},
		{"shut off", "resume", invalid, off, 0},
		{"missing", "resume", notFound, gone, 0},
	} {
		t.Run(tc.from+"/"+tc.op, func(t *testing.T) {
			d := New(Config{})
			prepare(t, d, tc.from)
			err := opsByName[tc.op](context.Background(), d)
			if tc.err == nil && err != nil || tc.err != nil && !errors.Is(err, tc.err) {
				t.Fatalf("%s of a %s domain: err = %v, want %v", tc.op, tc.from, err, tc.err)
			}
			doms := d.Domains()
			if tc.want == gone {
				if len(doms) != 0 {
					t.Fatalf("domains = %+v, want none", doms)
				}
				return
			}
			if len(doms) != 1 || doms[0].PowerState != tc.want || doms[0].Boots != tc.boots || doms[0].Defines != 1 {
				t.Fatalf("domains = %+v, want one %v with %d boots, defined once", doms, tc.want, tc.boots)
			}
		})
	}
}

func TestDefineKeepsSpec(t *testing.T) {
	d := New(Config{})
	ctx := context.Background()
	s := spec(id)
	must(t, d.Define(ctx, s))
	s.Metadata["role"] = "changed" // the driver must hold its own copy
	s.Name = "other"
	must(t, d.Define(ctx, s)) // exists: untouched
	got := d.Domains()[0]
	if got.Name != spec(id).Name || got.Metadata["role"] != "web" || got.VCPUs != 2 || got.MemoryMiB != 1024 ||
		got.DiskGiB != 10 || got.ImageID != "img-1" || len(got.Addresses) != 1 {
		t.Errorf("domain = %+v", got)
	}
	got.Metadata["role"] = "mutated" // Domains returns copies
	if d.Domains()[0].Metadata["role"] != "web" {
		t.Error("Domains shares maps with the driver")
	}
	if err := d.Define(ctx, compute.InstanceSpec{Name: "x"}); err == nil {
		t.Error("Define accepted an empty ID")
	}
}

func TestInspectAndList(t *testing.T) {
	d := New(Config{})
	ctx := context.Background()
	if _, err := d.Inspect(ctx, id); !errors.Is(err, compute.ErrNotFound) {
		t.Fatalf("Inspect of a missing domain: %v", err)
	}
	if l, err := d.List(ctx); err != nil || len(l) != 0 {
		t.Fatalf("List = %v, %v", l, err)
	}
	other := strings.Replace(id, "01", "00", 1)
	must(t, d.Define(ctx, spec(id)))
	must(t, d.Define(ctx, spec(other)))
	must(t, d.Start(ctx, id))
	got, err := d.Inspect(ctx, id)
	if err != nil || got != (compute.Domain{ID: id, Name: spec(id).Name, PowerState: fsm.PowerRunning}) {
		t.Fatalf("Inspect = %+v, %v", got, err)
	}
	l, err := d.List(ctx)
	if err != nil || len(l) != 2 || l[0].ID != other || l[1].ID != id || l[0].PowerState != fsm.PowerShutdown {
		t.Fatalf("List = %+v, %v; want ordered by ID", l, err)
	}
}

func TestFingerprintCountsDomains(t *testing.T) {
	d := New(Config{VCPUs: 4, MemoryMiB: 4096, DiskGiB: 100})
	ctx := context.Background()
	ids := []string{id + "a", id + "b", id + "c", id + "d"}
	for _, i := range ids {
		must(t, d.Define(ctx, spec(i)))
	}
	must(t, d.Start(ctx, ids[0]))
	must(t, d.Start(ctx, ids[1]))
	must(t, d.Pause(ctx, ids[1]))
	must(t, d.Start(ctx, ids[2]))
	must(t, d.Suspend(ctx, ids[2])) // saved to disk: holds nothing
	f, err := d.Fingerprint(ctx)
	if err != nil || f.VCPUsFree != 0 || f.MemoryFreeMiB != 2048 || f.Instances != 4 || f.DiskFreeGiB != 100 {
		t.Fatalf("Fingerprint = %+v, %v; want 0 vCPUs and 2048 MiB free, 4 instances", f, err)
	}
	must(t, d.Start(ctx, ids[3])) // overcommitted
	must(t, d.Resume(ctx, ids[2]))
	f, _ = d.Fingerprint(ctx)
	if f.VCPUsFree != -4 || f.MemoryFreeMiB != 0 {
		t.Errorf("overcommitted: vCPUs free %d (want -4), memory free %d (want 0)", f.VCPUsFree, f.MemoryFreeMiB)
	}
}

func TestFailNext(t *testing.T) {
	d := New(Config{})
	ctx := context.Background()
	boom := errors.New("boom")
	d.FailNext(OpDefine, boom)
	d.FailNext(OpDefine, boom)
	for range 2 {
		if err := d.Define(ctx, spec(id)); !errors.Is(err, boom) {
			t.Fatalf("Define = %v, want the injected error", err)
		}
	}
	if len(d.Domains()) != 0 {
		t.Fatal("a failed Define created the domain")
	}
	must(t, d.Define(ctx, spec(id)))
	d.FailNext(OpStart, boom)
	if err := d.Start(ctx, id); !errors.Is(err, boom) || d.Domains()[0].PowerState != fsm.PowerShutdown {
		t.Fatalf("Start = %v, state %v; want the injected error and no change", err, d.Domains()[0].PowerState)
	}
	must(t, d.Start(ctx, id))
	d.FailNext(OpReboot, compute.Permanent(boom))
	if err := d.Reboot(ctx, id, true); !errors.Is(err, compute.ErrPermanent) || !errors.Is(err, boom) {
		t.Errorf("Reboot = %v, want the injected permanent failure", err)
	}
	d.FailNext(OpList, boom)
	if _, err := d.List(ctx); !errors.Is(err, boom) {
		t.Errorf("List = %v", err)
	}
	defer func() {
		if recover() == nil {
			t.Error("FailNext accepted an unknown operation")
		}
	}()
	d.FailNext("strat", boom)
}

func TestLatencyHonorsContext(t *testing.T) {
	d := New(Config{})
	d.SetLatency(time.Hour)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if err := d.Define(ctx, spec(id)); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Define = %v, want the deadline", err)
	}
	if len(d.Domains()) != 0 {
		t.Fatal("a cancelled Define created the domain")
	}
	d.SetLatency(time.Millisecond)
	start := time.Now()
	must(t, d.Define(context.Background(), spec(id)))
	if time.Since(start) < time.Millisecond {
		t.Error("latency was not applied")
	}
}

func TestEvents(t *testing.T) {
	d := New(Config{})
	ctx := context.Background()
	must(t, d.Define(ctx, spec(id)))
	must(t, d.Start(ctx, id))
	must(t, d.Start(ctx, id)) // no change, no event
	must(t, d.SetPowerState(id, fsm.PowerShutdown))
	var got []string
	for len(got) < 3 {
		select {
		case e := <-d.Events():
			got = append(got, e)
		case <-time.After(time.Second):
			t.Fatalf("events = %v, want 3", got)
		}
	}
	select {
	case e := <-d.Events():
		t.Errorf("unexpected event %q", e)
	default:
	}
	if err := d.Pause(ctx, id+"x"); !errors.Is(err, compute.ErrNotFound) { // a failure is no change
		t.Fatal(err)
	}
	must(t, d.Start(ctx, id))
	for range eventBuffer { // nobody reads: sends must not block
		must(t, d.Pause(ctx, id))
		must(t, d.Unpause(ctx, id))
	}
	if n := len(d.Events()); n != eventBuffer {
		t.Errorf("%d events buffered, want %d", n, eventBuffer)
	}
}

func TestConsoleLog(t *testing.T) {
	d := New(Config{})
	ctx := context.Background()
	must(t, d.Define(ctx, spec(id)))
	must(t, d.Start(ctx, id))
	must(t, d.Reboot(ctx, id, false))
	all, err := d.ConsoleLog(ctx, id, 0)
	if err != nil || strings.Count(all, "\n") != 4 || !strings.Contains(all, "shoal fake console: "+spec(id).Name+" booted") {
		t.Fatalf("ConsoleLog = %q, %v", all, err)
	}
	last, _ := d.ConsoleLog(ctx, id, 1)
	if last != "shoal fake console: "+spec(id).Name+" booted\n" {
		t.Errorf("last line = %q", last)
	}
	if _, err := d.ConsoleLog(ctx, "nope", 5); !errors.Is(err, compute.ErrNotFound) {
		t.Errorf("ConsoleLog of a missing domain: %v", err)
	}
}

func TestClosed(t *testing.T) {
	d := New(Config{})
	must(t, d.Close())
	for name, op := range opsByName {
		if err := op(context.Background(), d); !errors.Is(err, compute.ErrClosed) {
			t.Errorf("%s after Close: %v, want ErrClosed", name, err)
		}
	}
}

func TestConcurrentOperations(t *testing.T) {
	d := New(Config{StateFile: filepath.Join(t.TempDir(), "domains.json")})
	ctx := context.Background()
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			sid := id + string(rune('a'+i))
			for range 20 {
				for _, err := range []error{d.Define(ctx, spec(sid)), d.Start(ctx, sid), d.Pause(ctx, sid),
					d.Destroy(ctx, sid), d.Undefine(ctx, sid)} {
					if err != nil {
						t.Error(err)
						return
					}
				}
				if _, err := d.Fingerprint(ctx); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	if doms := d.Domains(); len(doms) != 0 {
		t.Errorf("domains left: %+v", doms)
	}
}

func TestInjectNMI(t *testing.T) {
	d := New(Config{})
	ctx := context.Background()
	must(t, d.Define(ctx, spec(id)))
	if err := d.InjectNMI(ctx, id); !errors.Is(err, compute.ErrInvalidState) {
		t.Errorf("InjectNMI of a shut off domain: %v, want ErrInvalidState", err)
	}
	must(t, d.Start(ctx, id))
	must(t, d.InjectNMI(ctx, id))
	must(t, d.Pause(ctx, id))
	must(t, d.InjectNMI(ctx, id))
	if all, _ := d.ConsoleLog(ctx, id, 0); strings.Count(all, "NMI received") != 2 {
		t.Errorf("console after two NMIs:\n%s", all)
	}
	boom := errors.New("boom")
	d.FailNext(OpInjectNMI, boom)
	if err := d.InjectNMI(ctx, id); !errors.Is(err, boom) {
		t.Errorf("injected fault: %v", err)
	}
	if all, _ := d.ConsoleLog(ctx, id, 0); strings.Count(all, "NMI received") != 2 {
		t.Errorf("a failed NMI reached the console:\n%s", all)
	}
	if err := d.InjectNMI(ctx, "nope"); !errors.Is(err, compute.ErrNotFound) {
		t.Errorf("InjectNMI of a missing domain: %v", err)
	}
}
