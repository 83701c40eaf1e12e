package nova_test

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"
)

// A shape is Tempest's response schema (tempest/lib/api_schema/response/
// compute/v2_1) transcribed: an object's keys with additionalProperties
// false, a key written "?name" is optional; a value is a kind ("string",
// "integer", "number", "boolean", "datetime", a "|"-joined union such as
// "string|null", "any"), a nested shape, or []any{element} for an array.
type shape map[string]any

// dict is an object whose keys are free (a pattern in Tempest's schema)
// and whose values all have one shape.
type dict struct{ value any }

// checkShape fails t unless the JSON body matches s exactly.
func checkShape(t *testing.T, what string, body []byte, s any) {
	t.Helper()
	var v any
	if err := json.Unmarshal(body, &v); err != nil {
		t.Fatalf("%s: not JSON: %v: %s", what, err, body)
	}
	for _, p := range mismatches("", v, s) {
		t.Errorf("%s: %s\n%s", what, p, body)
	}
}

func mismatches(path string, v any, s any) []string {
	switch s := s.(type) {
	case shape:
		obj, ok := v.(map[string]any)
		if !ok {
			return []string{fmt.Sprintf("%s: %v is not an object", path, v)}
		}
		var out []string
		known := map[string]bool{}
		for k, sub := range s {
			name, optional := strings.CutPrefix(k, "?")
			known[name] = true
			got, present := obj[name]
			if !present {
				if !optional {
					out = append(out, fmt.Sprintf("%s: %q missing", path, name))
				}
				continue
			}
			out = append(out, mismatches(path+"/"+name, got, sub)...)
		}
		var extra []string
		for k := range obj {
			if !known[k] {
				extra = append(extra, k)
			}
		}
		sort.Strings(extra)
		for _, k := range extra {
			out = append(out, fmt.Sprintf("%s: %q is not in the schema", path, k))
		}
		return out
	case dict:
		obj, ok := v.(map[string]any)
		if !ok {
			return []string{fmt.Sprintf("%s: %v is not an object", path, v)}
		}
		var out []string
		for k, got := range obj {
			out = append(out, mismatches(path+"/"+k, got, s.value)...)
		}
		return out
	case []any:
		arr, ok := v.([]any)
		if !ok {
			return []string{fmt.Sprintf("%s: %v is not an array", path, v)}
		}
		var out []string
		for i, e := range arr {
			out = append(out, mismatches(fmt.Sprintf("%s/%d", path, i), e, s[0])...)
		}
		return out
	case string:
		for _, kind := range strings.Split(s, "|") {
			if isKind(v, kind) {
				return nil
			}
		}
		return []string{fmt.Sprintf("%s: %#v is not %s", path, v, s)}
	}
	panic(fmt.Sprintf("bad shape %T", s))
}

func isKind(v any, kind string) bool {
	switch kind {
	case "any":
		return true
	case "null":
		return v == nil
	case "string":
		_, ok := v.(string)
		return ok
	case "boolean":
		_, ok := v.(bool)
		return ok
	case "number":
		_, ok := v.(float64)
		return ok
	case "integer":
		f, ok := v.(float64)
		return ok && f == float64(int64(f))
	case "datetime":
		s, ok := v.(string)
		if !ok {
			return false
		}
		for _, layout := range []string{time.RFC3339, "2006-01-02T15:04:05.999999", "2006-01-02T15:04:05"} {
			if _, err := time.Parse(layout, s); err == nil {
				return true
			}
		}
	}
	return false
}

// links is parameter_types.links.
var links = []any{shape{"href": "string", "rel": "string"}}

func TestCheckShapeCatchesDrift(t *testing.T) {
	s := shape{"a": "integer", "?b": "string|null", "c": []any{shape{"d": "boolean"}}}
	for _, c := range []struct {
		body string
		bad  int
	}{
		{`{"a":1,"c":[]}`, 0},
		{`{"a":1,"b":null,"c":[{"d":true}]}`, 0},
		{`{"a":1.5,"c":[]}`, 1},
		{`{"c":[{"d":1}],"e":2}`, 3},
	} {
		var v any
		_ = json.Unmarshal([]byte(c.body), &v)
		if got := mismatches("", v, s); len(got) != c.bad {
			t.Errorf("%s: %v, want %d mismatches", c.body, got, c.bad)
		}
	}
}
