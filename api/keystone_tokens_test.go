package api

import (
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/shoal-project/shoal/api/identity/identitytest"
	"github.com/shoal-project/shoal/fsm"
)

func TestIdentityVersions(t *testing.T) {
	k := newKeystoneServer(t)
	for _, tc := range []struct {
		path   string
		status int
		want   string
	}{
		{"/identity", http.StatusMultipleChoices, `{"versions":{"values":[{"id":"v3.14"`},
		{"/identity/", http.StatusMultipleChoices, `{"versions":{"values":[{"id":"v3.14"`},
		{"/identity/v3", http.StatusOK, `{"version":{"id":"v3.14","status":"stable"`},
		{"/identity/v3/", http.StatusOK, `{"version":{"id":"v3.14","status":"stable"`},
	} {
		t.Run(tc.path, func(t *testing.T) {
			resp, b := call(t, k.ts, "GET", tc.path, "", HeaderAuthToken, "")
			if resp.StatusCode != tc.status || !strings.HasPrefix(string(b), tc.want) {
				t.Fatalf("status %d body %s", resp.StatusCode, b)
			}
			if self := `"links":[{"rel":"self","href":"` + k.ts.URL + `/identity/v3/"}]`; !strings.Contains(string(b), self) {
				t.Errorf("body %s lacks %s", b, self)
			}
		})
	}
}

