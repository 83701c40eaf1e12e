package api

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"

	"github.com/shoal-project/shoal/api/identity"
	"github.com/shoal-project/shoal/api/identity/identitytest"
	"github.com/shoal-project/shoal/fsm"
	"github.com/shoal-project/shoal/internal/testkit"
)

// keystoneServer is a test server whose failed logins are not held (a
// throttle without delay, which still counts them) and whose log is kept.
type keystoneServer struct {
	c        *fakeCluster
	ts       *httptest.Server
	throttle *identity.Throttle
	log      *testkit.SyncBuffer
}

// noLeader is a cluster that cannot Sync or Apply: a node cut off from
// any leader.
type noLeader struct{ *fakeCluster }

func (noLeader) Sync(context.Context) error { return fsm.ErrNoLeader }
func (noLeader) Apply(context.Context, fsm.Command) (uint64, error) {
	return 0, fsm.ErrNoLeader
}

func newKeystoneServer(t *testing.T) *keystoneServer {
	return newKeystoneServerWith(t, func(c *fakeCluster) Cluster { return c })
}

// newKeystoneServerWith serves the fake cluster as wrap presents it.
func newKeystoneServerWith(t *testing.T, wrap func(*fakeCluster) Cluster) *keystoneServer {
	t.Helper()
	return newKeystone(t, wrap, false)
}

// newKeystoneTLSServer serves Keystone over HTTPS, as a node does.
func newKeystoneTLSServer(t *testing.T) *keystoneServer {
	t.Helper()
	return newKeystone(t, func(c *fakeCluster) Cluster { return c }, true)
}

func newKeystone(t *testing.T, wrap func(*fakeCluster) Cluster, overTLS bool) *keystoneServer {
	t.Helper()
	c := newFakeCluster(t)
	k := &keystoneServer{c: c, throttle: identity.NewThrottle(0, nil, nil), log: &testkit.SyncBuffer{}}
	auth := testAuth()
	auth.Throttle = k.throttle
	logger := slog.New(slog.NewTextHandler(k.log, &slog.HandlerOptions{Level: slog.LevelDebug}))
	k.ts = httptest.NewUnstartedServer(New(Config{State: c.FSM, Cluster: wrap(c), NodeName: "node1", Auth: auth, Logger: logger}).Handler())
	if overTLS {
		k.ts.StartTLS()
	} else {
		k.ts.Start()
	}
	t.Cleanup(k.ts.Close)
	return k
}

// passwordBody is a Keystone password login: user is {"name":…,"domain":…}
// or {"id":…} JSON without the password, scope the auth.scope JSON or "".
func passwordBody(user, password, scope string) string {
	pw, _ := json.Marshal(password)
	body := `{"auth":{"identity":{"methods":["password"],"password":{"user":` +
		strings.TrimSuffix(user, "}") + `,"password":` + string(pw) + `}}}`
	if scope != "" {
		body += `,"scope":` + scope
	}
	return body + `}}`
}

// byName names a user or project in the default domain, Keystone's JSON.
func byName(name string) string {
	n, _ := json.Marshal(name)
	return `{"name":` + string(n) + `,"domain":{"name":"Default"}}`
}

// byID names a user or project by ID.
func byID(id string) string { return `{"id":"` + id + `"}` }

// projectScope is an auth.scope of the project ref names.
func projectScope(ref string) string { return `{"project":` + ref + `}` }

// login logs in and returns the token and the decoded body; it fails the
// test unless the answer is 201.
func (k *keystoneServer) login(t *testing.T, body string) (string, tokenBody) {
	t.Helper()
	resp, b := call(t, k.ts, "POST", "/identity/v3/auth/tokens", body, HeaderAuthToken, "")
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("login: status %d, body %s", resp.StatusCode, b)
	}
	token := resp.Header.Get(HeaderSubjectToken)
	if token == "" {
		t.Fatal("login: no X-Subject-Token")
	}
	return token, decode[tokenBody](t, b)
}

// identityState is what a refused identity request must leave untouched.
type identityState struct {
	projects    []fsm.Project
	users       []fsm.User
	roles       []fsm.Role
	assignments []fsm.RoleAssignment
}

func (c *fakeCluster) identityState() identityState {
	return identityState{projects: c.FSM.Projects(), users: c.FSM.Users(),
		roles: c.FSM.Roles(), assignments: c.FSM.RoleAssignments("", "")}
}

// wantUnchanged fails the test when the identity state moved since before.
func (c *fakeCluster) wantUnchanged(t *testing.T, before identityState) {
	t.Helper()
	if after := c.identityState(); !reflect.DeepEqual(before, after) {
		t.Errorf("identity state changed:\nbefore %+v\nafter  %+v", before, after)
	}
}

// wantKeystoneError checks an error has Keystone's shape (code, title,
// message) on top of the API's own.
func wantKeystoneError(t *testing.T, resp *http.Response, body []byte, status int, contains string) {
	t.Helper()
	wantError(t, resp, body, status, contains)
	e := decode[ErrorBody](t, body)
	if e.Error.Title != http.StatusText(status) {
		t.Errorf("title = %q, want %q", e.Error.Title, http.StatusText(status))
	}
	if status == http.StatusUnauthorized {
		if got := resp.Header.Get("WWW-Authenticate"); !strings.HasPrefix(got, `Keystone uri="http://`) || !strings.HasSuffix(got, `/identity/v3"`) {
			t.Errorf("WWW-Authenticate = %q", got)
		}
	}
}

// adminByName is the bootstrap admin's login, scoped to project admin.
var adminByName = passwordBody(byName("admin"), identitytest.Password, projectScope(byName("admin")))
