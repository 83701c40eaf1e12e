package api

import (
	"net/http"
	"strings"
	"testing"

	"github.com/shoal-project/shoal/api/identity/identitytest"
	"github.com/shoal-project/shoal/fsm"
)

// TestIdentityBadInput: every refused management request leaves projects,
// users, roles and assignments as they were.
func TestIdentityBadInput(t *testing.T) {
	k := newKeystoneServer(t)
	alpha := k.c.addTenant(t, "alpha", fsm.RoleMember)
	const (
		projects = "/identity/v3/projects"
		users    = "/identity/v3/users"
		roles    = "/identity/v3/roles"
		unknown  = "00000000000000000000000000000000"
	)
	long := strings.Repeat("p", 73)
	grant := func(p, u, r string) string { return projects + "/" + p + "/users/" + u + "/roles/" + r }
	for _, tc := range []struct {
		name, method, path, body string
		status                   int
		contains                 string
	}{
		{"project: empty body", "POST", projects, "", 400, "empty"},
		{"project: not wrapped", "POST", projects, `{"name":"x"}`, 400, `{"project"`},
		{"project: null", "POST", projects, `{"project":null}`, 400, "object"},
		{"project: unknown field", "POST", projects, `{"project":{"name":"x","tags":["a"]}}`, 400, "tags"},
		{"project: no name", "POST", projects, `{"project":{"description":"x"}}`, 400, "'name'"},
		{"project: empty name", "POST", projects, `{"project":{"name":""}}`, 400, "empty"},
		{"project: control character", "POST", projects, `{"project":{"name":"a\nb"}}`, 400, "control"},
		{"project: name too long", "POST", projects, `{"project":{"name":"` + strings.Repeat("n", 256) + `"}}`, 400, "longer"},
		{"project: duplicate", "POST", projects, `{"project":{"name":"alpha"}}`, 409, "duplicate"},
		{"project: other domain", "POST", projects, `{"project":{"name":"x","domain_id":"other"}}`, 404, "domain"},
		{"project: hierarchy", "POST", projects, `{"project":{"name":"x","parent_id":"` + alpha.ProjectID + `"}}`, 400, "hierarchies"},
		{"project: is a domain", "POST", projects, `{"project":{"name":"x","is_domain":true}}`, 400, "domains"},
		{"project: enabled not boolean", "POST", projects, `{"project":{"name":"x","enabled":"yes"}}`, 400, "boolean"},
		{"project: show unknown", "GET", projects + "/" + unknown, "", 404, "could not find project"},
		{"project: show by name", "GET", projects + "/alpha", "", 404, "could not find project"},
		{"project: patch unknown", "PATCH", projects + "/" + unknown, `{"project":{"enabled":false}}`, 404, "project"},
		{"project: rename to a taken name", "PATCH", projects + "/" + alpha.ProjectID, `{"project":{"name":"admin"}}`, 409, "duplicate"},
		{"project: patch malformed", "PATCH", projects + "/" + alpha.ProjectID, `{"project":{"enabled":1}}`, 400, "boolean"},
		{"project: delete unknown", "DELETE", projects + "/" + unknown, "", 404, "project"},

		{"user: no name", "POST", users, `{"user":{"password":"x"}}`, 400, "'name'"},
		{"user: password over 72 bytes", "POST", users, `{"user":{"name":"x","password":"` + long + `"}}`, 400, "72"},
		{"user: empty password", "POST", users, `{"user":{"name":"x","password":""}}`, 400, "password"},
		{"user: duplicate", "POST", users, `{"user":{"name":"admin","password":"x"}}`, 409, "duplicate"},
		{"user: unknown default project", "POST", users, `{"user":{"name":"x","default_project_id":"` + unknown + `"}}`, 404, "project"},
		{"user: other domain", "POST", users, `{"user":{"name":"x","domain_id":"other"}}`, 404, "domain"},
		{"user: extra attribute shadowing name", "POST", users, `{"user":{"name":"x","name ":1,"enabled":"yes"}}`, 400, "enabled"},
		{"user: patch unknown", "PATCH", users + "/" + unknown, `{"user":{"enabled":false}}`, 404, "user"},
		{"user: patch password over 72 bytes", "PATCH", users + "/" + alpha.UserID, `{"user":{"password":"` + long + `"}}`, 400, "72"},
		{"user: patch unknown default project", "PATCH", users + "/" + alpha.UserID, `{"user":{"default_project_id":"` + unknown + `"}}`, 404, "project"},
		{"user: rename to a taken name", "PATCH", users + "/" + alpha.UserID, `{"user":{"name":"admin"}}`, 409, "duplicate"},
		{"user: show unknown", "GET", users + "/" + unknown, "", 404, "could not find user"},
		{"user: delete unknown", "DELETE", users + "/" + unknown, "", 404, "user"},
		{"password: missing original", "POST", users + "/" + alpha.UserID + "/password", `{"user":{"password":"x"}}`, 400, "original_password"},
		{"password: new over 72 bytes", "POST", users + "/" + identitytest.AdminUserID + "/password",
			`{"user":{"password":"` + long + `","original_password":"` + identitytest.Password + `"}}`, 400, "72"},
		{"password: wrong original", "POST", users + "/" + alpha.UserID + "/password",
			`{"user":{"password":"new","original_password":"` + wrongPassword + `"}}`, 401, "original password"},
		{"password: unknown user", "POST", users + "/" + unknown + "/password", `{"user":{"password":"x","original_password":"y"}}`, 404, "user"},

		{"role: no name", "POST", roles, `{"role":{}}`, 400, "'name'"},
		{"role: duplicate", "POST", roles, `{"role":{"name":"admin"}}`, 409, "duplicate"},
		{"role: domain-specific", "POST", roles, `{"role":{"name":"x","domain_id":"default"}}`, 400, "domain"},
		{"role: description", "POST", roles, `{"role":{"name":"x","description":"d"}}`, 400, "description"},
		{"role: show unknown", "GET", roles + "/" + unknown, "", 404, "could not find role"},
		{"role: delete unknown", "DELETE", roles + "/" + unknown, "", 404, "role"},

		{"grant: unknown role", "PUT", grant(alpha.ProjectID, alpha.UserID, unknown), "", 404, "role"},
		{"grant: unknown user", "PUT", grant(alpha.ProjectID, unknown, identitytest.ReaderRoleID), "", 404, "user"},
		{"grant: unknown project", "PUT", grant(unknown, alpha.UserID, identitytest.ReaderRoleID), "", 404, "project"},
		{"grant: role by name", "PUT", grant(alpha.ProjectID, alpha.UserID, "admin"), "", 404, "role"},
		{"revoke: not assigned", "DELETE", grant(alpha.ProjectID, alpha.UserID, identitytest.AdminRoleID), "", 404, "assignment"},
		{"check: not assigned", "GET", grant(alpha.ProjectID, alpha.UserID, identitytest.AdminRoleID), "", 404, "assignment"},
		{"user roles: unknown user", "GET", projects + "/" + alpha.ProjectID + "/users/" + unknown + "/roles", "", 404, "user"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := k.c.identityState()
			resp, b := call(t, k.ts, tc.method, tc.path, tc.body)
			wantKeystoneError(t, resp, b, tc.status, tc.contains)
			k.c.wantUnchanged(t, before)
		})
	}
	if n := k.throttle.Failures(alpha.UserName); n != 1 {
		t.Errorf("failed password changes counted for %s: %d, want 1", alpha.UserName, n)
	}
	for _, secret := range []string{long, wrongPassword, identitytest.Password} {
		if strings.Contains(k.log.String(), secret) {
			t.Errorf("the log shows password %q", secret)
		}
	}
}

