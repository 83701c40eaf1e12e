package fsm

import (
	"crypto/subtle"
	"fmt"
	"time"
)

// CreateJoinToken records a new join token. The proposing node makes the ID,
// the secret (of which only SecretHash is carried) and the times; CreatedAt
// is also the command's "now", by which spent tokens are pruned. CreatedBy is
// the ID of the user who asked.
type CreateJoinToken struct {
	ID         string    `json:"id"`
	SecretHash string    `json:"secret_hash"`
	CreatedAt  time.Time `json:"created_at"`
	ExpiresAt  time.Time `json:"expires_at"`
	MaxUses    int       `json:"max_uses"`
	CreatedBy  string    `json:"created_by,omitempty"`
}

// ConsumeJoinToken spends one use of a join token for Node. It is refused
// with ErrUnauthorized when the token is unknown or SecretHash is not its
// hash (one message for both: a caller without the secret learns nothing),
// revoked, expired by Now, or used up.
type ConsumeJoinToken struct {
	ID         string    `json:"id"`
	SecretHash string    `json:"secret_hash"`
	Node       string    `json:"node"`
	Now        time.Time `json:"now"`
}

// RevokeJoinToken stops a join token from admitting anyone more. Revoking a
// revoked token succeeds and changes nothing.
type RevokeJoinToken struct {
	ID string `json:"id"`
}

// RecordNodeCert records a node certificate the CA issued (a join, a
// renewal), so that it can be revoked, and prunes the records of
// certificates expired by Now. Recording the same certificate again succeeds
// and changes nothing: a proposer cannot know whether a first try committed.
type RecordNodeCert struct {
	Serial   string    `json:"serial"`
	Node     string    `json:"node"`
	NotAfter time.Time `json:"not_after"`
	Now      time.Time `json:"now"`
}

// RevokeNodeCerts revokes every recorded certificate of Node. Removing a
// host record does the same in its own Apply.
type RevokeNodeCerts struct {
	Node string `json:"node"`
}

// InstallGossipKey adds a sealed key to the gossip keyring; nodes decrypt
// with it from then on. The first key of an empty keyring becomes its
// primary, as memberlist does.
type InstallGossipKey struct {
	ID     string `json:"id"`
	Sealed []byte `json:"sealed"`
}

// UseGossipKey makes an installed key the primary: nodes encrypt with it.
type UseGossipKey struct {
	ID string `json:"id"`
}

// RemoveGossipKey takes a key off the keyring; the primary cannot go.
type RemoveGossipKey struct {
	ID string `json:"id"`
}

func (*CreateJoinToken) Type() Type  { return TypeCreateJoinToken }
func (*ConsumeJoinToken) Type() Type { return TypeConsumeJoinToken }
func (*RevokeJoinToken) Type() Type  { return TypeRevokeJoinToken }
func (*RecordNodeCert) Type() Type   { return TypeRecordNodeCert }
func (*RevokeNodeCerts) Type() Type  { return TypeRevokeNodeCerts }
func (*InstallGossipKey) Type() Type { return TypeInstallGossipKey }
func (*UseGossipKey) Type() Type     { return TypeUseGossipKey }
func (*RemoveGossipKey) Type() Type  { return TypeRemoveGossipKey }

// joinRefused is why a join token was refused: its text is the whole
// message, and it is ErrUnauthorized.
type joinRefused struct{ text string }

func (e *joinRefused) Error() string { return e.text }
func (e *joinRefused) Unwrap() error { return ErrUnauthorized }

func refuseJoin(format string, args ...any) error {
	return &joinRefused{text: fmt.Sprintf(format, args...)}
}

func applyCreateJoinToken(s *State, index uint64, c Command) error {
	cmd := c.(*CreateJoinToken)
	if err := validName("join token ID", cmd.ID); err != nil {
		return err
	}
	if err := validSecretHash(cmd.SecretHash); err != nil {
		return err
	}
	if cmd.CreatedBy != "" {
		if err := validName("join token creator", cmd.CreatedBy); err != nil {
			return err
		}
	}
	switch {
	case cmd.MaxUses < 1 || cmd.MaxUses > MaxJoinTokenUses:
		return fmt.Errorf("%w: a join token admits 1 to %d nodes, not %d", ErrInvalid, MaxJoinTokenUses, cmd.MaxUses)
	case cmd.CreatedAt.IsZero():
		return fmt.Errorf("%w: a join token needs its creation time", ErrInvalid)
	case !cmd.ExpiresAt.After(cmd.CreatedAt):
		return fmt.Errorf("%w: a join token must expire after it is created", ErrInvalid)
	}
	if _, ok := s.JoinTokens[cmd.ID]; ok {
		return fmt.Errorf("%w: join token %q already exists", ErrConflict, cmd.ID)
	}
	s.pruneJoinTokens(cmd.CreatedAt)
	t := &JoinToken{ID: cmd.ID, SecretHash: cmd.SecretHash, CreatedAt: cmd.CreatedAt, ExpiresAt: cmd.ExpiresAt,
		MaxUses: cmd.MaxUses, CreatedBy: cmd.CreatedBy}
	t.CreateIndex, t.ModifyIndex = index, index
	s.JoinTokens[t.ID] = t
	return nil
}

