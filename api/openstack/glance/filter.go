package glance

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Glance's list filters: each parameter as its database layer applies it
// (glance/db/sqlalchemy/api.py _make_conditions_from_filters), with its
// messages for what it refuses.

// notFilters are the parameters parseList reads itself, and shoal's own
// ?consistent=true; every other one filters.
var notFilters = map[string]bool{
	"limit": true, "marker": true, "member_status": true, "tag": true,
	"sort": true, "sort_key": true, "sort_dir": true, "consistent": true,
}

// parseFilter adds the test of one filter parameter, as Glance's database
// layer applies it.
func (lq *listQuery) parseFilter(key, value string) error {
	if notFilters[key] {
		return nil
	}
	add := func(f func(shownImage) bool) { lq.match = append(lq.match, f) }
	switch key {
	case "visibility":
		if !slices.Contains([]string{"community", "public", "private", "shared", "all"}, value) {
			return badRequest("Invalid visibility value: %s", value)
		}
		lq.visibility = value
	case "changes-since":
		return badRequest(`The "changes-since" filter is no longer available on v2.`)
	case "os_hidden", "protected":
		if key == "os_hidden" {
			value = strings.ToLower(value) // Glance's; the SDK's find sends True
		}
		if value != "true" && value != "false" {
			return badRequest("Invalid value '%s' for '%s' filter. Valid values are 'true' or 'false'.", value, key)
		}
		want := value == "true"
		if key == "os_hidden" {
			add(func(shownImage) bool { return !want }) // no image is hidden
		} else {
			add(func(s shownImage) bool { return s.Protected == want })
		}
	case "name", "id", "status", "container_format", "disk_format":
		in, err := listOperand(value)
		if err != nil {
			return err
		}
		add(func(s shownImage) bool { return slices.Contains(in, attribute(s, key)) })
	case "created_at", "updated_at":
		f, err := timeFilter(key, value)
		if err != nil {
			return err
		}
		add(f)
	case "size_min", "size_max":
		n, err := strconv.ParseInt(value, 10, 64)
		if err != nil {
			return badRequest("Unable to filter on a range with a non-numeric value.")
		}
		atLeast := key == "size_min"
		add(func(s shownImage) bool {
			return s.Checksum != "" && (atLeast && s.Size >= n || !atLeast && s.Size <= n)
		})
	case "owner", "checksum", "os_hash_value", "size", "min_ram", "min_disk":
		add(func(s shownImage) bool { return attribute(s, key) == value })
	case "virtual_size":
		add(func(shownImage) bool { return false }) // always null here
	default:
		add(func(s shownImage) bool { v, ok := s.Properties[key]; return ok && v == value })
	}
	return nil
}

// attribute is an image attribute as a filter compares it (strings).
func attribute(s shownImage, key string) string {
	switch key {
	case "name":
		return s.Name
	case "id":
		return s.ID
	case "status":
		return s.Status
	case "container_format":
		return s.ContainerFormat
	case "disk_format":
		return s.DiskFormat
	case "owner":
		if s.owner == nil {
			return ""
		}
		return *s.owner
	case "checksum":
		return s.MD5
	case "os_hash_value":
		return s.Checksum
	case "size":
		if s.Checksum == "" {
			return ""
		}
		return strconv.FormatInt(s.Size, 10)
	case "min_ram":
		return strconv.Itoa(s.MinRAM)
	case "min_disk":
		return strconv.Itoa(s.MinDisk)
	}
	return ""
}

// splitOperator is Glance's split_filter_op: "op:value", or a bare value
// (eq); an ISO 8601 time is a bare value even with its colons.
func splitOperator(expr string) (op, value string) {
	left, right, found := strings.Cut(expr, ":")
	if !found {
		return "eq", expr
	}
	if _, err := parseTime(expr); err == nil {
		return "eq", expr
	}
	return left, right
}

// listOperand reads "in:a,b,\"c,d\"" or "eq:a" or "a" into the values that
// match.
func listOperand(expr string) ([]string, error) {
	op, v := splitOperator(expr)
	switch op {
	case "eq":
		return []string{v}, nil
	case "in":
		return splitQuoted(v), nil
	}
	return nil, badRequest("Unable to filter by unknown operator '%s'.", op)
}

// splitQuoted splits on commas outside double quotes, dropping the quotes
// (Glance's split_filter_value_for_quotes).
func splitQuoted(s string) []string {
	var out []string
	var cur strings.Builder
	quoted := false
	for _, r := range s {
		switch {
		case r == '"':
			quoted = !quoted
		case r == ',' && !quoted:
			out = append(out, cur.String())
			cur.Reset()
		default:
			cur.WriteRune(r)
		}
	}
	return append(out, cur.String())
}

func parseTime(s string) (time.Time, error) {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02T15:04:05.999999", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("not an ISO 8601 time: %q", s)
}

// timeFilter compares created_at or updated_at with op:time (eq, neq, gt,
// gte, lt, lte).
func timeFilter(key, expr string) (func(shownImage) bool, error) {
	op, v := splitOperator(expr)
	at, err := parseTime(v)
	if err != nil {
		return nil, badRequest(`Bad "%s" query filter format. Use ISO 8601 DateTime notation.`, key)
	}
	test := map[string]func(int) bool{
		"eq": func(c int) bool { return c == 0 }, "neq": func(c int) bool { return c != 0 },
		"gt": func(c int) bool { return c > 0 }, "gte": func(c int) bool { return c >= 0 },
		"lt": func(c int) bool { return c < 0 }, "lte": func(c int) bool { return c <= 0 },
	}[op]
	if test == nil {
		return nil, badRequest("Unable to filter using the specified operator.")
	}
	at = at.Truncate(time.Second)
	return func(s shownImage) bool {
		t := s.Created
		if key == "updated_at" {
			t = s.Updated
		}
		return test(t.Truncate(time.Second).Compare(at))
	}, nil
}
