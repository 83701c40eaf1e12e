package neutron

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/shoal-project/shoal/api"
)

// Lists as Neutron answers them: every query parameter named after an
// attribute of the resource filters on it (several values of one
// parameter: any of them), fixed_ips takes "ip_address=…" and
// "subnet_id=…", fields keeps only the attributes named, limit and marker
// page through the list (with a "<collection>_links" next link). An
// unknown parameter filters nothing, as Neutron answers without its
// filter-validation extension. Filtering works on the rendered view, so
// it sees exactly what the caller sees: an attribute shown only to admins
// filters nothing for a member.

// object is one rendered resource.
type object = map[string]any

// paging parameters, never filters.
var reserved = []string{"fields", "limit", "marker", "sort_key", "sort_dir", "page_reverse"}

// render turns a view into an object, numbers kept as written.
func render(v any) object {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // a view type that does not encode: a programming error
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var o object
	if err := dec.Decode(&o); err != nil {
		panic(err)
	}
	return o
}

// writeList answers GET /<collection> with views filtered, trimmed and
// paged as q says.
func writeList[T any](w http.ResponseWriter, r *http.Request, idx uint64, collection string, views []T) {
	q := r.URL.Query()
	out := make([]object, 0, len(views))
	for _, v := range views {
		o := render(v)
		if matches(o, q) {
			out = append(out, o)
		}
	}
	out, next, err := page(out, q)
	if err != nil {
		writeError(w, r, err)
		return
	}
	for k := range out {
		out[k] = onlyFields(out[k], q["fields"])
	}
	body := map[string]any{strings.ReplaceAll(collection, "-", "_"): out}
	if next != "" {
		u := *r.URL
		nq := u.Query()
		nq.Set("marker", next)
		u.RawQuery = nq.Encode()
		body[strings.ReplaceAll(collection, "-", "_")+"_links"] = []map[string]string{
			{"rel": "next", "href": api.BaseURL(r) + u.RequestURI()}}
	}
	api.SetIndex(w, idx)
	api.WriteJSON(w, http.StatusOK, body)
}

// writeOne answers GET /<collection>/{id} (and writes: status 201 or 200)
// with the view under key, trimmed to ?fields=.
func writeOne(w http.ResponseWriter, r *http.Request, status int, idx uint64, key string, view any) {
	o := render(view)
	if r.Method == http.MethodGet {
		o = onlyFields(o, r.URL.Query()["fields"])
	}
	api.SetIndex(w, idx)
	api.WriteJSON(w, status, map[string]any{key: o})
}

// matches reports whether o passes every filter of q it has the
// attribute for.
func matches(o object, q url.Values) bool {
	for name, want := range q {
		if slices.Contains(reserved, name) {
			continue
		}
		v, ok := o[name]
		if !ok {
			continue
		}
		if name == "fixed_ips" {
			if !fixedIPsMatch(v, want) {
				return false
			}
			continue
		}
		if !slices.ContainsFunc(want, func(w string) bool { return valueMatches(v, w) }) {
			return false
		}
	}
	return true
}

// valueMatches compares one attribute with one filter value as Neutron
// converts filter values: booleans from any spelling, a list by any of its
// members; null never matches.
func valueMatches(v any, want string) bool {
	switch t := v.(type) {
	case string:
		return t == want
	case bool:
		b, err := strconv.ParseBool(want)
		return err == nil && b == t
	case json.Number:
		return t.String() == want
	case []any:
		return slices.ContainsFunc(t, func(e any) bool { return valueMatches(e, want) })
	}
	return false
}

// fixedIPsMatch is the fixed_ips filter: each value "key=value" must be
// met by one of the port's fixed IPs.
func fixedIPsMatch(v any, want []string) bool {
	ips, _ := v.([]any)
	for _, w := range want {
		key, val, ok := strings.Cut(w, "=")
		if !ok {
			continue
		}
		if !slices.ContainsFunc(ips, func(e any) bool {
			m, _ := e.(map[string]any)
			s, _ := m[key].(string)
			return s == val
		}) {
			return false
		}
	}
	return true
}

// onlyFields keeps the attributes named; none named keeps all.
func onlyFields(o object, fields []string) object {
	if len(fields) == 0 {
		return o
	}
	out := object{}
	for _, f := range fields {
		if v, ok := o[f]; ok {
			out[f] = v
		}
	}
	return out
}

// page applies limit and marker (an ID: the list continues after it);
// next is the marker of the following page, "" on the last one.
func page(out []object, q url.Values) (_ []object, next string, _ error) {
	if m := q.Get("marker"); m != "" {
		k := slices.IndexFunc(out, func(o object) bool { return o["id"] == m })
		if k < 0 {
			return nil, "", badRequest("Marker %s not found.", m)
		}
		out = out[k+1:]
	}
	s := q.Get("limit")
	if s == "" {
		return out, "", nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 {
		return nil, "", badRequest("Invalid input for limit. Reason: '%s' is not an integer.", s)
	}
	if n == 0 || n >= len(out) {
		return out, "", nil
	}
	id, _ := out[n-1]["id"].(string)
	return out[:n], id, nil
}
