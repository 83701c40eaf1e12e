package api

import (
	"encoding/json"
	"net/http"
)

// What the Neutron module needs beyond the Ops the /v1 handlers share.

// DecodeObject reads a request body that must be one JSON object, with
// the API's limits and text rules (decode.go: size, UTF-8, no half
// surrogate pairs), and returns its members undecoded: a module converts
// them with its own dialect's rules.
func DecodeObject(w http.ResponseWriter, r *http.Request) (map[string]json.RawMessage, error) {
	b, err := readBody(w, r)
	if err != nil {
		return nil, err
	}
	return topLevelKeys(b)
}
