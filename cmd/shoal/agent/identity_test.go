package agent

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/shoal-project/shoal/api"
	"github.com/shoal-project/shoal/api/client"
	"github.com/shoal-project/shoal/api/identity"
	"github.com/shoal-project/shoal/cluster"
	"github.com/shoal-project/shoal/cluster/pki"
	"github.com/shoal-project/shoal/fsm"
	"github.com/shoal-project/shoal/internal/testkit"
)

func TestAdminPassword(t *testing.T) {
	long := strings.Repeat("x", identity.MaxPasswordBytes)
	tests := []struct {
		name    string
		content string // "" with mode 0: no file at all
		mode    os.FileMode
		want    string // the password; empty: refused
		err     string // in the refusal
	}{
		{"the operator's password", "s3cret pass\n", 0o600, "s3cret pass", ""},
		{"no trailing newline", "s3cret", 0o400, "s3cret", ""},
		{"a CRLF line", "s3cret\r\n", 0o600, "s3cret", ""},
		{"only the last newline is trimmed", "two\nlines\n", 0o600, "two\nlines", ""},
		{"72 bytes", long + "\n", 0o600, long, ""},
		{"73 bytes", long + "y\n", 0o600, "", "over 72 bytes"},
		{"far too long", strings.Repeat(long, 10), 0o600, "", "over 72 bytes"},
		{"empty", "", 0o600, "", "is empty"},
		{"just a newline", "\n", 0o600, "", "is empty"},
		{"readable by others", "s3cret\n", 0o644, "", "chmod 600"},
		{"readable by its group", "s3cret\n", 0o640, "", "chmod 600"},
		{"writable by its group", "s3cret\n", 0o620, "", "chmod 600"},
		{"missing", "", 0, "", "no such file"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "pw")
			if tc.mode != 0 {
				if err := os.WriteFile(path, []byte(tc.content), 0o600); err != nil {
					t.Fatal(err)
				}
				if err := os.Chmod(path, tc.mode); err != nil {
					t.Fatal(err)
				}
			}
			got, err := adminPassword(path)
			if tc.want != "" {
				if err != nil || got != tc.want {
					t.Fatalf("adminPassword = %q, %v; want %q", got, err, tc.want)
				}
				return
			}
			if !errors.Is(err, ErrAdminPassword) || !strings.Contains(err.Error(), tc.err) || got != "" {
				t.Fatalf("adminPassword = %q, %v; want it refused saying %q", got, err, tc.err)
			}
		})
	}
	t.Run("a directory", func(t *testing.T) {
		dir := t.TempDir()
		if err := os.Chmod(dir, 0o700); err != nil {
			t.Fatal(err)
		}
		if _, err := adminPassword(dir); !errors.Is(err, ErrAdminPassword) || !strings.Contains(err.Error(), "not a regular file") {
			t.Fatalf("adminPassword(dir) = %v", err)
		}
	})
}

// Without a file the password is made up: 24 random bytes, base64url.
func TestAdminPasswordMadeUp(t *testing.T) {
	a, errA := adminPassword("")
	b, errB := adminPassword("")
	if errA != nil || errB != nil {
		t.Fatal(errA, errB)
	}
	raw, err := base64.RawURLEncoding.DecodeString(a)
	if err != nil || len(raw) != adminPasswordBytes || a == b {
		t.Fatalf("made up %q and %q (%v); want two different base64url encodings of %d random bytes", a, b, err, adminPasswordBytes)
	}
}

func TestNewBootstrapIdentity(t *testing.T) {
	id, err := newBootstrapIdentity("s3cret")
	if err != nil {
		t.Fatal(err)
	}
	hexID := regexp.MustCompile(`^[0-9a-f]{32}$`)
	ids := map[string]bool{}
	for _, s := range []string{id.AdminProjectID, id.AdminUserID, id.AdminRoleID, id.MemberRoleID, id.ReaderRoleID} {
		if !hexID.MatchString(s) || ids[s] {
			t.Errorf("ID %q: want 32 lowercase hex, unique", s)
		}
		ids[s] = true
	}
	if !identity.CheckPassword(id.AdminPasswordHash, "s3cret") || strings.Contains(id.AdminPasswordHash, "s3cret") {
		t.Errorf("hash %q does not check the password, or holds it", id.AdminPasswordHash)
	}
}

