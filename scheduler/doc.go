// Package scheduler places instances on hosts. It runs on the Raft leader only,
// reads a read-only view of the state and gossip inventory, and commits each
// batch of placements as one Plan command. (Built with the servers issue; the
// cluster core has nothing to schedule yet.)
package scheduler
