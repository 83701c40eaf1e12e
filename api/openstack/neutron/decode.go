package neutron

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/shoal-project/shoal/api"
)

// Request bodies as Neutron reads them (neutron/api/v2/base.py
// prepare_request_body): {"<resource>":{…}}; an attribute Neutron does not
// know is refused ("Unrecognized attribute(s)"), one it knows but does not
// take in this request is refused too ("not allowed in POST", "Cannot
// update read-only attribute"), and each value is converted as Neutron
// converts it (booleans also as "true"/"false", integers also as digits).
// Anything the module accepts then goes through api.Ops, which validates
// it with /v1's rules.

// attrs is one resource's body: attribute → JSON value.
type attrs map[string]json.RawMessage

// bodySpec is what one request takes: the attributes it accepts, and the
// other attributes the resource has (refused as read-only, not unknown).
type bodySpec struct {
	resource string   // "network": the body's key
	accepts  []string // attributes this request takes
	readOnly []string // the resource's other attributes
}

// decode reads r's body as spec says.
func decode(w http.ResponseWriter, r *http.Request, spec bodySpec) (attrs, error) {
	top, err := api.DecodeObject(w, r)
	if err != nil {
		if api.StatusOf(err) == http.StatusBadRequest {
			return nil, named(err, "HTTPBadRequest", "Malformed request body: "+message(err))
		}
		return nil, err
	}
	inner, ok := top[spec.resource]
	if !ok {
		return nil, badRequest("Unable to find '%s' in request body", spec.resource)
	}
	var a attrs
	if err := json.Unmarshal(inner, &a); err != nil || a == nil {
		return nil, badRequest("Invalid input for operation: %s must be an object.", spec.resource)
	}
	var unknown []string
	for k := range a {
		switch {
		case slices.Contains(spec.accepts, k):
		case slices.Contains(spec.readOnly, k) && r.Method == http.MethodPut:
			return nil, badRequest("Cannot update read-only attribute %s", k)
		case slices.Contains(spec.readOnly, k):
			return nil, badRequest("Attribute '%s' not allowed in %s", k, r.Method)
		default:
			unknown = append(unknown, k)
		}
	}
	if len(unknown) > 0 {
		slices.Sort(unknown)
		return nil, badRequest("Unrecognized attribute(s) '%s'", strings.Join(unknown, ", "))
	}
	return a, nil
}

// has reports whether the body gives name (null included).
func (a attrs) has(name string) bool { _, ok := a[name]; return ok }

// isNull reports whether the body gives name as null.
func (a attrs) isNull(name string) bool { return a.has(name) && string(a[name]) == "null" }

// invalid is Neutron's refusal of one attribute's value.
func invalid(name, reason string, args ...any) error {
	return badRequest("Invalid input for %s. Reason: %s.", name, fmt.Sprintf(reason, args...))
}

// str is name as a string, def when absent; null is refused unless
// nullable, and then reads as "".
func (a attrs) str(name, def string, nullable bool) (string, error) {
	raw, ok := a[name]
	if !ok {
		return def, nil
	}
	if string(raw) == "null" {
		if nullable {
			return "", nil
		}
		return "", invalid(name, "'None' is not a valid string")
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", invalid(name, "'%s' is not a valid string", raw)
	}
	return s, nil
}

// boolean is name as Neutron converts booleans (true, "true", "True",
// 1…), def when absent.
func (a attrs) boolean(name string, def bool) (bool, error) {
	raw, ok := a[name]
	if !ok {
		return def, nil
	}
	var v any
	_ = json.Unmarshal(raw, &v)
	switch t := v.(type) {
	case bool:
		return t, nil
	case string:
		if b, err := strconv.ParseBool(t); err == nil {
			return b, nil
		}
	case float64:
		if t == 0 || t == 1 {
			return t == 1, nil
		}
	}
	return false, invalid(name, "'%s' cannot be converted to boolean", raw)
}

// integer is name as Neutron converts integers (12 or "12"); ok is false
// when absent.
func (a attrs) integer(name string) (n int, ok bool, err error) {
	raw, ok := a[name]
	if !ok {
		return 0, false, nil
	}
	var v any
	_ = json.Unmarshal(raw, &v)
	switch t := v.(type) {
	case float64:
		if t == float64(int(t)) {
			return int(t), true, nil
		}
	case string:
		if n, err := strconv.Atoi(strings.TrimSpace(t)); err == nil {
			return n, true, nil
		}
	}
	return 0, true, invalid(name, "'%s' is not an integer", raw)
}

// optInt is name as an integer, nil when absent or null.
func (a attrs) optInt(name string) (*int, error) {
	if !a.has(name) || a.isNull(name) {
		return nil, nil
	}
	n, _, err := a.integer(name)
	if err != nil {
		return nil, err
	}
	return &n, nil
}

// only refuses name unless it is absent or want (Neutron's value for an
// attribute shoal cannot change, such as admin_state_up true).
func (a attrs) only(name string, want bool) error {
	if !a.has(name) {
		return nil
	}
	v, err := a.boolean(name, want)
	if err != nil {
		return err
	}
	if v != want {
		return invalid(name, "shoal supports only %s=%t", name, want)
	}
	return nil
}

// unmarshal decodes one attribute's value (the body as a whole passed
// api's text checks already).
func unmarshal(raw json.RawMessage, v any) error { return json.Unmarshal(raw, v) }