// sourced is what `. file` sets in sh: the file is the user's, so the test
// reads it the way the user does.
func sourced(t *testing.T, path string) map[string]string {
	t.Helper()
	out, err := exec.Command("sh", "-c", `. "$1" && env -0`, "sh", path).Output()
	if err != nil {
		t.Fatalf("sourcing %s: %v", path, err)
	}
	env := map[string]string{}
	for _, kv := range strings.Split(string(out), "\x00") {
		if k, v, ok := strings.Cut(kv, "="); ok && (strings.HasPrefix(k, "OS_") || k == "SHOAL_ADDR") {
			env[k] = v
		}
	}
	return env
}

func TestWriteOpenrc(t *testing.T) {
	for _, password := range []string{"plain", "it's $HOME `id` \"q\" \\ ; rm -rf / &", "'", "-n", "line\nbreak"} {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, OpenrcFile), []byte("stale"), 0o644); err != nil {
			t.Fatal(err)
		}
		path, err := writeOpenrc(dir, "https://10.0.0.1:8774", "/var/lib/shoal/tls/ca.crt", password)
		if err != nil {
			t.Fatal(err)
		}
		if st, err := os.Stat(path); err != nil || st.Mode().Perm() != 0o600 || path != filepath.Join(dir, OpenrcFile) {
			t.Fatalf("%s: %v, %v; want mode 0600", path, st.Mode(), err)
		}
		want := map[string]string{"OS_AUTH_URL": "https://10.0.0.1:8774/identity/v3", "OS_USERNAME": "admin",
			"OS_PASSWORD": password, "OS_PROJECT_NAME": "admin", "OS_USER_DOMAIN_NAME": "Default",
			"OS_PROJECT_DOMAIN_NAME": "Default", "OS_IDENTITY_API_VERSION": "3", "OS_CACERT": "/var/lib/shoal/tls/ca.crt",
			"SHOAL_ADDR": "https://10.0.0.1:8774"}
		got := sourced(t, path)
		for k, v := range want {
			if got[k] != v {
				t.Errorf("password %q: sourcing sets %s=%q, want %q", password, k, got[k], v)
			}
		}
		if left, _ := filepath.Glob(filepath.Join(dir, ".*")); len(left) > 0 {
			t.Errorf("temporary files left behind: %v", left)
		}
	}
	// With the operator's own API certificate there is no CA to name: the
	// cluster CA would refuse that certificate.
	path, err := writeOpenrc(t.TempDir(), "https://10.0.0.1:8774", "", "pw")
	if err != nil {
		t.Fatal(err)
	}
	if got := sourced(t, path); got["OS_CACERT"] != "" || got["SHOAL_ADDR"] != "https://10.0.0.1:8774" {
		t.Errorf("openrc for an operator's certificate sets OS_CACERT=%q SHOAL_ADDR=%q", got["OS_CACERT"], got["SHOAL_ADDR"])
	}
}

// startAgent starts cfg's agent and stops it at the end of the test.
func startAgent(t *testing.T, cfg Config) *Agent {
	t.Helper()
	a, err := New(cfg, Deps{})
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { stopAgent(t, a) })
	return a
}

func stopAgent(t *testing.T, a *Agent) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := a.Shutdown(ctx); err != nil {
		t.Errorf("Shutdown = %v", err)
	}
}

// login authenticates with an openrc's credentials, trusting its CA.
func login(ctx context.Context, env map[string]string) (client.Token, error) {
	hc := client.HTTPClient(client.WithCAFile(env["OS_CACERT"]))
	return client.Authenticate(ctx, hc, client.Credentials{AuthURL: env["OS_AUTH_URL"], Username: env["OS_USERNAME"],
		UserDomainName: env["OS_USER_DOMAIN_NAME"], Password: env["OS_PASSWORD"], ProjectName: env["OS_PROJECT_NAME"],
		ProjectDomainName: env["OS_PROJECT_DOMAIN_NAME"]})
}

