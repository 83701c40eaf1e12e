package nova

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strconv"

	"github.com/shoal-project/shoal/api"
	"github.com/shoal-project/shoal/fsm"
)

// os-getConsoleOutput: {"os-getConsoleOutput": {"length": N}} → 200
// {"output": …}, the last N lines of the server's serial console (all of
// them for -1, null or 0, as Nova's tail does). The log lives on the
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
	api.WriteJSON(w, http.StatusOK, map[string]string{"output": controlChars.ReplaceAllString(out, "")})
}
