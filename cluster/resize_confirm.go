package cluster

import (
	"context"

	"github.com/shoal-project/shoal/fsm"
)

// confirmExpired confirms every server waiting in VERIFY_RESIZE whose
// migration has not changed for longer than the confirm window (Nova's
// resize_confirm_window), by the leader's clock: the time is decided here,
// never in Apply, and a leader whose clock runs ahead confirms early, not
// wrongly. A window of 0 confirms nothing.
func (m *mover) confirmExpired(ctx context.Context) {
	if m.cfg.ConfirmWindow <= 0 {
		return
	}
	before := m.now().Add(-m.cfg.ConfirmWindow)
	for _, mig := range m.state.Migrations(func(x *fsm.Migration) bool {
		return x.Status == fsm.MigrationFinished && x.Updated.Before(before)
	}) {
		inst, err := m.state.Instance(mig.InstanceID)
		if err != nil || inst.MigrationID != mig.ID || inst.VMState != fsm.VMResized || inst.TaskState != fsm.TaskNone {
			continue
		}
		m.confirm(ctx, inst.ID, "resize confirm window")
	}
}
