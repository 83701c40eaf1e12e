package main

import (
	"bytes"
	"crypto/x509"
	"errors"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/shoal-project/shoal/api/client/clienttest"
	"github.com/shoal-project/shoal/api/identity/identitytest"
)

// runAt runs one command against the node at addr.
func runAt(t *testing.T, addr, args string) (stdout, stderr string, err error) {
	t.Helper()
	app := newApp()
	var out, errOut bytes.Buffer
	app.Writer, app.ErrWriter = &out, &errOut
	err = app.Run(reorderArgs(app, strings.Fields("shoal --addr "+addr+" "+args)))
	return out.String(), errOut.String(), err
}

// notTrusted says err is a node certificate from an authority the command
// line was not told to trust.
func notTrusted(err error) bool {
	var unknown x509.UnknownAuthorityError
	return errors.As(err, &unknown)
}

// TestCACertChoice: the CA bundle comes from --os-cacert, else SHOAL_CACERT,
// else OS_CACERT, else the system's roots, which do not hold a cluster's CA.
func TestCACertChoice(t *testing.T) {
	var hits atomic.Int32
	ts := clienttest.NewTLSServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		_, _ = w.Write([]byte(`{"flavors":[]}`))
	}))
	good := clienttest.CAFile(t, ts.Certificate())
	other := clienttest.CAFile(t, clienttest.SelfSigned(t, "another cluster's CA"))
	missing := filepath.Join(t.TempDir(), "absent.crt")
	bare := strings.TrimPrefix(ts.URL, "https://")

	for _, tc := range []struct {
		name  string
		env   map[string]string
		flags string
		addr  string // default: ts.URL
		check func(error) bool
	}{
		{"OS_CACERT", map[string]string{"OS_CACERT": good}, "", "", nil},
		{"SHOAL_CACERT", map[string]string{"SHOAL_CACERT": good}, "", "", nil},
		{"SHOAL_CACERT before OS_CACERT", map[string]string{"SHOAL_CACERT": good, "OS_CACERT": other}, "", "", nil},
		{"the flag wins", map[string]string{"SHOAL_CACERT": other, "OS_CACERT": missing}, "--os-cacert " + good, "", nil},
		{"a bare host:port is https", map[string]string{"OS_CACERT": good}, "", bare, nil},
		{"system roots", nil, "", "", notTrusted},
		{"the flag wins over a good variable", map[string]string{"OS_CACERT": good}, "--os-cacert " + other, "", notTrusted},
		{"missing bundle", nil, "--os-cacert " + missing, "", func(err error) bool {
			return errors.Is(err, fs.ErrNotExist) && strings.Contains(err.Error(), missing)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			authEnv(t, tc.env)
			addr := tc.addr
			if addr == "" {
				addr = ts.URL
			}
			before := hits.Load()
			_, _, err := runAt(t, addr, tc.flags+" flavor list")
			switch {
			case tc.check == nil && err != nil:
				t.Fatalf("flavor list: %v", err)
			case tc.check == nil && hits.Load() == before:
				t.Error("the command reached no node")
			case tc.check != nil && !tc.check(err):
				t.Errorf("flavor list: %v, want another error", err)
			case tc.check != nil && hits.Load() != before:
				t.Error("a request reached the node over a connection the command line should not trust")
			}
		})
	}
}

// TestTLSPasswordAuth: Keystone at its own URL is trusted as the API is,
// for every command that reaches it.
func TestTLSPasswordAuth(t *testing.T) {
	ks := clienttest.NewTLSKeystone(t, clienttest.NamesBody, clienttest.Password)
	node := clienttest.NewTLSServer(t, guardedAPI(ks))
	creds := map[string]string{"OS_AUTH_URL": ks.AuthURL(), "OS_PASSWORD": clienttest.Password,
		"OS_USERNAME": "alice", "OS_PROJECT_NAME": "demo"}

	authEnv(t, creds)
	_, _, err := runAt(t, node.URL, "flavor list")
	if !notTrusted(err) || !strings.Contains(err.Error(), ks.AuthURL()) || ks.Auths() != 0 {
		t.Fatalf("without the CA: %v after %d auths, want the token request refused", err, ks.Auths())
	}
	if hint := hintFor(err); !strings.Contains(hint, "--os-cacert DATA_DIR/tls/ca.crt") || !strings.Contains(hint, "OS_CACERT") {
		t.Errorf("hint for an untrusted node: %q", hint)
	}

	creds["OS_CACERT"] = clienttest.CAFile(t, ks.Certificate())
	authEnv(t, creds)
	for _, args := range []string{"flavor list", "token issue", "token revoke tok-1", "flavor list", "--token tok-2 token revoke tok-2"} {
		if _, errOut, err := runAt(t, node.URL, args); err != nil {
			t.Fatalf("shoal %s: %v\n%s", args, err, errOut)
		}
	}
	if got := ks.Auths(); got != 2 {
		t.Errorf("%d auths, want 2 (one before and one after the revocation)", got)
	}
}

// TestTLSImageTransfers: image data, sent and fetched outside the API
// client's JSON calls, trusts the same CA.
func TestTLSImageTransfers(t *testing.T) {
	_, h := newOneNode(t)
	ts := clienttest.NewTLSServer(t, h)
	authEnv(t, map[string]string{"SHOAL_TOKEN": identitytest.AdminToken, "OS_CACERT": clienttest.CAFile(t, ts.Certificate())})
	data := bytes.Repeat([]byte("x"), 1024)
	if out, errOut, err := runAt(t, ts.URL, "image create cirros --disk-format raw --file "+writeFile(t, "cirros.raw", data)); err != nil ||
		!strings.Contains(out, "status            active\n") {
		t.Fatalf("image create: %v\n%s%s", err, out, errOut)
	}
	saved := filepath.Join(t.TempDir(), "saved.raw")
	if _, errOut, err := runAt(t, ts.URL, "image save cirros --file "+saved); err != nil {
		t.Fatalf("image save: %v\n%s", err, errOut)
	}
	if got, err := os.ReadFile(saved); err != nil || !bytes.Equal(got, data) {
		t.Errorf("saved %d bytes (%v), want the 1024 uploaded", len(got), err)
	}
}

// TestTLSHints: what a user is told when the node's HTTPS is not what the
// command line expected.
func TestTLSHints(t *testing.T) {
	ts := clienttest.NewTLSServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte(`{"flavors":[]}`))
	}))
	authEnv(t, map[string]string{"OS_CACERT": clienttest.CAFile(t, ts.Certificate())})
	port := ts.URL[strings.LastIndex(ts.URL, ":")+1:]
	for _, tc := range []struct {
		name, addr, hint string
	}{
		// An old openrc names the node with http://.
		{"plain HTTP to an HTTPS node", "http://127.0.0.1:" + port, "speaks HTTPS only"},
		// httptest's certificate names 127.0.0.1 and example.com, not localhost.
		{"a name the certificate does not hold", "https://localhost:" + port, "does not name the host"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := runAt(t, tc.addr, "flavor list")
			if err == nil {
				t.Fatal("flavor list worked")
			}
			if hint := hintFor(err); !strings.Contains(hint, tc.hint) {
				t.Errorf("error %v: hint %q, want %q", err, hint, tc.hint)
			}
		})
	}
}
