package cluster

import (
	"errors"
	"fmt"

	"github.com/shoal-project/shoal/fsm"
)

// The cluster returns fsm's vocabulary (fsm.ErrNoLeader, fsm.ErrUnavailable
// and the business errors), wrapped with %w. The sentinels below refine it
// for decisions made inside this package; each wraps the shared sentinel
// callers outside see, so nobody has to translate.
var (
	// errNotLeader: the node asked is not the leader, so the write never
	// entered the log and may be sent again elsewhere.
	errNotLeader = fmt.Errorf("%w: not the leader", fsm.ErrUnavailable)
	// errUnknownOutcome: a write was sent but its fate is unknown (the leader
	// stepped down or the connection broke after sending). It is not re-sent.
	errUnknownOutcome = fmt.Errorf("%w: write outcome unknown", fsm.ErrUnavailable)
	// ErrOtherCluster: the node and its peer belong to different clusters.
	ErrOtherCluster = errors.New("peer belongs to another cluster")
)
