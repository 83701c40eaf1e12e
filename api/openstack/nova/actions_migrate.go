package nova

import (
	"encoding/json"
	"errors"
	"net/http"
	"slices"

	"github.com/shoal-project/shoal/api"
	"github.com/shoal-project/shoal/api/openstack/osapi"
	"github.com/shoal-project/shoal/fsm"
)

// Moving a server (Nova's migrate_server.py and the resize actions of
// servers.py), over the /v1 actions live-migrate, migrate, resize,
// confirm-resize and revert-resize. Live and cold migration are an
// admin's; resize, confirm and revert the owner's. All answer 202 without
// a body, confirmResize 204. A named host is always checked (shoal's
// placement, as Nova's force=false): Nova's force skips its scheduler,
// shoal's forced host still may not overcommit. block_migration and
// disk_over_commit are checked and otherwise ignored: a shoal server's
// disk is always local and goes with it.

// moveCall is a checked moving action: verb names it in Nova's conflict
// message, status is its success code.
type moveCall struct {
	verb   string
	status int
	req    api.ServerActionRequest
}

func parseMigrateLive(r *http.Request, k string, raw json.RawMessage) (call, error) {
	v := osapi.Requested(r.Context())
	needed, allowed := []string{"block_migration", "host", "disk_over_commit"}, []string(nil)
	if v.AtLeast(2, 25) {
		needed = []string{"block_migration", "host"}
	}
	if v.AtLeast(2, 30) && !v.AtLeast(2, 68) {
		allowed = append(allowed, "force")
	}
	b, err := members(k, raw, needed, allowed...)
	if err != nil {
		return nil, err
	}
	if bm := b["block_migration"]; !v.AtLeast(2, 25) || !isAuto(bm) {
		if _, err := boolField("block_migration", bm); err != nil {
			return nil, err
		}
	}
	if d, ok := b["disk_over_commit"]; ok {
		if _, err := boolField("disk_over_commit", d); err != nil {
			return nil, err
		}
	}
	host, err := hostField(b["host"])
	if err != nil {
		return nil, err
	}
	if f, ok := b["force"]; ok {
		force, err := boolField("force", f)
		if err != nil {
			return nil, err
		}
		if force && host == "" {
			return nil, badRequest("Can't force to a non-provided destination")
		}
	}
	return moveCall{verb: "os-migrateLive", status: http.StatusAccepted,
		req: api.ServerActionRequest{Action: api.ActionLiveMigrate, Host: host}}, nil
}

// isAuto is block_migration's "auto" (2.25).
func isAuto(raw json.RawMessage) bool {
	var s string
	return json.Unmarshal(raw, &s) == nil && s == "auto"
}

// hostField is Nova's nullable hostname (1 to 255 characters, or null).
func hostField(raw json.RawMessage) (string, error) {
	if raw == nil || isNull(raw) {
		return "", nil
	}
	return boundedText("host", raw, 1, 255)
}

func parseMigrate(r *http.Request, k string, raw json.RawMessage) (call, error) {
	c := moveCall{verb: "migrate", status: http.StatusAccepted, req: api.ServerActionRequest{Action: api.ActionMigrate}}
	if !osapi.Requested(r.Context()).AtLeast(2, 56) || isNull(raw) {
		return c, nil
	}
	b, err := members(k, raw, nil, "host")
	if err == nil {
		c.req.Host, err = hostField(b["host"])
	}
	return c, err
}

func parseResize(_ *http.Request, k string, raw json.RawMessage) (call, error) {
	b, err := members(k, raw, []string{"flavorRef"}, "OS-DCF:diskConfig")
	if err != nil {
		return nil, err
	}
	flavor, err := flavorRef("flavorRef", b["flavorRef"])
	if err != nil {
		return nil, err
	}
	if dc, ok := b["OS-DCF:diskConfig"]; ok {
		if _, err := enum("OS-DCF:diskConfig", dc, "AUTO", "MANUAL"); err != nil {
			return nil, err
		}
	}
	return moveCall{verb: "resize", status: http.StatusAccepted,
		req: api.ServerActionRequest{Action: api.ActionResize, Flavor: flavor}}, nil
}

func parseConfirmResize(*http.Request, string, json.RawMessage) (call, error) {
	return moveCall{verb: "confirmResize", status: http.StatusNoContent,
		req: api.ServerActionRequest{Action: api.ActionConfirmResize}}, nil
}

func parseRevertResize(*http.Request, string, json.RawMessage) (call, error) {
	return moveCall{verb: "revertResize", status: http.StatusAccepted,
		req: api.ServerActionRequest{Action: api.ActionRevertResize}}, nil
}

func (c moveCall) run(m *Module, w http.ResponseWriter, r *http.Request, d api.ServerDetail) {
	idx, _, err := m.ops.ServerAction(r.Context(), d.ID, c.req)
	if err != nil {
		m.fail(w, r, m.moveErr(r, d, c, err))
		return
	}
	api.SetIndex(w, idx)
	w.WriteHeader(c.status)
}

// movableFrom are the vm_states each move starts from (fsm's rule; a
// conflict outside them, or while a task runs, is Nova's state conflict).
var movableFrom = map[string][]string{
	api.ActionLiveMigrate:   {fsm.VMActive, fsm.VMPaused},
	api.ActionMigrate:       {fsm.VMActive, fsm.VMStopped},
	api.ActionResize:        {fsm.VMActive, fsm.VMStopped},
	api.ActionConfirmResize: {fsm.VMResized},
	api.ActionRevertResize:  {fsm.VMResized},
}

// moveErr says in Nova's words why a move was refused: a task or a
// vm_state that does not allow it is Nova's 409 "Cannot 'resize' instance
// … while it is in …"; a resize not waiting for a decision is Nova's 400
// "Instance has not been resized."; fsm's other refusals (a bad host or
// flavor 400, a locked server 409) keep their words, which are Nova's.
func (m *Module) moveErr(r *http.Request, d api.ServerDetail, c moveCall, err error) error {
	if !errors.Is(err, fsm.ErrConflict) {
		return err
	}
	now, _, lerr := m.ops.Server(r.Context(), d.ID)
	if lerr != nil {
		return instanceErr(d.ID, lerr)
	}
	if now.TaskState != "" || !slices.Contains(movableFrom[c.req.Action], now.VMState) {
		return stateErr(r, m, d.ID, c.verb, err)
	}
	return err
}
