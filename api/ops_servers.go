package api

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/shoal-project/shoal/fsm"
)

// Servers lists the servers f selects, with GET /v1/servers's semantics
// (scope, filters, limit and marker) but without its strict parameter
// parsing: Status matches case-insensitively and an unknown one matches
// nothing; Limit 0 means all, above the page maximum a full page. Listing
// all projects or another project is an admin's (403); a bad name
// expression, a negative limit or an unknown marker is 400.
func (o *Ops) Servers(ctx context.Context, f ServerFilter) ([]ServerDetail, error) {
	sc, err := scopeOf(Caller(ctx), f.AllTenants, f.ProjectID, "servers")
	if err != nil {
		return nil, err
	}
	q, err := f.compile()
	if err != nil {
		return nil, err
	}
	return o.servers(sc, q)
}

// compile checks what a filter needs whatever the dialect: a name that is
// a regular expression, a limit that is not negative.
func (f ServerFilter) compile() (serverQuery, error) {
	q := serverQuery{ServerFilter: f}
	q.Status = strings.ToUpper(f.Status)
	if f.Name != "" {
		re, err := regexp.Compile(f.Name)
		if err != nil {
			return q, fmt.Errorf("%w: name filter is not a valid regular expression: %v", fsm.ErrInvalid, err)
		}
		q.name = re
	}
	if f.Limit < 0 {
		return q, fmt.Errorf("%w: limit must not be negative, not %d", fsm.ErrInvalid, f.Limit)
	}
	q.Limit = min(f.Limit, maxListLimit)
	return q, nil
}

// servers is the one listing of servers: those of sc after the marker that
// q matches, at most q.Limit of them.
func (o *Ops) servers(sc tenantScope, q serverQuery) ([]ServerDetail, error) {
	all := o.s.state.Instances(func(i *fsm.Instance) bool { return sc.has(i.ProjectID) })
	start := 0
	if q.Marker != "" {
		k := slices.IndexFunc(all, func(i fsm.Instance) bool { return i.ID == q.Marker })
		if k < 0 {
			return nil, fmt.Errorf("%w: marker %q is not a server", fsm.ErrInvalid, q.Marker)
		}
		start = k + 1
	}
	views := o.s.serverViews()
	out := []ServerDetail{}
	for _, inst := range all[start:] {
		if q.Limit > 0 && len(out) == q.Limit {
			break
		}
		if q.matches(&inst) {
			out = append(out, views.detail(inst))
		}
	}
	return out, nil
}

// Server is a server the caller may see (another project's is absent),
// rendered and as the replica has it.
func (o *Ops) Server(ctx context.Context, id string) (ServerDetail, fsm.Instance, error) {
	inst, err := o.s.serverFor(ctx, id)
	if err != nil {
		return ServerDetail{}, inst, err
	}
	return o.s.serverViews().detail(inst), inst, nil
}

// CreateServers creates req.Count servers (0 means 1) for the caller's
// project, all or none, and returns them as applied.
func (o *Ops) CreateServers(ctx context.Context, req ServerCreate) (uint64, []ServerDetail, error) {
	r := serverCreateRequest{Name: req.Name, Flavor: req.Flavor, Image: req.Image, AvailabilityZone: req.AvailabilityZone,
		ServerGroup: req.ServerGroup, Metadata: req.Metadata, HA: req.HA, SecurityGroups: req.SecurityGroups,
		KeyName: req.KeyName, UserData: req.UserData, ConfigDrive: req.ConfigDrive, Description: req.Description,
		Tags: req.Tags, Hostname: req.Hostname, Host: req.Host}
	if req.Count != 0 {
		r.Count = &req.Count
	}
	return o.createServers(ctx, r)
}

func (o *Ops) createServers(ctx context.Context, req serverCreateRequest) (uint64, []ServerDetail, error) {
	cmd, err := o.s.newInstances(ctx, req)
	if err != nil {
		return 0, nil, err
	}
	created := make([]string, len(cmd.Instances))
	for k, n := range cmd.Instances {
		created[k] = n.ID
	}
	return o.s.applyToServers(ctx, cmd, created)
}

// DeleteServer asks for a server the caller may see to be deleted.
func (o *Ops) DeleteServer(ctx context.Context, id string) (uint64, error) {
	inst, err := o.s.serverFor(ctx, id)
	if err != nil {
		return 0, err
	}
	p := Caller(ctx)
	if err := inst.CheckLock(p.Admin()); err != nil {
		return 0, err
	}
	return o.s.apply(ctx, &fsm.InstanceAction{ID: inst.ID, Action: fsm.ActionDelete,
		RequestID: RequestID(ctx), UserID: p.UserID, ProjectID: p.ProjectID, Admin: p.Admin(), Time: time.Now().UTC()})
}

// ServerAction runs one of the /v1 actions (ServerActionRequest.Action:
// start, stop, reboot, …, add-floating-ip, add-security-group, …) on a
// server the caller may see; reset-state and evacuate are an admin's
// (403). An illegal transition is the FSM's 409.
func (o *Ops) ServerAction(ctx context.Context, id string, req ServerActionRequest) (uint64, ServerDetail, error) {
	if err := req.check(); err != nil {
		return 0, ServerDetail{}, err
	}
	inst, err := o.s.serverFor(ctx, id)
	if err != nil {
		return 0, ServerDetail{}, err
	}
	if adminActions[req.Action] && !Caller(ctx).Admin() {
		return 0, ServerDetail{}, errForbiddenTo("action " + req.Action)
	}
	c, err := o.s.actionCommand(ctx, inst, req)
	if err != nil {
		return 0, ServerDetail{}, err
	}
	return o.applyToServer(ctx, c, inst.ID)
}

