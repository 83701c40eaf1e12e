package nova

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"regexp"
	"slices"

	"github.com/shoal-project/shoal/api"
	"github.com/shoal-project/shoal/api/openstack/osapi"
)

// os-extra_specs: a flavor's free key/value hints. Reading them is
// anyone's who sees the flavor; changing them is an admin's.

// extraSpecKey is Nova's key pattern.
var extraSpecKey = regexp.MustCompile(`^[a-zA-Z0-9-_:. ]{1,255}$`)

func (m *Module) registerExtraSpecs(r api.Router) {
	m.route(r, "GET /flavors/{id}/os-extra_specs", api.AccessAuthenticated, m.listExtraSpecs)
	m.route(r, "POST /flavors/{id}/os-extra_specs", api.AccessAdmin, m.createExtraSpecs)
	m.route(r, "GET /flavors/{id}/os-extra_specs/{key}", api.AccessAuthenticated, m.showExtraSpec)
	m.route(r, "PUT /flavors/{id}/os-extra_specs/{key}", api.AccessAdmin, m.updateExtraSpec)
	m.route(r, "DELETE /flavors/{id}/os-extra_specs/{key}", api.AccessAdmin, m.deleteExtraSpec)
}

func (m *Module) listExtraSpecs(w http.ResponseWriter, r *http.Request) {
	specs, err := m.ops.FlavorExtraSpecs(r.Context(), r.PathValue("id"))
	if err != nil {
		m.fail(w, r, flavorNotFound(err, r.PathValue("id")))
		return
	}
	api.WriteJSON(w, http.StatusOK, map[string]map[string]string{"extra_specs": specs})
}

func (m *Module) showExtraSpec(w http.ResponseWriter, r *http.Request) {
	id, key := r.PathValue("id"), r.PathValue("key")
	if _, err := m.ops.Flavor(r.Context(), id); err != nil {
		m.fail(w, r, flavorNotFound(err, id))
		return
	}
	v, err := m.ops.FlavorExtraSpec(r.Context(), id, key)
	if err != nil {
		m.fail(w, r, err)
		return
	}
	api.WriteJSON(w, http.StatusOK, map[string]string{key: v})
}

// specs reads Nova's extra spec object: keys by pattern, values strings,
// numbers or booleans, kept as their text (Nova's str()).
func specs(field string, obj map[string]json.RawMessage) (map[string]string, error) {
	out := map[string]string{}
	for k, raw := range obj {
		if !extraSpecKey.MatchString(k) {
			return nil, invalidInput(field, raw, fmt.Sprintf("'%s' does not match any of the regexes: '^[a-zA-Z0-9-_:. ]{1,255}$'", k))
		}
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.UseNumber()
		var v any
		if err := dec.Decode(&v); err != nil {
			return nil, invalidInput(field+"/"+k, raw, "It is not valid JSON")
		}
		var text string
		switch v := v.(type) {
		case string:
			text = v
		case bool:
			text = "False"
			if v {
				text = "True"
			}
		case json.Number:
			text = v.String()
		default:
			return nil, invalidInput(field+"/"+k, raw, fmt.Sprintf("%s is not of type 'string', 'number', 'boolean'", truncated(raw)))
		}
		if len(text) > 255 {
			return nil, invalidInput(field+"/"+k, raw, "It is longer than 255 characters")
		}
		out[k] = text
	}
	return out, nil
}

// validateSpecs is 2.86's validation of the keys Nova knows (api's
// rule), in key order; below 2.86 any key and value pass.
func validateSpecs(r *http.Request, given map[string]string) error {
	if !osapi.Requested(r.Context()).AtLeast(2, 86) {
		return nil
	}
	for _, k := range slices.Sorted(maps.Keys(given)) {
		if err := api.ValidateExtraSpec(k, given[k]); err != nil {
			return err
		}
	}
	return nil
}

// createExtraSpecs is Nova's POST: {"extra_specs":{…}} sets the keys
// given (others stay) and answers them.
func (m *Module) createExtraSpecs(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	body, err := readObject(w, r)
	var given map[string]string
	if err == nil {
		err = onlyKeys("", body, "extra_specs")
	}
	if err == nil {
		var obj map[string]json.RawMessage
		if err = required("", body, "extra_specs"); err == nil {
			if json.Unmarshal(body["extra_specs"], &obj) != nil || obj == nil {
				err = invalidInput("extra_specs", body["extra_specs"], "It is not of type 'object'")
			}
		}
		if err == nil {
			given, err = specs("extra_specs", obj)
		}
	}
	if err == nil {
		err = validateSpecs(r, given)
	}
	if err == nil {
		_, _, err = m.ops.SetFlavorExtraSpecs(r.Context(), id, given)
		err = flavorNotFound(err, id)
	}
	if err != nil {
		m.fail(w, r, err)
		return
	}
	api.WriteJSON(w, http.StatusOK, map[string]map[string]string{"extra_specs": given})
}

// updateExtraSpec is Nova's PUT of one key: the body holds that key and
// nothing else.
func (m *Module) updateExtraSpec(w http.ResponseWriter, r *http.Request) {
	id, key := r.PathValue("id"), r.PathValue("key")
	body, err := readObject(w, r)
	var given map[string]string
	if err == nil {
		given, err = specs("", body)
	}
	if err == nil {
		err = validateSpecs(r, given)
	}
	if err == nil {
		if _, ok := given[key]; !ok {
			err = badRequest("Request body and URI mismatch")
		} else if len(given) > 1 {
			err = badRequest("Request body contains too many items")
		}
	}
	if err == nil {
		_, _, err = m.ops.SetFlavorExtraSpecs(r.Context(), id, given)
		err = flavorNotFound(err, id)
	}
	if err != nil {
		m.fail(w, r, err)
		return
	}
	api.WriteJSON(w, http.StatusOK, given)
}

// deleteExtraSpec answers 200 with no body, as Nova.
func (m *Module) deleteExtraSpec(w http.ResponseWriter, r *http.Request) {
	id, key := r.PathValue("id"), r.PathValue("key")
	if _, err := m.ops.Flavor(r.Context(), id); err != nil {
		m.fail(w, r, flavorNotFound(err, id))
		return
	}
	if _, err := m.ops.DeleteFlavorExtraSpec(r.Context(), id, key); err != nil {
		m.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusOK)
}
