package api

import (
	"context"
	"errors"
	"log/slog"
	"net/http"

	"github.com/shoal-project/shoal/fsm"
)

var (
	// ErrNoLeader means the cluster has no leader right now; retrying soon may work.
	ErrNoLeader = errors.New("no cluster leader")
	// ErrUnavailable means the request could not be completed now and its
	// outcome may be unknown (a forward failed, a node is catching up).
	ErrUnavailable = errors.New("temporarily unavailable")

	errMethodNotAllowed = errors.New("method not allowed")
	errTooLarge         = errors.New("request body too large")
	errNotImplemented   = errors.New("not implemented")
	errMediaType        = errors.New("unsupported media type")
)

// ErrorBody is the wire shape of every error response.
type ErrorBody struct {
	Error ErrorDetail `json:"error"`
}

// ErrorDetail repeats the HTTP status as code and says what went wrong.
type ErrorDetail struct {
	Code    int    `json:"code"`
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
	{errTooLarge, http.StatusRequestEntityTooLarge, false},
	{errMediaType, http.StatusUnsupportedMediaType, false},
	{errNotImplemented, http.StatusNotImplemented, false},
	{ErrNoLeader, http.StatusServiceUnavailable, true},
	{ErrUnavailable, http.StatusServiceUnavailable, true},
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

// writeError answers with err's status and the JSON error body.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	status, retry := statusOf(err)
	if status >= http.StatusInternalServerError {
		s.log.LogAttrs(r.Context(), slog.LevelWarn, "api: request failed",
			slog.String("method", r.Method), slog.String("path", r.URL.Path),
			slog.Int("status", status), slog.String("request_id", requestID(r.Context())),
			slog.Any("error", err))
	}
	if retry {
		w.Header().Set("Retry-After", "1")
	}
	writeJSON(w, status, ErrorBody{Error: ErrorDetail{Code: status, Message: err.Error()}})
}
