package nova

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/shoal-project/shoal/api"
	"github.com/shoal-project/shoal/api/openstack/osapi"
	"github.com/shoal-project/shoal/fsm"
)

// POST /servers/{id}/action: Nova's body is one member whose name is the
// action ({"os-stop": null}, {"reboot": {"type": "HARD"}}). As in Nova the
// body is checked first (400), then the server looked up (404), then the
// policy of an admin's action (403); a server in the wrong state is 409 in
// Nova's words ("Cannot 'stop' instance … while it is in vm_state
// stopped"). Lifecycle actions answer 202 with no body.

// action is one of Nova's server actions as shoal runs it.
type action struct {
	// policy, when set, is the rule only an admin passes (Nova's name).
	policy string
	// versions, when set, are the microversions it exists in.
	versions *osapi.Range
	// parse checks the member's value (v) as Nova's schema does, before
	// the server is looked up.
	parse func(r *http.Request, k string, v json.RawMessage) (call, error)
}

// call is a checked action, ready to run on server d.
type call interface {
	run(m *Module, w http.ResponseWriter, r *http.Request, d api.ServerDetail)
}

// until243: Nova 2.44 removed the network proxy actions (404 from then).
var until243 = osapi.Until(2, 43)

// actions are the action keys shoal serves; any other (createImage,
// shelve, rescue, …) is Nova's 400 "There is no such action".
var actions = map[string]action{
	"os-start":            {parse: plain("start", fsm.ActionStart)},
	"os-stop":             {parse: plain("stop", fsm.ActionStop)},
	"reboot":              {parse: parseReboot},
	"pause":               {parse: plain("pause", fsm.ActionPause)},
	"unpause":             {parse: plain("unpause", fsm.ActionUnpause)},
	"suspend":             {parse: plain("suspend", fsm.ActionSuspend)},
	"resume":              {parse: plain("resume", fsm.ActionResume)},
	"os-resetState":       {policy: "os_compute_api:os-admin-actions:reset_state", parse: parseResetState},
	"evacuate":            {policy: "os_compute_api:os-evacuate", parse: parseEvacuate},
	"os-getConsoleOutput": {parse: parseConsoleOutput},
	"addFloatingIp":       {versions: &until243, parse: parseAddFloatingIP},
	"removeFloatingIp":    {versions: &until243, parse: parseRemoveFloatingIP},
	"addFixedIp":          {versions: &until243, parse: unserved},
	"removeFixedIp":       {versions: &until243, parse: unserved},
	"addSecurityGroup":    {parse: parseSecurityGroup(api.ActionAddSecurityGroup)},
	"removeSecurityGroup": {parse: parseSecurityGroup(api.ActionRemoveSecurityGroup)},
	"lock":                {parse: parseLock},
	"unlock":              {parse: parseLock},
	"rebuild":             {parse: parseRebuild},
	"forceDelete":         {parse: parseForceDelete},
	"restore":             {parse: parseRestore},
	"trigger_crash_dump":  {versions: &since217, parse: parseTriggerCrashDump},
	"os-migrateLive":      {policy: "os_compute_api:os-migrate-server:migrate_live", parse: parseMigrateLive},
	"migrate":             {policy: "os_compute_api:os-migrate-server:migrate", parse: parseMigrate},
	"resize":              {parse: parseResize},
	"confirmResize":       {parse: parseConfirmResize},
	"revertResize":        {parse: parseRevertResize},
}

// novaOnlyActions are Nova's actions shoal does not serve yet (shelve,
// rescue, snapshots, remote consoles...). Nova's handlers
// of these look the server up first, so an unknown server is 404 before
// the 400 for the action.
var novaOnlyActions = map[string]bool{"shelve": true, "shelveOffload": true, "unshelve": true, "rescue": true, "unrescue": true,
	"createImage": true, "createBackup": true, "changePassword": true, "os-getVNCConsole": true,
	"os-getSPICEConsole": true, "os-getSerialConsole": true, "os-getRDPConsole": true, "injectNetworkInfo": true,
	"resetNetwork": true}

func (m *Module) serverAction(w http.ResponseWriter, r *http.Request) {
	act, c, err := decodeAction(w, r)
	var unserved *unservedAction
	if errors.As(err, &unserved) {
		if _, _, lookupErr := m.server(r); lookupErr != nil {
			err = lookupErr
		}
	}
	if err != nil {
		m.fail(w, r, err)
		return
	}
	d, _, err := m.server(r)
	if err == nil && act.policy != "" && !isAdmin(r) {
		err = policyErr(act.policy)
	}
	if err != nil {
		m.fail(w, r, err)
		return
	}
	c.run(m, w, r, d)
}

