package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/shoal-project/shoal/fsm"
)

func TestFlavorCRUD(t *testing.T) {
	c, ts := newTestServer(t)

	resp, body := call(t, ts, "GET", "/v1/flavors", "")
	if got := decode[FlavorList](t, body).Flavors; resp.StatusCode != 200 || len(got) != 5 {
		t.Fatalf("list = %d, %d flavors", resp.StatusCode, len(got))
	}

	// Wrapped form with an ID.
	resp, body = call(t, ts, "POST", "/v1/flavors", `{"flavor":{"id":"tiny-2","name":"tiny2","vcpus":1,"ram":256,"disk":0}}`)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("create = %d %s", resp.StatusCode, body)
	}
	created := decode[FlavorResponse](t, body).Flavor
	if created.ID != "tiny-2" || created.Name != "tiny2" || created.VCPUs != 1 || created.RAM != 256 || created.Disk != 0 {
		t.Errorf("created = %+v", created)
	}
	if idx := indexOf(t, resp); idx != c.FSM.Index() || created.CreateIndex != idx {
		t.Errorf("index header %d, create_index %d, fsm %d", idx, created.CreateIndex, c.FSM.Index())
	}
	if time.Since(created.Created) > time.Minute || created.Created.Location() != time.UTC {
		t.Errorf("created time = %v", created.Created)
	}
	if loc := resp.Header.Get("Location"); loc != "/v1/flavors/tiny-2" {
		t.Errorf("Location = %q", loc)
	}

	// Bare form without an ID gets a UUID.
	resp, body = call(t, ts, "POST", "/v1/flavors", `{"name":"big/one","vcpus":64,"ram":262144,"disk":1000}`)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("create bare = %d %s", resp.StatusCode, body)
	}
	bare := decode[FlavorResponse](t, body).Flavor
	if _, err := uuid.Parse(bare.ID); err != nil {
		t.Errorf("generated ID %q: %v", bare.ID, err)
	}

	for _, ref := range []string{"tiny-2", "tiny2"} {
		resp, body = call(t, ts, "GET", "/v1/flavors/"+ref, "")
		if got := decode[FlavorResponse](t, body).Flavor; resp.StatusCode != 200 || !reflect.DeepEqual(got, created) {
			t.Errorf("show %s = %d %+v, want %+v", ref, resp.StatusCode, got, created)
		}
	}
	// A name with a slash still routes as one path segment.
	resp, _ = call(t, ts, "GET", "/v1/flavors/big%2Fone", "")
	if resp.StatusCode != 200 {
		t.Errorf("show by escaped name = %d", resp.StatusCode)
	}

	before := c.FSM.Index()
	resp, body = call(t, ts, "DELETE", "/v1/flavors/tiny2", "")
	if resp.StatusCode != http.StatusNoContent || len(body) != 0 {
		t.Fatalf("delete = %d %q", resp.StatusCode, body)
	}
	if idx := indexOf(t, resp); idx != before+1 {
		t.Errorf("delete index = %d, want %d", idx, before+1)
	}
	resp, body = call(t, ts, "GET", "/v1/flavors/tiny-2", "")
	wantError(t, resp, body, 404, "tiny-2")
	if n := len(c.FSM.Flavors()); n != 6 {
		t.Errorf("%d flavors left, want 6", n)
	}
}

