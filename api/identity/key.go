package identity

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// KeyFileName is the signing key's file inside the identity directory
// (DATA_DIR/identity).
const KeyFileName = "signing.key"

// ErrKeyFile: the signing key file or its directory is unusable (too open,
// wrong size, not a regular file). The node must not start with it: the
// operator fixes or removes it.
var ErrKeyFile = errors.New("identity: unusable signing key")

// Signer is this node's token signing key. The private half never leaves the
// node; the public half and its ID are what the node publishes in Raft so
// every other node can verify what it signs.
type Signer struct {
	id      string
	private ed25519.PrivateKey
	public  ed25519.PublicKey
}

// KeyID returns the ID of a public key: the first 8 bytes of its SHA-256, in
// hex (16 characters). It is derived rather than chosen so that a key and its
// ID cannot be published mismatched, and a restarted node keeps its ID.
func KeyID(public ed25519.PublicKey) string {
	sum := sha256.Sum256(public)
	return hex.EncodeToString(sum[:8])
}

// NewSigner returns a Signer for a private key held in memory (tests, and any
// caller that keeps the key elsewhere than LoadOrCreateKey does).
func NewSigner(private ed25519.PrivateKey) *Signer {
	public := private.Public().(ed25519.PublicKey)
	return &Signer{id: KeyID(public), private: private, public: public}
}

// KeyID returns the signer's key ID, the "kid" of every token it issues.
func (s *Signer) KeyID() string { return s.id }

// PublicKey returns the public key to publish.
func (s *Signer) PublicKey() ed25519.PublicKey { return s.public }

// LoadOrCreateKey returns the signing key kept in dir/signing.key, creating
// dir (0700) and a new key (0600) on first start. The file holds the raw
// 32-byte Ed25519 seed. A key readable or writable by anyone but its owner,
// or of the wrong size, is refused rather than used or replaced: either means
// something is wrong that an operator must look at, and replacing it silently
// would invalidate every token the node has issued.
func LoadOrCreateKey(dir string) (*Signer, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("identity: create %s: %w", dir, err)
	}
	info, err := os.Stat(dir)
	if err != nil {
		return nil, fmt.Errorf("identity: %w", err)
	}
	if perm := info.Mode().Perm(); perm&0o077 != 0 {
		return nil, fmt.Errorf("%w: directory %s has mode %04o, want 0700 (chmod 700 it)", ErrKeyFile, dir, perm)
	}
	path := filepath.Join(dir, KeyFileName)
	seed, err := readSeed(path)
	if errors.Is(err, fs.ErrNotExist) {
		return createKey(dir, path)
	}
	if err != nil {
		return nil, err
	}
	return NewSigner(ed25519.NewKeyFromSeed(seed)), nil
}

// readSeed reads and checks an existing key file.
func readSeed(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("identity: %w", err)
	}
	if !info.Mode().IsRegular() {
		return nil, fmt.Errorf("%w: %s is not a regular file", ErrKeyFile, path)
	}
	if perm := info.Mode().Perm(); perm&0o077 != 0 {
		return nil, fmt.Errorf("%w: %s has mode %04o, want 0600 (chmod 600 it)", ErrKeyFile, path, perm)
	}
	if info.Size() != ed25519.SeedSize {
		return nil, fmt.Errorf("%w: %s is %d bytes, want %d (an Ed25519 seed)", ErrKeyFile, path, info.Size(), ed25519.SeedSize)
	}
	seed := make([]byte, ed25519.SeedSize)
	if _, err := f.ReadAt(seed, 0); err != nil {
		return nil, fmt.Errorf("identity: read %s: %w", path, err)
	}
	return seed, nil
}

// createKey writes a fresh key through a temporary file renamed into place,
// so a crash leaves either no key or a whole one, never a short file.
func createKey(dir, path string) (*Signer, error) {
	seed := make([]byte, ed25519.SeedSize)
	if _, err := rand.Read(seed); err != nil {
		return nil, fmt.Errorf("identity: %w", err)
	}
	tmp, err := os.CreateTemp(dir, KeyFileName+".tmp-*") // created 0600
	if err != nil {
		return nil, fmt.Errorf("identity: %w", err)
	}
	defer os.Remove(tmp.Name()) // a no-op once renamed
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return nil, fmt.Errorf("identity: %w", err)
	}
	if _, err := tmp.Write(seed); err != nil {
		tmp.Close()
		return nil, fmt.Errorf("identity: write key: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return nil, fmt.Errorf("identity: write key: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return nil, fmt.Errorf("identity: write key: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return nil, fmt.Errorf("identity: %w", err)
	}
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync() // make the rename durable; best effort where unsupported
		d.Close()
	}
	return NewSigner(ed25519.NewKeyFromSeed(seed)), nil
}
