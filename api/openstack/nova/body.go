package nova

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/shoal-project/shoal/fsm"
)

// Nova's request bodies, read the way Nova's JSON schemas read them:
// objects with known keys only (an unknown one is 400), integers that may
// come as strings of digits, booleans that may come as "True"/"yes"/"1".
// The leniency is the dialect's; the rules on the values decoded stay in
// api.Ops.

// maxBodyBytes is Nova's max_request_body_size: a larger body is 413.
const maxBodyBytes = 114688

// fault is an error with the status and message Nova answers, for the
// answers no fsm sentinel carries (413, a 400 worded as Nova's schema).
type fault struct {
	status  int
	message string
}

func (f *fault) Error() string { return f.message }

// badRequest is a 400 with Nova's message.
func badRequest(format string, args ...any) error {
	return &fault{status: http.StatusBadRequest, message: fmt.Sprintf(format, args...)}
}

// invalidInput is Nova's schema-violation message for field with value;
// at the body's root (field "") Nova gives the reason alone.
func invalidInput(field string, value json.RawMessage, reason string) error {
	if field == "" {
		return badRequest("%s", reason)
	}
	return badRequest("Invalid input for field/attribute %s. Value: %s. %s", field, truncated(value), reason)
}

func truncated(raw json.RawMessage) string {
	s := string(raw)
	if len(s) > 200 {
		s = s[:200] + "..."
	}
	return s
}

// readObject reads a request body that must be one JSON object.
func readObject(w http.ResponseWriter, r *http.Request) (map[string]json.RawMessage, error) {
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBodyBytes))
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		return nil, &fault{status: http.StatusRequestEntityTooLarge, message: "Request is too large."}
	}
	if err != nil {
		return nil, fmt.Errorf("%w: reading the request body: %v", fsm.ErrInvalid, err)
	}
	var obj map[string]json.RawMessage
	dec := json.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(&obj); err != nil || obj == nil || dec.More() {
		return nil, badRequest("Malformed request body")
	}
	return obj, nil
}

// member reads obj[key], which must be an object with only the keys
// allowed (Nova's additionalProperties: false).
func member(obj map[string]json.RawMessage, key string, allowed ...string) (map[string]json.RawMessage, error) {
	raw, ok := obj[key]
	if !ok {
		return nil, invalidInput(key, nil, fmt.Sprintf("'%s' is a required property", key))
	}
	var inner map[string]json.RawMessage
	if err := json.Unmarshal(raw, &inner); err != nil || inner == nil {
		return nil, invalidInput(key, raw, "It is not of type 'object'")
	}
	if err := onlyKeys(key, inner, allowed...); err != nil {
		return nil, err
	}
	return inner, nil
}

// onlyKeys refuses a key of obj (at path) that is not allowed.
func onlyKeys(path string, obj map[string]json.RawMessage, allowed ...string) error {
	var extra []string
	for k := range obj {
		if !slices.Contains(allowed, k) {
			extra = append(extra, "'"+k+"'")
		}
	}
	if len(extra) == 0 {
		return nil
	}
	slices.Sort(extra)
	raw, _ := json.Marshal(obj)
	verb := "was"
	if len(extra) > 1 {
		verb = "were"
	}
	return invalidInput(path, raw, fmt.Sprintf("Additional properties are not allowed (%s %s unexpected)", strings.Join(extra, ", "), verb))
}

// required refuses obj (at path) without every key named.
func required(path string, obj map[string]json.RawMessage, keys ...string) error {
	for _, k := range keys {
		if _, ok := obj[k]; !ok {
			raw, _ := json.Marshal(obj)
			return invalidInput(path, raw, fmt.Sprintf("'%s' is a required property", k))
		}
	}
	return nil
}

// stringField reads a JSON string.
func stringField(field string, raw json.RawMessage) (string, error) {
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", invalidInput(field, raw, fmt.Sprintf("%s is not of type 'string'", truncated(raw)))
	}
	return s, nil
}

// intField reads an integer, or a string of digits (with a sign only when
// min is negative), of at least min: Nova's flavor and quota parameters.
func intField(field string, raw json.RawMessage, min int) (int, error) {
	var n int
	if err := json.Unmarshal(raw, &n); err != nil {
		var s string
		if json.Unmarshal(raw, &s) != nil {
			return 0, invalidInput(field, raw, fmt.Sprintf("%s is not of type 'integer', 'string'", truncated(raw)))
		}
		if n, err = strconv.Atoi(strings.TrimSpace(s)); err != nil || (min >= 0 && strings.ContainsAny(s, "+-")) {
			return 0, invalidInput(field, raw, fmt.Sprintf("%s does not match '^[0-9]*$'", truncated(raw)))
		}
	}
	if n < min {
		return 0, invalidInput(field, raw, fmt.Sprintf("%d is less than the minimum of %d", n, min))
	}
	return n, nil
}

// boolField reads Nova's parameter_types.boolean: a JSON boolean or one of
// oslo's boolean strings.
func boolField(field string, raw json.RawMessage) (bool, error) {
	var b bool
	if json.Unmarshal(raw, &b) == nil {
		return b, nil
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		if v, ok := parseBool(s); ok {
			return v, nil
		}
	}
	return false, invalidInput(field, raw, fmt.Sprintf("%s is not one of the allowed boolean values", truncated(raw)))
}

// parseBool is oslo's strict bool_from_string.
func parseBool(s string) (bool, bool) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "1", "t", "true", "on", "y", "yes":
		return true, true
	case "0", "f", "false", "off", "n", "no":
		return false, true
	}
	return false, false
}
