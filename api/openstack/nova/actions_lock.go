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

// lock and unlock: {"lock": null}, {"unlock": null} → 202. Below 2.73 Nova
// reads nothing of the value; from 2.73 lock's is null or
// {"locked_reason": …} (1 to 255 characters), which the server views show
// as locked_reason and fsm's LockInstance keeps. While a
// server is locked a member's actions on it are Nova's 409 "Instance … is
// locked" (fsm's words); an admin's lock only an admin lifts (Nova's
// unlock_override policy, 403).
type lockCall struct {
	unlock bool
	reason string
}

func parseLock(r *http.Request, k string, v json.RawMessage) (call, error) {
	c := lockCall{unlock: k == "unlock"}
	if c.unlock || !osapi.Requested(r.Context()).AtLeast(2, 73) || isNull(v) {
		return c, nil
	}
	if !isKind(v, '{') {
		return nil, invalidInput(k, v, fmt.Sprintf("%s is not of type 'object', 'null'", truncated(v)))
	}
	b, err := members(k, v, nil, "locked_reason")
	if raw, ok := b["locked_reason"]; ok && err == nil {
		c.reason, err = boundedText("locked_reason", raw, 1, 255)
	}
	return c, err
}

func (c lockCall) run(m *Module, w http.ResponseWriter, r *http.Request, d api.ServerDetail) {
	var idx uint64
	var err error
	if c.unlock {
		idx, _, err = m.ops.UnlockServer(r.Context(), d.ID)
	} else {
		idx, _, err = m.ops.LockServer(r.Context(), d.ID, c.reason)
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
