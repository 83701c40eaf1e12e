package api

import (
	"context"
	"fmt"
	"net/http"
	"strconv"

	"github.com/shoal-project/shoal/fsm"
)

// Consoles reads the serial console log of instances running on this node
// and sends their guests a non-maskable interrupt (a crash dump);
// InjectNMI says fsm.ErrConflict when the domain is missing or not running.
type Consoles interface {
	ConsoleLog(ctx context.Context, id string, lines int) (string, error)
	InjectNMI(ctx context.Context, id string) error
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
	out, err := s.ops.consoleLog(r.Context(), r.PathValue("id"), lines, r.Header.Get(HeaderForwarded) != "")
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	WriteJSON(w, http.StatusOK, ConsoleOutput{Output: out})
}