// decodeAction reads the body: exactly one member, a known action, a value
// its schema takes.
func decodeAction(w http.ResponseWriter, r *http.Request) (action, call, error) {
	b, err := readObject(w, r)
	if err != nil {
		return action{}, nil, err
	}
	if len(b) != 1 {
		return action{}, nil, badRequest("Malformed request body")
	}
	var key string
	for key = range b {
	}
	act, ok := actions[key]
	if !ok && novaOnlyActions[key] {
		return act, nil, &unservedAction{badRequest("There is no such action: %s", key)}
	}
	if !ok {
		return act, nil, badRequest("There is no such action: %s", key)
	}
	if act.versions != nil && !act.versions.Holds(osapi.Requested(r.Context())) {
		return act, nil, notFound("The resource could not be found.")
	}
	c, err := act.parse(r, key, b[key])
	return act, c, err
}

// unservedAction is the 400 of a Nova action shoal does not serve.
type unservedAction struct{ error }

func (u *unservedAction) Unwrap() error { return u.error }

// opsCall is an action Ops runs as a /v1 action: 202 with no body, or
// Nova's error; verb names it in Nova's conflict message ("Cannot 'stop'
// instance …").
type opsCall struct {
	verb string
	req  api.ServerActionRequest
}

func (c opsCall) run(m *Module, w http.ResponseWriter, r *http.Request, d api.ServerDetail) {
	idx, _, err := m.ops.ServerAction(r.Context(), d.ID, c.req)
	if err != nil {
		m.fail(w, r, m.actionErr(r, d.ID, c, err))
		return
	}
	api.SetIndex(w, idx)
	w.WriteHeader(http.StatusAccepted)
}

// unserved is a Nova action shoal does not serve (addFixedIp, removeFixedIp:
// a second fixed IP from another network, which shoal's one tenant network
// cannot give): Nova's answer to an unknown action.
func unserved(_ *http.Request, k string, _ json.RawMessage) (call, error) {
	return nil, badRequest("There is no such action: %s", k)
}

// plain is an action whose value Nova does not read (null, usually).
func plain(verb, name string) func(*http.Request, string, json.RawMessage) (call, error) {
	return func(*http.Request, string, json.RawMessage) (call, error) {
		return opsCall{verb: verb, req: api.ServerActionRequest{Action: name}}, nil
	}
}

// members checks an action's value is an object with only allowed members
// and those required.
func members(k string, v json.RawMessage, needed []string, allowed ...string) (map[string]json.RawMessage, error) {
	b, err := asObject(k, v)
	if err == nil {
		err = onlyKeys(k, b, append(allowed, needed...)...)
	}
	if err == nil {
		err = required(k, b, needed...)
	}
	return b, err
}

// enum is a string member that must be one of values.
func enum(k string, v json.RawMessage, values ...string) (string, error) {
	s, err := stringField(k, v)
	if err == nil && !slices.Contains(values, s) {
		err = invalidInput(k, v, fmt.Sprintf("'%s' is not one of ['%s']", s, strings.Join(values, "', '")))
	}
	return s, err
}

func parseReboot(_ *http.Request, k string, v json.RawMessage) (call, error) {
	b, err := members(k, v, []string{"type"})
	if err != nil {
		return nil, err
	}
	t, err := enum("type", b["type"], "HARD", "Hard", "hard", "SOFT", "Soft", "soft")
	return opsCall{verb: "reboot", req: api.ServerActionRequest{Action: fsm.ActionReboot, Type: strings.ToUpper(t)}}, err
}

func parseResetState(_ *http.Request, k string, v json.RawMessage) (call, error) {
	b, err := members(k, v, []string{"state"})
	if err != nil {
		return nil, err
	}
	s, err := enum("state", b["state"], "active", "error")
	return opsCall{verb: "os-resetState", req: api.ServerActionRequest{Action: fsm.ActionResetState, State: s}}, err
}

func parseAddFloatingIP(_ *http.Request, k string, v json.RawMessage) (call, error) {
	b, err := members(k, v, []string{"address"}, "fixed_address")
	req := api.ServerActionRequest{Action: api.ActionAddFloatingIP}
	if err == nil {
		req.Address, err = anyAddress("address", b["address"])
	}
	if raw, ok := b["fixed_address"]; ok && err == nil {
		req.FixedAddress, err = anyAddress("fixed_address", raw)
	}
	return addFloatingIPCall{address: req.Address, fixed: req.FixedAddress}, err
}

