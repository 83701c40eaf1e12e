package identity

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func TestLoadOrCreateKeyCreatesThenReuses(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "identity")
	first, err := LoadOrCreateKey(dir)
	if err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]os.FileMode{dir: 0o700, filepath.Join(dir, KeyFileName): 0o600} {
		info, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if got := info.Mode().Perm(); got != want {
			t.Errorf("%s: mode %04o, want %04o", path, got, want)
		}
	}
	if len(first.KeyID()) != 16 || !isKeyID(first.KeyID()) {
		t.Errorf("key ID %q: want 16 lowercase hex", first.KeyID())
	}
	if first.KeyID() != KeyID(first.PublicKey()) {
		t.Errorf("key ID %q is not derived from the public key", first.KeyID())
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("identity directory holds %d entries, want only the key", len(entries))
	}

	again, err := LoadOrCreateKey(dir)
	if err != nil {
		t.Fatal(err)
	}
	if again.KeyID() != first.KeyID() || !again.PublicKey().Equal(first.PublicKey()) {
		t.Fatalf("restart made a new key (%s, was %s)", again.KeyID(), first.KeyID())
	}
	// A token from before the restart verifies with the key after it.
	keys := keyring{}
	keys.publish(again)
	if _, err := Parse(mustIssue(t, first), keys); err != nil {
		t.Fatalf("token from before restart: %v", err)
	}
}

func TestLoadOrCreateKeyRefuses(t *testing.T) {
	tests := []struct {
		name  string
		setup func(t *testing.T, dir string)
	}{
		{"key readable by group", func(t *testing.T, dir string) {
			writeKey(t, dir, make([]byte, 32), 0o640)
		}},
		{"key readable by all", func(t *testing.T, dir string) {
			writeKey(t, dir, make([]byte, 32), 0o644)
		}},
		{"key too short", func(t *testing.T, dir string) {
			writeKey(t, dir, make([]byte, 31), 0o600)
		}},
		{"key too long (a whole private key)", func(t *testing.T, dir string) {
			writeKey(t, dir, make([]byte, 64), 0o600)
		}},
		{"empty key", func(t *testing.T, dir string) {
			writeKey(t, dir, nil, 0o600)
		}},
		{"key is a directory", func(t *testing.T, dir string) {
			if err := os.Mkdir(filepath.Join(dir, KeyFileName), 0o700); err != nil {
				t.Fatal(err)
			}
		}},
		{"directory open to others", func(t *testing.T, dir string) {
			if err := os.Chmod(dir, 0o755); err != nil {
				t.Fatal(err)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "identity")
			if err := os.Mkdir(dir, 0o700); err != nil {
				t.Fatal(err)
			}
			tt.setup(t, dir)
			before, _ := os.ReadFile(filepath.Join(dir, KeyFileName))
			_, err := LoadOrCreateKey(dir)
			if !errors.Is(err, ErrKeyFile) {
				t.Fatalf("LoadOrCreateKey: got %v, want ErrKeyFile", err)
			}
			after, _ := os.ReadFile(filepath.Join(dir, KeyFileName))
			if string(before) != string(after) {
				t.Fatal("a refused key file was changed")
			}
		})
	}
}

func writeKey(t *testing.T, dir string, seed []byte, mode os.FileMode) {
	t.Helper()
	path := filepath.Join(dir, KeyFileName)
	if err := os.WriteFile(path, seed, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, mode); err != nil { // WriteFile's mode is masked by the umask
		t.Fatal(err)
	}
}
