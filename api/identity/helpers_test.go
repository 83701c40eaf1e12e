package identity

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"testing"
	"time"
)

// keyring is an in-memory KeySource: the keys published in Raft.
type keyring map[string]publishedKey

type publishedKey struct {
	key     ed25519.PublicKey
	retired time.Time
}

func (k keyring) PublicKey(kid string) (ed25519.PublicKey, time.Time, bool) {
	p, ok := k[kid]
	return p.key, p.retired, ok
}

func (k keyring) publish(s *Signer) { k[s.KeyID()] = publishedKey{key: s.PublicKey()} }

// memState is an in-memory State.
type memState struct {
	users    map[string]UserInfo
	projects map[string]bool // ID → enabled
	roles    map[[2]string]bool
	revoked  map[string]bool
}

func (m *memState) User(id string) (UserInfo, bool) { u, ok := m.users[id]; return u, ok }
func (m *memState) ProjectEnabled(id string) (bool, bool) {
	enabled, ok := m.projects[id]
	return enabled, ok
}
func (m *memState) HasRole(user, project string) bool { return m.roles[[2]string{user, project}] }
func (m *memState) Revoked(auditID string) bool       { return m.revoked[auditID] }

// Realistic IDs: 32 lowercase hex, as Keystone's.
const (
	userID    = "0123456789abcdef0123456789abcdef"
	projectID = "fedcba9876543210fedcba9876543210"
	auditID   = "00112233445566778899aabbccddeeff"
)

// issuedAt is a fixed clock for tests: whole seconds, UTC.
var issuedAt = time.Date(2026, 12, 3, 8, 0, 0, 0, time.UTC)

// liveState is a state in which claims() is valid.
func liveState() *memState {
	return &memState{
		users:    map[string]UserInfo{userID: {Enabled: true, TokensValidAfter: issuedAt.Add(-time.Hour)}},
		projects: map[string]bool{projectID: true},
		roles:    map[[2]string]bool{{userID, projectID}: true},
		revoked:  map[string]bool{},
	}
}

func claims() Claims {
	return Claims{
		UserID:    userID,
		ProjectID: projectID,
		IssuedAt:  issuedAt,
		ExpiresAt: issuedAt.Add(12 * time.Hour),
		AuditID:   auditID,
		Methods:   []string{"password"},
	}
}

func newSigner(t testing.TB) *Signer {
	t.Helper()
	_, private, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return NewSigner(private)
}

// forge builds a token from any payload, signed with any key: what an
// attacker can do.
func forge(t testing.TB, private ed25519.PrivateKey, p payload) string {
	t.Helper()
	raw, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	return signRaw(private, raw)
}

func signRaw(private ed25519.PrivateKey, raw []byte) string {
	signed := Prefix + b64.EncodeToString(raw)
	return signed + "." + b64.EncodeToString(ed25519.Sign(private, []byte(signed)))
}

func payloadOf(s *Signer, c Claims) payload {
	return payload{
		KeyID: s.KeyID(), UserID: c.UserID, ProjectID: c.ProjectID,
		IssuedAt: c.IssuedAt.Unix(), ExpiresAt: c.ExpiresAt.Unix(),
		AuditID: c.AuditID, Methods: c.Methods,
	}
}
