package glance

import (
	"net/http"

	"github.com/shoal-project/shoal/api"
)

// Glance publishes the JSON schema of its image and image list; clients
// such as python-glanceclient validate with it, so it states what this
// module accepts: the attributes below, and any other key as a string
// property (additionalProperties).

func nullable(typ string) []string { return []string{"null", typ} }

// imageProperties is the "properties" member of the image schema, with
// Glance's types, enums, limits and readOnly marks.
func imageProperties() map[string]any {
	str := func(desc string) map[string]any { return map[string]any{"type": "string", "description": desc} }
	ro := func(m map[string]any) map[string]any { m["readOnly"] = true; return m }
	return map[string]any{
		"id": map[string]any{"type": "string", "description": "An identifier for the image",
			"pattern": "^([0-9a-fA-F]){8}-([0-9a-fA-F]){4}-([0-9a-fA-F]){4}-([0-9a-fA-F]){4}-([0-9a-fA-F]){12}$"},
		"name": map[string]any{"type": nullable("string"), "description": "Descriptive name for the image", "maxLength": 255},
		"status": ro(map[string]any{"type": "string", "description": "Status of the image",
			"enum": []string{"queued", "saving", "active", "killed", "deleted", "uploading", "importing", "pending_delete", "deactivated"}}),
		"visibility": map[string]any{"type": "string", "description": "Scope of image accessibility",
			"enum": []string{"community", "public", "private", "shared"}},
		"protected":     map[string]any{"type": "boolean", "description": "If true, image will not be deletable."},
		"os_hidden":     map[string]any{"type": "boolean", "description": "If true, image will not appear in default image list response."},
		"checksum":      ro(map[string]any{"type": nullable("string"), "description": "md5 hash of image contents.", "maxLength": 32}),
		"os_hash_algo":  ro(map[string]any{"type": nullable("string"), "description": "Algorithm to calculate the os_hash_value", "maxLength": 64}),
		"os_hash_value": ro(map[string]any{"type": nullable("string"), "description": "Hexdigest of the image contents using the algorithm specified by the os_hash_algo", "maxLength": 128}),
		"owner":         map[string]any{"type": nullable("string"), "description": "Owner of the image", "maxLength": 255},
		"size":          ro(map[string]any{"type": nullable("integer"), "description": "Size of image file in bytes"}),
		"virtual_size":  ro(map[string]any{"type": nullable("integer"), "description": "Virtual size of image in bytes"}),
		"container_format": map[string]any{"type": nullable("string"), "description": "Format of the container",
			"enum": append([]any{nil}, anys(api.ContainerFormats())...)},
		"disk_format": map[string]any{"type": nullable("string"), "description": "Format of the disk",
			"enum": append([]any{nil}, anys(api.DiskFormats())...)},
		"created_at": ro(str("Date and time of image registration")),
		"updated_at": ro(str("Date and time of the last image modification")),
		"tags": map[string]any{"type": "array", "description": "List of strings related to the image",
			"items": map[string]any{"type": "string", "maxLength": 255}},
		"direct_url": ro(str("URL to access the image file kept in external store")),
		"min_ram":    map[string]any{"type": "integer", "description": "Amount of ram (in MB) required to boot image."},
		"min_disk":   map[string]any{"type": "integer", "description": "Amount of disk space (in GB) required to boot image."},
		"self":       ro(str("An image self url")),
		"file":       ro(str("An image file url")),
		"stores":     ro(str("Store in which image data resides.  Only present when the operator has enabled multiple stores.  May be a comma-separated list of store identifiers.")),
		"schema":     ro(str("An image schema url")),
		"locations": map[string]any{"type": "array", "description": "A set of URLs to access the image file kept in external store",
			"items": map[string]any{"type": "object", "required": []string{"url", "metadata"},
				"properties": map[string]any{
					"url":      map[string]any{"type": "string", "maxLength": 255},
					"metadata": map[string]any{"type": "object"},
				}}},
	}
}

func anys(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}

// imageSchema is GET /v2/schemas/image: Glance's permissive schema.
func imageSchema() map[string]any {
	return map[string]any{
		"name":                 "image",
		"properties":           imageProperties(),
		"additionalProperties": map[string]any{"type": "string"},
		"links": []map[string]string{
			{"rel": "self", "href": "{self}"},
			{"rel": "enclosure", "href": "{file}"},
			{"rel": "describedby", "href": "{schema}"},
		},
	}
}

// imagesSchema is GET /v2/schemas/images: a list of the above, with the
// paging links.
func imagesSchema() map[string]any {
	return map[string]any{
		"name": "images",
		"properties": map[string]any{
			"images": map[string]any{"type": "array", "items": imageSchema()},
			"first":  map[string]any{"type": "string"},
			"next":   map[string]any{"type": "string"},
			"schema": map[string]any{"type": "string"},
		},
		"links": []map[string]string{
			{"rel": "first", "href": "{first}"},
			{"rel": "next", "href": "{next}"},
			{"rel": "describedby", "href": "{schema}"},
		},
	}
}

func showImageSchema(w http.ResponseWriter, _ *http.Request) {
	api.WriteJSON(w, http.StatusOK, imageSchema())
}

func showImagesSchema(w http.ResponseWriter, _ *http.Request) {
	api.WriteJSON(w, http.StatusOK, imagesSchema())
}
