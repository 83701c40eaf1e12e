package glance

import (
	"cmp"
	"fmt"
	"maps"
	"net/url"
	"slices"
	"strconv"
	"strings"

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
	project    string // the caller's: its own community images are listed unasked
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

// keep reports whether s passes every filter, the visibility one and the
// tags included.
func (lq *listQuery) keep(s shownImage) bool {
	switch lq.visibility {
	case "":
		// Glance lists community images only when asked for them, or to
		// the project that owns them.
		if s.visibility == fsm.ImageCommunity && s.ProjectID != lq.project {
			return false
		}
	case "all":
	default:
		if s.visibility != lq.visibility {
			return false
		}
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
