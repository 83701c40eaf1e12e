package nova

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	"github.com/shoal-project/shoal/api"
	"github.com/shoal-project/shoal/api/openstack/osapi"
	"github.com/shoal-project/shoal/fsm"
)

// trigger_crash_dump (2.17): {"trigger_crash_dump": null} → 202 with no
// body once the guest has been sent an NMI (Ops.TriggerCrashDump, on the
// server's host). Below 2.17 it is Nova's 404 for an action of a later
// version. A locked server is fsm's "Instance … is locked", a state other
// than active, paused or error (or a task under way) Nova's "Cannot
// 'trigger_crash_dump' instance …", a domain that does not run Nova's
// InstanceNotReady: all 409.
var since217 = osapi.Since(2, 17)

type crashDumpCall struct{}

func parseTriggerCrashDump(_ *http.Request, k string, v json.RawMessage) (call, error) {
	if !isNull(v) {
		return nil, invalidInput(k, v, fmt.Sprintf("%s is not of type 'null'", truncated(v)))
	}
	return crashDumpCall{}, nil
}

func (crashDumpCall) run(m *Module, w http.ResponseWriter, r *http.Request, d api.ServerDetail) {
	err := m.ops.TriggerCrashDump(r.Context(), d.ID)
	switch {
	case err == nil:
		w.WriteHeader(http.StatusAccepted)
		return
	case errors.Is(err, fsm.ErrNotFound):
		err = instanceErr(d.ID, err)
	case errors.Is(err, fsm.ErrConflict):
		err = crashDumpErr(r, m, d.ID, err)
	}
	m.fail(w, r, err)
}

// crashDumpErr is Nova's conflict for a refused crash dump: the lock or
// the state as stateErr words them, or, for a server whose state allows
// it, a domain that is not ready.
func crashDumpErr(r *http.Request, m *Module, id string, err error) error {
	d, _, lerr := m.ops.Server(r.Context(), id)
	if lerr == nil && (!d.Locked || isAdmin(r)) && api.AllowsCrashDump(d) {
		return conflict("Instance %s is not ready", id)
	}
	return stateErr(r, m, id, "trigger_crash_dump", err)
}