// A bootstrapping agent writes admin-openrc before its cluster exists,
// publishes its key at once, so the admin logs in through its openrc as
// soon as the node leads; the password is in no log. A restart keeps the
// file and the password as they are.
func TestAgentBootstrapsAdmin(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	logs := &testkit.SyncBuffer{}
	cfg := fakeAgent(dir)
	cfg.Logger = slog.New(slog.NewTextHandler(logs, nil))
	a := startAgent(t, cfg)
	path := filepath.Join(dir, OpenrcFile)
	env := sourced(t, path)
	if env["OS_AUTH_URL"] != "https://"+a.HTTPAddr()+"/identity/v3" || env["SHOAL_ADDR"] != "https://"+a.HTTPAddr() {
		t.Fatalf("admin-openrc names %v, want this node's API %s over HTTPS", env, a.HTTPAddr())
	}
	if ca := env["OS_CACERT"]; !filepath.IsAbs(ca) || ca != filepath.Join(cluster.TLSDir(dir), pki.CACertFile) {
		t.Fatalf("admin-openrc trusts %q, want the cluster CA's absolute path", ca)
	}
	var token client.Token
	testkit.WaitFor(t, 30*time.Second, "the admin to log in through admin-openrc", func() bool {
		var err error
		token, err = login(t.Context(), env)
		return err == nil
	})
	if _, err := a.node.FSM().SigningKey(a.signer.KeyID()); err != nil {
		t.Errorf("the node's key is not published: %v", err)
	}
	if _, err := client.New(env["SHOAL_ADDR"], client.WithToken(token.ID), client.WithCAFile(env["OS_CACERT"])).Servers(t.Context(), api.ServerFilter{}); err != nil {
		t.Errorf("listing servers with the admin's token: %v", err)
	}
	if !bytes.Contains(logs.Bytes(), []byte(path)) || bytes.Contains(logs.Bytes(), []byte(env["OS_PASSWORD"])) {
		t.Errorf("the log should name %s and never the password:\n%s", path, logs.Bytes())
	}
	before, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}

	stopAgent(t, a)
	_, port, _ := net.SplitHostPort(a.HTTPAddr())
	cfg.HTTPPort, _ = strconv.Atoi(port)                         // the openrc names it
	cfg.AdminPasswordFile = filepath.Join(t.TempDir(), "absent") // read on a real bootstrap only
	a = startAgent(t, cfg)
	after, err := os.ReadFile(path)
	if err != nil || !bytes.Equal(before, after) {
		t.Fatalf("admin-openrc after a restart: %v\n%s\nwant it as it was:\n%s", err, after, before)
	}
	testkit.WaitFor(t, 30*time.Second, "the admin to log in after the restart", func() bool {
		_, err := login(t.Context(), env)
		return err == nil
	})
}

// The operator's password file sets the admin's password; a refused file
// stops the agent before anything is bootstrapped.
func TestAgentAdminPasswordFile(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	pwFile := filepath.Join(t.TempDir(), "pw")
	if err := os.WriteFile(pwFile, []byte("operator's choice\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := fakeAgent(dir)
	cfg.AdminPasswordFile = pwFile
	if a, err := New(cfg, Deps{}); !errors.Is(err, ErrAdminPassword) {
		t.Fatalf("New with a world-readable password file = %v, %v; want it refused", a, err)
	}
	if _, err := os.Stat(filepath.Join(dir, OpenrcFile)); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("admin-openrc after a refused bootstrap: %v", err)
	}
	if err := os.Chmod(pwFile, 0o600); err != nil {
		t.Fatal(err)
	}
	startAgent(t, cfg)
	env := sourced(t, filepath.Join(dir, OpenrcFile))
	if env["OS_PASSWORD"] != "operator's choice" {
		t.Fatalf("admin-openrc holds password %q, want the file's", env["OS_PASSWORD"])
	}
	testkit.WaitFor(t, 30*time.Second, "the admin to log in with the operator's password", func() bool {
		_, err := login(t.Context(), env)
		return err == nil
	})
}

// A node whose replica loses its key (a restore from before the key) is
// published again.
func TestAgentPublishesKeyAgain(t *testing.T) {
	a := startAgent(t, fakeAgent(filepath.Join(t.TempDir(), "data")))
	state := a.node.FSM()
	kid := a.signer.KeyID()
	testkit.WaitFor(t, 30*time.Second, "the node's key published", func() bool {
		_, err := state.SigningKey(kid)
		return err == nil
	})
	old := fsm.New()
	data, err := fsm.Encode(&fsm.Bootstrap{ClusterID: state.ClusterID(), Time: time.Now().UTC()})
	if err != nil {
		t.Fatal(err)
	}
	if res := old.ApplyEntry(1, data); res != nil {
		if err, ok := res.(error); ok {
			t.Fatal(err)
		}
	}
	snap, err := old.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if _, err := snap.WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	if err := state.Restore(nopCloser{&buf}); err != nil {
		t.Fatal(err)
	}
	if _, err := state.SigningKey(kid); err == nil {
		t.Fatal("the restore kept the key; the test needs it gone")
	}
	testkit.WaitFor(t, 30*time.Second, "the node's key published again", func() bool {
		_, err := state.SigningKey(kid)
		return err == nil
	})
}

type nopCloser struct{ *bytes.Buffer }

func (nopCloser) Close() error { return nil }
