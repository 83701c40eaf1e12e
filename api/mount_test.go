package api

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/shoal-project/shoal/fsm"
)

// dialect is the test module's error body, unlike the API's own.
type dialect struct {
	Fault struct {
		Status  int    `json:"status"`
		Message string `json:"message"`
	} `json:"fault"`
}

// testModule serves /things: a reader's list (which reports who asked and
// under which request ID), a member's write and an admin's write, and a
// handler that fails with a sentinel through its own WriteError.
type testModule struct{ ops *Ops }

func (*testModule) Prefix() string { return "/things" }

func (m *testModule) Register(r Router, ops *Ops) {
	m.ops = ops
	r.Route("GET /things/v1/items", AccessProjectReader, func(w http.ResponseWriter, r *http.Request) {
		p := ops.Principal(r.Context())
		WriteJSON(w, http.StatusOK, map[string]string{"user": p.UserID, "caller": Caller(r.Context()).ProjectID,
			"request_id": RequestID(r.Context()), "cluster": ops.ClusterID()})
	})
	r.Route("POST /things/v1/items", AccessProjectMember, func(w http.ResponseWriter, r *http.Request) {
		SetIndex(w, ops.Index())
		w.WriteHeader(http.StatusNoContent)
	})
	r.Route("DELETE /things/v1/items/{id}", AccessAdmin, func(w http.ResponseWriter, r *http.Request) {
		m.WriteError(w, r, 0, fmt.Errorf("%w: item %s", fsm.ErrNotFound, r.PathValue("id")))
	})
	r.Route("GET /things/{$}", AccessPublic, func(w http.ResponseWriter, r *http.Request) {
		WriteJSON(w, http.StatusOK, map[string]string{"base": BaseURL(r)})
	})
}

func (*testModule) WriteError(w http.ResponseWriter, r *http.Request, status int, err error) {
	if status == 0 {
		status = StatusOf(err)
	}
	var d dialect
	d.Fault.Status, d.Fault.Message = status, err.Error()
	WriteJSON(w, status, d)
}

func newModuleServer(t *testing.T, wrap func(*fakeCluster) Cluster) (*fakeCluster, *httptest.Server) {
	t.Helper()
	c := newFakeCluster(t)
	srv := New(Config{State: c.FSM, Cluster: wrap(c), NodeName: "node1", Auth: testAuth(), Modules: []Module{&testModule{}}})
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(ts.Close)
	return c, ts
}

// wantDialect checks an error came in the test module's dialect.
func wantDialect(t *testing.T, resp *http.Response, body []byte, status int, contains string) {
	t.Helper()
	if resp.StatusCode != status {
		t.Fatalf("status %d, want %d; body %s", resp.StatusCode, status, body)
	}
	var d dialect
	dec := json.NewDecoder(strings.NewReader(string(body)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&d); err != nil || d.Fault.Status != status || !strings.Contains(d.Fault.Message, contains) {
		t.Errorf("body %s is not the module's %d containing %q (%v)", body, status, contains, err)
	}
	if resp.Header.Get(HeaderRequestID) == "" {
		t.Error("no request ID")
	}
}

// TestModuleMount proves a module's routes are the API's: in the one
// policy table, guarded, synced and observed as /v1's; the errors the API
// writes for them are in the module's dialect, except a 401, which stays
// keystonemiddleware's.
func TestModuleMount(t *testing.T) {
	c, ts := newModuleServer(t, func(c *fakeCluster) Cluster { return c })
	reader, member := c.addTenant(t, "alpha", fsm.RoleReader), c.addTenant(t, "alpha", fsm.RoleMember)

	resp, raw := call(t, ts, "GET", "/things/v1/items", "", HeaderAuthToken, reader.Token, HeaderRequestID, "req-mine")
	got := decode[map[string]string](t, raw)
	if resp.StatusCode != http.StatusOK || got["user"] != reader.UserID || got["caller"] != reader.ProjectID ||
		got["request_id"] != "req-mine" || got["cluster"] != "c1" || resp.Header.Get(HeaderRequestID) != "req-mine" {
		t.Errorf("reader's list: %d %v", resp.StatusCode, got)
	}
	resp, raw = call(t, ts, "GET", "/things/", "", HeaderAuthToken, "")
	if got := decode[map[string]string](t, raw); resp.StatusCode != http.StatusOK || got["base"] != ts.URL {
		t.Errorf("public route: %d %s", resp.StatusCode, raw)
	}

	_, barriers := c.counts()
	resp, raw = call(t, ts, "GET", "/things/v1/items?consistent=true", "", HeaderAuthToken, reader.Token)
	if _, after := c.counts(); resp.StatusCode != http.StatusOK || after != barriers+1 {
		t.Errorf("consistent read: %d %s, barriers %d → %d", resp.StatusCode, raw, barriers, after)
	}
	resp, raw = call(t, ts, "GET", "/things/v1/items?consistent=maybe", "", HeaderAuthToken, reader.Token)
	wantDialect(t, resp, raw, http.StatusBadRequest, "consistent")

	c.set(func(c *fakeCluster) { c.syncs = 0 })
	resp, raw = call(t, ts, "POST", "/things/v1/items", "", HeaderAuthToken, member.Token)
	if c.set(func(c *fakeCluster) {
		if c.syncs != 1 {
			t.Errorf("a module's write synced %d times, want 1", c.syncs)
		}
	}); resp.StatusCode != http.StatusNoContent || resp.Header.Get(HeaderIndex) == "" {
		t.Errorf("member's write: %d %s", resp.StatusCode, raw)
	}

	for _, tc := range []struct {
		name, method, path, token string
		status                    int
		contains                  string
	}{
		{"reader writes", "POST", "/things/v1/items", reader.Token, 403, "policy does not allow"},
		{"member deletes", "DELETE", "/things/v1/items/x", member.Token, 403, "policy does not allow"},
		{"handler's own error", "DELETE", "/things/v1/items/x", adminToken, 404, "item x"},
		{"no route", "GET", "/things/v1/nothing", reader.Token, 404, "no route"},
		{"a bare version", "GET", "/things/v1", reader.Token, 404, "no route"},
		{"wrong method", "PUT", "/things/v1/items", reader.Token, 405, "allowed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, raw := call(t, ts, tc.method, tc.path, "", HeaderAuthToken, tc.token)
			wantDialect(t, resp, raw, tc.status, tc.contains)
			if tc.status == 405 && !strings.Contains(resp.Header.Get("Allow"), "GET") {
				t.Errorf("Allow = %q", resp.Header.Get("Allow"))
			}
		})
	}

	// 401 is keystonemiddleware's on a module's path too.
	for _, token := range []string{"", "shoal1.bogus.token"} {
		resp, raw = call(t, ts, "GET", "/things/v1/items", "", HeaderAuthToken, token)
		wantError(t, resp, raw, http.StatusUnauthorized, "requires authentication")
		if got := resp.Header.Get("WWW-Authenticate"); !strings.HasPrefix(got, `Keystone uri="`) {
			t.Errorf("WWW-Authenticate = %q", got)
		}
	}
	// Paths beside the prefix, and the API's own, keep the API's body.
	for _, path := range []string{"/thingsx", "/v1/nothing"} {
		resp, raw = call(t, ts, "GET", path, "")
		wantError(t, resp, raw, http.StatusNotFound, "no route")
	}
}

