package api

import (
	"encoding/json"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/shoal-project/shoal/api/identity/identitytest"
	"github.com/shoal-project/shoal/fsm"
)

var keystoneIDRE = regexp.MustCompile(`^[0-9a-f]{32}$`)

// created checks a 201 and returns the body's object under key.
func created[T any](t *testing.T, resp *http.Response, b []byte, key string) T {
	t.Helper()
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("status %d body %s", resp.StatusCode, b)
	}
	v := decode[map[string]T](t, b)[key]
	if resp.Header.Get("Location") == "" {
		t.Error("no Location")
	}
	return v
}

// listOf decodes the list under key of a Keystone list body.
func listOf[T any](t *testing.T, b []byte, key string) []T {
	t.Helper()
	raw, ok := decode[map[string]json.RawMessage](t, b)[key]
	if !ok {
		t.Fatalf("no %q in %s", key, b)
	}
	return decode[[]T](t, raw)
}

func wantStatus(t *testing.T, resp *http.Response, b []byte, status int) {
	t.Helper()
	if resp.StatusCode != status {
		t.Fatalf("%s %s: status %d, want %d; body %s", resp.Request.Method, resp.Request.URL.Path, resp.StatusCode, status, b)
	}
}

func TestProjectsLifecycle(t *testing.T) {
	k := newKeystoneServer(t)
	const path = "/identity/v3/projects"
	resp, b := call(t, k.ts, "POST", path, `{"project":{"name":"alpha","description":"first","domain_id":"default"}}`)
	p := created[projectDoc](t, resp, b, "project")
	if !keystoneIDRE.MatchString(p.ID) || p.Name != "alpha" || p.Description != "first" || !p.Enabled || p.DomainID != "default" ||
		p.ParentID != "default" || p.Links.Self != k.ts.URL+path+"/"+p.ID {
		t.Errorf("created %+v", p)
	}
	resp, b = call(t, k.ts, "GET", path+"?name=alpha", "")
	wantStatus(t, resp, b, http.StatusOK)
	list := decode[struct {
		Projects []projectDoc    `json:"projects"`
		Links    collectionLinks `json:"links"`
	}](t, b)
	if len(list.Projects) != 1 || list.Projects[0].ID != p.ID || list.Links.Self != k.ts.URL+path+"?name=alpha" {
		t.Errorf("list %+v", list)
	}
	resp, b = call(t, k.ts, "GET", path, "")
	if n := len(listOf[projectDoc](t, b, "projects")); n != 2 {
		t.Errorf("%d projects, want admin and alpha", n)
	}
	resp, b = call(t, k.ts, "PATCH", path+"/"+p.ID, `{"project":{"name":"alpha2","enabled":false}}`)
	wantStatus(t, resp, b, http.StatusOK)
	if got := decode[map[string]projectDoc](t, b)["project"]; got.Name != "alpha2" || got.Enabled || got.Description != "first" {
		t.Errorf("patched %+v", got)
	}
	resp, b = call(t, k.ts, "GET", path+"/"+p.ID, "")
	wantStatus(t, resp, b, http.StatusOK)
	resp, b = call(t, k.ts, "DELETE", path+"/"+p.ID, "")
	wantStatus(t, resp, b, http.StatusNoContent)
	resp, b = call(t, k.ts, "GET", path+"/"+p.ID, "")
	wantKeystoneError(t, resp, b, http.StatusNotFound, "could not find project")
}

