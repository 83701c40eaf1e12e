package glance

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"

	"github.com/shoal-project/shoal/fsm"
)

// maxBody is Glance's max_request_body_size (112 KiB): a create or PATCH
// body above it is refused with 413.
const maxBody = 114688

var errTooLarge = errors.New("request body too large")

// readJSON reads r's body as Glance's JSON deserializer does: an empty
// body is "Body expected", bad JSON is "Malformed JSON", numbers stay
// json.Number so integers can be told from floats.
func readJSON(w http.ResponseWriter, r *http.Request) (any, error) {
	data, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	var tooLarge *http.MaxBytesError
	switch {
	case errors.As(err, &tooLarge):
		return nil, errTooLarge
	case err != nil:
		return nil, badRequest("reading the request body: %v", err)
	case len(bytes.TrimSpace(data)) == 0:
		return nil, badRequest("Body expected in request.")
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, badRequest("Malformed JSON in request body.")
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, badRequest("Malformed JSON in request body.")
	}
	return v, nil
}

func forbidden(format string, a ...any) error {
	return fmt.Errorf("%w: %s", fsm.ErrForbidden, fmt.Sprintf(format, a...))
}

func conflict(format string, a ...any) error {
	return fmt.Errorf("%w: %s", fsm.ErrConflict, fmt.Sprintf(format, a...))
}
