package cluster

import "errors"

var (
	// ErrNoLeader: no leader could be reached within the hold time.
	ErrNoLeader = errors.New("no cluster leader")
	// ErrNotLeader: this node is not the leader (internal; callers retry elsewhere).
	ErrNotLeader = errors.New("not the leader")
	// ErrUnknownOutcome: a write was sent but its fate is unknown (the leader
	// stepped down or the connection broke after sending). It is not re-sent.
	ErrUnknownOutcome = errors.New("write outcome unknown")
	// ErrOtherCluster: the node and its peer belong to different clusters.
	ErrOtherCluster = errors.New("peer belongs to another cluster")
	// ErrJoinTimeout: gossip joined but Raft membership did not follow in time.
	ErrJoinTimeout = errors.New("not added to raft in time")
)
