package api

import (
	"context"
	"fmt"
	"net/http"
	"strconv"

	"github.com/shoal-project/shoal/fsm"
)

// Consoles reads the serial console log of instances running on this node.
type Consoles interface {
	ConsoleLog(ctx context.Context, id string, lines int) (string, error)
}

// ConsoleOutput is the body of GET /v1/servers/{id}/console-log (Nova's
// os-getConsoleOutput).
type ConsoleOutput struct {
	Output string `json:"output"`
}

const maxConsoleLines = 10000

// consoleLog answers from this node's driver when the server runs here and
// forwards to the server's host otherwise: the log file lives there.
func (s *Server) consoleLog(w http.ResponseWriter, r *http.Request) {
	lines := maxConsoleLines
	if v := r.URL.Query().Get("lines"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxConsoleLines {
			s.writeError(w, r, fmt.Errorf("%w: lines must be a number from 1 to %d", fsm.ErrInvalid, maxConsoleLines))
			return
		}
		lines = n
	}
	inst, err := s.serverFor(r, r.PathValue("id"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	switch {
	case inst.Host == "":
		s.writeError(w, r, fmt.Errorf("%w: server %s has no host yet, so it has no console", fsm.ErrConflict, inst.ID))
		return
	case inst.Host != s.node:
		if r.Header.Get(HeaderForwarded) != "" {
			s.writeError(w, r, fmt.Errorf("%w: console request forwarded to %s, but the server runs on %s", fsm.ErrUnavailable, s.node, inst.Host))
			return
		}
		h, err := s.state.Host(inst.Host)
		if err != nil || h.HTTPAddress == "" {
			s.writeError(w, r, fmt.Errorf("%w: host %s of server %s cannot be reached", fsm.ErrUnavailable, inst.Host, inst.ID))
			return
		}
		s.forward(w, r, Leader{Name: h.Name, HTTPAddress: h.HTTPAddress})
		return
	case s.consoles == nil:
		s.writeError(w, r, fmt.Errorf("%w: this node's driver keeps no console log", fsm.ErrUnavailable))
		return
	}
	out, err := s.consoles.ConsoleLog(r.Context(), inst.ID, lines)
	if err != nil {
		s.writeError(w, r, fmt.Errorf("%w: reading the console of %s: %v", fsm.ErrUnavailable, inst.ID, err))
		return
	}
	WriteJSON(w, http.StatusOK, ConsoleOutput{Output: out})
}
