package identity

import "time"

// State is the live identity state a token is validated against: this
// node's replica of Raft. It is read at every validation, never cached in
// the token, so a change committed to Raft holds on every node as soon as
// that node has applied it.
type State interface {
	// User returns the user with this ID, ok false when it does not exist.
	User(id string) (user UserInfo, ok bool)
	// ProjectEnabled tells whether the project exists and is enabled.
	ProjectEnabled(id string) (enabled, exists bool)
	// HasRole tells whether the user holds at least one role on the project.
	HasRole(userID, projectID string) bool
	// Revoked tells whether the token with this audit ID has been revoked.
	Revoked(auditID string) bool
}

// UserInfo is what validation needs to know of a user.
type UserInfo struct {
	Enabled bool
	// TokensValidAfter: tokens issued before it are dead. It moves forward
	// when the password changes or the user is disabled.
	TokensValidAfter time.Time
}

// Validate decides whether parsed claims still hold at now. Parse has already
// checked the token's form, key and signature; what Validate checks can
// change after issue, so it reads it live from state.
func Validate(c Claims, now time.Time, state State) error {
	if !now.Before(c.ExpiresAt) {
		return ErrExpired
	}
	if state.Revoked(c.AuditID) {
		return ErrRevoked
	}
	user, ok := state.User(c.UserID)
	if !ok {
		return ErrUserNotFound
	}
	if !user.Enabled {
		return ErrUserDisabled
	}
	if c.IssuedAt.Before(user.TokensValidAfter) {
		return ErrSuperseded
	}
	enabled, exists := state.ProjectEnabled(c.ProjectID)
	if !exists {
		return ErrProjectNotFound
	}
	if !enabled {
		return ErrProjectDisabled
	}
	if !state.HasRole(c.UserID, c.ProjectID) {
		return ErrNoRole
	}
	return nil
}

// IssuedAtFor returns the issue time to stamp on a token made at now for a
// user whose tokens are valid after tokensValidAfter. Tokens carry whole
// seconds, so a login in the same second as a password change would, rounded
// down, look older than the change and be refused; it is stamped with the
// next whole second instead. Rounding the cut-off down would be wrong the
// other way: tokens issued just before the change would live on.
func IssuedAtFor(now, tokensValidAfter time.Time) time.Time {
	at := now.Truncate(time.Second)
	if at.Before(tokensValidAfter) {
		at = tokensValidAfter.Truncate(time.Second)
		if at.Before(tokensValidAfter) {
			at = at.Add(time.Second)
		}
	}
	return at.UTC()
}
