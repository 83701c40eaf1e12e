package fsm

import (
	"encoding/base64"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"
	"unicode"
)

// Keypairs are Nova's os-keypairs: SSH public keys owned by a user (not a
// project), named uniquely per user. A server copies its key at create
// (Instance.KeyData), as Nova does, so deleting or re-creating a keypair
// later changes no server. The key itself is parsed and fingerprinted by
// the API: a crypto library's verdict may change between versions, and a
// replica must never refuse what another one applied. Apply checks only
// the shape.

// Keypair types, Nova's: an SSH public key (one line), or (microversion
// 2.2) an X.509 certificate in PEM (several lines), which Windows guests
// use to log in.
const (
	KeyPairTypeSSH  = "ssh"
	KeyPairTypeX509 = "x509"
)

// Bounds of what a keypair and a server's user data may hold.
const (
	// MaxUserDataLen is Nova's limit on user data: 65535 bytes of base64 text.
	MaxUserDataLen = 65535
	// maxPublicKeyLen bounds a public key's text (an RSA 16384-bit key in
	// OpenSSH form is under 3 KiB).
	maxPublicKeyLen = 16 << 10
	// keyPairNameChars are the characters Nova (microversion 2.92) allows in
	// a keypair name besides letters and digits.
	keyPairNameChars = "@._- "
)

// KeyPair is one user's public key. ProjectID is the project the user's
// token was scoped to when it was made: its quota limits the user's
// keypairs (Nova counts keypairs per user against the project's limit).
type KeyPair struct {
	Name        string    `json:"name"`
	UserID      string    `json:"user_id"`
	ProjectID   string    `json:"project_id,omitempty"`
	PublicKey   string    `json:"public_key"`
	Fingerprint string    `json:"fingerprint"`
	Type        string    `json:"type"`
	Created     time.Time `json:"created"`
	Indexes
}

// ValidKeyPairName is Nova's rule for keypair names: 1 to 255 ASCII letters,
// digits, '@', '.', '_', '-' and spaces, not starting or ending with a space.
// The API checks it before proposing; Apply checks it again.
func ValidKeyPairName(name string) error {
	switch {
	case name == "":
		return fmt.Errorf("%w: keypair name is empty", ErrInvalid)
	case len(name) > maxNameLength:
		return fmt.Errorf("%w: keypair name is longer than %d characters", ErrInvalid, maxNameLength)
	case strings.TrimSpace(name) != name:
		return fmt.Errorf("%w: keypair name must not start or end with a space", ErrInvalid)
	}
	for _, r := range name {
		if r > unicode.MaxASCII || !(unicode.IsLetter(r) || unicode.IsDigit(r) || strings.ContainsRune(keyPairNameChars, r)) {
			return fmt.Errorf("%w: keypair name contains unsafe characters (allowed: letters, digits, spaces and %q)",
				ErrInvalid, strings.TrimSpace(keyPairNameChars))
		}
	}
	return nil
}

// ValidUserData is the rule for a server's user data: base64 text (line
// breaks allowed, as base64(1) wraps) of at most MaxUserDataLen bytes; ""
// is none. The message never repeats the data, which may hold secrets.
func ValidUserData(s string) error {
	if len(s) > MaxUserDataLen {
		return fmt.Errorf("%w: user data is %d bytes of base64; at most %d are allowed", ErrInvalid, len(s), MaxUserDataLen)
	}
	if _, err := base64.StdEncoding.DecodeString(s); err != nil {
		return fmt.Errorf("%w: user data is not valid base64", ErrInvalid)
	}
	return nil
}

// validKeyPair checks a keypair's shape before it is stored.
func validKeyPair(k *KeyPair) error {
	if err := validName("keypair user ID", k.UserID); err != nil {
		return err
	}
	if err := ValidKeyPairName(k.Name); err != nil {
		return err
	}
	switch k.Type {
	case KeyPairTypeSSH:
		if err := validKeyData(k.PublicKey); err != nil {
			return err
		}
	case KeyPairTypeX509:
		if err := validCertData(k.PublicKey); err != nil {
			return err
		}
	default:
		return fmt.Errorf("%w: keypair type must be %q or %q, not %q", ErrInvalid, KeyPairTypeSSH, KeyPairTypeX509, k.Type)
	}
	return validName("keypair fingerprint", k.Fingerprint)
}

// validKeyData checks the shape of a public key's text: one line, not
// empty, bounded.
func validKeyData(key string) error {
	switch {
	case strings.TrimSpace(key) == "":
		return fmt.Errorf("%w: public key is empty", ErrInvalid)
	case len(key) > maxPublicKeyLen:
		return fmt.Errorf("%w: public key is longer than %d bytes", ErrInvalid, maxPublicKeyLen)
	case strings.IndexFunc(key, unicode.IsControl) >= 0:
		return fmt.Errorf("%w: public key must be one line without control characters", ErrInvalid)
	}
	return nil
}

// validCertData checks the shape of a certificate's text: PEM lines, not
// empty, bounded.
func validCertData(cert string) error {
	switch {
	case strings.TrimSpace(cert) == "":
		return fmt.Errorf("%w: certificate is empty", ErrInvalid)
	case len(cert) > maxPublicKeyLen:
		return fmt.Errorf("%w: certificate is longer than %d bytes", ErrInvalid, maxPublicKeyLen)
	case strings.IndexFunc(cert, func(r rune) bool { return r != '\n' && r != '\r' && unicode.IsControl(r) }) >= 0:
		return fmt.Errorf("%w: certificate must be PEM text without control characters", ErrInvalid)
	}
	return nil
}

// validBootData checks what a new server hands its guest: a key name with
// its key (both or neither) and user data.
func validBootData(n NewInstance) error {
	if (n.KeyName == "") != (n.KeyData == "") {
		return fmt.Errorf("%w: server %s: key name and key data go together", ErrInvalid, n.ID)
	}
	if n.KeyName != "" {
		if err := ValidKeyPairName(n.KeyName); err != nil {
			return err
		}
		if err := validKeyData(n.KeyData); err != nil {
			return err
		}
	}
	return ValidUserData(n.UserData)
}

// keyPairsOf counts a user's keypairs (what the key_pairs quota counts).
func (s *State) keyPairsOf(userID string) int { return len(s.KeyPairs[userID]) }

// KeyPairsOf lists a user's keypairs ordered by name.
func (f *FSM) KeyPairsOf(userID string) []KeyPair {
	f.mu.RLock()
	defer f.mu.RUnlock()
	mine := f.state.KeyPairs[userID]
	out := make([]KeyPair, 0, len(mine))
	for _, name := range slices.Sorted(maps.Keys(mine)) {
		out = append(out, *mine[name])
	}
	return out
}

// KeyPair finds one of a user's keypairs by name.
func (f *FSM) KeyPair(userID, name string) (KeyPair, error) {
	f.mu.RLock()
	defer f.mu.RUnlock()
	if k, ok := f.state.KeyPairs[userID][name]; ok {
		return *k, nil
	}
	return KeyPair{}, fmt.Errorf("%w: keypair %q of user %s", ErrNotFound, name, userID)
}
