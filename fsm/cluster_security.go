package fsm

import (
	"bytes"
	"cmp"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"
)

// JoinToken is the record of a join token. The token itself (its secret)
// never enters the log: only SecretHash, the hex SHA-256 of the secret, which
// ConsumeJoinToken compares. A token admits up to MaxUses nodes, until
// ExpiresAt, unless Revoked; UsedBy names the nodes it admitted, in order.
type JoinToken struct {
	ID         string    `json:"id"`
	SecretHash string    `json:"secret_hash"`
	CreatedAt  time.Time `json:"created_at"`
	ExpiresAt  time.Time `json:"expires_at"`
	MaxUses    int       `json:"max_uses"`
	Uses       int       `json:"uses"`
	CreatedBy  string    `json:"created_by,omitempty"`
	Revoked    bool      `json:"revoked,omitempty"`
	UsedBy     []string  `json:"used_by,omitempty"`
	Indexes
}

// clone copies a join token so readers never share UsedBy with the state.
func (t *JoinToken) clone() JoinToken {
	c := *t
	c.UsedBy = slices.Clone(t.UsedBy)
	return c
}

// NodeCert records a node certificate the cluster CA issued, by its serial
// (lowercase hex). The records are a deny-list: a serial that is not here is
// not refused (a replica may not have seen a new leader's certificate yet),
// one here and Revoked is. A record stays until its certificate has expired,
// when it would be refused anyway.
type NodeCert struct {
	Serial   string    `json:"serial"`
	Node     string    `json:"node"`
	NotAfter time.Time `json:"not_after"`
	Revoked  bool      `json:"revoked,omitempty"`
	Indexes
}

// GossipKey is one key of the gossip keyring, sealed with a key derived from
// the cluster CA's private key: the log never holds a gossip key in clear.
// ID is the hex of the first 8 bytes of the SHA-256 of the plain key.
type GossipKey struct {
	ID     string `json:"id"`
	Sealed []byte `json:"sealed"`
	Indexes
}

// clone copies a gossip key so readers never share its bytes.
func (k *GossipKey) clone() GossipKey {
	c := *k
	c.Sealed = bytes.Clone(k.Sealed)
	return c
}

// Limits on what the cluster security commands carry.
const (
	// MaxJoinTokenUses bounds a join token's uses (and so its UsedBy list).
	MaxJoinTokenUses = 1000
	// joinTokenRetention is how long past its expiry a token stays listed.
	joinTokenRetention = 24 * time.Hour
	// maxSerialLength is 20 octets in hex, RFC 5280's bound on a serial.
	maxSerialLength = 40
	// maxSealedGossipKey bounds a sealed key (a 32-byte key sealed with
	// AES-GCM is 60 bytes).
	maxSealedGossipKey = 256
	// gossipKeyIDLength is 8 bytes in hex.
	gossipKeyIDLength = 16
)

