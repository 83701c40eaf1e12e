// Package jointoken is the codec of the token an admin hands to a new host so
// it can join the cluster: who to dial (addresses, leader first), which CA to
// trust (its SHA-256 fingerprint, pinned before anything is sent) and a
// secret proving the admin's consent (only its hash is stored, in Raft).
//
// The string is opaque to users: "shoaljoin1_" then base64url (no padding) of
// a compact binary payload. Parse is strict and never echoes its input, since
// the input holds a secret.
package jointoken
