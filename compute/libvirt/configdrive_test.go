package libvirt

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"

	"github.com/shoal-project/shoal/compute"
)

const testID = "6a0f3c1e-1111-4000-8000-000000000001"

// fileDriver is a Driver with no connection: enough for its file work.
func fileDriver(t *testing.T, cfg Config) *Driver {
	t.Helper()
	cfg.DataDir = t.TempDir()
	cfg = cfg.WithDefaults()
	return &Driver{cfg: cfg, log: slog.New(slog.NewTextHandler(io.Discard, nil))}
}

func TestWantsConfigDrive(t *testing.T) {
	for _, tc := range []struct {
		asked, forced, want bool
	}{
		{false, false, false},
		{true, false, true},
		{false, true, true},
		{true, true, true},
	} {
		d := fileDriver(t, Config{ForceConfigDrive: tc.forced})
		if got := d.wantsConfigDrive(compute.InstanceSpec{ConfigDrive: tc.asked}); got != tc.want {
			t.Errorf("asked %v, forced %v: wants = %v, want %v", tc.asked, tc.forced, got, tc.want)
		}
	}
}

// Each write builds the drive afresh, in a file only its owner reads, and
// removal takes it away; the builder's failures come back wrapped.
func TestWriteConfigDrive(t *testing.T) {
	ctx := context.Background()
	builds := 0
	var fail error
	d := fileDriver(t, Config{ConfigDrive: func(_ context.Context, id, path string) error {
		if fail != nil {
			return fail
		}
		builds++
		return os.WriteFile(path, []byte(id+string(rune('0'+builds))), 0o600)
	}})
	if got, want := d.configDrivePath(testID), filepath.Join(d.cfg.DataDir, "config-drive", testID+".iso"); got != want {
		t.Fatalf("config drive path = %s, want %s", got, want)
	}
	for i, want := range []string{testID + "1", testID + "2"} {
		path, err := d.writeConfigDrive(ctx, testID)
		if err != nil {
			t.Fatalf("write %d: %v", i, err)
		}
		b, err := os.ReadFile(path)
		if err != nil || string(b) != want {
			t.Fatalf("write %d: file holds %q, %v; want %q", i, b, err, want)
		}
		st, err := os.Stat(path)
		if err != nil || st.Mode().Perm() != 0o600 {
			t.Errorf("write %d: mode %v, %v; want 0600", i, st.Mode().Perm(), err)
		}
	}
	// QEMU (another user) must reach the file through the directory.
	if st, err := os.Stat(d.cfg.ConfigDriveDir); err != nil || st.Mode().Perm()&0o001 == 0 {
		t.Errorf("config drive dir mode %v, %v: not searchable by QEMU", st.Mode().Perm(), err)
	}

	fail = errors.New("instance not in the cluster yet")
	if _, err := d.writeConfigDrive(ctx, testID); !errors.Is(err, fail) {
		t.Errorf("builder failure: %v, want it wrapped", err)
	}

	if err := d.removeConfigDrive(testID); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(d.configDrivePath(testID)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("config drive still there after removal: %v", err)
	}
	if err := d.removeConfigDrive(testID); err != nil {
		t.Errorf("removing a missing config drive: %v", err)
	}
}

// A host asked for a config drive it cannot build fails for good: retrying
// does not give it a builder.
func TestWriteConfigDriveWithoutBuilder(t *testing.T) {
	d := fileDriver(t, Config{ForceConfigDrive: true})
	if _, err := d.writeConfigDrive(context.Background(), testID); !errors.Is(err, compute.ErrPermanent) {
		t.Errorf("write without a builder: %v, want ErrPermanent", err)
	}
}
