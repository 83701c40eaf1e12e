package fake

import (
	"context"
	"errors"
	"runtime"
	"sync"
	"testing"

	"github.com/shoal-project/shoal/compute"
	"github.com/shoal-project/shoal/fsm"
)

func TestConfig(t *testing.T) {
	for _, tc := range []struct {
		name    string
		cfg     Config
		want    Config // after WithDefaults
		invalid bool   // Validate of cfg as given
	}{
		{"zero takes defaults", Config{}, capacity(8, 16384, 200), true},
		{"partial", Config{VCPUs: 2}, capacity(2, 16384, 200), true},
		{"full", capacity(4, 2048, 10), capacity(4, 2048, 10), false},
		{"negative vcpus", capacity(-1, 2048, 10), capacity(-1, 2048, 10), true},
		{"negative memory", capacity(4, -2048, 10), capacity(4, -2048, 10), true},
		{"negative disk", capacity(4, 2048, -1), capacity(4, 2048, -1), true},
		{"state file kept", Config{StateFile: "/d/s.json"}, Config{8, 16384, 200, "/d/s.json"}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.cfg.WithDefaults(); got != tc.want {
				t.Errorf("WithDefaults() = %+v, want %+v", got, tc.want)
			}
			if err := tc.cfg.Validate(); (err != nil) != tc.invalid {
				t.Errorf("Validate() = %v, want invalid=%v", err, tc.invalid)
			}
		})
	}
}

func capacity(vcpus int, memoryMiB, diskGiB int64) Config {
	return Config{VCPUs: vcpus, MemoryMiB: memoryMiB, DiskGiB: diskGiB}
}

func TestFingerprint(t *testing.T) {
	ctx := context.Background()
	d := New(Config{VCPUs: 4, MemoryMiB: 8192})
	want := fsm.Inventory{
		VCPUs: 4, VCPUsFree: 4, MemoryMiB: 8192, MemoryFreeMiB: 8192, DiskGiB: 200, DiskFreeGiB: 200,
		Arch: fsm.CanonicalArch(runtime.GOARCH), HypervisorType: "fake", HypervisorVersion: "1.0",
	}
	if got, err := d.Fingerprint(ctx); err != nil || got != want {
		t.Fatalf("Fingerprint() = %+v, %v; want %+v", got, err, want)
	}

	if err := d.SetCapacity(Config{VCPUs: 1, MemoryMiB: 512}); err == nil {
		t.Error("SetCapacity accepted a zero disk")
	}
	if err := d.SetCapacity(Config{VCPUs: 16, MemoryMiB: 65536, DiskGiB: 1000}); err != nil {
		t.Fatal(err)
	}
	want.VCPUs, want.VCPUsFree = 16, 16
	want.MemoryMiB, want.MemoryFreeMiB = 65536, 65536
	want.DiskGiB, want.DiskFreeGiB = 1000, 1000
	if got, err := d.Fingerprint(ctx); err != nil || got != want {
		t.Fatalf("after SetCapacity: Fingerprint() = %+v, %v; want %+v", got, err, want)
	}

	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Fingerprint(ctx); !errors.Is(err, compute.ErrClosed) {
		t.Errorf("Fingerprint after Close: err = %v, want ErrClosed", err)
	}
}

func TestSetCapacityConcurrent(t *testing.T) {
	d := New(Config{})
	var wg sync.WaitGroup
	for i := 1; i <= 8; i++ {
		wg.Go(func() {
			for j := 0; j < 100; j++ {
				if err := d.SetCapacity(Config{VCPUs: i, MemoryMiB: int64(i) * 1024, DiskGiB: 10}); err != nil {
					t.Error(err)
					return
				}
				f, err := d.Fingerprint(context.Background())
				if err != nil || f.MemoryMiB != int64(f.VCPUs)*1024 {
					t.Errorf("torn fingerprint %+v, %v", f, err)
					return
				}
			}
		})
	}
	wg.Wait()
}

func TestNewPanicsOnInvalid(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("New accepted negative vCPUs")
		}
	}()
	New(Config{VCPUs: -1})
}
