package client

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// FileCache is a TokenCache of one file per key in a directory only its
// owner may enter (0700), each file readable by its owner only (0600). A
// token is a bearer secret: a file whose permissions are wider is not
// trusted (another user may have planted or read it) and is ignored. The
// key is hashed for the file name; the password is never stored.
type FileCache struct{ dir string }

// NewFileCache returns a cache in dir, made on the first Store.
func NewFileCache(dir string) *FileCache { return &FileCache{dir: dir} }

// path is the file that holds key's token.
func (c *FileCache) path(key string) string {
	sum := sha256.Sum256([]byte(key))
	return filepath.Join(c.dir, "token-"+hex.EncodeToString(sum[:16])+".json")
}

// Load returns key's token, if a file only its owner can read holds one.
func (c *FileCache) Load(key string) (Token, bool) {
	f, err := os.Open(c.path(key))
	if err != nil {
		return Token{}, false
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil || !st.Mode().IsRegular() || st.Mode().Perm()&^0o600 != 0 {
		return Token{}, false
	}
	var t Token
	if json.NewDecoder(f).Decode(&t) != nil {
		return Token{}, false
	}
	return t, true
}

// Store writes key's token to a new 0600 file and renames it into place, so
// a reader never sees half a token and a file with wider permissions is
// replaced rather than written through.
func (c *FileCache) Store(key string, t Token) error {
	if err := os.MkdirAll(c.dir, 0o700); err != nil {
		return fmt.Errorf("token cache: %w", err)
	}
	if err := os.Chmod(c.dir, 0o700); err != nil { // made wider by someone else
		return fmt.Errorf("token cache: %w", err)
	}
	data, err := json.Marshal(t)
	if err != nil {
		return fmt.Errorf("token cache: %w", err)
	}
	f, err := os.CreateTemp(c.dir, ".token-*")
	if err != nil {
		return fmt.Errorf("token cache: %w", err)
	}
	defer os.Remove(f.Name()) // after a successful rename there is nothing to remove
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		return fmt.Errorf("token cache: %w", err)
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return fmt.Errorf("token cache: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("token cache: %w", err)
	}
	if err := os.Rename(f.Name(), c.path(key)); err != nil {
		return fmt.Errorf("token cache: %w", err)
	}
	return nil
}

// Delete forgets key's token; a missing file is not an error.
func (c *FileCache) Delete(key string) error {
	if err := os.Remove(c.path(key)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("token cache: %w", err)
	}
	return nil
}
