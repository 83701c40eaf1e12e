package libvirt

import (
	"encoding/binary"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	golibvirt "github.com/digitalocean/go-libvirt"

	"github.com/shoal-project/shoal/compute"
)

func TestVirtualSize(t *testing.T) {
	dir := t.TempDir()
	qcow := filepath.Join(dir, "base.qcow2")
	hdr := make([]byte, 104)
	copy(hdr, "QFI\xfb")
	binary.BigEndian.PutUint32(hdr[4:], 3)
	binary.BigEndian.PutUint64(hdr[24:], 3<<30)
	raw := filepath.Join(dir, "base.raw")
	notQcow := filepath.Join(dir, "text")
	for path, body := range map[string][]byte{qcow: hdr, notQcow: []byte(strings.Repeat("x", 64))} {
		if err := os.WriteFile(path, body, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(raw, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(raw, 5<<20); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		path, format string
		want         uint64
		wantErr      bool
	}{
		{qcow, "qcow2", 3 << 30, false},
		{raw, "raw", 5 << 20, false},
		{notQcow, "qcow2", 0, true},
		{raw, "vmdk", 0, true},
		{filepath.Join(dir, "missing"), "raw", 0, true},
	} {
		got, err := virtualSize(tc.path, tc.format)
		if got != tc.want || (err != nil) != tc.wantErr {
			t.Errorf("virtualSize(%s, %s) = %d, %v; want %d, error %v", filepath.Base(tc.path), tc.format, got, err, tc.want, tc.wantErr)
		}
	}
}

func TestTailLines(t *testing.T) {
	for _, tc := range []struct {
		in   string
		n    int
		want string
	}{
		{"a\nb\nc\n", 2, "b\nc\n"},
		{"a\nb\nc", 2, "b\nc"},
		{"a\nb\n", 5, "a\nb\n"},
		{"a\nb\n", 0, "a\nb\n"},
		{"", 3, ""},
	} {
		if got := tailLines(tc.in, tc.n); got != tc.want {
			t.Errorf("tailLines(%q, %d) = %q, want %q", tc.in, tc.n, got, tc.want)
		}
	}
}

func TestReadTail(t *testing.T) {
	path := filepath.Join(t.TempDir(), "console.log")
	if err := os.WriteFile(path, []byte("first line\nsecond\nthird\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	b, err := readTail(path, 10) // cuts into "second": that partial line goes
	if err != nil || string(b) != "third\n" {
		t.Errorf("readTail = %q, %v", b, err)
	}
	if b, err := readTail(path, 1<<20); err != nil || string(b) != "first line\nsecond\nthird\n" {
		t.Errorf("readTail whole = %q, %v", b, err)
	}
}

func TestOwns(t *testing.T) {
	cluster := "c1"
	d := &Driver{cfg: Config{Node: "n1", ClusterID: func() string { return cluster }}}
	for _, tc := range []struct {
		m    instanceMetadata
		want bool
	}{
		{instanceMetadata{Node: "n1", Cluster: "c1"}, true},
		{instanceMetadata{Node: "n1"}, true}, // stamped before the cluster had an ID
		{instanceMetadata{Node: "n2", Cluster: "c1"}, false},
		{instanceMetadata{Node: "n1", Cluster: "c2"}, false}, // another cluster's node of the same name
		{instanceMetadata{}, false},
	} {
		if got := d.owns(tc.m); got != tc.want {
			t.Errorf("owns(%+v) = %v, want %v", tc.m, got, tc.want)
		}
	}
	cluster = "" // not known yet: the node decides
	if !d.owns(instanceMetadata{Node: "n1", Cluster: "c2"}) {
		t.Error("owns with an unknown cluster ID should go by node")
	}
}

func TestParseMetadata(t *testing.T) {
	// What libvirt returns: the element without its namespace.
	m, err := parseMetadata("<instance>\n  <uuid>u</uuid>\n  <node>n1</node>\n  <cluster>c</cluster>\n  <name>a &amp; b</name>\n</instance>")
	if err != nil || m.UUID != "u" || m.Node != "n1" || m.Cluster != "c" || m.Name != "a & b" {
		t.Errorf("parseMetadata = %+v, %v", m, err)
	}
	if _, err := parseMetadata("<other/>"); err == nil {
		t.Error("parseMetadata accepted another element")
	}
}

func TestMapError(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want error
	}{
		{golibvirt.Error{Code: uint32(golibvirt.ErrNoDomain), Message: "no domain"}, compute.ErrNotFound},
		{golibvirt.Error{Code: uint32(golibvirt.ErrOperationInvalid), Message: "not running"}, compute.ErrInvalidState},
		{invalid("pause", "x", "shut off"), compute.ErrInvalidState},
	} {
		if got := mapError("x", tc.err); !errors.Is(got, tc.want) {
			t.Errorf("mapError(%v) = %v, want %v", tc.err, got, tc.want)
		}
	}
	other := golibvirt.Error{Code: uint32(golibvirt.ErrInternalError), Message: "boom"}
	if got := mapError("x", other); errors.Is(got, compute.ErrNotFound) || errors.Is(got, compute.ErrInvalidState) || !strings.Contains(got.Error(), "boom") {
		t.Errorf("mapError(internal) = %v", got)
	}
	if mapError("x", nil) != nil {
		t.Error("mapError(nil) != nil")
	}
}

// QEMU runs as its own user: the instances dir and the data dir above it
// must let it through, without letting anyone list them.
func TestSearchable(t *testing.T) {
	parent := filepath.Join(t.TempDir(), "private")
	data := filepath.Join(parent, "data")
	if err := os.MkdirAll(data, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(parent, 0o700); err != nil {
		t.Fatal(err)
	}
	d := &Driver{cfg: Config{DataDir: data}, log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	dir := filepath.Join(data, "instances")
	if err := d.searchable(dir); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{dir, data} {
		st, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if mode := st.Mode().Perm(); mode&0o001 == 0 || mode&0o004 != 0 {
			t.Errorf("%s is %v, want searchable, not listable, by others", p, mode)
		}
	}
	if st, _ := os.Stat(parent); st.Mode().Perm() != 0o700 {
		t.Errorf("the parent of the data dir was changed: %v", st.Mode())
	}
}

func TestIsWithin(t *testing.T) {
	for _, tc := range []struct {
		path, dir string
		want      bool
	}{
		{"/d/instances", "/d", true},
		{"/d", "/d", true},
		{"/other", "/d", false},
		{"/d2/x", "/d", false},
		{"/..d/x", "/", true},
	} {
		if got := isWithin(tc.path, tc.dir); got != tc.want {
			t.Errorf("isWithin(%s, %s) = %v, want %v", tc.path, tc.dir, got, tc.want)
		}
	}
}