// ServerActions is a server's action log, newest first.
func (o *Ops) ServerActions(ctx context.Context, id string) ([]fsm.Action, error) {
	inst, err := o.s.serverFor(ctx, id)
	if err != nil {
		return nil, err
	}
	actions := slices.Clone(inst.Actions)
	if actions == nil {
		actions = []fsm.Action{}
	}
	slices.Reverse(actions)
	return actions, nil
}

// ConsoleLog is the last lines of a server's console log (lines <= 0 or
// above the maximum: as many as the maximum). The log lives on the
// server's host: this node's driver answers for its own servers; for
// another host's, this node asks that host's /v1 console-log with the
// caller's token (the host checks it again), so a request whose body is
// already read (Nova's os-getConsoleOutput action) needs no re-sending.
func (o *Ops) ConsoleLog(ctx context.Context, id string, lines int) (string, error) {
	return o.consoleLog(ctx, id, lines, false)
}

// maxConsoleAnswer bounds the answer read from another host.
const maxConsoleAnswer = 64 << 20

// consoleLog is ConsoleLog; forwarded says another node sent the request
// here, so it must not go on.
func (o *Ops) consoleLog(ctx context.Context, id string, lines int, forwarded bool) (string, error) {
	if lines <= 0 || lines > maxConsoleLines {
		lines = maxConsoleLines
	}
	inst, err := o.s.serverFor(ctx, id)
	if err != nil {
		return "", err
	}
	s := o.s
	switch {
	case inst.Host == "":
		return "", fmt.Errorf("%w: server %s has no host yet, so it has no console", fsm.ErrConflict, inst.ID)
	case inst.Host != s.node && forwarded:
		return "", fmt.Errorf("%w: console request forwarded to %s, but the server runs on %s", fsm.ErrUnavailable, s.node, inst.Host)
	case inst.Host != s.node:
		return o.remoteConsoleLog(ctx, inst, lines)
	case s.consoles == nil:
		return "", fmt.Errorf("%w: this node's driver keeps no console log", fsm.ErrUnavailable)
	}
	out, err := s.consoles.ConsoleLog(ctx, inst.ID, lines)
	if err != nil {
		return "", fmt.Errorf("%w: reading the console of %s: %v", fsm.ErrUnavailable, inst.ID, err)
	}
	return out, nil
}

// remoteConsoleLog asks the host of inst for its console log, as this node
// (its certificate) on the caller's behalf (its token); the host's error
// comes back with its sentinel.
func (o *Ops) remoteConsoleLog(ctx context.Context, inst fsm.Instance, lines int) (string, error) {
	h, err := o.s.state.Host(inst.Host)
	if err != nil || h.HTTPAddress == "" {
		return "", fmt.Errorf("%w: host %s of server %s cannot be reached", fsm.ErrUnavailable, inst.Host, inst.ID)
	}
	u := url.URL{Scheme: "https", Host: h.HTTPAddress, Path: "/v1/servers/" + url.PathEscape(inst.ID) + "/console-log",
		RawQuery: "lines=" + strconv.Itoa(lines)}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return "", err
	}
	req.Header.Set(HeaderAuthToken, tokenOf(ctx))
	req.Header.Set(HeaderForwarded, "1")
	req.Header.Set(HeaderRequestID, RequestID(ctx))
	resp, err := o.s.cluster.InternalClient().Do(req)
	if err != nil {
		return "", fmt.Errorf("%w: asking %s for the console of %s: %v", fsm.ErrUnavailable, inst.Host, inst.ID, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxConsoleAnswer))
	if err != nil {
		return "", fmt.Errorf("%w: reading the console of %s from %s: %v", fsm.ErrUnavailable, inst.ID, inst.Host, err)
	}
	if resp.StatusCode == http.StatusOK {
		var out ConsoleOutput
		if err := json.Unmarshal(b, &out); err != nil {
			return "", fmt.Errorf("%w: the console of %s from %s: %v", fsm.ErrUnavailable, inst.ID, inst.Host, err)
		}
		return out.Output, nil
	}
	var e ErrorBody
	_ = json.Unmarshal(b, &e)
	sentinel := fsm.ErrorOfKind(e.Error.Kind)
	if sentinel == nil {
		sentinel = fsm.ErrUnavailable
	}
	return "", fmt.Errorf("%w: host %s answered %d: %s", sentinel, inst.Host, resp.StatusCode, e.Error.Message)
}

// applyToServer commits c, which changes server id, and answers the
// server as the local replica has it then.
func (o *Ops) applyToServer(ctx context.Context, c fsm.Command, id string) (uint64, ServerDetail, error) {
	idx, inst, err := applyRead(o.s, ctx, c, "server", id, o.s.state.Instance)
	if err != nil {
		return idx, ServerDetail{}, err
	}
	return idx, o.s.serverViews().detail(inst), nil
}
