package glance

import (
	"cmp"
	"fmt"
	"maps"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/shoal-project/shoal/api"
	"github.com/shoal-project/shoal/fsm"
)

// Glance's paging defaults (limit_param_default, api_limit_max).
const (
	defaultLimit = 25
	maxLimit     = 1000
)

// sortKeys are the keys Glance sorts by; its default is created_at desc,
// and created_at then id always break ties, so paging by marker is stable.
var sortKeys = []string{"name", "status", "container_format", "disk_format", "size", "id", "created_at", "updated_at"}

// listQuery is a parsed GET /v2/images query. Parameters Glance does not
// name are filters on properties, as Glance treats them.
type listQuery struct {
	limit      int
	marker     string
	sortKeys   []string
	sortDirs   []string
	visibility string
	tags       []string
	match      []func(shownImage) bool
	params     url.Values // what first and next repeat
}

// shownImage is an image with what the caller is shown of its ownership.
type shownImage struct {
	fsm.Image
	owner      *string
	visibility string
}

// show is img as Glance shows it: owned by its project (null for images
// made before identity), with api's visibility rule.
func show(img fsm.Image) shownImage {
	s := shownImage{Image: img, visibility: api.ImageVisibility(img)}
	if img.ProjectID != "" {
		s.owner = &img.ProjectID
	}
	return s
}

func badRequest(format string, a ...any) error {
	return fmt.Errorf("%w: %s", fsm.ErrInvalid, fmt.Sprintf(format, a...))
}

// parseList reads q as Glance's request deserializer and controller do,
// with their messages for what they refuse.
func parseList(q url.Values) (listQuery, error) {
	lq := listQuery{limit: defaultLimit, params: url.Values{}}
	for k, vs := range q {
		if k != "marker" && k != "consistent" {
			lq.params[k] = vs
		}
	}
	if vs, ok := q["limit"]; ok {
		n, err := strconv.Atoi(vs[0])
		switch {
		case err != nil:
			return lq, badRequest("limit param must be an integer")
		case n < 0:
			return lq, badRequest("limit param must be positive")
		}
		lq.limit = min(n, maxLimit)
	}
	lq.marker = q.Get("marker")
	if ms := q.Get("member_status"); ms != "" && !slices.Contains([]string{"pending", "accepted", "rejected", "all"}, ms) {
		return lq, badRequest("Invalid status: %s", ms)
	}
	for _, t := range q["tag"] {
		lq.tags = append(lq.tags, strings.TrimSpace(t))
	}
	if err := lq.parseSort(q); err != nil {
		return lq, err
	}
	// Sorted, so that of two bad filters the same one is always named.
	for _, key := range slices.Sorted(maps.Keys(q)) {
		if err := lq.parseFilter(key, q.Get(key)); err != nil {
			return lq, err
		}
	}
	return lq, nil
}

// parseSort takes the new syntax (sort=name:asc,size) or the classic one
// (sort_key=…&sort_dir=…, repeatable), not both.
func (lq *listQuery) parseSort(q url.Values) error {
	validKey := func(k string) error {
		if !slices.Contains(sortKeys, k) {
			return badRequest("Invalid sort key: %s. It must be one of the following: %s.", k, strings.Join(sortKeys, ", "))
		}
		return nil
	}
	validDir := func(d string) error {
		if d != "asc" && d != "desc" {
			return badRequest("Invalid sort direction: %s", d)
		}
		return nil
	}
	if s, ok := q["sort"]; ok {
		if q.Has("sort_key") || q.Has("sort_dir") {
			return badRequest("Old and new sorting syntax cannot be combined")
		}
		for _, part := range strings.Split(strings.TrimSpace(s[0]), ",") {
			k, d, _ := strings.Cut(part, ":")
			k, d = strings.TrimSpace(k), strings.TrimSpace(d)
			if d == "" {
				d = "desc"
			}
			if err := validKey(k); err != nil {
				return err
			}
			if err := validDir(d); err != nil {
				return err
			}
			lq.sortKeys, lq.sortDirs = append(lq.sortKeys, k), append(lq.sortDirs, d)
		}
	} else {
		for _, k := range q["sort_key"] {
			if err := validKey(strings.TrimSpace(k)); err != nil {
				return err
			}
			lq.sortKeys = append(lq.sortKeys, strings.TrimSpace(k))
		}
		for _, d := range q["sort_dir"] {
			if err := validDir(strings.TrimSpace(d)); err != nil {
				return err
			}
			lq.sortDirs = append(lq.sortDirs, strings.TrimSpace(d))
		}
		if len(lq.sortDirs) > 1 && len(lq.sortDirs) != len(lq.sortKeys) {
			return badRequest("Number of sort dirs does not match the number of sort keys")
		}
	}
	if len(lq.sortKeys) == 0 {
		lq.sortKeys = []string{"created_at"}
	}
	if len(lq.sortDirs) == 0 {
		lq.sortDirs = []string{"desc"}
	}
	// One direction holds for every key, the tie-breakers' included;
	// with several, the tie-breakers go desc.
	tieDir := "desc"
	if len(lq.sortDirs) == 1 {
		tieDir = lq.sortDirs[0]
	}
	for len(lq.sortDirs) < len(lq.sortKeys) {
		lq.sortDirs = append(lq.sortDirs, lq.sortDirs[0])
	}
	for _, k := range []string{"created_at", "id"} {
		if !slices.Contains(lq.sortKeys, k) {
			lq.sortKeys, lq.sortDirs = append(lq.sortKeys, k), append(lq.sortDirs, tieDir)
		}
	}
	return nil
}

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