// lowerHex reports whether s is only lowercase hexadecimal digits.
func lowerHex(s string) bool {
	for i := range len(s) {
		if c := s[i]; !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

func validSecretHash(h string) error {
	if len(h) != 64 || !lowerHex(h) {
		return fmt.Errorf("%w: a join token's secret hash is 64 lowercase hex digits (SHA-256)", ErrInvalid)
	}
	return nil
}

func validSerial(serial string) error {
	if serial == "" || len(serial) > maxSerialLength || !lowerHex(serial) {
		return fmt.Errorf("%w: a certificate serial is 1 to %d lowercase hex digits", ErrInvalid, maxSerialLength)
	}
	return nil
}

func validGossipKeyID(id string) error {
	if len(id) != gossipKeyIDLength || !lowerHex(id) {
		return fmt.Errorf("%w: a gossip key ID is %d lowercase hex digits", ErrInvalid, gossipKeyIDLength)
	}
	return nil
}

// reindexClusterSecurity fills the tables left nil by an older snapshot.
func (s *State) reindexClusterSecurity() {
	if s.JoinTokens == nil {
		s.JoinTokens = map[string]*JoinToken{}
	}
	if s.NodeCerts == nil {
		s.NodeCerts = map[string]*NodeCert{}
	}
	if s.GossipKeys == nil {
		s.GossipKeys = map[string]*GossipKey{}
	}
}

// revokeNodeCerts marks every recorded certificate of node revoked and
// reports how many it knew of. It is the one home of the rule, called by
// RevokeNodeCerts and by the removal of a host record.
func (s *State) revokeNodeCerts(node string, index uint64) int {
	n := 0
	for _, c := range s.NodeCerts {
		if c.Node != node {
			continue
		}
		n++
		if !c.Revoked {
			c.Revoked, c.ModifyIndex = true, index
		}
	}
	return n
}

// JoinTokens lists the join tokens (spent, expired and revoked ones too,
// until they are pruned) ordered by creation time, then ID.
func (f *FSM) JoinTokens() []JoinToken {
	f.mu.RLock()
	defer f.mu.RUnlock()
	out := copyOut(f.state.JoinTokens, (*JoinToken).clone)
	slices.SortFunc(out, func(a, b JoinToken) int {
		return cmp.Or(a.CreatedAt.Compare(b.CreatedAt), strings.Compare(a.ID, b.ID))
	})
	return out
}

// JoinToken finds a join token by ID.
func (f *FSM) JoinToken(id string) (JoinToken, error) {
	f.mu.RLock()
	defer f.mu.RUnlock()
	t, err := find(f.state.JoinTokens, "join token", id)
	if err != nil {
		return JoinToken{}, err
	}
	return t.clone(), nil
}

// NodeCertRevoked reports whether the node certificate with serial (lowercase
// hex) was revoked. It is asked on every TLS handshake and internal request,
// so it is one map lookup under the read lock. An unknown serial is not
// revoked: the records are a deny-list.
func (f *FSM) NodeCertRevoked(serial string) bool {
	f.mu.RLock()
	defer f.mu.RUnlock()
	c, ok := f.state.NodeCerts[serial]
	return ok && c.Revoked
}

// NodeCerts lists the recorded certificates of node ("" for every node),
// ordered by expiry, then serial.
func (f *FSM) NodeCerts(node string) []NodeCert {
	f.mu.RLock()
	defer f.mu.RUnlock()
	out := []NodeCert{}
	for _, c := range f.state.NodeCerts {
		if node == "" || c.Node == node {
			out = append(out, *c)
		}
	}
	slices.SortFunc(out, func(a, b NodeCert) int {
		return cmp.Or(a.NotAfter.Compare(b.NotAfter), strings.Compare(a.Serial, b.Serial))
	})
	return out
}

// GossipKeys lists the gossip keyring, sealed, ordered by ID, and the ID of
// its primary key (the one gossip encrypts with); primary is "" while the
// keyring is empty.
func (f *FSM) GossipKeys() (keys []GossipKey, primary string) {
	f.mu.RLock()
	defer f.mu.RUnlock()
	keys = copyOut(f.state.GossipKeys, (*GossipKey).clone)
	slices.SortFunc(keys, func(a, b GossipKey) int { return strings.Compare(a.ID, b.ID) })
	return keys, f.state.GossipPrimary
}

// pruneJoinTokens drops the tokens that expired more than a day before now.
func (s *State) pruneJoinTokens(now time.Time) {
	maps.DeleteFunc(s.JoinTokens, func(_ string, t *JoinToken) bool {
		return t.ExpiresAt.Add(joinTokenRetention).Before(now)
	})
}

// pruneNodeCerts drops the records of certificates expired before now.
func (s *State) pruneNodeCerts(now time.Time) {
	maps.DeleteFunc(s.NodeCerts, func(_ string, c *NodeCert) bool { return c.NotAfter.Before(now) })
}
