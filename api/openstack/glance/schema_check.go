package glance

import (
	"encoding/json"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/shoal-project/shoal/api"
)

// Glance validates a create body and each PATCH value with jsonschema
// against its image schema; this is the same check for the keys this
// module takes, with jsonschema's messages (Python reprs and all), since
// that is what Glance's 400 says.

var uuidPattern = regexp.MustCompile(`^([0-9a-fA-F]){8}-([0-9a-fA-F]){4}-([0-9a-fA-F]){4}-([0-9a-fA-F]){4}-([0-9a-fA-F]){12}$`)

func schemaError(reason string) error {
	return badRequest("Provided object does not match schema 'image': %s", reason)
}

// checkValue validates one attribute or property value, decoded with
// UseNumber.
func checkValue(key string, v any) error {
	switch key {
	case "id":
		s, ok := v.(string)
		if !ok {
			return typeError(v, "string")
		}
		if !uuidPattern.MatchString(s) {
			return schemaError(fmt.Sprintf("%s does not match %s", pyRepr(v), pyRepr(uuidPattern.String())))
		}
	case "name", "owner":
		return nullableString(v, 255)
	case "visibility":
		return enum(v, []string{"community", "public", "private", "shared"}, false, "string")
	case "protected", "os_hidden":
		if _, ok := v.(bool); !ok {
			return typeError(v, "boolean")
		}
	case "container_format":
		return enum(v, api.ContainerFormats(), true, "null", "string")
	case "disk_format":
		return enum(v, api.DiskFormats(), true, "null", "string")
	case "min_ram", "min_disk":
		if _, ok := integer(v); !ok {
			return typeError(v, "integer")
		}
	case "tags":
		items, ok := v.([]any)
		if !ok {
			return typeError(v, "array")
		}
		for _, it := range items {
			if err := stringUpTo(it, 255); err != nil {
				return err
			}
		}
	default:
		if _, ok := v.(string); !ok {
			return typeError(v, "string")
		}
	}
	return nil
}

func typeError(v any, types ...string) error {
	quoted := make([]string, len(types))
	for i, t := range types {
		quoted[i] = "'" + t + "'"
	}
	return schemaError(fmt.Sprintf("%s is not of type %s", pyRepr(v), strings.Join(quoted, ", ")))
}

func stringUpTo(v any, n int) error {
	s, ok := v.(string)
	if !ok {
		return typeError(v, "string")
	}
	if utf8.RuneCountInString(s) > n {
		return schemaError(pyRepr(v) + " is too long")
	}
	return nil
}

func nullableString(v any, n int) error {
	if v == nil {
		return nil
	}
	if _, ok := v.(string); !ok {
		return typeError(v, "null", "string")
	}
	return stringUpTo(v, n)
}

func enum(v any, values []string, null bool, types ...string) error {
	if v == nil && null {
		return nil
	}
	s, ok := v.(string)
	if !ok {
		return typeError(v, types...)
	}
	if slices.Contains(values, s) {
		return nil
	}
	var reprs []string
	if null {
		reprs = append(reprs, "None")
	}
	for _, e := range values {
		reprs = append(reprs, pyRepr(e))
	}
	return schemaError(fmt.Sprintf("%s is not one of [%s]", pyRepr(v), strings.Join(reprs, ", ")))
}

// integer is v as an int when it is a JSON integer (1.0 is not, as in
// jsonschema's draft 4).
func integer(v any) (int, bool) {
	n, ok := v.(json.Number)
	if !ok {
		return 0, false
	}
	i, err := strconv.Atoi(n.String())
	return i, err == nil
}

// pyRepr writes v as Python's repr would after json.loads.
func pyRepr(v any) string {
	switch t := v.(type) {
	case nil:
		return "None"
	case bool:
		if t {
			return "True"
		}
		return "False"
	case json.Number:
		return t.String()
	case string:
		// Python quotes with ' unless the text has a ' and no ".
		t = strings.ReplaceAll(t, `\`, `\\`)
		if strings.Contains(t, "'") && !strings.Contains(t, `"`) {
			return `"` + t + `"`
		}
		return "'" + strings.ReplaceAll(t, "'", `\'`) + "'"
	case []any:
		parts := make([]string, len(t))
		for i, e := range t {
			parts[i] = pyRepr(e)
		}
		return "[" + strings.Join(parts, ", ") + "]"
	case map[string]any:
		keys := slices.Sorted(maps.Keys(t))
		parts := make([]string, len(keys))
		for i, k := range keys {
			parts[i] = pyRepr(k) + ": " + pyRepr(t[k])
		}
		return "{" + strings.Join(parts, ", ") + "}"
	}
	return fmt.Sprint(v)
}
