package nova_test

import (
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/shoal-project/shoal/api/apitest"
)

// listed is a list answer's names and next link.
type listed struct {
	names []string
	next  string
}

func (e *serversEnv) list(t *testing.T, query, token string) (int, listed, string) {
	t.Helper()
	status, raw := e.call(t, "GET", "/servers"+query, "", token)
	var body struct {
		Servers []struct{ Name string }
		Links   []struct{ Rel, Href string } `json:"servers_links"`
	}
	if status != 200 {
		_, _, msg := fault(t, raw)
		return status, listed{}, msg
	}
	decode(t, raw, &body)
	var out listed
	for _, s := range body.Servers {
		out.names = append(out.names, s.Name)
	}
	for _, l := range body.Links {
		if l.Rel == "next" {
			out.next = l.Href
		}
	}
	return status, out, ""
}

// TestServerListQueries: Nova's 2.1 list semantics — filters, the order
// (newest first), paging with a next link, a member's filters dropped and
// unknown parameters ignored, all_tenants an admin's.
func TestServerListQueries(t *testing.T) {
	e := newServersEnv(t)
	web1 := e.SeedServer(t, e.alpha, "d0000000-0000-4000-8000-000000000001", "web-1", apitest.CirrosID, apitest.NodeName)
	e.SeedServer(t, e.alpha, "d0000000-0000-4000-8000-000000000002", "web-2", apitest.CirrosID, "")
	e.Place(t, "d0000000-0000-4000-8000-000000000002", apitest.NodeName, "no disk")
	e.SeedServer(t, e.alpha, "d0000000-0000-4000-8000-000000000003", "db", apitest.CirrosID, "")
	e.SeedServer(t, e.beta, "d0000000-0000-4000-8000-000000000004", "theirs", apitest.CirrosID, "")

	for _, c := range []struct {
		query, token string
		want         []string
	}{
		{"", e.alpha.Token, []string{"db", "web-2", "web-1"}},
		{"/detail", e.alpha.Token, []string{"db", "web-2", "web-1"}},
		{"?name=^web", e.alpha.Token, []string{"web-2", "web-1"}},
		{"?status=active", e.alpha.Token, []string{"web-1"}},
		{"?status=BUILD&status=ERROR", e.alpha.Token, []string{"db", "web-2"}},
		{"?status=bogus", e.alpha.Token, nil},
		{"?image=" + apitest.CirrosID, e.alpha.Token, []string{"db", "web-2", "web-1"}},
		{"?flavor=2", e.alpha.Token, nil},
		{"?ip=" + url.QueryEscape("^"+strings.ReplaceAll(web1.Addresses[0].IP, ".", `\.`)+"$"), e.alpha.Token, []string{"web-1"}},
		{"?changes-since=2100-01-01T00:00:00Z", e.alpha.Token, nil},
		{"?changes-since=1970-01-01T00:00:00Z", e.alpha.Token, []string{"db", "web-2", "web-1"}},
		{"?sort_key=display_name&sort_dir=asc", e.alpha.Token, []string{"db", "web-1", "web-2"}},
		{"?limit=0", e.alpha.Token, nil},
		// A member's host and project filters are dropped; unknown ones ignored.
		{"?host=node2&project_id=" + e.beta.ProjectID + "&frobnicate=1", e.alpha.Token, []string{"db", "web-2", "web-1"}},
		// An admin lists its own project, or all of them.
		{"", apitest.AdminToken, nil},
		{"?all_tenants=1&name=^(db|theirs)$", apitest.AdminToken, []string{"theirs", "db"}},
		{"?all_tenants&project_id=" + e.beta.ProjectID, apitest.AdminToken, []string{"theirs"}},
		{"?all_tenants=true&host=" + apitest.NodeName, apitest.AdminToken, []string{"web-2", "web-1"}},
		{"?all_tenants=0", apitest.AdminToken, nil},
	} {
		status, got, msg := e.list(t, c.query, c.token)
		if status != 200 || !slices.Equal(got.names, c.want) {
			t.Errorf("GET /servers%s: %d %v %s, want %v", c.query, status, got.names, msg, c.want)
		}
	}

	// Paging: each full page links to the next; the last is empty.
	var names []string
	next := "?limit=2"
	for range 3 {
		status, got, msg := e.list(t, next, e.alpha.Token)
		if status != 200 {
			t.Fatalf("page %s: %d %s", next, status, msg)
		}
		names = append(names, got.names...)
		if got.next == "" {
			break
		}
		u, err := url.Parse(got.next)
		if err != nil || u.Path != "/compute/v2.1/servers" || u.Query().Get("limit") != "2" {
			t.Fatalf("next link %q", got.next)
		}
		next = "?" + u.RawQuery
	}
	if !slices.Equal(names, []string{"db", "web-2", "web-1"}) {
		t.Errorf("paged %v", names)
	}

	for _, c := range []struct {
		query, token string
		status       int
		message      string
	}{
		{"?marker=nope", e.alpha.Token, 400, "marker [nope] not found"},
		{"?limit=-1", e.alpha.Token, 400, ""},
		{"?limit=two", e.alpha.Token, 400, ""},
		{"?changes-since=yesterday", e.alpha.Token, 400, ""},
		{"?sort_key=bogus", e.alpha.Token, 400, ""},
		{"?sort_key=host", e.alpha.Token, 403, "Only administrators can sort servers by host"},
		{"?_hidden=1", e.alpha.Token, 400, "Invalid filter field: _hidden."},
		{"?metadata=x", e.alpha.Token, 400, "Invalid filter field: metadata."},
		{"?all_tenants=1", e.alpha.Token, 403, "Policy doesn't allow os_compute_api:servers:index:get_all_tenants to be performed."},
		{"/detail?all_tenants=1", e.alpha.Token, 403, "Policy doesn't allow os_compute_api:servers:detail:get_all_tenants to be performed."},
		{"?all_tenants=maybe", apitest.AdminToken, 400, ""},
		{"?status=deleted", e.alpha.Token, 403, "Only administrators may list deleted instances"},
	} {
		status, _, msg := e.list(t, c.query, c.token)
		if status != c.status || c.message != "" && msg != c.message {
			t.Errorf("GET /servers%s: %d %q, want %d %q", c.query, status, msg, c.status, c.message)
		}
	}
}
