package api

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/shoal-project/shoal/fsm"
)

// ServerActionRequest is the body of POST /v1/servers/{id}/action. Type is
// SOFT (the default) or HARD and goes only with reboot; State is active or
// error and goes only with reset-state, which needs it.
type ServerActionRequest struct {
	Action string `json:"action"`
	Type   string `json:"type,omitempty"`
	State  string `json:"state,omitempty"`
	Host   string `json:"host,omitempty"` // evacuate: the target (the scheduler picks when empty)
}

// ServerActionList is the body of GET /v1/servers/{id}/actions, newest first
// (Nova's instance actions).
type ServerActionList struct {
	Actions []fsm.Action `json:"actions"`
}

// serverActions are the actions the endpoint takes; delete has its own verb.
var serverActions = []string{
	fsm.ActionStart, fsm.ActionStop, fsm.ActionReboot, fsm.ActionPause, fsm.ActionUnpause,
	fsm.ActionSuspend, fsm.ActionResume, fsm.ActionResetState, fsm.ActionEvacuate,
}

func (s *Server) serverAction(w http.ResponseWriter, r *http.Request) {
	var req ServerActionRequest
	err := decodeBody(w, r, &req)
	var cmd *fsm.InstanceAction
	if err == nil {
		cmd, err = req.command()
	}
	var inst fsm.Instance
	if err == nil {
		inst, err = s.serverFor(r, r.PathValue("id"))
	}
	p := principalOf(r.Context())
	if err == nil && adminActions[req.Action] && !p.Admin() {
		err = errPolicy(r)
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	var c fsm.Command = cmd
	if req.Action == fsm.ActionEvacuate {
		c = &fsm.EvacuateInstances{IDs: []string{inst.ID}, TargetHost: req.Host, RequestID: requestID(r.Context()),
			UserID: p.UserID, ProjectID: p.ProjectID, Time: time.Now().UTC()}
	}
	cmd.ID, cmd.RequestID, cmd.Time = inst.ID, requestID(r.Context()), time.Now().UTC()
	cmd.UserID, cmd.ProjectID = p.UserID, p.ProjectID
	// Illegal transitions are the FSM's call: it answers ErrConflict (409).
	idx, inst, err := applyRead(s, r.Context(), c, "server", inst.ID, s.state.Instance)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	setIndex(w, idx)
	writeJSON(w, http.StatusAccepted, ServerResponse{Server: serverDetail(inst, s.imageNames())})
}

// adminActions are the actions Nova's default policy keeps for admins
// (os-admin-actions:reset_state, os-evacuate); a member of the server's
// project gets 403 for them.
var adminActions = map[string]bool{fsm.ActionResetState: true, fsm.ActionEvacuate: true}

// command validates the request and builds the FSM command without its ID,
// request ID and time.
func (req ServerActionRequest) command() (*fsm.InstanceAction, error) {
	if !slices.Contains(serverActions, req.Action) {
		return nil, fmt.Errorf("%w: unknown action %q (use %s)", fsm.ErrInvalid, req.Action, strings.Join(serverActions, ", "))
	}
	cmd := &fsm.InstanceAction{Action: req.Action}
	if req.Type != "" && req.Action != fsm.ActionReboot {
		return nil, fmt.Errorf("%w: type goes only with reboot, not %s", fsm.ErrInvalid, req.Action)
	}
	if req.State != "" && req.Action != fsm.ActionResetState {
		return nil, fmt.Errorf("%w: state goes only with reset-state, not %s", fsm.ErrInvalid, req.Action)
	}
	if req.Host != "" && req.Action != fsm.ActionEvacuate {
		return nil, fmt.Errorf("%w: host goes only with evacuate, not %s", fsm.ErrInvalid, req.Action)
	}
	switch req.Action {
	case fsm.ActionReboot:
		switch strings.ToUpper(req.Type) {
		case "", "SOFT":
		case "HARD":
			cmd.Hard = true
		default:
			return nil, fmt.Errorf("%w: reboot type must be SOFT or HARD, not %q", fsm.ErrInvalid, req.Type)
		}
	case fsm.ActionResetState:
		switch st := strings.ToLower(req.State); st {
		case "active", "error":
			cmd.State = st
		default:
			return nil, fmt.Errorf("%w: reset-state needs state active or error, not %q", fsm.ErrInvalid, req.State)
		}
	}
	return cmd, nil
}

func (s *Server) listServerActions(w http.ResponseWriter, r *http.Request) {
	idx := s.state.Index()
	inst, err := s.serverFor(r, r.PathValue("id"))
	s.writeFound(w, r, idx, err, func() any {
		actions := slices.Clone(inst.Actions)
		if actions == nil {
			actions = []fsm.Action{}
		}
		slices.Reverse(actions) // newest first
		return ServerActionList{Actions: actions}
	})
}