// TestModuleWriteWithoutLeader: a module's write on a node cut off from
// the leader is the 503 of /v1, in the module's dialect, with Retry-After.
func TestModuleWriteWithoutLeader(t *testing.T) {
	c, ts := newModuleServer(t, func(c *fakeCluster) Cluster { return noLeader{c} })
	member := c.addTenant(t, "alpha", fsm.RoleMember)
	resp, raw := call(t, ts, "POST", "/things/v1/items", "", HeaderAuthToken, member.Token)
	wantDialect(t, resp, raw, http.StatusServiceUnavailable, "leader")
	if resp.Header.Get("Retry-After") == "" {
		t.Error("no Retry-After")
	}
	// Reads are served from the replica as it is.
	if resp, raw := call(t, ts, "GET", "/things/v1/items", "", HeaderAuthToken, member.Token); resp.StatusCode != http.StatusOK {
		t.Errorf("read without a leader: %d %s", resp.StatusCode, raw)
	}
}

// prefixModule is a module with a given prefix and routes.
type prefixModule struct {
	prefix string
	routes []string
}

func (m prefixModule) Prefix() string { return m.prefix }
func (m prefixModule) Register(r Router, _ *Ops) {
	for _, p := range m.routes {
		r.Route(p, AccessPublic, func(http.ResponseWriter, *http.Request) {})
	}
}
func (prefixModule) WriteError(http.ResponseWriter, *http.Request, int, error) {}

// TestModuleMountRefuses: a prefix that is not a clean path, one that
// overlaps the API's or another module's, and a route outside the prefix
// are wiring mistakes and panic when the Server is built.
func TestModuleMountRefuses(t *testing.T) {
	c := newFakeCluster(t)
	for _, tc := range []struct {
		name    string
		modules []Module
	}{
		{"trailing slash", []Module{prefixModule{prefix: "/things/"}}},
		{"relative", []Module{prefixModule{prefix: "things"}}},
		{"the native API", []Module{prefixModule{prefix: "/v1"}}},
		{"under identity", []Module{prefixModule{prefix: "/identity/v3/os"}}},
		{"over the internal paths", []Module{prefixModule{prefix: "/"}}},
		{"overlapping modules", []Module{prefixModule{prefix: "/a"}, prefixModule{prefix: "/a/b"}}},
		{"route outside", []Module{prefixModule{prefix: "/a", routes: []string{"GET /ab/x"}}}},
		{"route without a method", []Module{prefixModule{prefix: "/a", routes: []string{"/a/x"}}}},
		{"route twice", []Module{prefixModule{prefix: "/a", routes: []string{"GET /a/x", "GET /a/x"}}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			defer func() {
				if v := recover(); v == nil {
					t.Error("New did not panic")
				}
			}()
			New(Config{State: c.FSM, Cluster: c, Auth: testAuth(), Modules: tc.modules})
		})
	}
	// Two modules side by side are fine.
	New(Config{State: c.FSM, Cluster: c, Auth: testAuth(), Modules: []Module{prefixModule{prefix: "/a"}, prefixModule{prefix: "/ab"}}})
}
