// Package cluster is the node: memberlist gossip of inventory, Raft setup and
// membership, the leader loop, and forwarding writes to the leader. The API,
// scheduler and compute packages see it only through interfaces they declare.
package cluster
