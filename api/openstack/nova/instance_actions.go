package nova

import (
	"net/http"
	"strings"
	"time"

	"github.com/shoal-project/shoal/api"
	"github.com/shoal-project/shoal/fsm"
)

// GET /servers/{id}/os-instance-actions[/{request}]: a server's action log
// in Nova's shape, newest first, with Nova's action names. Nova records
// each action's steps as events; shoal records the action's outcome, shown
// as the one event of the action (an admin's view only, as Nova's default
// policy has it).

// Names the action log uses that the views read (fsm writes them as
// literals).
const (
	actionCreate  = "create"
	resultSuccess = "success"
	resultError   = "error"
)

// instanceAction is Nova's instance action; Events only in a show to an
// admin.
type instanceAction struct {
	Action       string          `json:"action"`
	InstanceUUID string          `json:"instance_uuid"`
	Message      *string         `json:"message"`
	ProjectID    string          `json:"project_id"`
	RequestID    string          `json:"request_id"`
	StartTime    string          `json:"start_time"`
	UserID       string          `json:"user_id"`
	Events       []instanceEvent `json:"events,omitempty"`
}

// instanceEvent is one step of an action. Traceback is an admin's; shoal
// keeps none, so it is null.
type instanceEvent struct {
	Event      string  `json:"event"`
	StartTime  string  `json:"start_time"`
	FinishTime *string `json:"finish_time"`
	Result     *string `json:"result"`
	Traceback  *string `json:"traceback"`
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

// actionView renders a, one of server id's; withEvents adds its event.
func actionView(id string, a fsm.Action, withEvents bool) instanceAction {
	v := instanceAction{Action: novaActionName(a.Action), InstanceUUID: id, Message: nullable(a.Message),
		ProjectID: a.ProjectID, RequestID: a.RequestID, StartTime: microTime(a.Start), UserID: a.UserID}
	if !withEvents {
		return v
	}
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
	log, err := m.ops.ServerActions(r.Context(), id)
	if err != nil {
		m.fail(w, r, instanceErr(id, err))
		return
	}
	out := make([]instanceAction, 0, len(log))
	for _, a := range log {
		out = append(out, actionView(id, a, false))
	}
	api.SetIndex(w, idx)
	api.WriteJSON(w, http.StatusOK, map[string]any{"instanceActions": out})
}

func (m *Module) showInstanceAction(w http.ResponseWriter, r *http.Request) {
	idx := m.ops.Index()
	id, request := r.PathValue("id"), r.PathValue("request")
	log, err := m.ops.ServerActions(r.Context(), id)
	if err != nil {
		m.fail(w, r, instanceErr(id, err))
		return
	}
	for _, a := range log {
		if a.RequestID == request {
			api.SetIndex(w, idx)
			api.WriteJSON(w, http.StatusOK, map[string]any{"instanceAction": actionView(id, a, isAdmin(r))})
			return
		}
	}
	m.fail(w, r, notFound("Action for request_id %s on instance %s not found", request, id))
}
