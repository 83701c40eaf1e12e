package glance

import (
	"maps"
	"slices"
	"strings"

	"github.com/shoal-project/shoal/api"
)

// Keys Glance's create refuses, and how.
var (
	// disallowedKeys are refused before the schema is checked.
	disallowedKeys = []string{"direct_url", "self", "file", "schema", "stores"}
	// readOnlyKeys are set by the service (the upload, the clock);
	// PATCH refuses these plus id.
	readOnlyKeys = []string{"created_at", "updated_at", "status", "checksum", "os_hash_algo", "os_hash_value", "size", "virtual_size"}
	// reservedKeys, and keys starting with reservedPrefix, are Glance's
	// own bookkeeping.
	reservedKeys   = []string{"location", "deleted", "deleted_at"}
	reservedPrefix = "os_glance"
)

// imageCreate is a decoded POST /v2/images body: what Ops.CreateImage
// takes, with Glance's default visibility already filled in.
type imageCreate struct {
	api.ImageCreate
	// Owner, when given, must be the caller's project.
	Owner    *string
	OSHidden bool
}

// decodeCreate checks a create body in Glance's order: disallowed keys
// (403), the schema (400), custom key length (400) and reserved keys
// (403), read-only attributes (403).
func decodeCreate(body any) (imageCreate, error) {
	obj, ok := body.(map[string]any)
	if !ok {
		return imageCreate{}, typeError(body, "object")
	}
	keys := slices.Sorted(maps.Keys(obj))
	for _, k := range keys {
		if slices.Contains(disallowedKeys, k) {
			return imageCreate{}, forbidden("Attribute '%s' is read-only.", k)
		}
	}
	for _, k := range keys {
		if slices.Contains(readOnlyKeys, k) || k == "locations" {
			continue // refused below, whatever their type
		}
		if err := checkValue(k, obj[k]); err != nil {
			return imageCreate{}, err
		}
	}
	for _, k := range keys {
		if baseKeys[k] {
			continue
		}
		if len(k) > 255 {
			return imageCreate{}, badRequest("Custom property should not be greater than 255 characters.")
		}
		if slices.Contains(reservedKeys, k) || strings.HasPrefix(k, reservedPrefix) {
			return imageCreate{}, forbidden("Attribute '%s' is reserved.", k)
		}
	}
	for _, k := range keys {
		if slices.Contains(readOnlyKeys, k) || k == "locations" {
			return imageCreate{}, forbidden("Attribute '%s' is read-only.", k)
		}
	}
	req := imageCreate{ImageCreate: api.ImageCreate{Visibility: defaultVisibility}}
	for _, k := range keys {
		v := obj[k]
		s, _ := v.(string)
		switch k {
		case "id":
			req.ID = s
		case "name":
			req.Name = s
		case "visibility":
			req.Visibility = s
		case "container_format":
			req.ContainerFormat = s
		case "disk_format":
			req.DiskFormat = s
		case "min_ram":
			req.MinRAM, _ = integer(v)
		case "min_disk":
			req.MinDisk, _ = integer(v)
		case "owner":
			if v != nil {
				req.Owner = &s
			}
		case "os_hidden":
			req.OSHidden = v.(bool)
		case "protected":
			req.Protected = v.(bool)
		case "tags":
			req.Tags = uniqueStrings(v.([]any))
		default:
			if req.Properties == nil {
				req.Properties = map[string]string{}
			}
			req.Properties[k] = s
		}
	}
	return req, nil
}

// uniqueStrings keeps the first of equal tags, as Glance's tag set does.
func uniqueStrings(items []any) []string {
	out := make([]string, 0, len(items))
	for _, it := range items {
		if s := it.(string); !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}
