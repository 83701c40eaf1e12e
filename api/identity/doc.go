// Package identity is shoal's identity core: the tokens every node issues and
// verifies, and the passwords users log in with. The Keystone v3 routes
// (/identity/v3) will live here too; for now the package is self-contained and
// not wired into the agent.
//
// A token is signed with its issuing node's Ed25519 key (key.go), whose public
// half is published in Raft, so any node verifies any token locally without a
// shared secret (Keystone's JWS provider, not Fernet's shared keys). Parse
// checks what the token itself proves (form, key, signature); Validate checks
// what can change after issue (expiry, the user, the project, the roles, a
// revocation) against live state, so a change in Raft takes effect at once.
// Every refusal wraps ErrUnauthorized. DESIGN.md gives the reasons.
//
// Passwords are bcrypt hashes made before Raft (password.go); a Throttle
// answers failed logins slowly and counts them.
package identity
