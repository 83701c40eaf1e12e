package api

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/shoal-project/shoal/fsm"
)

// ServerActionRequest is the body of POST /v1/servers/{id}/action. Type is
// SOFT (the default) or HARD and goes only with reboot; State is active or
// error and goes only with reset-state, which needs it. Address (a floating
// IP) goes with add-floating-ip and remove-floating-ip, FixedAddress (the
// server's fixed IP to map it to; default its first) with add-floating-ip;
// Name (a security group's name or ID) with add-security-group and
// remove-security-group, and the new name with rebuild; Reason with lock;
// Image and Metadata with rebuild.
type ServerActionRequest struct {
	Action string `json:"action"`
	Type   string `json:"type,omitempty"`
	State  string `json:"state,omitempty"`
	Host   string `json:"host,omitempty"` // evacuate, live-migrate, migrate: the target (the scheduler picks when empty)
	// Stop (evacuate): the server lands stopped, whatever it was (Nova
	// 2.95); without it a stopped server stays stopped, any other runs.
	Stop         bool   `json:"stop,omitempty"`
	Address      string `json:"address,omitempty"`
	FixedAddress string `json:"fixed_address,omitempty"`
	Name         string `json:"name,omitempty"`
	Reason       string `json:"reason,omitempty"` // lock: Nova 2.73's locked_reason
	// Image (required), Name and Metadata (the whole map, nil to keep it)
	// go with rebuild.
	Image    string            `json:"image,omitempty"`
	Metadata map[string]string `json:"metadata,omitempty"`
	// Flavor (a name or ID) goes with resize, which needs it.
	Flavor string `json:"flavor,omitempty"`
}

// ServerActionList is the body of GET /v1/servers/{id}/actions, newest first
// (Nova's instance actions).
type ServerActionList struct {
	Actions []fsm.Action `json:"actions"`
}

// The server actions on networking (Nova's addFloatingIp, removeFloatingIp,
// addSecurityGroup, removeSecurityGroup): they change what the server's
// port may reach, not its lifecycle, so they are commands of their own
// rather than an fsm.InstanceAction.
const (
	ActionAddFloatingIP       = "add-floating-ip"
	ActionRemoveFloatingIP    = "remove-floating-ip"
	ActionAddSecurityGroup    = "add-security-group"
	ActionRemoveSecurityGroup = "remove-security-group"
)

// serverActions are the actions the endpoint takes; delete has its own verb.
var serverActions = []string{
	fsm.ActionStart, fsm.ActionStop, fsm.ActionReboot, fsm.ActionPause, fsm.ActionUnpause,
	fsm.ActionSuspend, fsm.ActionResume, fsm.ActionResetState, fsm.ActionEvacuate,
	ActionAddFloatingIP, ActionRemoveFloatingIP, ActionAddSecurityGroup, ActionRemoveSecurityGroup,
	fsm.ActionLock, fsm.ActionUnlock, fsm.ActionRebuild,
	ActionLiveMigrate, ActionMigrate, ActionResize, ActionConfirmResize, ActionRevertResize,
}

