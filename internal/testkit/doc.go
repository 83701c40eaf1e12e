// Package testkit holds what tests of every shoal package share: one poller
// in place of sleeps, and one way to run a loop for the length of a test.
//
// It lives under internal/ because it is mechanism, not design: the top-level
// folders (fsm, cluster, compute, scheduler, api, cmd) are the design card's
// concerns, and internal/ holds only what several of them need and that knows
// no domain rule. It imports no project package.
package testkit
