package glance

import (
	"mime"
	"net/http"
	"regexp"
	"slices"
	"strings"
)

// The PATCH media types Glance takes: the draft-10 JSON patch form
// ({"op":…,"path":…}) and the older draft-4 one ({"replace":"/name"}).
const (
	patchV21 = "application/openstack-images-v2.1-json-patch"
	patchV20 = "application/openstack-images-v2.0-json-patch"
)

var patchOps = []string{"add", "remove", "replace"}

// change is one decoded patch operation on an image attribute or property.
type change struct {
	op    string
	path  []string
	value any
	draft int
}

// patchMediaType checks the PATCH's Content-Type; on failure the caller
// answers 415 with Accept-Patch.
func patchDraft(r *http.Request) (int, bool) {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch {
	case err != nil:
		return 0, false
	case mt == patchV21:
		return 10, true
	case mt == patchV20:
		return 4, true
	}
	return 0, false
}

// decodePatch checks a PATCH body as Glance's request deserializer does,
// operation by operation, and returns the changes to apply; nothing is
// applied when any of them is refused.
func decodePatch(body any, draft int) ([]change, error) {
	list, ok := body.([]any)
	if !ok {
		return nil, badRequest("Request body must be a JSON array of operation objects.")
	}
	changes := make([]change, 0, len(list))
	for _, raw := range list {
		obj, ok := raw.(map[string]any)
		if !ok {
			return nil, badRequest("Operations must be JSON objects.")
		}
		c := change{draft: draft}
		var pointer any
		if draft == 10 {
			op, ok := obj["op"]
			if !ok {
				return nil, badRequest("Unable to find `op` in JSON Schema change. It must be one of the following: %s.", strings.Join(patchOps, ", "))
			}
			c.op, _ = op.(string)
			if !slices.Contains(patchOps, c.op) {
				return nil, badRequest("Invalid operation: `%s`. It must be one of the following: %s.", pyStr(op), strings.Join(patchOps, ", "))
			}
			if pointer, ok = obj["path"]; !ok {
				return nil, badRequest("Unable to find 'path' in JSON Schema change")
			}
		} else {
			for _, op := range patchOps {
				if _, ok := obj[op]; ok {
					if c.op != "" {
						return nil, badRequest(`Operation objects must contain only one member named "add", "remove", or "replace".`)
					}
					c.op, pointer = op, obj[op]
				}
			}
			if c.op == "" {
				return nil, badRequest(`Operation objects must contain exactly one member named "add", "remove", or "replace".`)
			}
		}
		path, err := decodePointer(pointer)
		if err != nil {
			return nil, err
		}
		if want := pathDepth(path[0], c.op); len(path) != want {
			return nil, badRequest("Invalid JSON pointer for this resource: '/%s'", strings.Join(path, "/"))
		}
		c.path = path
		if c.op != "remove" {
			if c.value, ok = obj["value"]; !ok {
				return nil, badRequest(`Operation "%s" requires a member named "value".`, c.op)
			}
		}
		if err := validateChange(c); err != nil {
			return nil, err
		}
		changes = append(changes, c)
	}
	return changes, nil
}

// pathDepth is how many segments a path may have: one, except locations
// entries (which are refused later anyway).
func pathDepth(root, op string) int {
	if root == "locations" && op != "replace" {
		return 2
	}
	return 1
}

// pyStr is how Python's %s formats a decoded JSON value.
func pyStr(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	return pyRepr(v)
}

var (
	adjacentSlashes = regexp.MustCompile(`/\s*?/`)
	badTilde        = regexp.MustCompile(`~[^01]`)
)

// decodePointer reads the restricted JSON pointers Glance accepts.
func decodePointer(v any) ([]string, error) {
	p, ok := v.(string)
	if !ok {
		return nil, badRequest("Pointer `%s` does not start with \"/\".", pyStr(v))
	}
	switch {
	case !strings.HasPrefix(p, "/"):
		return nil, badRequest("Pointer `%s` does not start with \"/\".", p)
	case adjacentSlashes.MatchString(p[1:]):
		return nil, badRequest("Pointer `%s` contains adjacent \"/\".", p)
	case len(p) > 1 && strings.HasSuffix(p, "/"):
		return nil, badRequest("Pointer `%s` end with \"/\".", p)
	case strings.TrimSpace(p[1:]) == "/":
		return nil, badRequest("Pointer `%s` does not contains valid token.", p)
	case badTilde.MatchString(p) || strings.HasSuffix(p, "~"):
		return nil, badRequest("Pointer `%s` contains \"~\" not part of a recognized escape sequence.", p)
	}
	var parts []string
	for _, part := range strings.Split(strings.TrimLeft(p, "/"), "/") {
		part = strings.ReplaceAll(strings.ReplaceAll(part, "~1", "/"), "~0", "~")
		parts = append(parts, strings.TrimSpace(part))
	}
	return parts, nil
}

// validateChange refuses read-only and reserved paths (403) and values the
// schema refuses (400).
func validateChange(c change) error {
	root := c.path[0]
	switch {
	case root == "id" || slices.Contains(disallowedKeys, root) || slices.Contains(readOnlyKeys, root):
		return forbidden("Attribute '%s' is read-only.", root)
	case slices.Contains(reservedKeys, root) || strings.HasPrefix(root, reservedPrefix):
		return forbidden("Attribute '%s' is reserved.", root)
	case c.op == "remove" || len(c.path) != 1 || root == "locations":
		return nil
	}
	return checkValue(root, c.value)
}
