package osapi

import (
	"encoding/json"
	"net/http"
	"strconv"
)

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// novaFaultNames are the wrapper keys of Nova's error bodies (nova's
// api/openstack/wsgi.py Fault._fault_names); any other status is a
// computeFault.
var novaFaultNames = map[int]string{
	http.StatusBadRequest:            "badRequest",
	http.StatusUnauthorized:          "unauthorized",
	http.StatusForbidden:             "forbidden",
	http.StatusNotFound:              "itemNotFound",
	http.StatusMethodNotAllowed:      "badMethod",
	http.StatusConflict:              "conflictingRequest",
	http.StatusRequestEntityTooLarge: "overLimit",
	http.StatusUnsupportedMediaType:  "badMediaType",
	http.StatusTooManyRequests:       "overLimit",
	http.StatusNotImplemented:        "notImplemented",
	http.StatusServiceUnavailable:    "serviceUnavailable",
}

// NovaFault writes Nova's error body: {"itemNotFound":{"code":404,"message":…}}.
func NovaFault(w http.ResponseWriter, status int, message string) {
	name, ok := novaFaultNames[status]
	if !ok {
		name = "computeFault"
	}
	writeJSON(w, status, map[string]any{name: map[string]any{"code": status, "message": message}})
}

// GlanceFault writes Glance's (webob's) JSON error body:
// {"code":"404 Not Found","title":"Not Found","message":…}.
func GlanceFault(w http.ResponseWriter, status int, message string) {
	title := http.StatusText(status)
	writeJSON(w, status, map[string]any{
		"code":    strconv.Itoa(status) + " " + title,
		"title":   title,
		"message": message,
	})
}

// NeutronFault writes Neutron's error body:
// {"NeutronError":{"type":"NetworkNotFound","message":…,"detail":""}}.
// typ is Neutron's exception name; "" picks the generic one for status.
func NeutronFault(w http.ResponseWriter, status int, typ, message string) {
	if typ == "" {
		typ = NeutronType(status)
	}
	writeJSON(w, status, map[string]any{"NeutronError": map[string]any{"type": typ, "message": message, "detail": ""}})
}

// NeutronType is Neutron's generic exception name for status, used when no
// resource-specific one (NetworkNotFound, FloatingIPNotFound…) applies.
func NeutronType(status int) string {
	switch status {
	case http.StatusBadRequest:
		return "BadRequest"
	case http.StatusUnauthorized:
		return "NotAuthorized"
	case http.StatusForbidden:
		return "PolicyNotAuthorized"
	case http.StatusNotFound:
		return "HTTPNotFound"
	case http.StatusMethodNotAllowed:
		return "HTTPMethodNotAllowed"
	case http.StatusConflict:
		return "Conflict"
	case http.StatusServiceUnavailable:
		return "ServiceUnavailable"
	default:
		return "NeutronException"
	}
}
