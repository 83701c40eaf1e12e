package metadata

import (
	"bytes"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/diskfs/go-diskfs/backend/file"
	"github.com/diskfs/go-diskfs/filesystem/iso9660"
)

// TestDriveFilesGolden lists a full drive: every path and its bytes.
func TestDriveFilesGolden(t *testing.T) {
	for _, fx := range []struct {
		name string
		inst Instance
	}{{"full", fullInstance()}, {"bare", bareInstance()}} {
		var out bytes.Buffer
		for _, f := range DriveFiles(fx.inst) {
			out.WriteString("FILE " + f.Path + "\n")
			out.Write(f.Data)
			out.WriteString("\n\n")
		}
		golden(t, fx.name+"-drive.golden", out.Bytes())
	}
}

// TestConfigDriveReadBack writes a drive and reads it back through the ISO
// library: the label is config-2, and every file is there under its long
// lowercase Rock Ridge name (the plain ISO 9660 names are 8.3 capitals:
// OPENSTAC) with the bytes DriveFiles gave, nothing else.
func TestConfigDriveReadBack(t *testing.T) {
	inst := fullInstance()
	dst := filepath.Join(t.TempDir(), "disk.config")
	if err := ConfigDrive(dst, inst); err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(dst)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 || st.Size()%isoBlock != 0 {
		t.Errorf("drive mode %v size %d: want 0600 and whole blocks", st.Mode().Perm(), st.Size())
	}
	got := readISO(t, dst)
	if label := got.label; label != DriveLabel {
		t.Errorf("volume label %q, want %q", label, DriveLabel)
	}
	want := DriveFiles(inst)
	var names []string
	for _, f := range want {
		names = append(names, f.Path)
		data, ok := got.files[f.Path]
		if !ok {
			t.Errorf("%s missing from the image", f.Path)
			continue
		}
		if !bytes.Equal(data, f.Data) {
			t.Errorf("%s:\n got %q\nwant %q", f.Path, data, f.Data)
		}
	}
	for p := range got.files {
		if !slices.Contains(names, p) {
			t.Errorf("%s in the image, not in DriveFiles", p)
		}
	}
	// No work files left beside the drive.
	entries, _ := os.ReadDir(filepath.Dir(dst))
	if len(entries) != 1 {
		t.Errorf("drive dir holds %d entries, want the drive alone", len(entries))
	}
}

type isoImage struct {
	label string
	files map[string][]byte
}

func readISO(t *testing.T, p string) isoImage {
	t.Helper()
	f, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	st, _ := f.Stat()
	img, err := iso9660.Read(file.New(f, true), st.Size(), 0, isoBlock)
	if err != nil {
		t.Fatalf("reading the image back: %v", err)
	}
	out := isoImage{label: strings.TrimRight(img.Label(), " \x00"), files: map[string][]byte{}}
	err = fs.WalkDir(img, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		if info, err := d.Info(); err != nil || info.Mode().Perm()&0o444 != 0o444 {
			t.Errorf("%s: mode %v (%v), want readable by all", p, info.Mode(), err)
		}
		data, err := fs.ReadFile(img, p)
		out.files[p] = data
		return err
	})
	if err != nil {
		t.Fatalf("walking the image: %v", err)
	}
	return out
}
