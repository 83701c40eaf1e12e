package glance

import (
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/shoal-project/shoal/fsm"
)

// images are five images of project p1 (one public, one with data), made a
// minute apart, plus one made before identity.
func testImages() []fsm.Image {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var out []fsm.Image
	for i, name := range []string{"cirros", "debian", "alpine", "a:b", "debian"} {
		img := fsm.Image{ID: fmt.Sprintf("00000000-0000-4000-8000-00000000000%d", i), Name: name, Status: fsm.ImageQueued,
			DiskFormat: "qcow2", ContainerFormat: "bare", ProjectID: "p1", Visibility: fsm.ImageShared,
			Created: t0.Add(time.Duration(i) * time.Minute), Updated: t0.Add(time.Duration(i) * time.Minute),
			Properties: map[string]string{"os_distro": name}}
		out = append(out, img)
	}
	out[1].Visibility = fsm.ImagePublic
	out[2].Status, out[2].Checksum, out[2].Size, out[2].DiskFormat = fsm.ImageActive, strings.Repeat("a", 64), 10, "raw"
	out[4].Visibility = fsm.ImageCommunity
	out = append(out, fsm.Image{ID: "00000000-0000-4000-8000-000000000009", Name: "legacy", Status: fsm.ImageQueued,
		DiskFormat: "raw", ContainerFormat: "bare", Created: t0.Add(-time.Hour), Updated: t0.Add(-time.Hour)})
	return out
}

func ids(page []shownImage) []string {
	var out []string
	for _, s := range page {
		out = append(out, s.ID[len(s.ID)-1:])
	}
	return out
}

func TestListFiltersAndSorting(t *testing.T) {
	for _, tc := range []struct {
		query string
		want  string // last digits of the IDs, in order
	}{
		{"", "43210" + "9"},
		{"sort_dir=asc", "9" + "01234"},
		{"sort_key=name&sort_dir=asc", "3" + "2" + "0" + "14" + "9"}, // "a:b" < "alpine" < "cirros" < "debian"(4 after 1: id desc) < "legacy"
		{"sort=name:asc,created_at:asc", "32014" + "9"},
		{"sort=name:asc,created_at", "32041" + "9"},
		{"name=debian", "41"},
		{"name=in:cirros,legacy", "09"},
		{`name=in:"x,y",alpine`, "2"},
		{"name=eq:a:b", "3"},
		{"status=active", "2"},
		{"visibility=public", "19"},
		{"visibility=shared", "320"},
		{"visibility=all", "432109"},
		{"visibility=community", "4"},
		{"owner=p1", "43210"},
		{"disk_format=raw", "29"},
		{"os_distro=alpine", "2"},
		{"os_distro=alpine&name=cirros", ""},
		{"size_min=5", "2"},
		{"size_max=5", ""},
		{"os_hidden=false", "432109"},
		{"os_hidden=true", ""},
		{"os_hidden=True", ""},
		{"protected=false", "432109"},
		{"created_at=gte:2026-01-01T00:02:00Z", "432"},
		{"created_at=lt:2026-01-01T00:00:00Z", "9"},
		{"member_status=all&consistent=true", "432109"},
		{"id=in:00000000-0000-4000-8000-000000000001,00000000-0000-4000-8000-000000000003", "31"},
		{"os_hash_value=" + strings.Repeat("a", 64), "2"},
	} {
		t.Run(tc.query, func(t *testing.T) {
			q, _ := url.ParseQuery(tc.query)
			lq, err := parseAs(q, "p1")
			if err != nil {
				t.Fatal(err)
			}
			page, next, err := lq.page(testImages())
			if err != nil {
				t.Fatal(err)
			}
			if got := strings.Join(ids(page), ""); got != tc.want || next != "" {
				t.Fatalf("got %q next %q, want %q", got, next, tc.want)
			}
		})
	}
}

