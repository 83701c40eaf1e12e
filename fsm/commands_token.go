package fsm

import (
	"bytes"
	"crypto/ed25519"
	"fmt"
	"maps"
	"time"
)

// PublishSigningKey makes a node's token signing key known to every replica.
// Publishing the same key again succeeds and changes nothing: a restarted
// node cannot know whether its earlier proposal was committed.
type PublishSigningKey struct {
	Key SigningKey `json:"key"`
}

// RetireSigningKey stops a key from vouching for tokens issued from Time on.
// Retiring a retired key succeeds and keeps the first time.
type RetireSigningKey struct {
	ID   string    `json:"id"`
	Time time.Time `json:"time"`
}

// RevokeToken records a revoked token until ExpiresAt, and prunes the
// revocations that have run out by Time: Apply has no clock, so the
// revocation list is cleaned by the commands that add to it.
type RevokeToken struct {
	AuditID   string    `json:"audit_id"`
	ExpiresAt time.Time `json:"expires_at"`
	Time      time.Time `json:"time"`
}

func (*PublishSigningKey) Type() Type { return TypePublishSigningKey }
func (*RetireSigningKey) Type() Type  { return TypeRetireSigningKey }
func (*RevokeToken) Type() Type       { return TypeRevokeToken }

func applyPublishSigningKey(s *State, index uint64, c Command) error {
	k := c.(*PublishSigningKey).Key
	if err := validName("signing key ID", k.ID); err != nil {
		return err
	}
	if err := validName("signing key host", k.Host); err != nil {
		return err
	}
	switch {
	case len(k.PublicKey) != ed25519.PublicKeySize:
		return fmt.Errorf("%w: a signing key's public key is %d bytes (Ed25519), not %d", ErrInvalid, ed25519.PublicKeySize, len(k.PublicKey))
	case k.Created.IsZero():
		return fmt.Errorf("%w: a signing key needs its creation time", ErrInvalid)
	case !k.Retired.IsZero():
		return fmt.Errorf("%w: a signing key is published unretired", ErrInvalid)
	}
	if old, ok := s.SigningKeys[k.ID]; ok {
		if old.Host == k.Host && bytes.Equal(old.PublicKey, k.PublicKey) && old.Retired.IsZero() {
			return nil
		}
		return fmt.Errorf("%w: signing key %q already exists", ErrConflict, k.ID)
	}
	k.CreateIndex, k.ModifyIndex = index, index
	s.SigningKeys[k.ID] = &k
	return nil
}

func applyRetireSigningKey(s *State, index uint64, c Command) error {
	cmd := c.(*RetireSigningKey)
	k, err := find(s.SigningKeys, "signing key", cmd.ID)
	if err != nil {
		return err
	}
	if cmd.Time.IsZero() {
		return fmt.Errorf("%w: retiring a signing key needs a time", ErrInvalid)
	}
	if k.Retired.IsZero() {
		k.Retired = cmd.Time
		k.ModifyIndex = index
	}
	return nil
}

func applyRevokeToken(s *State, _ uint64, c Command) error {
	cmd := c.(*RevokeToken)
	if err := validName("audit ID", cmd.AuditID); err != nil {
		return err
	}
	if cmd.ExpiresAt.IsZero() || cmd.Time.IsZero() {
		return fmt.Errorf("%w: a revocation needs the token's expiry and a time", ErrInvalid)
	}
	maps.DeleteFunc(s.Revoked, func(_ string, r TokenRevoked) bool { return !r.ExpiresAt.After(cmd.Time) })
	if !cmd.ExpiresAt.After(cmd.Time) {
		return nil // expired already: nothing left to refuse
	}
	if old, ok := s.Revoked[cmd.AuditID]; ok && !cmd.ExpiresAt.After(old.ExpiresAt) {
		return nil
	}
	s.Revoked[cmd.AuditID] = TokenRevoked{AuditID: cmd.AuditID, ExpiresAt: cmd.ExpiresAt}
	return nil
}
