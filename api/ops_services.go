package api

import (
	"context"
	"fmt"

	"github.com/shoal-project/shoal/fsm"
)

// DeleteService is Nova's service delete: a host still hosting servers is
// refused (409, Nova's words), else it leaves the cluster (RemoveHost).
func (o *Ops) DeleteService(ctx context.Context, name string) error {
	h, err := o.s.state.Host(name)
	if err != nil {
		return err
	}
	if on := o.s.state.Instances(func(i *fsm.Instance) bool { return i.Host == h.Name }); len(on) > 0 {
		return fmt.Errorf("%w: Unable to delete compute service that is hosting instances. "+
			"Migrate or delete the instances first.", fsm.ErrConflict)
	}
	return o.RemoveHost(ctx, h.Name)
}
