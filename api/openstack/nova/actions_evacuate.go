package nova

import (
	"encoding/json"
	"errors"
	"net/http"

	"github.com/shoal-project/shoal/api"
	"github.com/shoal-project/shoal/api/openstack/osapi"
	"github.com/shoal-project/shoal/fsm"
)

// evacuate (an admin's): {"evacuate": {"host": …, "onSharedStorage": …,
// "adminPass": …}}. Below 2.14 onSharedStorage is required and the answer
// is 200 with the adminPass (null when the disk is shared and no password
// was given); from 2.14 it is gone and the answer has no body. 2.29 adds
// "force" (a boolean; true needs a host), which 2.68 takes away again;
// from 2.95 the server lands stopped (SHUTOFF), whatever it was. shoal
// rebuilds the disk from the image on the new host either way, and sets
// no guest password: the password is only echoed, as at create. A named
// host always goes through shoal's placement checks (it must fit the
// server), forced or not: Nova's force skips its scheduler, shoal's
// forced host still may not overcommit.
type evacuateCall struct {
	host      string
	adminPass string
	stop      bool
}

func parseEvacuate(r *http.Request, k string, raw json.RawMessage) (call, error) {
	v := osapi.Requested(r.Context())
	var c evacuateCall
	required, allowed := []string{"onSharedStorage"}, []string{"host", "adminPass"}
	if v.AtLeast(2, 14) {
		required = nil
	}
	if v.AtLeast(2, 29) && !v.AtLeast(2, 68) {
		allowed = append(allowed, "force")
	}
	b, err := members(k, raw, required, allowed...)
	if err != nil {
		return nil, err
	}
	if h, ok := b["host"]; ok {
		if c.host, err = boundedText("host", h, 1, 255); err != nil {
			return nil, err
		}
	}
	if f, ok := b["force"]; ok {
		force, err := boolField("force", f)
		if err != nil {
			return nil, err
		}
		if force && c.host == "" {
			return nil, badRequest("Can't force to a non-provided destination")
		}
	}
	c.stop = v.AtLeast(2, 95)
	shared := false
	if s, ok := b["onSharedStorage"]; ok {
		if shared, err = boolField("onSharedStorage", s); err != nil {
			return nil, err
		}
	}
	p, hasPass := b["adminPass"]
	switch {
	case hasPass && shared:
		return nil, badRequest("admin password can't be changed on existing disk")
	case hasPass:
		c.adminPass, err = stringField("adminPass", p)
	case !shared:
		c.adminPass = password()
	}
	return c, err
}

func (c evacuateCall) run(m *Module, w http.ResponseWriter, r *http.Request, d api.ServerDetail) {
	if c.host != "" && c.host == d.Host {
		m.fail(w, r, badRequest("The target host can't be the same one."))
		return
	}
	idx, _, err := m.ops.ServerAction(r.Context(), d.ID, api.ServerActionRequest{Action: fsm.ActionEvacuate, Host: c.host, Stop: c.stop})
	if err != nil {
		m.fail(w, r, m.evacuateErr(r, d, c.host, err))
		return
	}
	api.SetIndex(w, idx)
	if osapi.Requested(r.Context()).AtLeast(2, 14) {
		w.WriteHeader(http.StatusOK)
		return
	}
	api.WriteJSON(w, http.StatusOK, map[string]*string{"adminPass": nullable(c.adminPass)})
}

// evacuateErr is Nova's answer to a refused evacuate: an unknown target is
// 404; a server whose host is still up is Nova's 400 (the compute service
// is in use), one busy with a task its 409.
func (m *Module) evacuateErr(r *http.Request, d api.ServerDetail, host string, err error) error {
	switch {
	case errors.Is(err, fsm.ErrNotFound) && host != "":
		return notFound("Compute host %s not found.", host)
	case errors.Is(err, fsm.ErrConflict) && d.TaskState != "":
		return stateErr(r, m, d.ID, "evacuate", err)
	case errors.Is(err, fsm.ErrConflict) && d.Host != "" && m.hostUp(r, d.Host):
		return badRequest("Compute service of %s is still in use.", d.Host)
	}
	return err
}

// hostUp says whether host is up as Nova's service list would show it.
func (m *Module) hostUp(r *http.Request, host string) bool {
	h, err := m.ops.Host(r.Context(), host)
	return err == nil && h.State == "up"
}