func TestUsersLifecycle(t *testing.T) {
	k := newKeystoneServer(t)
	const path = "/identity/v3/users"
	const pw = "a new password, 1st"
	resp, b := call(t, k.ts, "POST", path, `{"user":{"name":"ann","password":"`+pw+`","default_project_id":"`+
		identitytest.AdminProjectID+`"}}`)
	u := created[userDoc](t, resp, b, "user")
	if !keystoneIDRE.MatchString(u.ID) || u.Name != "ann" || !u.Enabled || u.DefaultProjectID != identitytest.AdminProjectID {
		t.Errorf("created %+v", u)
	}
	stored, err := k.c.FSM.User(u.ID)
	if err != nil || !strings.HasPrefix(stored.PasswordHash, "$2") {
		t.Fatalf("stored %+v, %v: want a bcrypt hash", stored, err)
	}
	resp, b = call(t, k.ts, "PUT", "/identity/v3/projects/"+identitytest.AdminProjectID+"/users/"+u.ID+"/roles/"+identitytest.ReaderRoleID, "")
	wantStatus(t, resp, b, http.StatusNoContent)
	token, _ := k.login(t, passwordBody(byName("ann"), pw, ""))

	var bodies []string
	for _, step := range []struct {
		method, path, body, token string
		status                    int
	}{
		{"GET", path + "?name=ann", "", adminToken, http.StatusOK},
		{"GET", path + "/" + u.ID, "", token, http.StatusOK}, // oneself
		{"GET", path + "/" + identitytest.AdminUserID, "", token, http.StatusForbidden},
		{"GET", path, "", token, http.StatusForbidden},
		{"PATCH", path + "/" + u.ID, `{"user":{"name":"anne","password":"` + pw + `2"}}`, adminToken, http.StatusOK},
		{"POST", path + "/" + u.ID + "/password", `{"user":{"original_password":"` + pw + `2","password":"` + pw + `3"}}`, adminToken, http.StatusNoContent},
		{"DELETE", path + "/" + u.ID, "", adminToken, http.StatusNoContent},
		{"GET", path + "/" + u.ID, "", adminToken, http.StatusNotFound},
	} {
		resp, b := call(t, k.ts, step.method, step.path, step.body, HeaderAuthToken, step.token)
		wantStatus(t, resp, b, step.status)
		bodies = append(bodies, string(b))
	}
	for _, b := range bodies {
		if strings.Contains(b, pw) || strings.Contains(b, "password_hash") || strings.Contains(b, "$2a$") {
			t.Errorf("a response shows the password or its hash: %s", b)
		}
	}
	if strings.Contains(k.log.String(), pw) {
		t.Error("the log shows the password")
	}
}

// A user's attributes beyond Keystone's own (Tempest's email and
// project_id) are kept and shown beside them, as Keystone's additional
// properties; they never replace an own attribute.
func TestUserExtraAttributes(t *testing.T) {
	k := newKeystoneServer(t)
	resp, b := call(t, k.ts, "POST", "/identity/v3/users", `{"user":{"name":"bob","password":"pw","email":"bob@example.test",`+
		`"project_id":"`+identitytest.AdminProjectID+`","description":"d"}}`)
	u := created[map[string]any](t, resp, b, "user")
	if u["email"] != "bob@example.test" || u["project_id"] != identitytest.AdminProjectID || u["description"] != "d" || u["name"] != "bob" {
		t.Errorf("created %s", b)
	}
	resp, b = call(t, k.ts, "GET", "/identity/v3/users?name=bob", "")
	wantStatus(t, resp, b, http.StatusOK)
	if !strings.Contains(string(b), `"email":"bob@example.test"`) {
		t.Errorf("listed %s", b)
	}
}

