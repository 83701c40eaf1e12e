package fsm

import (
	"bytes"
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// DefaultDomainID is the one domain (Keystone's "default"); bootstrap makes it.
const DefaultDomainID = "default"

// The roles bootstrap makes, by name (Keystone's defaults since Rocky).
const (
	RoleAdmin  = "admin"
	RoleMember = "member"
	RoleReader = "reader"
)

// Domain is a Keystone domain; only DefaultDomainID exists.
type Domain struct {
	ID      string    `json:"id"`
	Name    string    `json:"name"`
	Enabled bool      `json:"enabled"`
	Created time.Time `json:"created"`
	Indexes
}

// Project is a Keystone project (Nova's tenant): what owns servers and quotas.
// Names are unique per domain, case-sensitive as in Keystone.
type Project struct {
	ID          string    `json:"id"`
	Name        string    `json:"name"`
	DomainID    string    `json:"domain_id"`
	Description string    `json:"description,omitempty"`
	Enabled     bool      `json:"enabled"`
	Created     time.Time `json:"created"`
	Indexes
}

// User is a Keystone user. PasswordHash is a bcrypt hash made before Raft;
// the replicated state holds it (any node must check passwords), but the API
// never shows it. Tokens issued before TokensValidAfter are dead: it moves on
// a password change and on disable.
type User struct {
	ID               string    `json:"id"`
	Name             string    `json:"name"`
	DomainID         string    `json:"domain_id"`
	Enabled          bool      `json:"enabled"`
	DefaultProjectID string    `json:"default_project_id,omitempty"`
	PasswordHash     string    `json:"password_hash,omitempty"`
	TokensValidAfter time.Time `json:"tokens_valid_after,omitzero"`
	// Extra is the JSON object of the attributes Keystone keeps beyond its
	// own (a user's email, say): text, so a reader's copy shares nothing.
	Extra   string    `json:"extra,omitempty"`
	Created time.Time `json:"created"`
	Updated time.Time `json:"updated"`
	Indexes
}

// Role is a Keystone role; names are unique.
type Role struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	Indexes
}

// RoleAssignment gives a user a role on a project. The state keeps the set
// sorted by (ProjectID, UserID, RoleID).
type RoleAssignment struct {
	ProjectID string `json:"project_id"`
	UserID    string `json:"user_id"`
	RoleID    string `json:"role_id"`
}

func (a RoleAssignment) compare(b RoleAssignment) int {
	if c := strings.Compare(a.ProjectID, b.ProjectID); c != 0 {
		return c
	}
	if c := strings.Compare(a.UserID, b.UserID); c != 0 {
		return c
	}
	return strings.Compare(a.RoleID, b.RoleID)
}

// SigningKey is the public half of a node's token signing key (Ed25519); the
// private half never leaves the node. ID is the kid tokens name. A token
// signed by a retired key is only good if it was issued before Retired.
type SigningKey struct {
	ID        string    `json:"id"`
	Host      string    `json:"host"`
	PublicKey []byte    `json:"public_key"`
	Created   time.Time `json:"created"`
	Retired   time.Time `json:"retired,omitzero"`
	Indexes
}

// clone copies a signing key so readers never share its key bytes.
func (k *SigningKey) clone() SigningKey {
	c := *k
	c.PublicKey = bytes.Clone(k.PublicKey)
	return c
}

// TokenRevoked records a revoked token by its audit ID until the token would
// have expired anyway; later RevokeToken commands prune it after ExpiresAt.
type TokenRevoked struct {
	AuditID   string    `json:"audit_id"`
	ExpiresAt time.Time `json:"expires_at"`
}

// maxNameLength is Keystone's limit on names (its columns are 255 wide).
const maxNameLength = 255

// validName is the rule for names and IDs of identity objects: non-empty, at
// most 255 characters, no control characters (which would forge lines in
// logs and break headers). The codec has made the text valid UTF-8 already.
func validName(what, s string) error {
	switch {
	case s == "":
		return fmt.Errorf("%w: %s is empty", ErrInvalid, what)
	case utf8.RuneCountInString(s) > maxNameLength:
		return fmt.Errorf("%w: %s is longer than %d characters", ErrInvalid, what, maxNameLength)
	}
	for _, r := range s {
		if unicode.IsControl(r) {
			return fmt.Errorf("%w: %s contains a control character", ErrInvalid, what)
		}
	}
	return nil
}

// validPasswordHash accepts what bcrypt produces: "$2a$", "$2b$" or "$2y$", a
// two-digit cost from 04 to 31, "$", then 53 characters of bcrypt's base64
// (22 of salt, 31 of hash). Checking the shape here keeps a clear password
// or a truncated hash out of the log's state, whoever proposed it.
func validPasswordHash(h string) error {
	bad := fmt.Errorf("%w: the password hash is not a bcrypt hash", ErrInvalid)
	if len(h) != 60 || h[0] != '$' || h[1] != '2' || h[3] != '$' || h[6] != '$' {
		return bad
	}
	if v := h[2]; v != 'a' && v != 'b' && v != 'y' {
		return bad
	}
	if h[4] < '0' || h[4] > '9' || h[5] < '0' || h[5] > '9' {
		return bad
	}
	if cost := int(h[4]-'0')*10 + int(h[5]-'0'); cost < 4 || cost > 31 {
		return bad
	}
	for _, c := range h[7:] {
		if !(c == '.' || c == '/' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9') {
			return bad
		}
	}
	return nil
}

// nameKey is the key of a project or user name in its domain's name index;
// names hold no control characters, so the NUL cannot be forged.
func nameKey(domainID, name string) string { return domainID + "\x00" + name }

// reindexIdentity fills the identity tables left nil by an older snapshot
// and rebuilds their name indexes.
func (s *State) reindexIdentity() {
	if s.Domains == nil {
		s.Domains = map[string]*Domain{}
	}
	if s.Projects == nil {
		s.Projects = map[string]*Project{}
	}
	if s.Users == nil {
		s.Users = map[string]*User{}
	}
	if s.Roles == nil {
		s.Roles = map[string]*Role{}
	}
	if s.SigningKeys == nil {
		s.SigningKeys = map[string]*SigningKey{}
	}
	if s.Revoked == nil {
		s.Revoked = map[string]TokenRevoked{}
	}
	s.projectNames = make(map[string]string, len(s.Projects))
	for id, p := range s.Projects {
		s.projectNames[nameKey(p.DomainID, p.Name)] = id
	}
	s.userNames = make(map[string]string, len(s.Users))
	for id, u := range s.Users {
		s.userNames[nameKey(u.DomainID, u.Name)] = id
	}
	s.roleNames = make(map[string]string, len(s.Roles))
	for id, r := range s.Roles {
		s.roleNames[r.Name] = id
	}
}
