// Package fsm holds shoal's replicated state: the object types, the command set,
// a deterministic Apply, snapshot and restore, per-object indexes and a watch.
//
// Everything a command needs to be applied (IDs, timestamps) is decided by the
// node that builds it, so every replica applying the same log reaches the same
// state byte for byte. See DESIGN.md for the invariants.
package fsm
