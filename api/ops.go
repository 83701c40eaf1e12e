package api

import (
	"context"
	"fmt"

	"github.com/shoal-project/shoal/fsm"
)

// Ops is the API's rules as calls: every lookup with its tenancy, every
// validation and fsm command the /v1 handlers make, taking the caller from
// ctx (Caller) instead of a request. The /v1 handlers and the mounted
// modules both call it, so each rule has one home whatever the dialect.
// Errors wrap fsm's sentinels (StatusOf gives their status); a write
// returns the Raft index it was applied at and the object as this node's
// replica has it then.
type Ops struct{ s *Server }

// ClusterID is the cluster's ID (derived OpenStack IDs start from it).
func (o *Ops) ClusterID() string { return o.s.state.ClusterID() }

// NodeName is this node's name.
func (o *Ops) NodeName() string { return o.s.node }

// Index is the Raft index the local replica has applied.
func (o *Ops) Index() uint64 { return o.s.state.Index() }

// Principal is who makes the request ctx belongs to.
func (o *Ops) Principal(ctx context.Context) Principal { return Caller(ctx) }

// Project is a project by ID or name: the caller's own, or any for an
// admin; another is absent.
func (o *Ops) Project(ctx context.Context, ref string) (fsm.Project, error) {
	p, err := o.s.state.Project(ref)
	if err != nil || !Caller(ctx).Sees(p.ID) {
		return fsm.Project{}, fmt.Errorf("%w: project %q", fsm.ErrNotFound, ref)
	}
	return p, nil
}
