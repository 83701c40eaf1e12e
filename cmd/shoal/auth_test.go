package main

import (
	"bytes"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/shoal-project/shoal/api/client"
	"github.com/shoal-project/shoal/api/client/clienttest"
)

// authEnv clears the credentials the environment may hold, sets env, and
// gives the test its own cache directory, which it returns.
func authEnv(t *testing.T, env map[string]string) string {
	t.Helper()
	for _, v := range []string{"SHOAL_TOKEN", "OS_AUTH_URL", "OS_USERNAME", "OS_USER_ID", "OS_PASSWORD", "OS_PROJECT_NAME",
		"OS_PROJECT_ID", "OS_USER_DOMAIN_NAME", "OS_PROJECT_DOMAIN_NAME", "OS_CACERT", "SHOAL_CACERT"} {
		t.Setenv(v, env[v]) // restored when the test ends
		if _, ok := env[v]; !ok {
			os.Unsetenv(v)
		}
	}
	cache := t.TempDir()
	t.Setenv("XDG_CACHE_HOME", cache)
	return filepath.Join(cache, "shoal")
}

// guardedAPI is a node that answers flavor list only to a token ks issued.
func guardedAPI(ks *clienttest.Keystone) http.Handler {
	return ks.Protect(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte(`{"flavors":[]}`))
	}))
}

// runWith runs one command against h and fails the test on an error.
func runWith(t *testing.T, h http.Handler, args string) string {
	t.Helper()
	out, errOut, err := runCLI(t, h, args)
	if err != nil {
		t.Fatalf("shoal %s: %v\n%s", args, err, errOut)
	}
	return out
}

func TestPasswordAuthCommands(t *testing.T) {
	for _, tc := range []struct {
		name string
		body string
		env  map[string]string
	}{
		{"by names", clienttest.NamesBody, map[string]string{"OS_USERNAME": "alice", "OS_PROJECT_NAME": "demo"}},
		{"by names with domains", clienttest.NamesBody, map[string]string{"OS_USERNAME": "alice", "OS_PROJECT_NAME": "demo",
			"OS_USER_DOMAIN_NAME": "Default", "OS_PROJECT_DOMAIN_NAME": "Default"}},
		{"by IDs", clienttest.IDsBody, map[string]string{"OS_USER_ID": clienttest.UserID, "OS_PROJECT_ID": clienttest.ProjectID}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ks := clienttest.NewKeystone(t, tc.body, clienttest.Password)
			tc.env["OS_AUTH_URL"], tc.env["OS_PASSWORD"] = ks.AuthURL(), clienttest.Password
			cacheDir := authEnv(t, tc.env)
			h := guardedAPI(ks)

			runWith(t, h, "flavor list")
			runWith(t, h, "flavor list")
			if got := fmt.Sprint(ks.Seen()); ks.Auths() != 1 || got != "[tok-1 tok-1]" {
				t.Errorf("sent %s after %d auths; want the cached token reused, one auth", got, ks.Auths())
			}
			files, _ := filepath.Glob(filepath.Join(cacheDir, "*"))
			for _, f := range files {
				st, _ := os.Stat(f)
				data, _ := os.ReadFile(f)
				if st.Mode().Perm() != 0o600 || bytes.Contains(data, []byte(clienttest.Password)) {
					t.Errorf("cache file %s: mode %v, holds %s", f, st.Mode(), data)
				}
			}
			if len(files) != 1 {
				t.Errorf("cache holds %v, want one file", files)
			}
		})
	}
}

func TestTokenCacheRules(t *testing.T) {
	ks := clienttest.NewKeystone(t, clienttest.NamesBody, clienttest.Password)
	cacheDir := authEnv(t, map[string]string{"OS_AUTH_URL": ks.AuthURL(), "OS_PASSWORD": clienttest.Password,
		"OS_USERNAME": "alice", "OS_PROJECT_NAME": "demo"})
	h := guardedAPI(ks)

	runWith(t, h, "flavor list")
	files, _ := filepath.Glob(filepath.Join(cacheDir, "token-*.json"))
	if len(files) != 1 {
		t.Fatalf("cache holds %v", files)
	}
	if err := os.Chmod(files[0], 0o644); err != nil {
		t.Fatal(err)
	}
	runWith(t, h, "flavor list")
	if ks.Auths() != 2 {
		t.Errorf("a 0644 cache file was used: %d auths, want 2", ks.Auths())
	}

	ks.TTL = 30 * time.Second // inside the 60 s margin: never reused
	if err := os.RemoveAll(cacheDir); err != nil {
		t.Fatal(err)
	}
	runWith(t, h, "flavor list")
	runWith(t, h, "flavor list")
	if ks.Auths() != 4 {
		t.Errorf("a token about to expire was reused: %d auths, want 4", ks.Auths())
	}

	ks.TTL = time.Hour
	runWith(t, h, "flavor list")
	ks.RevokeAll()
	runWith(t, h, "flavor list")
	if got, want := fmt.Sprint(ks.Seen()), "[tok-1 tok-2 tok-3 tok-4 tok-5 tok-5 tok-6]"; got != want || ks.Auths() != 6 {
		t.Errorf("sent %s after %d auths, want %s after 6 (a refused token renewed once)", got, ks.Auths(), want)
	}
}

