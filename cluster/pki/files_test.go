package pki

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func testBundle(t *testing.T) *Bundle {
	t.Helper()
	ca := newTestCA(t, "")
	k1, _ := NewGossipKey()
	k2, _ := NewGossipKey()
	node := newNode(t, ca, "n1", time.Now(), 0)
	node.Certificate = node.Certificate[:1] // Save adds the CA itself
	return &Bundle{CA: ca, Node: node, GossipKeys: [][]byte{k1, k2}}
}

func TestBundleSaveLoad(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "tls")
	b := testBundle(t)
	if err := b.Save(dir); err != nil {
		t.Fatal(err)
	}
	modes := map[string]fs.FileMode{
		".": 0o700, CACertFile: 0o644, CAKeyFile: 0o600,
		NodeCertFile: 0o644, NodeKeyFile: 0o600, GossipKeysFile: 0o600,
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != len(modes)-1 {
		t.Errorf("%d files in %s, want %d (a temporary file left behind?)", len(entries), dir, len(modes)-1)
	}
	for name, want := range modes {
		st, err := os.Stat(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if got := st.Mode().Perm(); got != want {
			t.Errorf("%s: mode %04o, want %04o", name, got, want)
		}
	}

	got, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if !got.CA.Cert.Equal(b.CA.Cert) || !got.CA.Key.Equal(b.CA.Key) {
		t.Error("CA changed through Save/Load")
	}
	if !got.Node.Leaf.Equal(b.Node.Leaf) || len(got.Node.Certificate) != 2 ||
		!bytes.Equal(got.Node.Certificate[1], b.CA.Cert.Raw) {
		t.Error("node chain is not [leaf, CA]")
	}
	if len(got.GossipKeys) != 2 || !bytes.Equal(got.GossipKeys[0], b.GossipKeys[0]) ||
		!bytes.Equal(got.GossipKeys[1], b.GossipKeys[1]) {
		t.Error("gossip keys changed or lost their order")
	}

	renewed := newNode(t, b.CA, "n1", time.Now(), 0)
	if err := SaveNode(dir, renewed); err != nil {
		t.Fatal(err)
	}
	if got, err := Load(dir); err != nil || !got.Node.Leaf.Equal(renewed.Leaf) {
		t.Fatalf("after SaveNode: %v", err)
	}
}

func TestLoadNoBundle(t *testing.T) {
	for name, dir := range map[string]string{
		"empty dir":   t.TempDir(),
		"missing dir": filepath.Join(t.TempDir(), "tls"),
	} {
		_, err := Load(dir)
		if !errors.Is(err, ErrNoBundle) || !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("%s: %v, want ErrNoBundle wrapping fs.ErrNotExist", name, err)
		}
	}
}

func TestLoadRefuses(t *testing.T) {
	other := newTestCA(t, "")
	cases := []struct {
		name   string
		damage func(t *testing.T, dir string, b *Bundle)
		want   error
		text   string
	}{
		{name: "CA key readable by others", want: ErrKeyPermissions, text: "chmod 600",
			damage: func(t *testing.T, dir string, _ *Bundle) { chmod(t, dir, CAKeyFile, 0o644) }},
		{name: "node key readable by group", want: ErrKeyPermissions, text: "chmod 600",
			damage: func(t *testing.T, dir string, _ *Bundle) { chmod(t, dir, NodeKeyFile, 0o640) }},
		{name: "gossip keys readable by others", want: ErrKeyPermissions, text: "chmod 600",
			damage: func(t *testing.T, dir string, _ *Bundle) { chmod(t, dir, GossipKeysFile, 0o604) }},
		{name: "CA key missing", want: ErrBadBundle,
			damage: func(t *testing.T, dir string, _ *Bundle) { remove(t, dir, CAKeyFile) }},
		{name: "node certificate from another CA", want: ErrBadBundle,
			damage: func(t *testing.T, dir string, _ *Bundle) {
				if err := SaveNode(dir, newNode(t, other, "n1", time.Now(), 0)); err != nil {
					t.Fatal(err)
				}
			}},
		{name: "node key of another certificate", want: ErrBadBundle,
			damage: func(t *testing.T, dir string, b *Bundle) {
				c := newNode(t, b.CA, "n1", time.Now(), 0)
				c.PrivateKey = b.CA.Key
				if err := SaveNode(dir, c); err != nil {
					t.Fatal(err)
				}
			}},
		{name: "CA certificate garbage", want: ErrBadBundle,
			damage: func(t *testing.T, dir string, _ *Bundle) { write(t, dir, CACertFile, "junk", 0o644) }},
		{name: "gossip key too short", want: ErrBadBundle,
			damage: func(t *testing.T, dir string, _ *Bundle) { write(t, dir, GossipKeysFile, `["AAAA"]`, 0o600) }},
		{name: "gossip keys not JSON", want: ErrBadBundle,
			damage: func(t *testing.T, dir string, _ *Bundle) { write(t, dir, GossipKeysFile, `k`, 0o600) }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			b := testBundle(t)
			if err := b.Save(dir); err != nil {
				t.Fatal(err)
			}
			tc.damage(t, dir, b)
			_, err := Load(dir)
			if !errors.Is(err, tc.want) || errors.Is(err, fs.ErrNotExist) {
				t.Fatalf("%v, want %v (and not fs.ErrNotExist)", err, tc.want)
			}
			if !strings.Contains(err.Error(), tc.text) {
				t.Fatalf("%q lacks %q", err, tc.text)
			}
		})
	}
}

func TestSaveRefuses(t *testing.T) {
	b := testBundle(t)
	b.Node = newNode(t, newTestCA(t, ""), "n1", time.Now(), 0)
	dir := filepath.Join(t.TempDir(), "tls")
	if err := b.Save(dir); !errors.Is(err, ErrBadBundle) {
		t.Fatalf("saved a node certificate of another CA: %v", err)
	}
	if err := SaveGossipKeys(dir, [][]byte{make([]byte, 16)}); !errors.Is(err, ErrBadBundle) {
		t.Fatalf("saved a 16-byte gossip key: %v", err)
	}
}

func chmod(t *testing.T, dir, name string, mode fs.FileMode) {
	t.Helper()
	if err := os.Chmod(filepath.Join(dir, name), mode); err != nil {
		t.Fatal(err)
	}
}

func remove(t *testing.T, dir, name string) {
	t.Helper()
	if err := os.Remove(filepath.Join(dir, name)); err != nil {
		t.Fatal(err)
	}
}

func write(t *testing.T, dir, name, data string, mode fs.FileMode) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, name), []byte(data), mode); err != nil {
		t.Fatal(err)
	}
}
