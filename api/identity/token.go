package identity

import (
	"bytes"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/shoal-project/shoal/fsm"
)

// Prefix starts every token: the format's name and version, so a later
// format can be told apart (and an OpenStack token from elsewhere refused at
// once).
const Prefix = "shoal1."

// MaxTokenSize bounds a token in bytes. It keeps X-Auth-Token headers small
// and lets Parse refuse oversized input before decoding anything.
const MaxTokenSize = 512

// Claims is what a token asserts, all of it fixed at issue. Roles are not
// among them: they are read live when the token is validated.
type Claims struct {
	KeyID     string    // the signing key's ID; Issue stamps it
	UserID    string    // who authenticated
	ProjectID string    // the project the token is scoped to
	IssuedAt  time.Time // whole seconds, UTC
	ExpiresAt time.Time // whole seconds, UTC
	AuditID   string    // names the token for revocation (Keystone's audit_ids)
	Methods   []string  // how the user authenticated, e.g. ["password"]
}

// payload is the signed JSON: short names, unix seconds.
type payload struct {
	KeyID     string   `json:"kid"`
	UserID    string   `json:"uid"`
	ProjectID string   `json:"pid"`
	IssuedAt  int64    `json:"iat"`
	ExpiresAt int64    `json:"exp"`
	AuditID   string   `json:"aid"`
	Methods   []string `json:"m"`
}

var b64 = base64.RawURLEncoding.Strict()

// Issue signs claims into a token. It stamps the signer's key ID and rounds
// both times down to whole seconds, which is all the token carries.
func (s *Signer) Issue(c Claims) (string, error) {
	p := payload{
		KeyID:     s.id,
		UserID:    c.UserID,
		ProjectID: c.ProjectID,
		IssuedAt:  c.IssuedAt.Unix(),
		ExpiresAt: c.ExpiresAt.Unix(),
		AuditID:   c.AuditID,
		Methods:   c.Methods,
	}
	if err := p.check(); err != nil {
		return "", fmt.Errorf("%w: cannot issue token: %v", fsm.ErrInvalid, err)
	}
	raw, err := json.Marshal(p)
	if err != nil {
		return "", fmt.Errorf("identity: encode token: %w", err)
	}
	signed := Prefix + b64.EncodeToString(raw)
	token := signed + "." + b64.EncodeToString(ed25519.Sign(s.private, []byte(signed)))
	if len(token) > MaxTokenSize {
		return "", fmt.Errorf("%w: cannot issue token: %d bytes, over the %d-byte limit", fsm.ErrInvalid, len(token), MaxTokenSize)
	}
	return token, nil
}

// KeySource finds the public keys tokens are verified with: the nodes' keys
// as published in Raft. retired is zero while the key is in service; a key
// retired at R still verifies tokens issued before R, until they expire.
type KeySource interface {
	PublicKey(kid string) (key ed25519.PublicKey, retired time.Time, ok bool)
}

// Parse checks a token's form, key and signature, and returns its claims. It
// does not decide whether they still hold: Validate does, against live
// state. Parse never panics, whatever the input (FuzzParse).
func Parse(token string, keys KeySource) (Claims, error) {
	if len(token) > MaxTokenSize {
		return Claims{}, ErrMalformed
	}
	rest, ok := strings.CutPrefix(token, Prefix)
	if !ok {
		return Claims{}, ErrMalformed
	}
	payloadPart, sigPart, ok := strings.Cut(rest, ".")
	if !ok {
		return Claims{}, ErrMalformed
	}
	raw, err := b64.DecodeString(payloadPart)
	if err != nil {
		return Claims{}, ErrMalformed
	}
	sig, err := b64.DecodeString(sigPart)
	if err != nil || len(sig) != ed25519.SignatureSize {
		return Claims{}, ErrMalformed
	}
	// The payload is decoded before its signature is checked because it
	// names the key to check it with; it is bounded and strictly decoded.
	var p payload
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p); err != nil {
		return Claims{}, ErrMalformed
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return Claims{}, ErrMalformed
	}
	if p.check() != nil {
		return Claims{}, ErrMalformed
	}
	key, retired, ok := keys.PublicKey(p.KeyID)
	if !ok || len(key) != ed25519.PublicKeySize {
		return Claims{}, ErrUnknownKey
	}
	if !ed25519.Verify(key, []byte(token[:len(Prefix)+len(payloadPart)]), sig) {
		return Claims{}, ErrBadSignature
	}
	c := p.claims()
	if !retired.IsZero() && !c.IssuedAt.Before(retired) {
		return Claims{}, ErrKeyRetired
	}
	return c, nil
}

// check holds the rules a payload meets whoever made it.
func (p *payload) check() error {
	switch {
	case !isKeyID(p.KeyID):
		return errors.New("key ID is not 16 hex characters")
	case p.UserID == "":
		return errors.New("no user ID")
	case p.ProjectID == "":
		return errors.New("no project ID")
	case p.AuditID == "":
		return errors.New("no audit ID")
	case p.IssuedAt <= 0:
		return errors.New("no issue time")
	case p.ExpiresAt <= p.IssuedAt:
		return errors.New("expires before it is issued")
	case len(p.Methods) == 0:
		return errors.New("no authentication method")
	}
	return nil
}

func (p *payload) claims() Claims {
	return Claims{
		KeyID:     p.KeyID,
		UserID:    p.UserID,
		ProjectID: p.ProjectID,
		IssuedAt:  time.Unix(p.IssuedAt, 0).UTC(),
		ExpiresAt: time.Unix(p.ExpiresAt, 0).UTC(),
		AuditID:   p.AuditID,
		Methods:   p.Methods,
	}
}

func isKeyID(s string) bool {
	if len(s) != 16 {
		return false
	}
	for _, r := range s {
		if (r < '0' || r > '9') && (r < 'a' || r > 'f') {
			return false
		}
	}
	return true
}
