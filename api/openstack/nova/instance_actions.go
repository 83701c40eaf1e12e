package nova

import (
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/shoal-project/shoal/api"
	"github.com/shoal-project/shoal/api/openstack/osapi"
	"github.com/shoal-project/shoal/fsm"
)

// GET /servers/{id}/os-instance-actions[/{request}]: a server's action log
// in Nova's shape, newest first, with Nova's action names. Nova records
// each action's steps as events; shoal records the action's outcome, shown
// as the one event of the action. By microversion, as Nova:
//   - 2.21: a deleted server's log is still read (while fsm keeps its
//     record, the last fsm.MaxDeletedInstances).
//   - 2.51: a show has events for every reader (below, an admin's only);
//     traceback stays an admin's.
//   - 2.58: actions carry updated_at; the list pages (limit, marker: a
//     request ID) with a next link, filters on changes-since and refuses
//     other query parameters; 2.66 adds changes-before.
//   - 2.62: events carry hostId (everyone) and host (an admin).
//   - 2.84: events carry details, a failed one's message (null otherwise).

// Names the action log uses that the views read (fsm writes them as
// literals).
const (
	actionCreate  = "create"
	resultSuccess = "success"
	resultError   = "error"
)

// instanceAction is Nova's instance action; Events only in a show, and
// UpdatedAt from 2.58.
type instanceAction struct {
	Action       string          `json:"action"`
	InstanceUUID string          `json:"instance_uuid"`
	Message      *string         `json:"message"`
	ProjectID    string          `json:"project_id"`
	RequestID    string          `json:"request_id"`
	StartTime    string          `json:"start_time"`
	UserID       string          `json:"user_id"`
	UpdatedAt    *string         `json:"updated_at,omitempty"`
	Events       []instanceEvent `json:"events,omitempty"`
}

// instanceEvent is one step of an action. The raw members are absent when
// nil and may be null: traceback (an admin's; shoal keeps none, so null),
// host (an admin's, 2.62), details (2.84).
type instanceEvent struct {
	Event      string          `json:"event"`
	StartTime  string          `json:"start_time"`
	FinishTime *string         `json:"finish_time"`
	Result     *string         `json:"result"`
	Traceback  json.RawMessage `json:"traceback,omitempty"`
	Host       json.RawMessage `json:"host,omitempty"`
	HostID     *string         `json:"hostId,omitempty"`
	Details    json.RawMessage `json:"details,omitempty"`
}

// novaActionName is the name Nova gives what the log recorded: a hard
// reboot is a reboot, a guest that shut itself down was stopped (Nova's
// power sync stops it), a state reset is Nova's resetState.
func novaActionName(name string) string {
	switch {
	case name == "reboot (hard)":
		return fsm.ActionReboot
	case strings.HasPrefix(name, fsm.ActionStop+" ("):
		return fsm.ActionStop
	case strings.HasPrefix(name, fsm.ActionResetState):
		return "resetState"
	}
	return name
}

// actionLog is a server's log as a view reads it: the server (live, or from
// 2.21 deleted) and its actions, newest first.
type actionLog struct {
	inst    fsm.Instance
	actions []fsm.Action
}

// log reads the action log of server id for the request's microversion.
func (m *Module) log(r *http.Request, id string) (actionLog, error) {
	_, inst, err := m.ops.Server(r.Context(), id)
	if errors.Is(err, fsm.ErrNotFound) && osapi.Requested(r.Context()).AtLeast(2, 21) {
		var d fsm.DeletedInstance
		if d, err = m.ops.DeletedServer(r.Context(), id); err == nil {
			inst = d.Instance
		}
	}
	if err != nil {
		return actionLog{}, instanceErr(id, err)
	}
	actions := slices.Clone(inst.Actions)
	slices.Reverse(actions)
	return actionLog{inst: inst, actions: actions}, nil
}

// updatedAt is when an action last changed: its finish, else its start
// (Nova's updated_at moves with each event).
func updatedAt(a fsm.Action) time.Time {
	if !a.Finish.IsZero() {
		return a.Finish
	}
	return a.Start
}