func TestRolesAndAssignments(t *testing.T) {
	k := newKeystoneServer(t)
	tenant := k.c.addTenant(t, "alpha", fsm.RoleMember)
	resp, b := call(t, k.ts, "POST", "/identity/v3/roles", `{"role":{"name":"auditor"}}`)
	role := created[roleDoc](t, resp, b, "role")
	if !keystoneIDRE.MatchString(role.ID) || role.Name != "auditor" || role.DomainID != nil {
		t.Errorf("created %+v", role)
	}
	resp, b = call(t, k.ts, "GET", "/identity/v3/roles", "")
	if names := listOf[roleDoc](t, b, "roles"); len(names) != 4 {
		t.Errorf("roles %+v, want admin, auditor, member, reader", names)
	}
	grant := "/identity/v3/projects/" + tenant.ProjectID + "/users/" + tenant.UserID + "/roles/" + role.ID
	for _, step := range []struct {
		method, path string
		status       int
	}{
		{"HEAD", grant, http.StatusNotFound},
		{"PUT", grant, http.StatusNoContent},
		{"PUT", grant, http.StatusNoContent}, // idempotent
		{"HEAD", grant, http.StatusNoContent},
		{"GET", grant, http.StatusNoContent},
	} {
		resp, b = call(t, k.ts, step.method, step.path, "")
		wantStatus(t, resp, b, step.status)
	}
	resp, b = call(t, k.ts, "GET", "/identity/v3/projects/"+tenant.ProjectID+"/users/"+tenant.UserID+"/roles", "")
	if roles := listOf[roleDoc](t, b, "roles"); len(roles) != 2 || roles[0].Name != "auditor" || roles[1].Name != "member" {
		t.Errorf("user's roles %+v", roles)
	}
	for _, tc := range []struct {
		query string
		want  int
	}{
		{"", 3}, // admin's, and the tenant's two
		{"?user.id=" + tenant.UserID, 2},
		{"?scope.project.id=" + tenant.ProjectID + "&role.id=" + role.ID, 1},
		{"?user.id=" + tenant.UserID + "&effective&include_names", 2},
		{"?scope.domain.id=default", 0},
		{"?group.id=x", 0},
	} {
		resp, b = call(t, k.ts, "GET", "/identity/v3/role_assignments"+tc.query, "")
		wantStatus(t, resp, b, http.StatusOK)
		got := listOf[assignmentDoc](t, b, "role_assignments")
		if len(got) != tc.want {
			t.Errorf("%q: %d assignments, want %d: %s", tc.query, len(got), tc.want, b)
		}
		for _, a := range got {
			if a.Links.Assignment == "" || a.Scope.Project.ID == "" || (strings.Contains(tc.query, "include_names") && a.User.Name == "") {
				t.Errorf("%q: assignment %+v", tc.query, a)
			}
		}
	}
	resp, b = call(t, k.ts, "DELETE", grant, "")
	wantStatus(t, resp, b, http.StatusNoContent)
	resp, b = call(t, k.ts, "DELETE", "/identity/v3/roles/"+role.ID, "")
	wantStatus(t, resp, b, http.StatusNoContent)
}

// TestIdentityAdminOnly: a project's member manages nothing.
func TestIdentityAdminOnly(t *testing.T) {
	k := newKeystoneServer(t)
	member := k.c.addTenant(t, "alpha", fsm.RoleMember)
	for _, route := range []struct{ method, path, body string }{
		{"GET", "/identity/v3/projects", ""},
		{"POST", "/identity/v3/projects", `{"project":{"name":"x"}}`},
		{"GET", "/identity/v3/projects/" + member.ProjectID, ""},
		{"PATCH", "/identity/v3/projects/" + member.ProjectID, `{"project":{"enabled":false}}`},
		{"DELETE", "/identity/v3/projects/" + member.ProjectID, ""},
		{"POST", "/identity/v3/users", `{"user":{"name":"x"}}`},
		{"PATCH", "/identity/v3/users/" + member.UserID, `{"user":{"enabled":true}}`},
		{"DELETE", "/identity/v3/users/" + member.UserID, ""},
		{"POST", "/identity/v3/users/" + identitytest.AdminUserID + "/password", `{"user":{"password":"x","original_password":"y"}}`},
		{"GET", "/identity/v3/roles", ""},
		{"POST", "/identity/v3/roles", `{"role":{"name":"x"}}`},
		{"DELETE", "/identity/v3/roles/" + identitytest.AdminRoleID, ""},
		{"PUT", "/identity/v3/projects/" + member.ProjectID + "/users/" + member.UserID + "/roles/" + identitytest.AdminRoleID, ""},
		{"GET", "/identity/v3/role_assignments", ""},
	} {
		t.Run(route.method+" "+route.path, func(t *testing.T) {
			before := k.c.identityState()
			resp, b := call(t, k.ts, route.method, route.path, route.body, HeaderAuthToken, member.Token)
			wantKeystoneError(t, resp, b, http.StatusForbidden, "policy")
			k.c.wantUnchanged(t, before)
		})
	}
}