func TestListPaging(t *testing.T) {
	for _, sort := range []string{"", "sort_key=name&", "sort=name:asc,status:desc&", "sort_key=size&sort_dir=asc&"} {
		t.Run(sort, func(t *testing.T) {
			q, _ := url.ParseQuery(sort)
			lq, _ := parseAs(q, "p1")
			all, _, _ := lq.page(testImages())
			var got []shownImage
			query := sort + "limit=2"
			for pages := 0; ; pages++ {
				if pages > 5 {
					t.Fatal("paging does not end")
				}
				q, _ := url.ParseQuery(query)
				lq, err := parseAs(q, "p1")
				if err != nil {
					t.Fatal(err)
				}
				page, next, err := lq.page(testImages())
				if err != nil {
					t.Fatal(err)
				}
				got = append(got, page...)
				first, nextLink := lq.links(next)
				if !strings.HasPrefix(first, "/v2/images?") || strings.Contains(first, "marker") {
					t.Fatalf("first %q", first)
				}
				if next == "" {
					if nextLink != "" {
						t.Fatalf("next link %q without a next", nextLink)
					}
					break
				}
				if len(page) != 2 {
					t.Fatalf("a page of %d has a next", len(page))
				}
				query = strings.TrimPrefix(nextLink, "/v2/images?")
			}
			if !slices.Equal(ids(got), ids(all)) {
				t.Fatalf("paged %v, whole %v", ids(got), ids(all))
			}
		})
	}
}

func TestListRefuses(t *testing.T) {
	for _, tc := range []struct{ query, message string }{
		{"limit=x", "limit param must be an integer"},
		{"limit=-1", "limit param must be positive"},
		{"marker=00000000-0000-4000-8000-000000000007", "No image found with ID 00000000-0000-4000-8000-000000000007"},
		{"sort_key=owner", "Invalid sort key: owner. It must be one of the following: name, status, container_format, disk_format, size, id, created_at, updated_at."},
		{"sort_dir=up", "Invalid sort direction: up"},
		{"sort=name&sort_key=id", "Old and new sorting syntax cannot be combined"},
		{"sort_key=name&sort_key=id&sort_dir=asc&sort_dir=desc&sort_dir=asc", "Number of sort dirs does not match the number of sort keys"},
		{"visibility=everyone", "Invalid visibility value: everyone"},
		{"member_status=maybe", "Invalid status: maybe"},
		{"changes-since=2020-01-01", `The "changes-since" filter is no longer available on v2.`},
		{"os_hidden=yes", "Invalid value 'yes' for 'os_hidden' filter. Valid values are 'true' or 'false'."},
		{"name=a:b", "Unable to filter by unknown operator 'a'."},
		{"size_min=big", "Unable to filter on a range with a non-numeric value."},
		{"created_at=gt:yesterday", `Bad "created_at" query filter format. Use ISO 8601 DateTime notation.`},
		{"created_at=after:2026-01-01T00:00:00Z", "Unable to filter using the specified operator."},
	} {
		t.Run(tc.query, func(t *testing.T) {
			q, _ := url.ParseQuery(tc.query)
			lq, err := parseAs(q, "p1")
			if err == nil {
				_, _, err = lq.page(testImages())
			}
			if !errors.Is(err, fsm.ErrInvalid) || message(err) != tc.message {
				t.Fatalf("got %v, want 400 %q", err, tc.message)
			}
		})
	}
}

func TestListLimit(t *testing.T) {
	for _, tc := range []struct {
		query string
		n     int
		next  bool
	}{
		{"limit=0", 0, false},
		{"limit=6", 6, true}, // a full page has a next, as Glance's
		{"limit=7", 6, false},
		{"limit=100000", 6, false},
	} {
		q, _ := url.ParseQuery(tc.query)
		lq, _ := parseAs(q, "p1")
		page, next, _ := lq.page(testImages())
		if len(page) != tc.n || (next != "") != tc.next {
			t.Errorf("%s: %d images, next %q", tc.query, len(page), next)
		}
	}
	if lq, _ := parseList(url.Values{}); lq.limit != defaultLimit {
		t.Errorf("default limit %d", lq.limit)
	}
}

// parseAs parses q for a caller of project.
func parseAs(q url.Values, project string) (listQuery, error) {
	lq, err := parseList(q)
	lq.project = project
	return lq, err
}

// TestListCommunity: another project sees a community image only when it
// asks for community images (or all), as Glance lists them.
func TestListCommunity(t *testing.T) {
	for query, want := range map[string]string{"": "3210" + "9", "visibility=community": "4", "visibility=all": "43210" + "9"} {
		q, _ := url.ParseQuery(query)
		lq, _ := parseAs(q, "p2")
		page, _, _ := lq.page(testImages())
		if got := strings.Join(ids(page), ""); got != want {
			t.Errorf("%q as p2: %q, want %q", query, got, want)
		}
	}
}
