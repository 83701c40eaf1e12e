package nova

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"

	"github.com/shoal-project/shoal/api"
	"github.com/shoal-project/shoal/fsm"
)

// os-getConsoleOutput: {"os-getConsoleOutput": {"length": N}} → 200
// {"output": …}, the last N lines of the server's serial console as Nova
// counts them (novaTail; all of them for -1, null or 0). The log lives on the
// server's host; Ops.ConsoleLog asks that host when it is not this node
// (the action's body is read here, so the request cannot be re-sent).
type consoleCall struct{ lines int }

// controlChars are what Nova strips from the output (the XML-unsafe ones).
var controlChars = regexp.MustCompile("[\x00-\x08\x0B-\x1F]")

func parseConsoleOutput(_ *http.Request, k string, v json.RawMessage) (call, error) {
	b, err := members(k, v, nil, "length")
	if err != nil {
		return nil, err
	}
	raw, ok := b["length"]
	if !ok || isNull(raw) {
		return consoleCall{}, nil
	}
	var s string
	if json.Unmarshal(raw, &s) != nil {
		var n json.Number
		if isKind(raw, '"') || json.Unmarshal(raw, &n) != nil {
			return nil, invalidInput("length", raw, fmt.Sprintf("%s is not of type 'integer', 'string', 'null'", truncated(raw)))
		}
		s = n.String()
	}
	n, err := strconv.Atoi(s)
	switch {
	case err != nil:
		return nil, invalidInput("length", raw, fmt.Sprintf("'%s' does not match '^-?[0-9]+$'", s))
	case n < -1:
		return nil, invalidInput("length", raw, fmt.Sprintf("%d is less than the minimum of -1", n))
	case n == -1:
		n = 0
	}
	return consoleCall{lines: n}, nil
}

func (c consoleCall) run(m *Module, w http.ResponseWriter, r *http.Request, d api.ServerDetail) {
	out, err := m.ops.ConsoleLog(r.Context(), d.ID, c.lines)
	switch {
	case errors.Is(err, fsm.ErrNotFound):
		err = instanceErr(d.ID, err)
	case errors.Is(err, fsm.ErrConflict):
		err = conflict("Instance %s is not ready", d.ID)
	}
	if err != nil {
		m.fail(w, r, err)
		return
	}
	if c.lines > 0 {
		out = novaTail(out, c.lines)
	}
	api.WriteJSON(w, http.StatusOK, map[string]string{"output": controlChars.ReplaceAllString(out, "")})
}

// novaTail is Nova's _tail_log: the last n pieces of the log split at
// "\n", joined again. A log ending in a newline ends in an empty piece,
// so Nova answers n-1 lines and that newline; clients count the pieces
// (Tempest asks for 3 and wants output.split("\n") to have 3). The
// driver's last n lines hold at least those pieces.
func novaTail(log string, n int) string {
	pieces := strings.Split(log, "\n")
	if len(pieces) > n {
		pieces = pieces[len(pieces)-n:]
	}
	return strings.Join(pieces, "\n")
}