func applyConsumeJoinToken(s *State, index uint64, c Command) error {
	cmd := c.(*ConsumeJoinToken)
	if err := validName("join token ID", cmd.ID); err != nil {
		return err
	}
	if err := validSecretHash(cmd.SecretHash); err != nil {
		return err
	}
	if err := validName("joining node", cmd.Node); err != nil {
		return err
	}
	if cmd.Now.IsZero() {
		return fmt.Errorf("%w: consuming a join token needs a time", ErrInvalid)
	}
	t, ok := s.JoinTokens[cmd.ID]
	// The hashes are compared in constant time even though they are
	// hashes: what is compared should not be learnt from how long it took.
	if !ok || subtle.ConstantTimeCompare([]byte(t.SecretHash), []byte(cmd.SecretHash)) != 1 {
		return refuseJoin("join token not recognised")
	}
	switch {
	case t.Revoked:
		return refuseJoin("join token revoked")
	case !cmd.Now.Before(t.ExpiresAt):
		return refuseJoin("join token expired at %s", t.ExpiresAt.UTC().Format(time.RFC3339))
	case t.Uses >= t.MaxUses:
		return refuseJoin("join token already used (%d of %d uses)", t.Uses, t.MaxUses)
	}
	// Pruning cannot take t: it has not expired.
	s.pruneJoinTokens(cmd.Now)
	t.Uses++
	t.UsedBy = append(t.UsedBy, cmd.Node)
	t.ModifyIndex = index
	return nil
}

func applyRevokeJoinToken(s *State, index uint64, c Command) error {
	id := c.(*RevokeJoinToken).ID
	if err := validName("join token ID", id); err != nil {
		return err
	}
	t, err := find(s.JoinTokens, "join token", id)
	if err != nil {
		return err
	}
	if !t.Revoked {
		t.Revoked, t.ModifyIndex = true, index
	}
	return nil
}

func applyRecordNodeCert(s *State, index uint64, c Command) error {
	cmd := c.(*RecordNodeCert)
	if err := validSerial(cmd.Serial); err != nil {
		return err
	}
	if err := validName("certificate node", cmd.Node); err != nil {
		return err
	}
	switch {
	case cmd.Now.IsZero():
		return fmt.Errorf("%w: recording a certificate needs a time", ErrInvalid)
	case !cmd.NotAfter.After(cmd.Now):
		return fmt.Errorf("%w: certificate %s has expired already", ErrInvalid, cmd.Serial)
	}
	if old, ok := s.NodeCerts[cmd.Serial]; ok {
		if old.Revoked {
			return fmt.Errorf("%w: certificate %s is revoked", ErrConflict, cmd.Serial)
		}
		if old.Node != cmd.Node || !old.NotAfter.Equal(cmd.NotAfter) {
			return fmt.Errorf("%w: certificate %s is recorded for node %q", ErrConflict, cmd.Serial, old.Node)
		}
	}
	s.pruneNodeCerts(cmd.Now)
	if _, ok := s.NodeCerts[cmd.Serial]; ok {
		return nil
	}
	rec := &NodeCert{Serial: cmd.Serial, Node: cmd.Node, NotAfter: cmd.NotAfter}
	rec.CreateIndex, rec.ModifyIndex = index, index
	s.NodeCerts[rec.Serial] = rec
	return nil
}

func applyRevokeNodeCerts(s *State, index uint64, c Command) error {
	node := c.(*RevokeNodeCerts).Node
	if err := validName("certificate node", node); err != nil {
		return err
	}
	// A node with no record is most likely a mistyped name: say so. Nothing
	// was changed then.
	if s.revokeNodeCerts(node, index) == 0 {
		return fmt.Errorf("%w: no certificate of node %q is recorded", ErrNotFound, node)
	}
	return nil
}

func applyInstallGossipKey(s *State, index uint64, c Command) error {
	cmd := c.(*InstallGossipKey)
	if err := validGossipKeyID(cmd.ID); err != nil {
		return err
	}
	if len(cmd.Sealed) == 0 || len(cmd.Sealed) > maxSealedGossipKey {
		return fmt.Errorf("%w: a sealed gossip key is 1 to %d bytes, not %d", ErrInvalid, maxSealedGossipKey, len(cmd.Sealed))
	}
	if _, ok := s.GossipKeys[cmd.ID]; ok {
		return fmt.Errorf("%w: gossip key %s is installed already", ErrConflict, cmd.ID)
	}
	k := &GossipKey{ID: cmd.ID, Sealed: cmd.Sealed}
	k.CreateIndex, k.ModifyIndex = index, index
	s.GossipKeys[k.ID] = k
	if s.GossipPrimary == "" {
		s.GossipPrimary = k.ID
	}
	return nil
}

func applyUseGossipKey(s *State, _ uint64, c Command) error {
	id := c.(*UseGossipKey).ID
	if err := validGossipKeyID(id); err != nil {
		return err
	}
	if _, err := find(s.GossipKeys, "gossip key", id); err != nil {
		return err
	}
	s.GossipPrimary = id
	return nil
}

func applyRemoveGossipKey(s *State, _ uint64, c Command) error {
	id := c.(*RemoveGossipKey).ID
	if err := validGossipKeyID(id); err != nil {
		return err
	}
	if _, err := find(s.GossipKeys, "gossip key", id); err != nil {
		return err
	}
	if id == s.GossipPrimary {
		return fmt.Errorf("%w: gossip key %s is the primary key; make another key primary before removing it", ErrConflict, id)
	}
	delete(s.GossipKeys, id)
	return nil
}