// actionView renders a, one of l's, for r's microversion.
func actionView(r *http.Request, l actionLog, a fsm.Action) instanceAction {
	v := instanceAction{Action: novaActionName(a.Action), InstanceUUID: l.inst.ID, Message: nullable(a.Message),
		ProjectID: a.ProjectID, RequestID: a.RequestID, StartTime: microTime(a.Start), UserID: a.UserID}
	if osapi.Requested(r.Context()).AtLeast(2, 58) {
		t := microTime(updatedAt(a))
		v.UpdatedAt = &t
	}
	return v
}

// rawNull is a member present and null.
var rawNull = json.RawMessage("null")

// rawString is s as a JSON member.
func rawString(s string) json.RawMessage {
	b, _ := json.Marshal(s)
	return b
}

// withEvent adds a's one event to v, as r's caller may see it.
func withEvent(r *http.Request, l actionLog, a fsm.Action, v instanceAction) instanceAction {
	ver, admin := osapi.Requested(r.Context()), isAdmin(r)
	e := instanceEvent{Event: eventName(v.Action), StartTime: microTime(a.Start)}
	if !a.Finish.IsZero() {
		t := microTime(a.Finish)
		e.FinishTime = &t
	}
	switch a.Result {
	case resultSuccess:
		e.Result = nullable("Success")
	case resultError:
		e.Result = nullable("Error")
	}
	if admin {
		e.Traceback = rawNull
	}
	if ver.AtLeast(2, 62) {
		project := a.ProjectID
		if project == "" {
			project = l.inst.ProjectID
		}
		hostID := osapi.HostID(project, l.inst.Host)
		e.HostID = &hostID
		if admin {
			e.Host = rawString(l.inst.Host)
		}
	}
	if ver.AtLeast(2, 84) {
		e.Details = rawNull
		if a.Result == resultError && a.Message != "" {
			e.Details = rawString(a.Message)
		}
	}
	v.Events = []instanceEvent{e}
	return v
}

// eventName is the name of the compute step Nova records for an action.
func eventName(action string) string {
	if action == actionCreate {
		return "compute__do_build_and_run_instance"
	}
	return "compute_" + action + "_instance"
}

// microTime is how Nova writes an action's times: with microseconds and no
// zone (the datetime as its JSON encoder writes it).
func microTime(t time.Time) string { return t.UTC().Format(launchedFormat) }

func (m *Module) listInstanceActions(w http.ResponseWriter, r *http.Request) {
	idx := m.ops.Index()
	id := r.PathValue("id")
	q, err := parseActionsQuery(r)
	var l actionLog
	if err == nil {
		l, err = m.log(r, id)
	}
	var page []fsm.Action
	var next string
	if err == nil {
		page, next, err = q.page(l.actions)
	}
	if err != nil {
		m.fail(w, r, err)
		return
	}
	out := make([]instanceAction, 0, len(page))
	for _, a := range page {
		out = append(out, actionView(r, l, a))
	}
	body := map[string]any{"instanceActions": out}
	if next != "" {
		body["links"] = nextLink(r, "/servers/"+id+"/os-instance-actions", next)
	}
	api.SetIndex(w, idx)
	api.WriteJSON(w, http.StatusOK, body)
}

func (m *Module) showInstanceAction(w http.ResponseWriter, r *http.Request) {
	idx := m.ops.Index()
	id, request := r.PathValue("id"), r.PathValue("request")
	l, err := m.log(r, id)
	if err != nil {
		m.fail(w, r, err)
		return
	}
	events := isAdmin(r) || osapi.Requested(r.Context()).AtLeast(2, 51)
	for _, a := range l.actions {
		if a.RequestID == request {
			v := actionView(r, l, a)
			if events {
				v = withEvent(r, l, a, v)
			}
			api.SetIndex(w, idx)
			api.WriteJSON(w, http.StatusOK, map[string]any{"instanceAction": v})
			return
		}
	}
	m.fail(w, r, notFound("Action %s not found", request))
}
