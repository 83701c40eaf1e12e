package agent

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/shoal-project/shoal/fsm"
)

// The driver's config drive builder writes an ISO 9660 volume labelled
// config-2, readable by its owner only, for an instance of the replica;
// an instance the replica does not have gets none.
func TestWriteConfigDrive(t *testing.T) {
	nv := fsm.NetworkView{Instances: []fsm.Instance{{ID: "6a0f3c1e-1111-4000-8000-000000000001", Name: "web-1",
		ProjectID: "p1", ConfigDrive: true, Metadata: map[string]string{"role": "web"}}}}
	dir := t.TempDir()
	path := filepath.Join(dir, "drive.iso")
	if err := writeConfigDrive(nv, nv.Instances[0].ID, path); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	// The primary volume descriptor, sector 16: type 1, "CD001", and the
	// volume identifier at byte 40.
	pvd := make([]byte, 72)
	if _, err := f.ReadAt(pvd, 16*2048); err != nil {
		t.Fatal(err)
	}
	if pvd[0] != 1 || string(pvd[1:6]) != "CD001" || strings.TrimRight(string(pvd[40:72]), " \x00") != "config-2" {
		t.Errorf("not an ISO 9660 volume labelled config-2: descriptor %q", pvd)
	}
	if st, err := f.Stat(); err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("config drive mode %v, %v; want 0600", st.Mode().Perm(), err)
	}

	missing := filepath.Join(dir, "missing.iso")
	if err := writeConfigDrive(nv, "6a0f3c1e-2222-4000-8000-000000000002", missing); !errors.Is(err, fsm.ErrNotFound) {
		t.Errorf("config drive of an unknown instance: %v, want ErrNotFound", err)
	}
	if _, err := os.Stat(missing); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a config drive was written for an unknown instance: %v", err)
	}
}
