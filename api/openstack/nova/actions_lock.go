package nova

import (
	"encoding/json"
	"errors"
	"net/http"

	"github.com/shoal-project/shoal/api"
	"github.com/shoal-project/shoal/fsm"
)

// lock and unlock: {"lock": null}, {"unlock": null} → 202. Below 2.73 Nova
// reads nothing of the value (2.73 adds {"locked_reason": …}). While a
// server is locked a member's actions on it are Nova's 409 "Instance … is
// locked" (fsm's words); an admin's lock only an admin lifts (Nova's
// unlock_override policy, 403).
type lockCall struct{ unlock bool }

func parseLock(_ *http.Request, k string, _ json.RawMessage) (call, error) {
	return lockCall{unlock: k == "unlock"}, nil
}

func (c lockCall) run(m *Module, w http.ResponseWriter, r *http.Request, d api.ServerDetail) {
	var idx uint64
	var err error
	if c.unlock {
		idx, _, err = m.ops.UnlockServer(r.Context(), d.ID)
	} else {
		idx, _, err = m.ops.LockServer(r.Context(), d.ID, "")
	}
	switch {
	case errors.Is(err, fsm.ErrForbidden):
		err = policyErr("os_compute_api:os-lock-server:unlock:unlock_override")
	case errors.Is(err, fsm.ErrNotFound):
		err = instanceErr(d.ID, err)
	}
	if err != nil {
		m.fail(w, r, err)
		return
	}
	api.SetIndex(w, idx)
	w.WriteHeader(http.StatusAccepted)
}
