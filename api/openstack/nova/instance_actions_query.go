package nova

import (
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"time"

	"github.com/shoal-project/shoal/api/openstack/osapi"
	"github.com/shoal-project/shoal/fsm"
)

// actionsQuery is the query of an instance action list from 2.58 (Nova's
// index_query_v258 and _v266): limit, marker, changes-since and, from 2.66,
// changes-before; nothing else. Below 2.58 Nova reads no parameter and
// refuses none.
type actionsQuery struct {
	paged         bool
	limit         int
	marker        string
	since, before time.Time
}

// nonNegative is Nova's non_negative_integer pattern for a query string.
var nonNegativeInt = regexp.MustCompile(`^[0-9]+$`)

func parseActionsQuery(r *http.Request) (actionsQuery, error) {
	v := osapi.Requested(r.Context())
	q := actionsQuery{limit: maxPage}
	if !v.AtLeast(2, 58) {
		return q, nil
	}
	q.paged = true
	allowed := []string{"limit", "marker", "changes-since"}
	if v.AtLeast(2, 66) {
		allowed = append(allowed, "changes-before")
	}
	values := r.URL.Query()
	if err := unexpectedParams(values, func(k string) bool { return slices.Contains(allowed, k) }); err != nil {
		return q, err
	}
	for _, k := range allowed {
		if len(values[k]) > 1 {
			return q, badRequest("Invalid input for query parameters %s. Value: %v. %s is too long", k, values[k], pyList(values[k]))
		}
	}
	if values.Has("limit") {
		s := values.Get("limit")
		if !nonNegativeInt.MatchString(s) {
			return q, badRequest("Invalid input for query parameters limit. Value: %s. '%s' does not match '^[0-9]*$'", s, s)
		}
		n, err := strconv.Atoi(s)
		if err != nil || n > maxPage {
			n = maxPage
		}
		q.limit = n
	}
	q.marker = values.Get("marker")
	for _, c := range []struct {
		name string
		at   *time.Time
	}{{"changes-since", &q.since}, {"changes-before", &q.before}} {
		if !values.Has(c.name) {
			continue
		}
		s := values.Get(c.name)
		t, err := parseTime(s)
		if err != nil {
			return q, badRequest("Invalid input for query parameters %s. Value: %s. '%s' is not a 'date-time'", c.name, s, s)
		}
		*c.at = t
	}
	if !q.since.IsZero() && !q.before.IsZero() && q.before.Before(q.since) {
		return q, badRequest("The value of changes-since must be less than or equal to changes-before.")
	}
	return q, nil
}

// pyList writes values as Python prints a list of strings.
func pyList(values []string) string {
	out := "["
	for k, s := range values {
		if k > 0 {
			out += ", "
		}
		out += "'" + s + "'"
	}
	return out + "]"
}

// page filters actions (newest first) on their update time and returns
// the page after the marker (a request ID; unknown is Nova's 400) and the
// next page's marker when the page is full.
func (q actionsQuery) page(actions []fsm.Action) ([]fsm.Action, string, error) {
	if !q.paged {
		return actions, "", nil
	}
	if q.marker != "" {
		// Nova finds the marker among all the server's actions, then
		// pages the filtered ones after it.
		at := slices.IndexFunc(actions, func(a fsm.Action) bool { return a.RequestID == q.marker })
		if at < 0 {
			return nil, "", badRequest("Marker %s could not be found.", q.marker)
		}
		actions = actions[at+1:]
	}
	kept := []fsm.Action{}
	for _, a := range actions {
		t := updatedAt(a)
		if !q.since.IsZero() && t.Before(q.since) || !q.before.IsZero() && t.After(q.before) {
			continue
		}
		kept = append(kept, a)
	}
	if len(kept) > q.limit {
		kept = kept[:q.limit]
	}
	next := ""
	if q.limit > 0 && len(kept) == q.limit {
		next = kept[len(kept)-1].RequestID
	}
	return kept, next, nil
}