var keystoneTimeRE = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.000000Z$`)

func TestLogin(t *testing.T) {
	k := newKeystoneServer(t)
	tenant := k.c.addTenant(t, "alpha", fsm.RoleMember)
	pw := identitytest.Password
	for _, tc := range []struct {
		name            string
		body            string
		user, project   string
		roles           string
		catalogExpected bool
	}{
		{"by name, scoped by name", adminByName, identitytest.AdminUserID, identitytest.AdminProjectID, "admin", true},
		{"by ID, scoped by ID", passwordBody(byID(identitytest.AdminUserID), pw, projectScope(byID(identitytest.AdminProjectID))),
			identitytest.AdminUserID, identitytest.AdminProjectID, "admin", true},
		{"domain by ID", passwordBody(`{"name":"admin","domain":{"id":"default"}}`, pw, projectScope(`{"name":"admin","domain":{"id":"default"}}`)),
			identitytest.AdminUserID, identitytest.AdminProjectID, "admin", true},
		{"domain name lower case", passwordBody(`{"name":"admin","domain":{"name":"default"}}`, pw, ""),
			identitytest.AdminUserID, identitytest.AdminProjectID, "admin", true},
		{"unscoped: the default project", passwordBody(byName(tenant.UserName), pw, ""), tenant.UserID, tenant.ProjectID, "member", true},
		{"scoped to the tenant", passwordBody(byName(tenant.UserName), pw, projectScope(byID(tenant.ProjectID))), tenant.UserID, tenant.ProjectID, "member", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			token, body := k.login(t, tc.body)
			tok := body.Token
			if tok.User.ID != tc.user || tok.Project.ID != tc.project || tok.User.Domain != defaultDomain || tok.Project.Domain != defaultDomain {
				t.Errorf("token body %+v", tok)
			}
			if len(tok.Roles) != 1 || tok.Roles[0].Name != tc.roles || tok.Roles[0].ID != identitytest.RoleIDs[tc.roles] {
				t.Errorf("roles = %+v, want %s", tok.Roles, tc.roles)
			}
			if len(tok.Methods) != 1 || tok.Methods[0] != "password" || len(tok.AuditIDs) != 1 || len(tok.AuditIDs[0]) != 32 {
				t.Errorf("methods %v audit_ids %v", tok.Methods, tok.AuditIDs)
			}
			if !keystoneTimeRE.MatchString(tok.IssuedAt) || !keystoneTimeRE.MatchString(tok.ExpiresAt) {
				t.Errorf("issued_at %q expires_at %q", tok.IssuedAt, tok.ExpiresAt)
			}
			wantCatalog(t, k.ts.URL, tok.Catalog)
			// The token works as X-Auth-Token at once.
			if resp, b := call(t, k.ts, "GET", "/v1/flavors", "", HeaderAuthToken, token); resp.StatusCode != http.StatusOK {
				t.Errorf("using the token: %d %s", resp.StatusCode, b)
			}
		})
	}
	t.Run("nocatalog", func(t *testing.T) {
		resp, b := call(t, k.ts, "POST", "/identity/v3/auth/tokens?nocatalog", adminByName, HeaderAuthToken, "")
		if resp.StatusCode != http.StatusCreated || strings.Contains(string(b), "catalog") {
			t.Errorf("status %d body %s", resp.StatusCode, b)
		}
	})
	if n := k.throttle.Total(); n != 0 {
		t.Errorf("%d failed logins counted, want 0", n)
	}
}

// wantCatalog checks the catalog names this node's identity, the OpenStack
// APIs and the native API.
func wantCatalog(t *testing.T, base string, cat []catalogEntry) {
	t.Helper()
	want := map[string]string{"identity": base + "/identity/v3", "compute": base + "/compute/v2.1",
		"image": base + "/image", "network": base + "/networking", "shoal": base + "/v1"}
	if len(cat) != len(want) {
		t.Fatalf("catalog %+v", cat)
	}
	for _, e := range cat {
		if len(e.ID) != 32 || len(e.Endpoints) == 0 {
			t.Errorf("catalog entry %+v", e)
		}
		for _, ep := range e.Endpoints {
			if ep.URL != want[e.Type] || ep.Region != regionName || ep.RegionID != regionName || len(ep.ID) != 32 {
				t.Errorf("%s endpoint %+v, want url %s", e.Type, ep, want[e.Type])
			}
		}
	}
}

func TestLoginMalformed(t *testing.T) {
	k := newKeystoneServer(t)
	pw := identitytest.Password
	user := byName("admin")
	for _, tc := range []struct{ name, body, contains string }{
		{"empty", "", "empty"},
		{"not JSON", "{", "JSON"},
		{"no auth", `{}`, "'auth'"},
		{"no identity", `{"auth":{}}`, "'identity'"},
		{"no methods", `{"auth":{"identity":{"password":{"user":` + byID(identitytest.AdminUserID) + `}}}}`, "'methods'"},
		{"token method", `{"auth":{"identity":{"methods":["token"],"token":{"id":"x"}}}}`, "token"},
		{"methods without password", `{"auth":{"identity":{"methods":["token"]}}}`, "not supported"},
		{"password method without password", `{"auth":{"identity":{"methods":["password"]}}}`, "password"},
		{"user with neither id nor name", passwordBody(`{"domain":{"id":"default"}}`, pw, ""), "id or a name"},
		{"user name without domain", passwordBody(`{"name":"admin"}`, pw, ""), "domain"},
		{"empty domain", passwordBody(`{"name":"admin","domain":{}}`, pw, ""), "domain"},
		{"unknown user field", passwordBody(`{"name":"admin","domain":{"id":"default"},"color":"red"}`, pw, ""), "color"},
		{"unknown auth field", `{"auth":{"identity":{"methods":["password"],"password":{"user":{"id":"x","password":"y"}}},"extra":1}}`, "extra"},
		{"domain scope", passwordBody(user, pw, `{"domain":{"id":"default"}}`), "domain"},
		{"system scope", passwordBody(user, pw, `{"system":{"all":true}}`), "system"},
		{"unscoped string", passwordBody(user, pw, `"unscoped"`), "scope"},
		{"project with neither id nor name", passwordBody(user, pw, `{"project":{"domain":{"id":"default"}}}`), "id or a name"},
		{"project name without domain", passwordBody(user, pw, `{"project":{"name":"admin"}}`), "domain"},
		{"trailing data", adminByName + "{}", "after"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := k.c.identityState()
			resp, b := call(t, k.ts, "POST", "/identity/v3/auth/tokens", tc.body, HeaderAuthToken, "")
			wantKeystoneError(t, resp, b, http.StatusBadRequest, tc.contains)
			if resp.Header.Get(HeaderSubjectToken) != "" {
				t.Error("a refused login carries a token")
			}
			k.c.wantUnchanged(t, before)
		})
	}
	if n := k.throttle.Total(); n != 0 {
		t.Errorf("%d failed logins counted for malformed bodies, want 0", n)
	}
}

// wrongPassword is a password nobody has, easy to find in a log.
const wrongPassword = "hunter2-not-the-password"

func TestLoginRefused(t *testing.T) {
	k := newKeystoneServer(t)
	pw := identitytest.Password
	tenant := k.c.addTenant(t, "alpha", fsm.RoleMember)
	disabled := k.c.addTenant(t, "beta", fsm.RoleMember)
	off := false
	k.c.MustApply(t, &fsm.UpdateUser{ID: disabled.UserID, Enabled: &off, Time: time.Now().UTC()})
	closed := k.c.addTenant(t, "gamma", fsm.RoleMember)
	k.c.MustApply(t, &fsm.UpdateProject{ID: closed.ProjectID, Enabled: &off})
	for _, tc := range []struct{ name, body, throttled string }{
		{"wrong password", passwordBody(byName("admin"), wrongPassword, ""), "admin"},
		{"empty password", passwordBody(byName("admin"), "", ""), "admin"},
		{"password over 72 bytes", passwordBody(byName("admin"), strings.Repeat("p", 73), ""), "admin"},
		{"unknown user", passwordBody(byName("nobody"), pw, ""), "nobody"},
		{"unknown user ID", passwordBody(byID("00000000000000000000000000000000"), pw, ""), "00000000000000000000000000000000"},
		{"user name given as ID", passwordBody(byID("admin"), pw, ""), "admin"},
		{"unknown domain", passwordBody(`{"name":"admin","domain":{"id":"other"}}`, pw, ""), "admin"},
		{"unknown project", passwordBody(byName("admin"), pw, projectScope(byName("nowhere"))), "admin"},
		{"unknown project ID", passwordBody(byName("admin"), pw, projectScope(byID("00000000000000000000000000000000"))), "admin"},
		{"project in unknown domain", passwordBody(byName("admin"), pw, projectScope(`{"name":"admin","domain":{"name":"other"}}`)), "admin"},
		{"no role on the project", passwordBody(byName(tenant.UserName), pw, projectScope(byName("admin"))), tenant.UserName},
		{"disabled user", passwordBody(byName(disabled.UserName), pw, ""), disabled.UserName},
		{"disabled project", passwordBody(byName(closed.UserName), pw, ""), closed.UserName},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before, failures := k.c.identityState(), k.throttle.Failures(tc.throttled)
			resp, b := call(t, k.ts, "POST", "/identity/v3/auth/tokens", tc.body, HeaderAuthToken, "")
			wantKeystoneError(t, resp, b, http.StatusUnauthorized, "requires authentication")
			if resp.Header.Get(HeaderSubjectToken) != "" {
				t.Error("a refused login carries a token")
			}
			if got := k.throttle.Failures(tc.throttled); got != failures+1 {
				t.Errorf("failures of %q = %d, want %d", tc.throttled, got, failures+1)
			}
			k.c.wantUnchanged(t, before)
		})
	}
	t.Run("no project to scope to", func(t *testing.T) {
		lone := fsm.User{ID: newKeystoneID(), Name: "lone", Enabled: true, PasswordHash: identitytest.PasswordHash()}
		k.c.MustApply(t, &fsm.CreateUser{User: lone})
		resp, b := call(t, k.ts, "POST", "/identity/v3/auth/tokens", passwordBody(byName("lone"), pw, ""), HeaderAuthToken, "")
		wantKeystoneError(t, resp, b, http.StatusUnauthorized, "scope")
	})
	for _, secret := range []string{pw, wrongPassword, strings.Repeat("p", 73)} {
		if log := k.log.String(); strings.Contains(log, secret) {
			t.Errorf("the log shows password %q:\n%s", secret, log)
		}
	}
	if !strings.Contains(k.log.String(), "login refused") {
		t.Error("refused logins are not logged")
	}
}

// TestLoginWithoutLeader: a node cut off from the leader still logs users
// in from its replica (login is not synced), while writes fail with 503.
func TestLoginWithoutLeader(t *testing.T) {
	k := newKeystoneServerWith(t, func(c *fakeCluster) Cluster { return noLeader{c} })
	token, _ := k.login(t, adminByName)
	resp, b := call(t, k.ts, "DELETE", "/identity/v3/auth/tokens", "", HeaderSubjectToken, token)
	wantKeystoneError(t, resp, b, http.StatusServiceUnavailable, "")
}

func TestTokenValidateAndRevoke(t *testing.T) {
	k := newKeystoneServer(t)
	alpha := k.c.addTenant(t, "alpha", fsm.RoleMember)
	beta := k.c.addTenant(t, "beta", fsm.RoleMember)
	const path = "/identity/v3/auth/tokens"

	for _, tc := range []struct {
		name            string
		caller, subject string
		status          int
	}{
		{"own token", alpha.Token, alpha.Token, http.StatusOK},
		{"admin validates another's", adminToken, alpha.Token, http.StatusOK},
		{"another user's token", beta.Token, alpha.Token, http.StatusForbidden},
		{"no subject", alpha.Token, "", http.StatusNotFound},
		{"garbage subject", alpha.Token, "shoal1.garbage", http.StatusNotFound},
		{"no caller", "", alpha.Token, http.StatusUnauthorized},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, b := call(t, k.ts, "GET", path, "", HeaderAuthToken, tc.caller, HeaderSubjectToken, tc.subject)
			if tc.status != http.StatusOK {
				wantKeystoneError(t, resp, b, tc.status, "")
				return
			}
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("status %d body %s", resp.StatusCode, b)
			}
			if tok := decode[tokenBody](t, b).Token; tok.User.ID != alpha.UserID || tok.Project.ID != alpha.ProjectID || len(tok.Catalog) == 0 {
				t.Errorf("token %+v", tok)
			}
			head, hb := call(t, k.ts, "HEAD", path, "", HeaderAuthToken, tc.caller, HeaderSubjectToken, tc.subject)
			if head.StatusCode != http.StatusOK || len(hb) != 0 {
				t.Errorf("HEAD: %d %q", head.StatusCode, hb)
			}
		})
	}

	t.Run("revoke", func(t *testing.T) {
		token, _ := k.login(t, passwordBody(byName(beta.UserName), identitytest.Password, ""))
		if resp, b := call(t, k.ts, "DELETE", path, "", HeaderAuthToken, alpha.Token, HeaderSubjectToken, token); resp.StatusCode != http.StatusForbidden {
			t.Fatalf("another's revoke: %d %s", resp.StatusCode, b)
		}
		if resp, b := call(t, k.ts, "DELETE", path, "", HeaderAuthToken, token, HeaderSubjectToken, token); resp.StatusCode != http.StatusNoContent {
			t.Fatalf("revoke: %d %s", resp.StatusCode, b)
		}
		resp, b := call(t, k.ts, "GET", path, "", HeaderSubjectToken, token)
		wantKeystoneError(t, resp, b, http.StatusNotFound, "could not find token")
		resp, b = call(t, k.ts, "GET", "/v1/flavors", "", HeaderAuthToken, token)
		wantKeystoneError(t, resp, b, http.StatusUnauthorized, "")
		resp, b = call(t, k.ts, "DELETE", path, "", HeaderSubjectToken, token)
		wantKeystoneError(t, resp, b, http.StatusNotFound, "could not find token")
		// The user's other tokens live on.
		if resp, b := call(t, k.ts, "GET", path, "", HeaderSubjectToken, beta.Token); resp.StatusCode != http.StatusOK {
			t.Errorf("another token of the user: %d %s", resp.StatusCode, b)
		}
	})
}
