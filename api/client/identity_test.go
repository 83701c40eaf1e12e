package client

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/shoal-project/shoal/fsm"
)

// fakeKeystone answers canned bodies by "METHOD path?query" and records each
// request as "METHOD path?query body", so the tests check what goes on the
// wire. Anything it has no answer for gets Keystone's 404 body, which has no
// kind.
type fakeKeystone struct {
	answers map[string]answer

	mu   sync.Mutex
	seen []string
}

type answer struct {
	status int
	body   string
}

const keystone404 = `{"error":{"code":404,"title":"Not Found","message":"Could not find it."}}`

func (f *fakeKeystone) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	key := r.Method + " " + r.URL.RequestURI()
	f.mu.Lock()
	f.seen = append(f.seen, strings.TrimSpace(key+" "+string(body)))
	f.mu.Unlock()
	a, ok := f.answers[key]
	if !ok {
		a = answer{http.StatusNotFound, keystone404}
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(a.status)
	if r.Method != http.MethodHead {
		_, _ = io.WriteString(w, a.body)
	}
}

func (f *fakeKeystone) requests() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.seen)
}

func newFakeKeystone(t *testing.T, answers map[string]answer) (*fakeKeystone, *Client) {
	t.Helper()
	f := &fakeKeystone{answers: answers}
	ts := httptest.NewServer(f)
	t.Cleanup(ts.Close)
	return f, New(ts.URL, WithToken("tok"))
}

const (
	demoID  = "d0000000000000000000000000000001"
	aliceID = "a1000000000000000000000000000001"
	memID   = "f0000000000000000000000000000002"
)

var fakeIdentity = map[string]answer{
	"GET /identity/v3/projects?name=demo":                                              {200, `{"projects":[{"id":"` + demoID + `","name":"demo","domain_id":"default","enabled":true}],"links":{"self":"x"}}`},
	"GET /identity/v3/projects?name=twin":                                              {200, `{"projects":[{"id":"1","name":"twin"},{"id":"2","name":"twin"}]}`},
	"GET /identity/v3/projects?name=nobody":                                            {200, `{"projects":[]}`},
	"GET /identity/v3/users/" + aliceID:                                                {200, `{"user":{"id":"` + aliceID + `","name":"alice","domain_id":"default","enabled":true}}`},
	"GET /identity/v3/users?name=alice":                                                {200, `{"users":[{"id":"` + aliceID + `","name":"alice"}]}`},
	"GET /identity/v3/roles?name=member":                                               {200, `{"roles":[{"id":"` + memID + `","name":"member"}]}`},
	"PUT /identity/v3/projects/" + demoID + "/users/" + aliceID + "/roles/" + memID:    {204, ``},
	"HEAD /identity/v3/projects/" + demoID + "/users/" + aliceID + "/roles/" + memID:   {204, ``},
	"DELETE /identity/v3/projects/" + demoID + "/users/" + aliceID + "/roles/" + memID: {204, ``},
	"POST /identity/v3/users":                                                          {201, `{"user":{"id":"u2","name":"bob","domain_id":"default","enabled":true,"default_project_id":"` + demoID + `"}}`},
	"PATCH /identity/v3/users/" + aliceID:                                              {200, `{"user":{"id":"` + aliceID + `","name":"alice","enabled":false}}`},
	"PATCH /identity/v3/projects/" + demoID:                                            {200, `{"project":{"id":"` + demoID + `","name":"demo","enabled":false}}`},
	"GET /identity/v3/role_assignments?scope.project.id=" + demoID + "&user.id=" + aliceID: {200,
		`{"role_assignments":[{"role":{"id":"` + memID + `"},"user":{"id":"` + aliceID + `"},"scope":{"project":{"id":"` + demoID + `"}},"links":{"assignment":"x"}}]}`},
	"POST /identity/v3/roles":            {409, `{"error":{"code":409,"title":"Conflict","message":"Duplicate entry."}}`},
	"PUT /v1/quota-sets/" + demoID:       {200, `{"quota_set":{"instances":2,"cores":20,"ram":51200,"server_groups":10,"server_group_members":10,"key_pairs":100}}`},
	"GET /v1/limits?tenant_id=" + demoID: {200, `{"limits":{"absolute":{"maxTotalInstances":2,"totalInstancesUsed":1},"rate":[]}}`},
}