func TestFlavorBadInput(t *testing.T) {
	valid := func(mod string) string {
		return strings.Replace(`{"name":"n","vcpus":1,"ram":1,"disk":0}`, `"name":"n"`, mod, 1)
	}
	tests := []struct {
		name, method, path, body string
		status                   int
		contains                 string
	}{
		{"malformed", "POST", "/v1/flavors", `{"name":`, 400, "truncated"},
		{"not json", "POST", "/v1/flavors", `hello`, 400, "malformed"},
		{"empty body", "POST", "/v1/flavors", ``, 400, "empty"},
		{"null", "POST", "/v1/flavors", `null`, 400, "object"},
		{"array", "POST", "/v1/flavors", `[1]`, 400, "object"},
		{"unknown field", "POST", "/v1/flavors", valid(`"name":"n","swapp":1`), 400, `"swapp"`},
		{"unknown wrapper field", "POST", "/v1/flavors", `{"flavor":{"name":"n","vcpus":1,"ram":1,"disk":0},"x":1}`, 400, `"x"`},
		{"null flavor", "POST", "/v1/flavors", `{"flavor":null}`, 400, "object"},
		{"trailing value", "POST", "/v1/flavors", valid(`"name":"n"`) + `{}`, 400, "after"},
		{"trailing garbage", "POST", "/v1/flavors", valid(`"name":"n"`) + `]`, 400, "after"},
		{"missing vcpus", "POST", "/v1/flavors", `{"name":"n","ram":1,"disk":0}`, 400, "vcpus is required"},
		{"missing name", "POST", "/v1/flavors", `{"flavor":{"vcpus":1,"ram":1,"disk":0}}`, 400, "name is required"},
		{"zero vcpus", "POST", "/v1/flavors", `{"name":"n","vcpus":0,"ram":1,"disk":0}`, 400, "vcpus"},
		{"too many vcpus", "POST", "/v1/flavors", `{"name":"n","vcpus":1025,"ram":1,"disk":0}`, 400, "vcpus"},
		{"negative ram", "POST", "/v1/flavors", `{"name":"n","vcpus":1,"ram":-1,"disk":0}`, 400, "ram"},
		{"zero ram", "POST", "/v1/flavors", `{"name":"n","vcpus":1,"ram":0,"disk":0}`, 400, "ram"},
		{"huge ram", "POST", "/v1/flavors", `{"name":"n","vcpus":1,"ram":16777217,"disk":0}`, 400, "ram"},
		{"negative disk", "POST", "/v1/flavors", `{"name":"n","vcpus":1,"ram":1,"disk":-1}`, 400, "disk"},
		{"huge disk", "POST", "/v1/flavors", `{"name":"n","vcpus":1,"ram":1,"disk":1048577}`, 400, "disk"},
		{"fractional ram", "POST", "/v1/flavors", `{"name":"n","vcpus":1,"ram":1.5,"disk":0}`, 400, "integer"},
		{"string vcpus", "POST", "/v1/flavors", `{"name":"n","vcpus":"2","ram":1,"disk":0}`, 400, "integer"},
		{"overflow", "POST", "/v1/flavors", `{"name":"n","vcpus":1,"ram":1e30,"disk":0}`, 400, "ram"},
		{"empty name", "POST", "/v1/flavors", valid(`"name":""`), 400, "name"},
		{"huge name", "POST", "/v1/flavors", valid(`"name":"` + strings.Repeat("x", 256) + `"`), 400, "255"},
		{"control in name", "POST", "/v1/flavors", valid(`"name":"a\u0007b"`), 400, "control"},
		{"newline in name", "POST", "/v1/flavors", valid(`"name":"a\nb"`), 400, "control"},
		{"padded name", "POST", "/v1/flavors", valid(`"name":" n"`), 400, "whitespace"},
		{"empty id", "POST", "/v1/flavors", valid(`"name":"n","id":""`), 400, "id"},
		{"slash in id", "POST", "/v1/flavors", valid(`"name":"n","id":"a/b"`), 400, "id"},
		{"long id", "POST", "/v1/flavors", valid(`"name":"n","id":"` + strings.Repeat("i", 65) + `"`), 400, "id"},
		{"duplicate name", "POST", "/v1/flavors", valid(`"name":"m1.tiny"`), 409, "m1.tiny"},
		{"duplicate id", "POST", "/v1/flavors", valid(`"name":"n","id":"1"`), 409, `"1"`},
		{"too large", "POST", "/v1/flavors", valid(`"name":"` + strings.Repeat("x", 1<<20) + `"`), 413, "limit"},
		{"delete unknown", "DELETE", "/v1/flavors/nope", "", 404, "nope"},
		{"show unknown", "GET", "/v1/flavors/nope", "", 404, "nope"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, ts := newTestServer(t)
			index, flavors := c.FSM.Index(), c.FSM.Flavors()
			applied, _ := c.counts()
			resp, body := call(t, ts, tt.method, tt.path, tt.body)
			wantError(t, resp, body, tt.status, tt.contains)
			appliedAfter, _ := c.counts()
			if c.FSM.Index() != index || appliedAfter != applied || !reflect.DeepEqual(c.FSM.Flavors(), flavors) {
				t.Errorf("state changed: index %d→%d, applied %d→%d", index, c.FSM.Index(), applied, appliedAfter)
			}
		})
	}
}

func TestFlavorWriteErrors(t *testing.T) {
	tests := []struct {
		name     string
		err      error
		status   int
		retry    string
		contains string
	}{
		{"no leader", fmt.Errorf("%w: election in progress", fsm.ErrNoLeader), 503, "1", "no cluster leader"},
		{"unavailable", fmt.Errorf("%w: forward failed", fsm.ErrUnavailable), 503, "1", "forward failed"},
		{"fsm conflict", fmt.Errorf("%w: flavor name taken", fsm.ErrConflict), 409, "", "taken"},
		{"timeout", fmt.Errorf("apply: %w", context.DeadlineExceeded), 504, "", "deadline"},
		{"other", errors.New("disk on fire"), 500, "", "disk on fire"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, ts := newTestServer(t)
			c.set(func(c *fakeCluster) { c.applyErr = tt.err })
			for _, req := range [][2]string{{"POST", "/v1/flavors"}, {"DELETE", "/v1/flavors/1"}} {
				resp, body := call(t, ts, req[0], req[1], `{"name":"n","vcpus":1,"ram":1,"disk":0}`)
				wantError(t, resp, body, tt.status, tt.contains)
				if got := resp.Header.Get("Retry-After"); got != tt.retry {
					t.Errorf("%s: Retry-After = %q, want %q", req[0], got, tt.retry)
				}
			}
		})
	}
}
