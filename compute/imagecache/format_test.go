package imagecache_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/shoal-project/shoal/compute/imagecache"
	"github.com/shoal-project/shoal/fsm"
)

var be = binary.BigEndian

// qcow2 builds the first bytes of a qcow2 image: a header of version 2 or 3
// with 64 KiB clusters, then zeros, changed by edits and cut to size bytes.
func qcow2(version uint32, size int, edits ...func(h []byte)) []byte {
	h := make([]byte, max(size, 4096))
	copy(h, "QFI\xfb")
	be.PutUint32(h[4:], version)
	be.PutUint32(h[20:], 16)    // cluster_bits
	be.PutUint64(h[24:], 1<<30) // virtual size
	be.PutUint32(h[36:], 1)     // l1_size
	be.PutUint64(h[40:], 3<<16) // l1_table_offset
	be.PutUint64(h[48:], 1<<16) // refcount_table_offset
	be.PutUint32(h[56:], 1)     // refcount_table_clusters
	if version == 3 {
		be.PutUint32(h[96:], 4)    // refcount_order
		be.PutUint32(h[100:], 112) // header_length
	}
	for _, e := range edits {
		e(h)
	}
	return h[:size]
}

func backingFile(h []byte) {
	be.PutUint64(h[8:], 0x200)
	be.PutUint32(h[16:], 11)
	copy(h[0x200:], "/etc/shadow")
}

// extension writes a header extension at off and returns where the next goes.
func extension(h []byte, off int, typ uint32, data string) int {
	be.PutUint32(h[off:], typ)
	be.PutUint32(h[off+4:], uint32(len(data)))
	copy(h[off+8:], data)
	return off + 8 + (len(data)+7)/8*8
}