// TestIdentityRequests checks the requests the identity and quota calls
// send: names resolved to IDs as openstackclient does (by ID first, then
// ?name=), Keystone's paths and bodies, Nova's quota and limits shapes.
func TestIdentityRequests(t *testing.T) {
	ctx := context.Background()
	enabled, password := false, "n3w-Pa55"
	tests := []struct {
		name string
		call func(cl *Client) error
		want []string
	}{
		{"project by name", func(cl *Client) error {
			p, err := cl.Project(ctx, "demo")
			if err == nil && (p.ID != demoID || !p.Enabled) {
				t.Errorf("Project = %+v", p)
			}
			return err
		}, []string{"GET /identity/v3/projects/demo", "GET /identity/v3/projects?name=demo"}},
		{"user by ID", func(cl *Client) error { _, err := cl.User(ctx, aliceID); return err },
			[]string{"GET /identity/v3/users/" + aliceID}},
		{"role add", func(cl *Client) error { return cl.AddRole(ctx, "demo", "alice", "member") }, []string{
			"GET /identity/v3/projects/demo", "GET /identity/v3/projects?name=demo",
			"GET /identity/v3/users/alice", "GET /identity/v3/users?name=alice",
			"GET /identity/v3/roles/member", "GET /identity/v3/roles?name=member",
			"PUT /identity/v3/projects/" + demoID + "/users/" + aliceID + "/roles/" + memID}},
		{"role remove", func(cl *Client) error { return cl.RemoveRole(ctx, "demo", aliceID, "member") }, []string{
			"GET /identity/v3/projects/demo", "GET /identity/v3/projects?name=demo",
			"GET /identity/v3/users/" + aliceID,
			"GET /identity/v3/roles/member", "GET /identity/v3/roles?name=member",
			"DELETE /identity/v3/projects/" + demoID + "/users/" + aliceID + "/roles/" + memID}},
		{"user create", func(cl *Client) error {
			u, err := cl.CreateUser(ctx, UserCreate{Name: "bob", Password: password, DefaultProjectID: demoID})
			if err == nil && u.DefaultProjectID != demoID {
				t.Errorf("CreateUser = %+v", u)
			}
			return err
		}, []string{`POST /identity/v3/users {"user":{"name":"bob","password":"n3w-Pa55","default_project_id":"` + demoID + `"}}`}},
		{"user set", func(cl *Client) error {
			_, err := cl.UpdateUser(ctx, aliceID, UserUpdate{Password: &password, Enabled: &enabled})
			return err
		}, []string{"GET /identity/v3/users/" + aliceID, `PATCH /identity/v3/users/` + aliceID + ` {"user":{"password":"n3w-Pa55","enabled":false}}`}},
		{"project set", func(cl *Client) error {
			_, err := cl.UpdateProject(ctx, "demo", ProjectUpdate{Enabled: &enabled})
			return err
		}, []string{"GET /identity/v3/projects/demo", "GET /identity/v3/projects?name=demo",
			`PATCH /identity/v3/projects/` + demoID + ` {"project":{"enabled":false}}`}},
		{"assignments", func(cl *Client) error {
			l, err := cl.RoleAssignments(ctx, AssignmentFilter{User: aliceID, Project: "demo"})
			if err == nil && (len(l) != 1 || l[0].Role.ID != memID || l[0].Scope.Project.ID != demoID || l[0].User.ID != aliceID) {
				t.Errorf("RoleAssignments = %+v", l)
			}
			return err
		}, []string{"GET /identity/v3/users/" + aliceID, "GET /identity/v3/projects/demo", "GET /identity/v3/projects?name=demo",
			"GET /identity/v3/role_assignments?scope.project.id=" + demoID + "&user.id=" + aliceID}},
		{"quota set", func(cl *Client) error {
			two := 2
			q, err := cl.SetQuota(ctx, demoID, QuotaUpdate{Instances: &two})
			if err == nil && (q.ID != demoID || q.Instances != 2 || q.KeyPairs != 100) {
				t.Errorf("SetQuota = %+v", q)
			}
			return err
		}, []string{`PUT /v1/quota-sets/` + demoID + ` {"quota_set":{"instances":2}}`}},
		{"limits", func(cl *Client) error {
			l, err := cl.Limits(ctx, demoID)
			if err == nil && (l.Absolute.MaxTotalInstances != 2 || l.Absolute.TotalInstancesUsed != 1) {
				t.Errorf("Limits = %+v", l)
			}
			return err
		}, []string{"GET /v1/limits?tenant_id=" + demoID}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, cl := newFakeKeystone(t, fakeIdentity)
			if err := tt.call(cl); err != nil {
				t.Fatal(err)
			}
			if got := f.requests(); !slices.Equal(got, tt.want) {
				t.Errorf("sent\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
}

// TestIdentityErrors: Keystone's error body has no kind, so its status
// names the sentinel; a name two objects share is a conflict, none a 404.
func TestIdentityErrors(t *testing.T) {
	ctx := context.Background()
	_, cl := newFakeKeystone(t, fakeIdentity)
	tests := []struct {
		name string
		call func() error
		is   error
		msg  string
	}{
		{"no such project", func() error { _, err := cl.Project(ctx, "nobody"); return err }, fsm.ErrNotFound, `"nobody"`},
		{"shared name", func() error { _, err := cl.Project(ctx, "twin"); return err }, fsm.ErrConflict, "use its ID"},
		{"keystone conflict", func() error { _, err := cl.CreateRole(ctx, "member"); return err }, fsm.ErrConflict, "Duplicate entry."},
		{"empty ref", func() error { _, err := cl.User(ctx, ""); return err }, fsm.ErrInvalid, "user ID or name"},
		{"quota without project", func() error { _, err := cl.Quota(ctx, ""); return err }, fsm.ErrInvalid, "project ID"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.call()
			if !errors.Is(err, tt.is) || !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("err = %v, want %v with %q", err, tt.is, tt.msg)
			}
		})
	}

	has, err := cl.HasRole(ctx, "demo", aliceID, "member")
	if err != nil || !has {
		t.Errorf("HasRole = %v, %v", has, err)
	}
	f, cl := newFakeKeystone(t, map[string]answer{
		"GET /identity/v3/projects/p": {200, `{"project":{"id":"p"}}`},
		"GET /identity/v3/users/u":    {200, `{"user":{"id":"u"}}`},
		"GET /identity/v3/roles/r":    {200, `{"role":{"id":"r"}}`},
	})
	if has, err := cl.HasRole(ctx, "p", "u", "r"); err != nil || has {
		t.Errorf("HasRole without the grant = %v, %v", has, err)
	}
	if got := f.requests(); got[len(got)-1] != "HEAD /identity/v3/projects/p/users/u/roles/r" {
		t.Errorf("sent %q", got)
	}
}

// TestUserBodiesHidePasswords: a user body printed by mistake shows no password.
func TestUserBodiesHidePasswords(t *testing.T) {
	pw := "hunter2-secret"
	for _, v := range []any{UserCreate{Name: "bob", Password: pw}, &UserCreate{Password: pw}, UserUpdate{Password: &pw}} {
		for _, verb := range []string{"%v", "%+v", "%#v", "%s"} {
			if s := fmt.Sprintf(verb, v); strings.Contains(s, pw) {
				t.Errorf("%s printed %s", verb, s)
			}
		}
	}
}
