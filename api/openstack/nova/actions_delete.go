package nova

import (
	"encoding/json"
	"errors"
	"net/http"

	"github.com/shoal-project/shoal/api"
	"github.com/shoal-project/shoal/fsm"
)

// forceDelete and restore: Nova's actions on soft-deleted servers. shoal
// deletes at once (Nova without reclaim_instance_interval), so forceDelete
// is a delete (202), and no server is ever soft-deleted, so restore is
// Nova's 409 for a server not in vm_state soft-delete.
type forceDeleteCall struct{}

type restoreCall struct{}

func parseForceDelete(*http.Request, string, json.RawMessage) (call, error) {
	return forceDeleteCall{}, nil
}

func parseRestore(*http.Request, string, json.RawMessage) (call, error) { return restoreCall{}, nil }

func (forceDeleteCall) run(m *Module, w http.ResponseWriter, r *http.Request, d api.ServerDetail) {
	idx, err := m.deleteOnce(r, d.ID)
	if err != nil {
		m.fail(w, r, stateErr(r, m, d.ID, "forceDelete", instanceErr(d.ID, err)))
		return
	}
	api.SetIndex(w, idx)
	w.WriteHeader(http.StatusAccepted)
}

func (restoreCall) run(m *Module, w http.ResponseWriter, r *http.Request, d api.ServerDetail) {
	m.fail(w, r, conflict("Cannot 'restore' instance %s while it is in vm_state %s", d.ID, d.VMState))
}

// deleteOnce asks for server id to be deleted. Nova deletes in any state:
// a server being deleted already is what the caller asked for, so that is
// no conflict.
func (m *Module) deleteOnce(r *http.Request, id string) (uint64, error) {
	idx, err := m.ops.DeleteServer(r.Context(), id)
	if errors.Is(err, fsm.ErrConflict) {
		if d, _, lerr := m.ops.Server(r.Context(), id); lerr == nil && d.TaskState == fsm.TaskDeleting {
			return m.ops.Index(), nil
		}
	}
	return idx, err
}