// TestTokenDies: whatever takes a user's rights away kills the tokens it
// holds at once, and the token validates until then.
func TestTokenDies(t *testing.T) {
	k := newKeystoneServer(t)
	for _, tc := range []struct {
		name   string
		method string
		path   func(tn identitytest.Tenant) string
		body   string
	}{
		{"user deleted", "DELETE", func(tn identitytest.Tenant) string { return "/identity/v3/users/" + tn.UserID }, ""},
		{"user disabled", "PATCH", func(tn identitytest.Tenant) string { return "/identity/v3/users/" + tn.UserID }, `{"user":{"enabled":false}}`},
		{"password changed by admin", "PATCH", func(tn identitytest.Tenant) string { return "/identity/v3/users/" + tn.UserID },
			`{"user":{"password":"another one"}}`},
		{"password changed by the user", "POST", func(tn identitytest.Tenant) string { return "/identity/v3/users/" + tn.UserID + "/password" },
			`{"user":{"password":"another one","original_password":"` + identitytest.Password + `"}}`},
		{"role removed", "DELETE", func(tn identitytest.Tenant) string {
			return "/identity/v3/projects/" + tn.ProjectID + "/users/" + tn.UserID + "/roles/" + identitytest.MemberRoleID
		}, ""},
		{"project disabled", "PATCH", func(tn identitytest.Tenant) string { return "/identity/v3/projects/" + tn.ProjectID },
			`{"project":{"enabled":false}}`},
		{"project deleted", "DELETE", func(tn identitytest.Tenant) string { return "/identity/v3/projects/" + tn.ProjectID }, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tn := k.c.addTenant(t, strings.ReplaceAll(tc.name, " ", "-"), fsm.RoleMember)
			token, _ := k.login(t, passwordBody(byName(tn.UserName), identitytest.Password, ""))
			const check = "/identity/v3/auth/tokens"
			if resp, b := call(t, k.ts, "GET", check, "", HeaderSubjectToken, token); resp.StatusCode != http.StatusOK {
				t.Fatalf("fresh token: %d %s", resp.StatusCode, b)
			}
			caller := adminToken
			if tc.method == "POST" {
				caller = token // the user changes its own password
			}
			resp, b := call(t, k.ts, tc.method, tc.path(tn), tc.body, HeaderAuthToken, caller)
			if resp.StatusCode/100 != 2 {
				t.Fatalf("%s %s: %d %s", tc.method, tc.path(tn), resp.StatusCode, b)
			}
			resp, b = call(t, k.ts, "GET", check, "", HeaderSubjectToken, token)
			wantKeystoneError(t, resp, b, http.StatusNotFound, "could not find token")
			resp, b = call(t, k.ts, "GET", "/v1/servers", "", HeaderAuthToken, token)
			wantKeystoneError(t, resp, b, http.StatusUnauthorized, "")
			if strings.HasPrefix(tc.name, "password") {
				// The new password logs in, the old one no more.
				k.login(t, passwordBody(byName(tn.UserName), "another one", ""))
				resp, b = call(t, k.ts, "POST", check, passwordBody(byName(tn.UserName), identitytest.Password, ""), HeaderAuthToken, "")
				wantKeystoneError(t, resp, b, http.StatusUnauthorized, "")
			}
		})
	}
	if strings.Contains(k.log.String(), "another one") || strings.Contains(k.log.String(), identitytest.Password) {
		t.Error("the log shows a password")
	}
}