func TestPutChecksFormat(t *testing.T) {
	raw := bytes.Repeat([]byte("boot sector and more "), 100)
	for _, tc := range []struct {
		name     string
		data     []byte
		format   string
		wantErr  string // "" accepts
		sentinel error
	}{
		{name: "clean qcow2 v3", data: qcow2(3, 4096), format: "qcow2"},
		{name: "clean qcow2 v2", data: qcow2(2, 4096), format: "qcow2"},
		{name: "qcow2 v3 header only", data: qcow2(3, 112), format: "qcow2"},
		{name: "qcow2 with a harmless extension", format: "qcow2", data: qcow2(3, 4096, func(h []byte) {
			extension(h, 112, 0x6803f857, "feature name table")
		})},
		{name: "qcow2 larger than the first read", data: qcow2(3, 3<<20), format: "qcow2"},
		{name: "raw", data: raw, format: "raw"},
		{name: "one raw byte", data: []byte{0}, format: "raw"},

		{name: "qcow2 v3 with a backing file", data: qcow2(3, 4096, backingFile), format: "qcow2", wantErr: "backing file"},
		{name: "qcow2 v2 with a backing file", data: qcow2(2, 4096, backingFile), format: "qcow2", wantErr: "backing file"},
		{name: "qcow2 v3 with the external data file bit", format: "qcow2", wantErr: "external data file",
			data: qcow2(3, 4096, func(h []byte) { be.PutUint64(h[72:], 1<<2) })},
		{name: "qcow2 v3 naming a data file", format: "qcow2", wantErr: "external data file",
			data: qcow2(3, 4096, func(h []byte) {
				next := extension(h, 112, 0x6803f857, "features")
				extension(h, next, 0x44415441, "/dev/sda")
			})},
		{name: "qcow2 with unknown incompatible features", format: "qcow2", wantErr: "unknown incompatible",
			data: qcow2(3, 4096, func(h []byte) { be.PutUint64(h[72:], 1<<40) })},
		{name: "qcow2 marked corrupt", format: "qcow2", wantErr: "corrupt",
			data: qcow2(3, 4096, func(h []byte) { be.PutUint64(h[72:], 1<<1) })},
		{name: "encrypted qcow2", format: "qcow2", wantErr: "encrypted",
			data: qcow2(3, 4096, func(h []byte) { be.PutUint32(h[32:], 2) })},
		{name: "qcow2 version 1", data: qcow2(1, 4096), format: "qcow2", wantErr: "version 1"},
		{name: "qcow2 version 4", data: qcow2(4, 4096), format: "qcow2", wantErr: "version 4"},
		{name: "truncated qcow2 header", data: qcow2(2, 40), format: "qcow2", wantErr: "truncated"},
		{name: "truncated qcow2 v3 header", data: qcow2(3, 80), format: "qcow2", wantErr: "truncated"},
		{name: "qcow2 with huge clusters", format: "qcow2", wantErr: "cluster_bits",
			data: qcow2(3, 4096, func(h []byte) { be.PutUint32(h[20:], 30) })},
		{name: "qcow2 v3 with a short header_length", format: "qcow2", wantErr: "header_length",
			data: qcow2(3, 4096, func(h []byte) { be.PutUint32(h[100:], 72) })},
		{name: "qcow2 extension past the first cluster", format: "qcow2", wantErr: "past the first cluster",
			data: qcow2(3, 4096, func(h []byte) { be.PutUint32(h[112:], 0x6803f857); be.PutUint32(h[116:], 1<<16) })},
		{name: "raw data declared qcow2", data: raw, format: "qcow2", wantErr: "not a qcow2 image"},
		{name: "qcow2 declared raw", data: qcow2(3, 4096), format: "raw", wantErr: "declared raw"},
		{name: "empty raw", data: nil, format: "raw", wantErr: "empty"},
		{name: "empty qcow2", data: nil, format: "qcow2", wantErr: "not a qcow2 image"},
		{name: "vmdk", data: raw, format: "vmdk", wantErr: "not supported for upload"},
		{name: "no format", data: raw, format: "", wantErr: "not supported for upload"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := newCache(t, "n1")
			st, err := c.Put(context.Background(), bytes.NewReader(tc.data), tc.format, 0)
			if tc.wantErr == "" {
				if err != nil {
					t.Fatalf("Put: %v", err)
				}
				if st.Checksum != sha(tc.data) || st.Size != int64(len(tc.data)) || st.Format != tc.format || !c.Has(st.Checksum) {
					t.Errorf("stored %+v; want sha256 %s, %d bytes", st, sha(tc.data), len(tc.data))
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("Put = %+v, %v; want an error saying %q", st, err, tc.wantErr)
			}
			if !errors.Is(err, imagecache.ErrInvalidImage) || !errors.Is(err, fsm.ErrInvalid) {
				t.Errorf("error %v does not wrap ErrInvalidImage and fsm.ErrInvalid", err)
			}
			assertEmpty(t, c.Dir())
		})
	}
}

// Real images from qemu-img, when it is installed.
func TestPutChecksQemuImages(t *testing.T) {
	if _, err := exec.LookPath("qemu-img"); err != nil {
		t.Skip("qemu-img not installed")
	}
	dir := t.TempDir()
	qemuImg := func(name, size string, opts ...string) string {
		t.Helper()
		out := filepath.Join(dir, name)
		args := append(append([]string{"create", "-q", "-f", "qcow2"}, opts...), out, size)
		if b, err := exec.Command("qemu-img", args...).CombinedOutput(); err != nil {
			t.Fatalf("qemu-img %q: %v\n%s", args, err, b)
		}
		return out
	}
	hostFile := filepath.Join(dir, "host.raw")
	if err := os.WriteFile(hostFile, make([]byte, 1<<20), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, path, wantErr string
	}{
		{"plain", qemuImg("plain.qcow2", "1G"), ""},
		{"compat 0.10", qemuImg("v2.qcow2", "1G", "-o", "compat=0.10"), ""},
		{"backing file", qemuImg("backed.qcow2", "1M", "-F", "raw", "-b", hostFile), "backing file"},
		{"data file", qemuImg("datafile.qcow2", "1M", "-o", "data_file="+hostFile), "external data file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, err := os.Open(tc.path)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			_, err = newCache(t, "n1").Put(context.Background(), f, "qcow2", 0)
			if tc.wantErr == "" && err != nil || tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)) {
				t.Errorf("Put = %v, want error %q", err, tc.wantErr)
			}
		})
	}
}
