package nova

import (
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"

	"github.com/shoal-project/shoal/api/openstack/osapi"
)

// Nova's query-string schemas: below 2.75 an unknown parameter is ignored;
// from 2.75 (additionalProperties false) it is 400 on most routes, and on
// the rest from 2.102.

// onlyQuery refuses, from microversion 2.75, a query parameter of r that
// is not allowed, in the words of Nova's schema validator (which names no
// parameter for the root object).
func onlyQuery(r *http.Request, allowed ...string) error { return onlyQuerySince(r, 2, 75, allowed...) }

// onlyQuerySince is onlyQuery from microversion major.minor.
func onlyQuerySince(r *http.Request, major, minor int, allowed ...string) error {
	if !osapi.Requested(r.Context()).AtLeast(major, minor) {
		return nil
	}
	return unexpectedParams(r.URL.Query(), func(k string) bool { return slices.Contains(allowed, k) })
}

// unexpectedParams is the 400 of a query schema with additionalProperties
// false for the parameters of q that known refuses, in jsonschema's words.
func unexpectedParams(q url.Values, known func(string) bool) error {
	var extra []string
	for k := range q {
		if !known(k) {
			extra = append(extra, "'"+k+"'")
		}
	}
	if len(extra) == 0 {
		return nil
	}
	slices.Sort(extra)
	verb := "was"
	if len(extra) > 1 {
		verb = "were"
	}
	return badRequest("Additional properties are not allowed (%s %s unexpected)", strings.Join(extra, ", "), verb)
}

var digits = regexp.MustCompile(`^[0-9]*$`)

// nonNegative checks the named parameters against Nova's
// non_negative_integer schema (digits only, not empty), as the query
// schemas that page (limit; offset) do before the handler runs.
func nonNegative(q url.Values, names ...string) error {
	for _, name := range names {
		for _, v := range q[name] {
			switch {
			case v == "":
				return badRequest("Invalid input for query parameters %s. Value: . '' is too short", name)
			case !digits.MatchString(v):
				return badRequest("Invalid input for query parameters %s. Value: %s. '%s' does not match '^[0-9]*$'", name, v, v)
			}
		}
	}
	return nil
}

// pageSince reads limit and marker from the microversion that added them
// to a list (Nova's pagination_parameters); before it, the whole list
// (maxPage long at most) with no marker.
func pageSince(r *http.Request, major, minor int) (limit int, marker string, err error) {
	if !osapi.Requested(r.Context()).AtLeast(major, minor) {
		return maxPage, "", nil
	}
	q := r.URL.Query()
	if err := nonNegative(q, "limit"); err != nil {
		return 0, "", err
	}
	limit, marker, _, err = page(q)
	return limit, marker, err
}

// markerNotFound is Nova's MarkerNotFound as a 400 (keypairs, usage).
func markerNotFound(marker string) error {
	return badRequest("Marker %s could not be found.", marker)
}

// pageByMarker is pageOf with Nova's MarkerNotFound wording for an
// unknown marker (the lists whose database layer raises it).
func pageByMarker[T any](items []T, limit int, marker string, id func(T) string) ([]T, string, error) {
	if marker != "" && !slices.ContainsFunc(items, func(it T) bool { return id(it) == marker }) {
		return nil, "", markerNotFound(marker)
	}
	return pageOf(items, limit, marker, id)
}