// addFloatingIPCall associates a floating IP with the server, moving it
// from another server it is on (Nova's update of the port through Neutron
// does). A fixed IP that already has a floating IP is Nova's 400 (its
// FloatingIpAssociateFailed), as is a fixed address the server lacks.
type addFloatingIPCall struct{ address, fixed string }

func (c addFloatingIPCall) run(m *Module, w http.ResponseWriter, r *http.Request, d api.ServerDetail) {
	idx, _, err := m.ops.MoveFloatingIP(r.Context(), c.address, d.ID, c.fixed)
	switch {
	case err == nil:
		api.SetIndex(w, idx)
		w.WriteHeader(http.StatusAccepted)
		return
	case errors.Is(err, fsm.ErrNotFound):
		err = notFound("floating IP not found")
	case errors.Is(err, fsm.ErrInvalid) && c.fixed != "":
		err = badRequest("Specified fixed address not assigned to instance")
	case errors.Is(err, fsm.ErrConflict) || errors.Is(err, fsm.ErrInvalid):
		err = badRequest("%s", api.MessageOf(err))
	}
	m.fail(w, r, err)
}

func parseRemoveFloatingIP(_ *http.Request, k string, v json.RawMessage) (call, error) {
	b, err := members(k, v, []string{"address"})
	req := api.ServerActionRequest{Action: api.ActionRemoveFloatingIP}
	if err == nil {
		req.Address, err = anyAddress("address", b["address"])
	}
	return opsCall{verb: "removeFloatingIp", req: req}, err
}

func parseSecurityGroup(name string) func(*http.Request, string, json.RawMessage) (call, error) {
	return func(_ *http.Request, k string, v json.RawMessage) (call, error) {
		b, err := members(k, v, []string{"name"})
		req := api.ServerActionRequest{Action: name}
		if err == nil {
			req.Name, err = nonEmptyName("name", b["name"])
		}
		return opsCall{verb: k, req: req}, err
	}
}

// nonEmptyName is a group name as Nova's security group actions take it:
// a non-blank string.
func nonEmptyName(k string, v json.RawMessage) (string, error) {
	s, err := stringField(k, v)
	if err == nil && strings.TrimSpace(s) == "" {
		err = badRequest("Security group name cannot be empty")
	}
	return s, err
}

// actionErr says in Nova's words why Ops refused act on server id: a state
// that does not allow it is Nova's conflict message, built from the state
// the server is in now; a floating IP or a security group that is not the
// caller's is Nova's 404.
func (m *Module) actionErr(r *http.Request, id string, c opsCall, err error) error {
	req := c.req
	switch {
	case errors.Is(err, fsm.ErrNotFound) && (req.Action == api.ActionAddFloatingIP || req.Action == api.ActionRemoveFloatingIP):
		return notFound("floating IP not found")
	case errors.Is(err, fsm.ErrNotFound) && (req.Action == api.ActionAddSecurityGroup || req.Action == api.ActionRemoveSecurityGroup):
		return notFound("Security group %s not found.", req.Name)
	case errors.Is(err, fsm.ErrConflict) && fsmActions[req.Action]:
		return stateErr(r, m, id, c.verb, err)
	}
	return err
}

// fsmActions are the actions fsm refuses with a conflict when the server's
// state does not allow them.
var fsmActions = map[string]bool{fsm.ActionStart: true, fsm.ActionStop: true, fsm.ActionReboot: true,
	fsm.ActionPause: true, fsm.ActionUnpause: true, fsm.ActionSuspend: true, fsm.ActionResume: true}

// stateErr is Nova's conflict for verb on a server whose state does not
// allow it: the task it is busy with, else its vm_state (fsm refuses a
// busy server first, then a wrong vm_state). A locked server keeps fsm's
// words, which are Nova's ("Instance … is locked"); a server that has gone
// since is Nova's 404.
func stateErr(r *http.Request, m *Module, id, verb string, err error) error {
	if !errors.Is(err, fsm.ErrConflict) {
		return err
	}
	d, _, lerr := m.ops.Server(r.Context(), id)
	switch {
	case lerr != nil:
		return instanceErr(id, lerr)
	case d.Locked && !isAdmin(r):
		return err
	case d.TaskState != "":
		return conflict("Cannot '%s' instance %s while it is in task_state %s", verb, id, d.TaskState)
	}
	return conflict("Cannot '%s' instance %s while it is in vm_state %s", verb, id, d.VMState)
}
