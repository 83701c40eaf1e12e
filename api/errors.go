package api

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"

	"github.com/shoal-project/shoal/fsm"
)

// The API's own sentinels, beside fsm's vocabulary (fsm.ErrInvalid,
// ErrNotFound, ErrConflict, ErrNoLeader, ErrUnavailable, ErrOverQuota).
// Their kinds appear only in error bodies.
var (
	errMethodNotAllowed = fsm.NewError("method_not_allowed", "method not allowed")
	errTooLarge         = fsm.NewError("too_large", "request body too large")
	errNotImplemented   = fsm.NewError("not_implemented", "not implemented")
	errMediaType        = fsm.NewError("unsupported_media_type", "unsupported media type")
)

// Kinds of the errors that wrap no sentinel.
const (
	kindTimeout  = "timeout"
	kindInternal = "internal"
)

// ErrorBody is the wire shape of every error response.
type ErrorBody struct {
	Error ErrorDetail `json:"error"`
}

// ErrorDetail repeats the HTTP status as code (as Nova does) and as title
// (as Keystone does), names the error's kind for programs (fsm.KindOf:
// "not_found", "no_leader", …; a client turns it back into the sentinel with
// fsm.ErrorOfKind) and says what went wrong for people.
type ErrorDetail struct {
	Code int `json:"code"`
	// Title is the status's text, as Keystone's errors carry it.
	Title   string `json:"title,omitempty"`
	Kind    string `json:"kind"`
	Message string `json:"message"`
}

// errorStatuses is the one place errors become HTTP statuses. The first row
// whose error matches (errors.Is) wins; anything else is a 500.
var errorStatuses = []struct {
	err        error
	status     int
	retryAfter bool
}{
	{fsm.ErrInvalid, http.StatusBadRequest, false},
	{fsm.ErrNotFound, http.StatusNotFound, false},
	{errMethodNotAllowed, http.StatusMethodNotAllowed, false},
	{fsm.ErrConflict, http.StatusConflict, false},
	{fsm.ErrUnauthorized, http.StatusUnauthorized, false},
	{fsm.ErrForbidden, http.StatusForbidden, false},
	{fsm.ErrOverQuota, http.StatusForbidden, false},
	{errTooLarge, http.StatusRequestEntityTooLarge, false},
	{errMediaType, http.StatusUnsupportedMediaType, false},
	{errNotImplemented, http.StatusNotImplemented, false},
	{fsm.ErrNoLeader, http.StatusServiceUnavailable, true},
	{fsm.ErrUnavailable, http.StatusServiceUnavailable, true},
	{context.DeadlineExceeded, http.StatusGatewayTimeout, false},
}

// statusOf maps err to its HTTP status and whether a Retry-After belongs with it.
func statusOf(err error) (status int, retryAfter bool) {
	for _, row := range errorStatuses {
		if errors.Is(err, row.err) {
			return row.status, row.retryAfter
		}
	}
	return http.StatusInternalServerError, false
}

// StatusOf is the HTTP status the API answers err with, for other servers
// of the same process that speak its error body (the agent's local socket).
func StatusOf(err error) int {
	status, _ := statusOf(err)
	return status
}

// KindOf is the kind an error body carries for err.
func KindOf(err error) string { return kindOf(err) }

// MessageOf is err's text as OpenStack services word it: a quota error's
// own sentence, else the text without its sentinel's prefix ("not found:
// …"), which the OpenStack modules' messages never carry.
func MessageOf(err error) string {
	var q *fsm.QuotaError
	if errors.As(err, &q) {
		return q.Error()
	}
	text := err.Error()
	kind := fsm.KindOf(err)
	s := fsm.ErrorOfKind(kind)
	for _, own := range []error{errMethodNotAllowed, errTooLarge, errNotImplemented, errMediaType} {
		if s == nil && fsm.KindOf(own) == kind {
			s = own
		}
	}
	if s != nil {
		if rest, ok := strings.CutPrefix(text, s.Error()+": "); ok && rest != "" {
			return rest
		}
	}
	return text
}

// kindOf is the kind an error body carries: that of err's sentinel, else
// timeout for a deadline and internal for the rest.
func kindOf(err error) string {
	switch kind := fsm.KindOf(err); {
	case kind != "":
		return kind
	case errors.Is(err, context.DeadlineExceeded):
		return kindTimeout
	}
	return kindInternal
}

// writeError answers with err's status and the JSON error body, or, under
// a module's prefix, in the module's dialect; a 401 keeps the API's body
// (keystonemiddleware's shape) everywhere.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	status, retry := statusOf(err)
	if status >= http.StatusInternalServerError {
		s.log.LogAttrs(r.Context(), slog.LevelWarn, "api: request failed",
			slog.String("method", r.Method), slog.String("path", r.URL.Path),
			slog.Int("status", status), slog.String("request_id", RequestID(r.Context())),
			slog.Any("error", err))
	}
	if retry {
		w.Header().Set("Retry-After", "1")
	}
	if status == http.StatusUnauthorized {
		// Keystone's hint of where to get a token.
		w.Header().Set("WWW-Authenticate", `Keystone uri="`+identityURL(r)+`"`)
	} else if m := s.moduleFor(r.URL.Path); m != nil {
		m.WriteError(w, r, status, err)
		return
	}
	WriteJSON(w, status, ErrorBody{Error: ErrorDetail{Code: status, Title: http.StatusText(status), Kind: kindOf(err), Message: err.Error()}})
}