// keep reports whether s passes every filter, the visibility one and the
// tags included.
func (lq *listQuery) keep(s shownImage) bool {
	if lq.visibility != "" && lq.visibility != "all" && s.visibility != lq.visibility {
		return false
	}
	for _, t := range lq.tags {
		if !slices.Contains(s.Tags, t) {
			return false
		}
	}
	for _, m := range lq.match {
		if !m(s) {
			return false
		}
	}
	return true
}

// compare orders two images by the query's sort keys and directions.
func (lq *listQuery) compare(a, b shownImage) int {
	for i, k := range lq.sortKeys {
		var c int
		switch k {
		case "size":
			c = cmp.Compare(sizeOf(a), sizeOf(b))
		case "created_at":
			c = a.Created.Compare(b.Created)
		case "updated_at":
			c = a.Updated.Compare(b.Updated)
		default:
			c = strings.Compare(attribute(a, k), attribute(b, k))
		}
		if lq.sortDirs[i] == "desc" {
			c = -c
		}
		if c != 0 {
			return c
		}
	}
	return 0
}

// sizeOf sorts images without data (size null) first, as SQL's NULL does
// ascending.
func sizeOf(s shownImage) int64 {
	if s.Checksum == "" {
		return -1
	}
	return s.Size
}

// page filters, sorts and cuts the images the caller sees. marker must be
// one of them (else 400, as Glance); next is the last image's ID when the
// page is full, since Glance cannot tell a full last page from a cut one.
func (lq *listQuery) page(visible []fsm.Image) (out []shownImage, next string, err error) {
	var marker *shownImage
	for _, img := range visible {
		s := show(img)
		if lq.marker != "" && img.ID == lq.marker {
			marker = &s
		}
		if lq.keep(s) {
			out = append(out, s)
		}
	}
	if lq.marker != "" && marker == nil {
		return nil, "", fmt.Errorf("%w: No image found with ID %s", fsm.ErrInvalid, lq.marker)
	}
	slices.SortFunc(out, lq.compare)
	if marker != nil {
		i, _ := slices.BinarySearchFunc(out, *marker, lq.compare)
		for i < len(out) && lq.compare(out[i], *marker) <= 0 {
			i++
		}
		out = out[i:]
	}
	if len(out) > lq.limit {
		out = out[:lq.limit]
	}
	if lq.limit > 0 && len(out) == lq.limit {
		next = out[len(out)-1].ID
	}
	return out, next, nil
}

// links are the list body's first and next, repeating the query without
// its marker (next with the new one).
func (lq *listQuery) links(next string) (first, nextLink string) {
	first = imagesPath
	if len(lq.params) > 0 {
		first += "?" + lq.params.Encode()
	}
	if next != "" {
		p := url.Values{}
		for k, vs := range lq.params {
			p[k] = vs
		}
		p.Set("marker", next)
		nextLink = imagesPath + "?" + p.Encode()
	}
	return first, nextLink
}
