package nova

import (
	"encoding/json"
	"math"
	"net/http"
	"slices"
	"strconv"

	"github.com/shoal-project/shoal/api"
	"github.com/shoal-project/shoal/api/openstack/osapi"
	"github.com/shoal-project/shoal/fsm"
)

// flavorCreateKeys are the keys of Nova's 2.1 flavor create schema
// (description comes with 2.55).
var flavorCreateKeys = []string{"name", "id", "ram", "vcpus", "disk", "OS-FLV-EXT-DATA:ephemeral", "swap",
	"rxtx_factor", "os-flavor-access:is_public"}

// createFlavor is Nova's POST /flavors: 200 with the flavor.
func (m *Module) createFlavor(w http.ResponseWriter, r *http.Request) {
	c, err := decodeFlavorCreate(w, r)
	if err != nil {
		m.fail(w, r, err)
		return
	}
	_, f, err := m.ops.CreateFlavor(r.Context(), c)
	if err != nil {
		m.fail(w, r, m.flavorExists(r, err, c))
		return
	}
	api.WriteJSON(w, http.StatusOK, map[string]Flavor{"flavor": flavorView(r, f)})
}

// decodeFlavorCreate reads {"flavor":{…}} with Nova's leniency: numbers
// may be strings of digits, the id a number, is_public an oslo boolean.
// The ranges and the name's rules are api's.
func decodeFlavorCreate(w http.ResponseWriter, r *http.Request) (api.FlavorCreate, error) {
	var c api.FlavorCreate
	body, err := readObject(w, r)
	if err != nil {
		return c, err
	}
	if err := onlyKeys("", body, "flavor"); err != nil {
		return c, err
	}
	keys := flavorCreateKeys
	if osapi.Requested(r.Context()).AtLeast(2, 55) {
		keys = append(slices.Clone(keys), "description")
	}
	fl, err := member(body, "flavor", keys...)
	if err != nil {
		return c, err
	}
	if err := required("flavor", fl, "name", "ram", "vcpus", "disk"); err != nil {
		return c, err
	}
	if c.Name, err = stringField("flavor/name", fl["name"]); err != nil {
		return c, err
	}
	if raw, ok := fl["id"]; ok && string(raw) != "null" {
		if c.ID, err = flavorID(raw); err != nil {
			return c, err
		}
	}
	for _, f := range []struct {
		key  string
		min  int
		into *int
	}{
		{"ram", 1, &c.RAM}, {"vcpus", 1, &c.VCPUs}, {"disk", 0, &c.Disk},
		{"OS-FLV-EXT-DATA:ephemeral", 0, &c.Ephemeral}, {"swap", 0, &c.Swap},
	} {
		if raw, ok := fl[f.key]; ok {
			if *f.into, err = intField("flavor/"+f.key, raw, f.min); err != nil {
				return c, err
			}
		}
	}
	if raw, ok := fl["rxtx_factor"]; ok {
		if c.RxtxFactor, err = rxtxFactor(raw); err != nil {
			return c, err
		}
	}
	if raw, ok := fl["description"]; ok {
		if c.Description, err = description("flavor/description", raw); err != nil {
			return c, err
		}
	}
	if raw, ok := fl["os-flavor-access:is_public"]; ok {
		public, err := boolField("flavor/os-flavor-access:is_public", raw)
		if err != nil {
			return c, err
		}
		c.Private = !public
	}
	return c, nil
}

// description is 2.55's description: a string (its rules are api's) or
// null, which is none.
func description(field string, raw json.RawMessage) (string, error) {
	if string(raw) == "null" {
		return "", nil
	}
	return stringField(field, raw)
}

// updateFlavor is 2.55's PUT /flavors/{id}: {"flavor":{"description":…}},
// the description required (null clears it); 200 with the flavor.
func (m *Module) updateFlavor(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	body, err := readObject(w, r)
	if err == nil {
		err = onlyKeys("", body, "flavor")
	}
	var fl map[string]json.RawMessage
	if err == nil {
		if err = required("", body, "flavor"); err == nil {
			fl, err = member(body, "flavor", "description")
		}
	}
	if err == nil {
		err = required("flavor", fl, "description")
	}
	var text string
	if err == nil {
		text, err = description("flavor/description", fl["description"])
	}
	var f fsm.Flavor
	if err == nil {
		_, f, err = m.ops.UpdateFlavor(r.Context(), id, text)
		err = flavorNotFound(err, id)
	}
	if err != nil {
		m.fail(w, r, err)
		return
	}
	api.WriteJSON(w, http.StatusOK, map[string]Flavor{"flavor": flavorView(r, f)})
}

// flavorID is the id as given, a string or a number (Nova takes both and
// keeps the number's text).
func flavorID(raw json.RawMessage) (string, error) {
	var n json.Number
	if err := json.Unmarshal(raw, &n); err == nil {
		return n.String(), nil
	}
	return stringField("flavor/id", raw)
}

// rxtxFactor is a positive number, or a string of one.
func rxtxFactor(raw json.RawMessage) (float64, error) {
	var v float64
	if err := json.Unmarshal(raw, &v); err != nil {
		var s string
		if json.Unmarshal(raw, &s) != nil {
			return 0, invalidInput("flavor/rxtx_factor", raw, "It is not of type 'number', 'string'")
		}
		if v, err = strconv.ParseFloat(s, 64); err != nil {
			return 0, invalidInput("flavor/rxtx_factor", raw, "It does not match '^[0-9]+(\\.[0-9]+)?$'")
		}
	}
	if !(v > 0) || v > math.MaxFloat32 {
		return 0, invalidInput("flavor/rxtx_factor", raw, "It must be above 0 and at most 3.40282e+38")
	}
	return v, nil
}
