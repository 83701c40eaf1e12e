package lab

import (
	"context"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"testing"
)

// fakeKeystone logs the admin in and accepts only its latest token.
type fakeKeystone struct {
	mu     sync.Mutex
	logins int
	valid  string
	seen   map[string]string // path → token sent
}

func (k *fakeKeystone) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if r.URL.Path == "/identity/v3/auth/tokens" {
		var body struct {
			Auth struct {
				Identity struct {
					Password struct {
						User struct{ Name, Password string }
					}
				}
				Scope struct{ Project struct{ Name string } }
			}
		}
		_ = json.NewDecoder(r.Body).Decode(&body)
		u := body.Auth.Identity.Password.User
		if u.Name != "admin" || u.Password != "it's secret" || body.Auth.Scope.Project.Name != "admin" {
			http.Error(w, `{"error":{"code":401}}`, http.StatusUnauthorized)
			return
		}
		k.logins++
		k.valid = fmt.Sprintf("token-%d", k.logins)
		w.Header().Set("X-Subject-Token", k.valid)
		w.WriteHeader(http.StatusCreated)
		return
	}
	token := r.Header.Get("X-Auth-Token")
	k.seen[r.URL.Path] = token
	if r.URL.Path != "/v1/health" && token != k.valid {
		http.Error(w, `{"error":{"code":401}}`, http.StatusUnauthorized)
		return
	}
	fmt.Fprint(w, `{"servers":[],"name":"h1","status":"ok"}`)
}

// The lab's client logs in with the openrc's credentials at the host it
// calls, sends the token on every call but health, and logs in again once
// when its token is refused.
func TestClientLogsInAsAdmin(t *testing.T) {
	k := &fakeKeystone{seen: map[string]string{}}
	ts := httptest.NewTLSServer(k)
	t.Cleanup(ts.Close)
	dir := t.TempDir()
	ca := filepath.Join(dir, "ca.crt")
	if err := os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ts.Certificate().Raw}), 0o644); err != nil {
		t.Fatal(err)
	}
	openrc := filepath.Join(dir, "admin-openrc")
	text := "export OS_AUTH_URL='https://192.0.2.1:8774/identity/v3'\nexport OS_USERNAME=admin\n" +
		"export OS_PASSWORD='it'\\''s secret'\nexport OS_PROJECT_NAME=admin\nexport OS_USER_DOMAIN_NAME=Default\n" +
		"export OS_PROJECT_DOMAIN_NAME=Default\nexport OS_CACERT=" + ca + "\n"
	if err := os.WriteFile(openrc, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	admin := &Admin{Openrc: openrc}
	if _, err := NewClient(ts.URL, admin, nil).Health(context.Background()); err == nil {
		t.Fatal("a client without the cluster CA took the server's certificate")
	}
	roots, err := admin.RootCAs()
	if err != nil {
		t.Fatal(err)
	}
	c := NewClient(ts.URL, admin, roots)
	ctx := context.Background()
	if _, err := c.Health(ctx); err != nil || k.seen["/v1/health"] != "" {
		t.Fatalf("health: %v, token %q; want it asked without one", err, k.seen["/v1/health"])
	}
	for range 2 {
		if _, err := c.Servers(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if k.logins != 1 || k.seen["/v1/servers"] != "token-1" {
		t.Fatalf("%d logins, token %q; want one login, its token sent", k.logins, k.seen["/v1/servers"])
	}
	k.mu.Lock()
	k.valid = "revoked"
	k.mu.Unlock()
	if _, err := c.WithTimeout(0).Servers(ctx); err != nil || k.logins != 2 {
		t.Fatalf("after the token was refused: %v after %d logins; want one more login and the call through", err, k.logins)
	}
	env, err := c.admin.CLIEnv(ts.URL, "/cache")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]bool{"OS_AUTH_URL=" + ts.URL + "/identity/v3": true, "OS_PASSWORD=it's secret": true, "XDG_CACHE_HOME=/cache": true}
	for _, kv := range env {
		delete(want, kv)
	}
	if len(want) > 0 {
		t.Errorf("CLI environment %q lacks %v", env, want)
	}
}
