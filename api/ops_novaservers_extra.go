package api

import (
	"context"

	"github.com/shoal-project/shoal/fsm"
)

// ServerInstances is Servers with each server's replicated instance beside
// its detail, in the same order. The OpenStack views show what the /v1
// detail leaves out (a fault's time, the launch time from the action log),
// and a list page must not look every server up again. A server deleted
// between the two reads is left out of both.
func (o *Ops) ServerInstances(ctx context.Context, f ServerFilter) ([]ServerDetail, []fsm.Instance, error) {
	details, err := o.Servers(ctx, f)
	if err != nil {
		return nil, nil, err
	}
	kept, insts := details[:0], make([]fsm.Instance, 0, len(details))
	for _, d := range details {
		inst, err := o.s.state.Instance(d.ID)
		if err != nil {
			continue
		}
		kept, insts = append(kept, d), append(insts, inst)
	}
	return kept, insts, nil
}