func TestTokenChoice(t *testing.T) {
	ks := clienttest.NewKeystone(t, clienttest.NamesBody, clienttest.Password)
	var seen []string
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen = append(seen, r.Header.Get("X-Auth-Token"))
		_, _ = w.Write([]byte(`{"flavors":[]}`))
	})
	authEnv(t, map[string]string{"OS_AUTH_URL": ks.AuthURL(), "OS_PASSWORD": clienttest.Password,
		"OS_USERNAME": "alice", "OS_PROJECT_NAME": "demo", "SHOAL_TOKEN": "given"})
	runWith(t, h, "flavor list")
	runWith(t, h, "--token flag flavor list")
	authEnv(t, nil)
	runWith(t, h, "flavor list")
	if fmt.Sprint(seen) != "[given flag ]" || ks.Auths() != 0 {
		t.Errorf("sent %q after %d auths; want the given tokens, then none, and no auth", seen, ks.Auths())
	}
}

func TestTokenIssueAndErrors(t *testing.T) {
	ks := clienttest.NewKeystone(t, clienttest.NamesBody, clienttest.Password)
	authEnv(t, map[string]string{"OS_AUTH_URL": ks.AuthURL(), "OS_PASSWORD": clienttest.Password,
		"OS_USERNAME": "alice", "OS_PROJECT_NAME": "demo"})
	h := guardedAPI(ks)

	out := runWith(t, h, "token issue")
	for _, want := range []string{"expires ", "id          tok-1\n", "project_id  " + clienttest.ProjectID + "\n", "user_id     " + clienttest.UserID + "\n"} {
		if !strings.Contains(out, want) {
			t.Errorf("token issue printed\n%s\nwant %q", out, want)
		}
	}
	if out := runWith(t, h, "-o json token issue"); !strings.Contains(out, `"id": "tok-1"`) || !strings.Contains(out, `"project_id": "`+clienttest.ProjectID) {
		t.Errorf("token issue -o json printed\n%s", out)
	}
	runWith(t, h, "token revoke tok-1")
	runWith(t, h, "flavor list") // the revoked token was forgotten: a new one
	if got := fmt.Sprint(ks.Seen()); got != "[tok-2]" {
		t.Errorf("after revoke sent %s, want [tok-2]", got)
	}

	// A fresh cache: the cache key leaves the password out, so a cached token
	// would otherwise be used.
	authEnv(t, map[string]string{"OS_AUTH_URL": ks.AuthURL(), "OS_PASSWORD": "wrong-" + clienttest.Password,
		"OS_USERNAME": "alice", "OS_PROJECT_NAME": "demo"})
	_, errOut, err := runCLI(t, h, "flavor list")
	if err == nil || !strings.Contains(err.Error(), "401") {
		t.Fatalf("wrong password: %v, want a 401", err)
	}
	if strings.Contains(err.Error()+errOut, clienttest.Password) {
		t.Errorf("the error shows the password: %v %s", err, errOut)
	}
	authEnv(t, nil)
	if _, _, err := runCLI(t, h, "token issue"); err == nil || !strings.Contains(err.Error(), "OS_AUTH_URL") {
		t.Errorf("token issue without credentials: %v", err)
	}
}

// A 401 is answered with what to do: source an openrc.
func TestHintFor401(t *testing.T) {
	if hint := hintFor(fmt.Errorf("listing: %w", &client.Error{Status: http.StatusUnauthorized})); !strings.Contains(hint, "admin-openrc") {
		t.Errorf("hint for a 401: %q", hint)
	}
	if hint := hintFor(&client.Error{Status: http.StatusNotFound}); hint != "" {
		t.Errorf("hint for a 404: %q", hint)
	}
}
