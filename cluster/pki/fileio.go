package pki

import (
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// readFile reads one bundle file; a secret one must not be readable by group
// or others, because then the cluster's keys already leaked on this host.
func readFile(dir, name string, secret bool) ([]byte, error) {
	path := filepath.Join(dir, name)
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadBundle, err)
	}
	defer f.Close()
	if secret {
		st, err := f.Stat()
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrBadBundle, err)
		}
		if perm := st.Mode().Perm(); perm&0o077 != 0 {
			return nil, fmt.Errorf("%w: %s has mode %04o; run: chmod 600 %s", ErrKeyPermissions, path, perm, path)
		}
	}
	data, err := io.ReadAll(f)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadBundle, err)
	}
	return data, nil
}

func certPEM(der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}

func keyPEM(key any) ([]byte, error) {
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("pki: marshal key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
}

// ensureDir makes dir 0700, tightening an existing one: it holds keys.
func ensureDir(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("pki: %w", err)
	}
	if err := os.Chmod(dir, 0o700); err != nil {
		return fmt.Errorf("pki: %w", err)
	}
	return nil
}

// writeFile replaces dir/name atomically: a temporary file in the same
// directory, synced, then renamed over, then the directory synced, so a crash
// leaves the old file or the new one, never half of one.
func writeFile(dir, name string, data []byte, mode fs.FileMode) error {
	tmp, err := os.CreateTemp(dir, "."+name+".tmp*")
	if err != nil {
		return fmt.Errorf("pki: %w", err)
	}
	defer os.Remove(tmp.Name()) // after a successful rename it is already gone
	_, err = tmp.Write(data)
	if err == nil {
		err = tmp.Chmod(mode)
	}
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), filepath.Join(dir, name))
	}
	if err != nil {
		return fmt.Errorf("pki: write %s: %w", name, err)
	}
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("pki: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("pki: sync %s: %w", dir, err)
	}
	return nil
}
