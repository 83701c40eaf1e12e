package nova

import (
	"net/http"
	"net/url"
	"strconv"

	"github.com/shoal-project/shoal/api"
	"github.com/shoal-project/shoal/api/openstack/osapi"
)

// Nova's paging (limit and marker), for the lists this module pages.

// maxPage is Nova's [api] max_limit: no page is longer.
const maxPage = 1000

// page reads limit and marker as Nova's get_limit_and_marker does: limit
// a non-negative integer, at most maxPage.
func page(q url.Values) (limit int, marker string, given bool, err error) {
	limit = maxPage
	if q.Has("limit") {
		n, convErr := strconv.Atoi(q.Get("limit"))
		switch {
		case convErr != nil:
			return 0, "", true, badRequest("limit param must be an integer")
		case n < 0:
			return 0, "", true, badRequest("limit param must be positive")
		}
		limit, given = min(n, maxPage), true
	}
	return limit, q.Get("marker"), given, nil
}

// pageOf is the page of items after marker (an id; unknown is Nova's
// 400), at most limit long, and the marker of the next page: the last
// item's id when the page is full, else "".
func pageOf[T any](items []T, limit int, marker string, id func(T) string) ([]T, string, error) {
	if marker != "" {
		at := -1
		for i, it := range items {
			if id(it) == marker {
				at = i
				break
			}
		}
		if at < 0 {
			return nil, "", badRequest("marker [%s] not found", marker)
		}
		items = items[at+1:]
	}
	if len(items) > limit {
		items = items[:limit]
	}
	next := ""
	if limit > 0 && len(items) == limit {
		next = id(items[limit-1])
	}
	return items, next, nil
}

// nextLink is a collection's "next" link: the request's query with the
// marker replaced, on collection (below /compute/v2.1).
func nextLink(r *http.Request, collection, marker string) []osapi.Link {
	q := r.URL.Query()
	q.Set("marker", marker)
	return []osapi.Link{{Rel: "next", Href: api.BaseURL(r) + root + collection + "?" + q.Encode()}}
}
