// Package clienttest holds a fake Keystone for the tests of the client and
// of the command line: it checks the exact body of POST /v3/auth/tokens and
// answers in Keystone's shape, and it guards a handler as a node would,
// refusing requests without a token it issued. It also serves HTTPS as
// nodes do, with the certificates a client must be told to trust.
package clienttest

import (
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// Keystone is a fake Keystone v3 that knows one user with one password.
type Keystone struct {
	// WantBody is the exact request body authentication must send.
	WantBody string
	// Password is the one accepted; a request whose body differs from WantBody
	// only by the password is refused with 401, as a wrong password is.
	Password string
	// TTL is how long issued tokens last.
	TTL time.Duration

	t      *testing.T
	server *httptest.Server

	mu     sync.Mutex
	auths  int
	issued int
	valid  map[string]bool
	seen   []string
}

// UserID and ProjectID are what the fake's tokens belong to.
const (
	UserID    = "3ec3164f750146be97f21559ee4d9c51"
	ProjectID = "ab5ae3b8c8b54cbd8aa1cdcbaf2e5c79"
)

// Password is the password of the tests' user, alice of project demo.
const Password = "s3cr3t-Pa55"

// NamesBody and IDsBody are the exact bodies Keystone v3 expects for alice's
// password scoped to demo, named by names in the default domain or by IDs.
var (
	NamesBody = `{"auth":{"identity":{"methods":["password"],"password":{"user":{"name":"alice","domain":{"name":"Default"},"password":"` + Password + `"}}},` +
		`"scope":{"project":{"name":"demo","domain":{"name":"Default"}}}}}`
	IDsBody = `{"auth":{"identity":{"methods":["password"],"password":{"user":{"id":"` + UserID + `","password":"` + Password + `"}}},` +
		`"scope":{"project":{"id":"` + ProjectID + `"}}}}`
)

// NewKeystone starts a fake Keystone on plain HTTP, closed when the test ends.
func NewKeystone(t *testing.T, wantBody, password string) *Keystone {
	t.Helper()
	return newKeystone(t, wantBody, password, httptest.NewServer)
}

// NewTLSKeystone is NewKeystone on HTTPS, as a node serves it, with the
// certificate every httptest TLS server has (Certificate): a client must be
// told to trust it.
func NewTLSKeystone(t *testing.T, wantBody, password string) *Keystone {
	t.Helper()
	return newKeystone(t, wantBody, password, func(h http.Handler) *httptest.Server { return NewTLSServer(t, h) })
}

func newKeystone(t *testing.T, wantBody, password string, start func(http.Handler) *httptest.Server) *Keystone {
	k := &Keystone{WantBody: wantBody, Password: password, TTL: time.Hour, t: t, valid: map[string]bool{}}
	k.server = start(http.HandlerFunc(k.serve))
	t.Cleanup(k.server.Close)
	return k
}

// AuthURL is the fake's v3 root, what OS_AUTH_URL names.
func (k *Keystone) AuthURL() string { return k.server.URL + "/v3" }

// Certificate is the TLS fake's certificate (nil on plain HTTP), the one to
// trust: CAPool and CAFile give it as a client takes it.
func (k *Keystone) Certificate() *x509.Certificate { return k.server.Certificate() }

// Auths counts the POST /auth/tokens requests received.
func (k *Keystone) Auths() int {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.auths
}

// Seen lists the X-Auth-Token of each request Protect saw ("" for none).
func (k *Keystone) Seen() []string {
	k.mu.Lock()
	defer k.mu.Unlock()
	return append([]string(nil), k.seen...)
}

// RevokeAll makes every token issued so far invalid.
func (k *Keystone) RevokeAll() {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.valid = map[string]bool{}
}

// Protect guards next as a node would: a request without a valid token gets
// 401 in the API's error shape.
func (k *Keystone) Protect(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		token := r.Header.Get("X-Auth-Token")
		k.mu.Lock()
		k.seen = append(k.seen, token)
		ok := k.valid[token]
		k.mu.Unlock()
		if !ok {
			writeError(w, http.StatusUnauthorized, "The request you have made requires authentication.")
			return
		}
		next.ServeHTTP(w, r)
	})
}

func (k *Keystone) serve(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/v3/auth/tokens" {
		writeError(w, http.StatusNotFound, "not found")
		return
	}
	switch r.Method {
	case http.MethodPost:
		k.authenticate(w, r)
	case http.MethodDelete:
		k.mu.Lock()
		ok := k.valid[r.Header.Get("X-Auth-Token")] && k.valid[r.Header.Get("X-Subject-Token")]
		delete(k.valid, r.Header.Get("X-Subject-Token"))
		k.mu.Unlock()
		if !ok {
			writeError(w, http.StatusNotFound, "Could not find token.")
			return
		}
		w.WriteHeader(http.StatusNoContent)
	default:
		writeError(w, http.StatusMethodNotAllowed, "method not allowed")
	}
}

func (k *Keystone) authenticate(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	k.mu.Lock()
	k.auths++
	k.mu.Unlock()
	got := string(body)
	if got != k.WantBody {
		if !sameButPassword(got, k.WantBody, k.Password) {
			k.t.Errorf("auth request body\n%s\nwant\n%s", got, k.WantBody)
			writeError(w, http.StatusBadRequest, "unexpected request body")
			return
		}
		writeError(w, http.StatusUnauthorized, "The request you have made requires authentication.")
		return
	}
	k.mu.Lock()
	k.issued++
	token := fmt.Sprintf("tok-%d", k.issued)
	k.valid[token] = true
	k.mu.Unlock()
	now := time.Now().UTC()
	w.Header().Set("X-Subject-Token", token)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusCreated)
	fmt.Fprintf(w, `{"token":{"methods":["password"],"user":{"domain":{"id":"default","name":"Default"},"id":%q,"name":"alice","password_expires_at":null},`+
		`"audit_ids":["f0QgQH96QBS4ijX4PtFYAQ"],"expires_at":%q,"issued_at":%q,`+
		`"project":{"domain":{"id":"default","name":"Default"},"id":%q,"name":"demo"},"is_domain":false,`+
		`"roles":[{"id":"854b2f98700841a1b89f765a451c5408","name":"member"}],"catalog":[]}}`,
		UserID, now.Add(k.TTL).Format("2006-01-02T15:04:05.000000Z"), now.Format("2006-01-02T15:04:05.000000Z"), ProjectID)
}

// sameButPassword says got is want with another password in it.
func sameButPassword(got, want, password string) bool {
	var g, w any
	if json.Unmarshal([]byte(got), &g) != nil || json.Unmarshal([]byte(want), &w) != nil {
		return false
	}
	gp, wp := passwordOf(g), passwordOf(w)
	if gp == nil || wp == nil || *wp != password {
		return false
	}
	return strings.Replace(got, `"password":`+quote(*gp), `"password":`+quote(password), 1) == want
}

func passwordOf(v any) *string {
	m, _ := v.(map[string]any)
	for _, k := range []string{"auth", "identity", "password", "user"} {
		m, _ = m[k].(map[string]any)
	}
	p, ok := m["password"].(string)
	if !ok {
		return nil
	}
	return &p
}

func quote(s string) string { b, _ := json.Marshal(s); return string(b) }

// writeError answers in Keystone's error shape, which shoal's API shares.
func writeError(w http.ResponseWriter, status int, message string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	fmt.Fprintf(w, `{"error":{"code":%d,"message":%q,"title":%q}}`, status, message, http.StatusText(status))
}
