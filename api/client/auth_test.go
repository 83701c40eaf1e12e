package client

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/shoal-project/shoal/api/client/clienttest"
)

// byNames and byIDs are the credentials of the tests; clienttest holds the
// exact bodies Keystone v3 expects for them.
var (
	byNames = Credentials{Username: "alice", UserDomainName: "Default", Password: clienttest.Password, ProjectName: "demo", ProjectDomainName: "Default"}
	byIDs   = Credentials{UserID: clienttest.UserID, Password: clienttest.Password, ProjectID: clienttest.ProjectID}
)

func TestAuthenticate(t *testing.T) {
	for _, tc := range []struct {
		name  string
		creds Credentials
		body  string
	}{
		{"by names", byNames, clienttest.NamesBody},
		{"by IDs", byIDs, clienttest.IDsBody},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ks := clienttest.NewKeystone(t, tc.body, clienttest.Password)
			tc.creds.AuthURL = ks.AuthURL()
			tok, err := Authenticate(context.Background(), nil, tc.creds)
			if err != nil {
				t.Fatal(err)
			}
			if tok.ID != "tok-1" || tok.UserID != clienttest.UserID || tok.ProjectID != clienttest.ProjectID ||
				time.Until(tok.ExpiresAt) < 50*time.Minute || tok.IssuedAt.IsZero() {
				t.Errorf("token %+v", tok)
			}
		})
	}
}

// TestPasswordNeverShown: neither errors, nor the cache, nor a printed
// Credentials show the password.
func TestPasswordNeverShown(t *testing.T) {
	ks := clienttest.NewKeystone(t, clienttest.NamesBody, clienttest.Password)
	creds := byNames
	creds.AuthURL = ks.AuthURL()
	for _, s := range []string{fmt.Sprint(creds), fmt.Sprintf("%+v", creds), fmt.Sprintf("%#v", creds)} {
		if strings.Contains(s, clienttest.Password) {
			t.Errorf("printed credentials show the password: %s", s)
		}
	}

	dir := t.TempDir()
	if _, err := NewPasswordAuth(creds, NewFileCache(dir)).Token(context.Background()); err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*"))
	if len(files) != 1 {
		t.Fatalf("cache holds %v, want one file", files)
	}
	for _, f := range files {
		data, _ := os.ReadFile(f)
		if strings.Contains(string(data), clienttest.Password) || !strings.Contains(string(data), "tok-1") {
			t.Errorf("cache file %s holds %s", f, data)
		}
	}

	wrong := creds
	wrong.Password = "not-" + clienttest.Password
	_, err := Authenticate(context.Background(), nil, wrong)
	var apiErr *Error
	if !errors.As(err, &apiErr) || apiErr.Status != http.StatusUnauthorized {
		t.Fatalf("wrong password: %v, want a 401", err)
	}
	if strings.Contains(err.Error(), clienttest.Password) {
		t.Errorf("error shows the password: %v", err)
	}
	wrong.Password = ""
	if _, err := Authenticate(context.Background(), nil, wrong); !errors.Is(err, ErrNoPassword) {
		t.Errorf("no password: %v, want ErrNoPassword", err)
	}
}

