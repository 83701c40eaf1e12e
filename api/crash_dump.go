package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"

	"github.com/shoal-project/shoal/fsm"
)

// crashDumpStates are the vm_states in which Nova lets a guest be sent an
// NMI (its trigger_crash_dump), when no task is under way.
var crashDumpStates = []string{fsm.VMActive, fsm.VMPaused, fsm.VMError}

// AllowsCrashDump reports whether a server's state lets its guest be sent
// an NMI; one that does and is not locked is refused only when its domain
// does not run (Nova's InstanceNotReady).
func AllowsCrashDump(d ServerDetail) bool { return crashDumpAllowed(d.VMState, d.TaskState) }

func crashDumpAllowed(vmState, taskState string) bool {
	return taskState == "" && slices.Contains(crashDumpStates, vmState)
}

// TriggerCrashDump sends the guest of a server the caller may see a
// non-maskable interrupt, on which a guest set up for it dumps its kernel
// (Nova's trigger_crash_dump). A locked server (for a non-admin), a busy
// one or one not active, paused or in error is ErrConflict. Like the
// console log, the domain lives on the server's host: this node's driver
// answers for its own servers, that host's /v1 route for another's. No
// instance action is recorded: the action log is the FSM's, kept by its
// lifecycle commands, and an NMI changes no state the FSM holds.
func (o *Ops) TriggerCrashDump(ctx context.Context, id string) error {
	return o.triggerCrashDump(ctx, id, false)
}

// triggerCrashDump is TriggerCrashDump; forwarded says another node sent
// the request here, so it must not go on.
func (o *Ops) triggerCrashDump(ctx context.Context, id string, forwarded bool) error {
	inst, err := o.s.serverFor(ctx, id)
	if err != nil {
		return err
	}
	if err := inst.CheckLock(Caller(ctx).Admin()); err != nil {
		return err
	}
	if !crashDumpAllowed(inst.VMState, inst.TaskState) {
		return fmt.Errorf("%w: server %s is %s (task %q): a crash dump needs it active, paused or in error with no task",
			fsm.ErrConflict, inst.ID, inst.VMState, inst.TaskState)
	}
	s := o.s
	switch {
	case inst.Host == "":
		return fmt.Errorf("%w: server %s has no host, so no guest to interrupt", fsm.ErrConflict, inst.ID)
	case inst.Host != s.node && forwarded:
		return fmt.Errorf("%w: crash dump forwarded to %s, but the server runs on %s", fsm.ErrUnavailable, s.node, inst.Host)
	case inst.Host != s.node:
		return o.remoteCrashDump(ctx, inst)
	case s.consoles == nil:
		return fmt.Errorf("%w: this node's driver runs no guests", fsm.ErrUnavailable)
	}
	err = s.consoles.InjectNMI(ctx, inst.ID)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, fsm.ErrConflict):
		// The FSM says it runs but its domain does not (yet), as the
		// driver's wiring reports it: Nova's InstanceNotReady.
		return fmt.Errorf("%w: Instance %s is not ready: %v", fsm.ErrConflict, inst.ID, err)
	}
	return fmt.Errorf("%w: sending an NMI to %s: %v", fsm.ErrUnavailable, inst.ID, err)
}

// remoteCrashDump asks the host of inst to interrupt its guest, as this
// node (its certificate) on the caller's behalf (its token); the host's
// error comes back with its sentinel.
func (o *Ops) remoteCrashDump(ctx context.Context, inst fsm.Instance) error {
	h, err := o.s.state.Host(inst.Host)
	if err != nil || h.HTTPAddress == "" {
		return fmt.Errorf("%w: host %s of server %s cannot be reached", fsm.ErrUnavailable, inst.Host, inst.ID)
	}
	u := url.URL{Scheme: "https", Host: h.HTTPAddress, Path: "/v1/servers/" + url.PathEscape(inst.ID) + "/trigger-crash-dump"}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), nil)
	if err != nil {
		return err
	}
	req.Header.Set(HeaderAuthToken, tokenOf(ctx))
	req.Header.Set(HeaderForwarded, "1")
	req.Header.Set(HeaderRequestID, RequestID(ctx))
	resp, err := o.s.cluster.InternalClient().Do(req)
	if err != nil {
		return fmt.Errorf("%w: asking %s to interrupt %s: %v", fsm.ErrUnavailable, inst.Host, inst.ID, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode == http.StatusAccepted {
		return nil
	}
	var e ErrorBody
	_ = json.Unmarshal(b, &e)
	sentinel := fsm.ErrorOfKind(e.Error.Kind)
	if sentinel == nil {
		sentinel = fsm.ErrUnavailable
	}
	return fmt.Errorf("%w: host %s answered %d: %s", sentinel, inst.Host, resp.StatusCode, e.Error.Message)
}

// triggerCrashDump is POST /v1/servers/{id}/trigger-crash-dump: 202 with
// no body once the guest has been sent its NMI.
func (s *Server) triggerCrashDump(w http.ResponseWriter, r *http.Request) {
	if err := s.ops.triggerCrashDump(r.Context(), r.PathValue("id"), r.Header.Get(HeaderForwarded) != ""); err != nil {
		s.writeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusAccepted)
}
