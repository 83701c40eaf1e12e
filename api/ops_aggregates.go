package api

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/shoal-project/shoal/fsm"
)

// Host aggregates (Nova's os-aggregates, an admin's). fsm holds every rule
// (names, zones, hosts, Nova's refusals); these decide the UUID and the
// time before Raft and read the aggregate back.

// Aggregates lists the aggregates by ID.
func (o *Ops) Aggregates(ctx context.Context) ([]fsm.Aggregate, error) {
	return o.s.state.Aggregates(), nil
}

// Aggregate is one aggregate by ID.
func (o *Ops) Aggregate(ctx context.Context, id uint64) (fsm.Aggregate, error) {
	return o.s.state.Aggregate(id)
}

// CreateAggregate makes an aggregate, in zone when one is given.
func (o *Ops) CreateAggregate(ctx context.Context, name, zone string) (fsm.Aggregate, error) {
	cmd := &fsm.CreateAggregate{UUID: uuid.NewString(), Name: name, Zone: zone, Time: time.Now().UTC()}
	if _, err := o.s.apply(ctx, cmd); err != nil {
		return fsm.Aggregate{}, err
	}
	for _, a := range o.s.state.Aggregates() {
		if a.UUID == cmd.UUID {
			return a, nil
		}
	}
	return fsm.Aggregate{}, fmt.Errorf("%w: aggregate %s was made but is not here", fsm.ErrUnavailable, cmd.UUID)
}

// UpdateAggregate renames an aggregate (name not nil) and sets or, for a
// nil value, removes metadata keys; setMetadata words a refusal as
// Nova's set_metadata.
func (o *Ops) UpdateAggregate(ctx context.Context, id uint64, name *string, metadata map[string]*string, setMetadata bool) (fsm.Aggregate, error) {
	return o.aggregateChange(ctx, id, &fsm.UpdateAggregate{ID: id, Name: name, Metadata: metadata, SetMetadata: setMetadata,
		Time: time.Now().UTC()})
}

// DeleteAggregate removes an aggregate without hosts.
func (o *Ops) DeleteAggregate(ctx context.Context, id uint64) error {
	_, err := o.s.apply(ctx, &fsm.DeleteAggregate{ID: id})
	return err
}

// AddAggregateHost adds a host to an aggregate.
func (o *Ops) AddAggregateHost(ctx context.Context, id uint64, host string) (fsm.Aggregate, error) {
	return o.aggregateChange(ctx, id, &fsm.AddAggregateHost{ID: id, Host: host, Time: time.Now().UTC()})
}

// RemoveAggregateHost takes a host out of an aggregate.
func (o *Ops) RemoveAggregateHost(ctx context.Context, id uint64, host string) (fsm.Aggregate, error) {
	return o.aggregateChange(ctx, id, &fsm.RemoveAggregateHost{ID: id, Host: host, Time: time.Now().UTC()})
}

func (o *Ops) aggregateChange(ctx context.Context, id uint64, c fsm.Command) (fsm.Aggregate, error) {
	if _, err := o.s.apply(ctx, c); err != nil {
		return fsm.Aggregate{}, err
	}
	return o.s.state.Aggregate(id)
}