// TestPasswordAuthCache: a token is reused from the cache until shortly
// before it expires, and a cache file others could read is not trusted.
func TestPasswordAuthCache(t *testing.T) {
	ks := clienttest.NewKeystone(t, clienttest.NamesBody, clienttest.Password)
	creds := byNames
	creds.AuthURL = ks.AuthURL()
	cache := NewFileCache(filepath.Join(t.TempDir(), "shoal"))
	token := func(now time.Time) string {
		t.Helper()
		p := NewPasswordAuth(creds, cache) // a new process each time
		p.now = func() time.Time { return now }
		tok, err := p.Token(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	now := time.Now()
	steps := []struct {
		name      string
		at        time.Time
		before    func()
		wantToken string
		wantAuths int
	}{
		{"first authenticates", now, nil, "tok-1", 1},
		{"second reuses the cache", now, nil, "tok-1", 1},
		{"near expiry authenticates", now.Add(time.Hour - 30*time.Second), nil, "tok-2", 2},
		{"wider permissions are ignored", now, func() {
			files, _ := filepath.Glob(filepath.Join(cache.dir, "token-*.json"))
			for _, f := range files {
				if err := os.Chmod(f, 0o644); err != nil {
					t.Fatal(err)
				}
			}
		}, "tok-3", 3},
		{"the rewritten file is 0600 again", now, nil, "tok-3", 3},
	}
	for _, s := range steps {
		if s.before != nil {
			s.before()
		}
		if got := token(s.at); got != s.wantToken || ks.Auths() != s.wantAuths {
			t.Errorf("%s: token %s after %d auths, want %s after %d", s.name, got, ks.Auths(), s.wantToken, s.wantAuths)
		}
	}
	st, err := os.Stat(cache.dir)
	if err != nil || st.Mode().Perm() != 0o700 {
		t.Errorf("cache dir: %v %v, want 0700", st.Mode(), err)
	}
}

// TestTokenHeader: the client sends the token it has, and none without.
func TestTokenHeader(t *testing.T) {
	var got []string
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = append(got, r.Header.Get(HeaderAuthToken))
		_, _ = w.Write([]byte(`{"flavors":[]}`))
	}))
	t.Cleanup(ts.Close)
	for _, c := range []*Client{New(ts.URL), New(ts.URL, WithToken("given"))} {
		if _, err := c.Flavors(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	if len(got) != 2 || got[0] != "" || got[1] != "given" {
		t.Errorf("tokens sent %q, want none then given", got)
	}
}

// TestRenewAfter401: a token the node refuses is renewed once and the
// request sent again; a node that refuses the new one too gets no third try.
func TestRenewAfter401(t *testing.T) {
	ks := clienttest.NewKeystone(t, clienttest.NamesBody, clienttest.Password)
	creds := byNames
	creds.AuthURL = ks.AuthURL()
	var created int
	api := httptest.NewServer(ks.Protect(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		created++
		w.WriteHeader(http.StatusCreated)
		_, _ = w.Write([]byte(`{"flavor":{"id":"f1","name":"tiny"}}`))
	})))
	t.Cleanup(api.Close)
	c := New(api.URL, WithTokenSource(NewPasswordAuth(creds, nil)))
	ctx := context.Background()

	if _, err := c.CreateFlavor(ctx, "tiny", 1, 64, 0, ""); err != nil {
		t.Fatal(err)
	}
	ks.RevokeAll()
	if _, err := c.CreateFlavor(ctx, "tiny", 1, 64, 0, ""); err != nil {
		t.Fatalf("after revocation: %v", err)
	}
	if want := []string{"tok-1", "tok-1", "tok-2"}; fmt.Sprint(ks.Seen()) != fmt.Sprint(want) || ks.Auths() != 2 || created != 2 {
		t.Errorf("sent %v after %d auths, %d created; want %v after 2, 2", ks.Seen(), ks.Auths(), created, want)
	}

	refusing := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusUnauthorized)
	}))
	t.Cleanup(refusing.Close)
	auths := ks.Auths()
	_, err := New(refusing.URL, WithTokenSource(NewPasswordAuth(creds, nil))).Flavors(ctx)
	var apiErr *Error
	if !errors.As(err, &apiErr) || apiErr.Status != http.StatusUnauthorized || ks.Auths() != auths+2 {
		t.Errorf("always refused: %v after %d auths, want a 401 after 2 (the first and one renewal)", err, ks.Auths()-auths)
	}
}

// TestImageDataToken: image data goes with the token too; a download (a GET,
// nothing to resend) renews a refused token once, as API calls do.
func TestImageDataToken(t *testing.T) {
	ks := clienttest.NewKeystone(t, clienttest.NamesBody, clienttest.Password)
	creds := byNames
	creds.AuthURL = ks.AuthURL()
	node := httptest.NewServer(ks.Protect(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPut {
			w.WriteHeader(http.StatusNoContent)
			return
		}
		_, _ = w.Write([]byte("data"))
	})))
	t.Cleanup(node.Close)
	c := New(node.URL, WithTokenSource(NewPasswordAuth(creds, nil)))
	ctx := context.Background()
	if err := c.UploadImage(ctx, "img", strings.NewReader("data"), 4, nil); err != nil {
		t.Fatal(err)
	}
	ks.RevokeAll()
	var got strings.Builder
	if _, err := c.DownloadImage(ctx, "img", &got); err != nil || got.String() != "data" {
		t.Fatalf("download: %q, %v", got.String(), err)
	}
	if want := "[tok-1 tok-1 tok-2]"; fmt.Sprint(ks.Seen()) != want {
		t.Errorf("sent %v, want %s", ks.Seen(), want)
	}
}
