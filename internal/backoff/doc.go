// Package backoff is the one exponential backoff of shoal's retry loops:
// waits that start at a minimum, double up to a maximum, and may be
// jittered so that many nodes retrying at once spread out.
//
// It lives under internal/ because it is mechanism, not design: the top-level
// folders (fsm, cluster, compute, scheduler, api, cmd) are the design card's
// concerns, and internal/ holds only what several of them need and that knows
// no domain rule. It imports no project package.
package backoff