func (s *Server) serverAction(w http.ResponseWriter, r *http.Request) {
	var req ServerActionRequest
	if err := decodeBody(w, r, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	// Illegal transitions are the FSM's call: it answers ErrConflict (409).
	idx, d, err := s.ops.ServerAction(r.Context(), r.PathValue("id"), req)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	SetIndex(w, idx)
	WriteJSON(w, http.StatusAccepted, ServerResponse{Server: d})
}

// actionCommand builds the command of a checked request on inst, with the
// caller, the request ID and the time stamped.
func (s *Server) actionCommand(ctx context.Context, inst fsm.Instance, req ServerActionRequest) (fsm.Command, error) {
	p := Caller(ctx)
	switch req.Action {
	case ActionAddFloatingIP, ActionRemoveFloatingIP:
		return s.floatingIPAction(ctx, inst, req)
	case ActionAddSecurityGroup, ActionRemoveSecurityGroup:
		return s.securityGroupAction(inst, req)
	case fsm.ActionEvacuate:
		return &fsm.EvacuateInstances{IDs: []string{inst.ID}, TargetHost: req.Host, Stop: req.Stop, RequestID: RequestID(ctx),
			UserID: p.UserID, ProjectID: p.ProjectID, Time: time.Now().UTC()}, nil
	case fsm.ActionLock, fsm.ActionUnlock:
		return s.lockCommand(ctx, inst.ID, req.Action == fsm.ActionUnlock, req.Reason)
	case ActionLiveMigrate, ActionMigrate, ActionResize, ActionConfirmResize, ActionRevertResize:
		return s.moveCommand(ctx, inst, req)
	case fsm.ActionRebuild:
		var name *string
		if req.Name != "" {
			name = &req.Name
		}
		return s.rebuildCommand(ctx, inst, ServerRebuild{Image: req.Image, Name: name, Metadata: req.Metadata})
	}
	// A lifecycle action: a locked server refuses a non-admin (Apply
	// checks again; this keeps the refusal out of the log).
	if err := inst.CheckLock(p.Admin()); err != nil {
		return nil, err
	}
	cmd, err := req.command()
	if err != nil {
		return nil, err
	}
	cmd.ID, cmd.RequestID, cmd.Time = inst.ID, RequestID(ctx), time.Now().UTC()
	cmd.UserID, cmd.ProjectID, cmd.Admin = p.UserID, p.ProjectID, p.Admin()
	return cmd, nil
}

// adminActions are the actions Nova's default policy keeps for admins
// (os-admin-actions:reset_state, os-evacuate); a member of the server's
// project gets 403 for them.
var adminActions = map[string]bool{fsm.ActionResetState: true, fsm.ActionEvacuate: true,
	ActionLiveMigrate: true, ActionMigrate: true}

// actionFields says which actions each optional field goes with; a field
// given with another action is refused, so a typo never goes unnoticed.
var actionFields = []struct {
	name    string
	value   func(ServerActionRequest) string
	actions []string
}{
	{"type", func(r ServerActionRequest) string { return r.Type }, []string{fsm.ActionReboot}},
	{"state", func(r ServerActionRequest) string { return r.State }, []string{fsm.ActionResetState}},
	{"host", func(r ServerActionRequest) string { return r.Host }, []string{fsm.ActionEvacuate, ActionLiveMigrate, ActionMigrate}},
	{"address", func(r ServerActionRequest) string { return r.Address }, []string{ActionAddFloatingIP, ActionRemoveFloatingIP}},
	{"fixed_address", func(r ServerActionRequest) string { return r.FixedAddress }, []string{ActionAddFloatingIP}},
	{"name", func(r ServerActionRequest) string { return r.Name }, []string{ActionAddSecurityGroup, ActionRemoveSecurityGroup, fsm.ActionRebuild}},
	{"image", func(r ServerActionRequest) string { return r.Image }, []string{fsm.ActionRebuild}},
	{"reason", func(r ServerActionRequest) string { return r.Reason }, []string{fsm.ActionLock}},
	{"flavor", func(r ServerActionRequest) string { return r.Flavor }, []string{ActionResize}},
}

// check validates what the request says without the state: a known action,
// only the fields that go with it, and those it needs.
func (req ServerActionRequest) check() error {
	if !slices.Contains(serverActions, req.Action) {
		return fmt.Errorf("%w: unknown action %q (use %s)", fsm.ErrInvalid, req.Action, strings.Join(serverActions, ", "))
	}
	for _, f := range actionFields {
		v := f.value(req)
		if v != "" && !slices.Contains(f.actions, req.Action) {
			return fmt.Errorf("%w: %s goes only with %s, not %s", fsm.ErrInvalid, f.name, strings.Join(f.actions, " or "), req.Action)
		}
		if err := validText(f.name, v, maxResourceRef); err != nil {
			return err
		}
	}
	if req.Stop && req.Action != fsm.ActionEvacuate {
		return fmt.Errorf("%w: stop goes only with evacuate, not %s", fsm.ErrInvalid, req.Action)
	}
	switch req.Action {
	case ActionAddFloatingIP, ActionRemoveFloatingIP:
		if req.Address == "" {
			return fmt.Errorf("%w: %s needs the floating IP's address", fsm.ErrInvalid, req.Action)
		}
	case ActionAddSecurityGroup, ActionRemoveSecurityGroup:
		if req.Name == "" {
			return fmt.Errorf("%w: %s needs the security group's name", fsm.ErrInvalid, req.Action)
		}
	case fsm.ActionRebuild:
		if req.Image == "" {
			return fmt.Errorf("%w: rebuild needs the image", fsm.ErrInvalid)
		}
	case ActionResize:
		if req.Flavor == "" {
			return fmt.Errorf("%w: resize needs the flavor", fsm.ErrInvalid)
		}
	case fsm.ActionReboot, fsm.ActionResetState:
		_, err := req.command()
		return err
	}
	if req.Metadata != nil && req.Action != fsm.ActionRebuild {
		return fmt.Errorf("%w: metadata goes only with rebuild, not %s", fsm.ErrInvalid, req.Action)
	}
	return nil
}

// command builds the fsm.InstanceAction of a lifecycle action, without its
// ID, request ID and time.
func (req ServerActionRequest) command() (*fsm.InstanceAction, error) {
	cmd := &fsm.InstanceAction{Action: req.Action}
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
	actions, err := s.ops.ServerActions(r.Context(), r.PathValue("id"))
	s.writeFound(w, r, idx, err, func() any { return ServerActionList{Actions: actions} })
}
