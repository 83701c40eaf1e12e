package client

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/shoal-project/shoal/api/client/clienttest"
)

// tlsNode is a node on HTTPS that lists no flavors, accepts image data and
// serves "data" as an image's; it counts the requests that reached it.
func tlsNode(t *testing.T) (*httptest.Server, *atomic.Int32) {
	t.Helper()
	var hits atomic.Int32
	ts := clienttest.NewTLSServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		switch {
		case r.Method == http.MethodPut:
			w.WriteHeader(http.StatusNoContent)
		case strings.HasSuffix(r.URL.Path, "/file"):
			_, _ = w.Write([]byte("data"))
		default:
			_, _ = w.Write([]byte(`{"flavors":[]}`))
		}
	}))
	return ts, &hits
}

// notTrusted says err is a certificate signed by an authority the client
// does not trust, as Go's TLS client reports it.
func notTrusted(err error) bool {
	var verr *tls.CertificateVerificationError
	var unknown x509.UnknownAuthorityError
	return errors.As(err, &verr) && errors.As(err, &unknown)
}

func TestHTTPSTrust(t *testing.T) {
	ts, hits := tlsNode(t)
	pool := clienttest.CAPool(ts.Certificate())
	bare := strings.TrimPrefix(ts.URL, "https://")
	ctx := context.Background()

	for _, tc := range []struct {
		name string
		addr string
		opts []Option
	}{
		{"https URL, CA pool", ts.URL, []Option{WithCA(pool)}},
		{"bare host:port means https", bare, []Option{WithCA(pool)}},
		{"CA file", ts.URL, []Option{WithCAFile(clienttest.CAFile(t, ts.Certificate()))}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := New(tc.addr, tc.opts...)
			if _, err := c.Flavors(ctx); err != nil {
				t.Fatalf("flavors: %v", err)
			}
			// Image data goes through its own http.Client: the same trust.
			if err := c.UploadImage(ctx, "img", strings.NewReader("data"), 4, nil); err != nil {
				t.Fatalf("upload: %v", err)
			}
			var got strings.Builder
			if _, err := c.DownloadImage(ctx, "img", &got); err != nil || got.String() != "data" {
				t.Fatalf("download: %q, %v", got.String(), err)
			}
		})
	}

	before := hits.Load()
	for _, tc := range []struct {
		name string
		opts []Option
	}{
		{"system roots", nil},
		{"nil pool: system roots", []Option{WithCA(nil)}},
		{"another CA", []Option{WithCA(clienttest.CAPool(clienttest.SelfSigned(t, "other CA")))}},
	} {
		t.Run("refused: "+tc.name, func(t *testing.T) {
			c := New(ts.URL, tc.opts...)
			if _, err := c.Flavors(ctx); !notTrusted(err) {
				t.Errorf("flavors: %v, want an unknown authority", err)
			}
			if _, err := c.DownloadImage(ctx, "img", &strings.Builder{}); !notTrusted(err) {
				t.Errorf("download: %v, want an unknown authority", err)
			}
		})
	}
	if n := hits.Load() - before; n != 0 {
		t.Errorf("%d requests reached the node through an untrusted connection", n)
	}

	// A bundle that cannot be read fails each request with LoadCA's error,
	// and sends nothing.
	c := New(ts.URL, WithCAFile(filepath.Join(t.TempDir(), "absent.crt")))
	if _, err := c.Flavors(ctx); !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), "absent.crt") {
		t.Errorf("flavors with a missing CA file: %v", err)
	}
	if err := c.UploadImage(ctx, "img", strings.NewReader("data"), 4, nil); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("upload with a missing CA file: %v", err)
	}
	if n := hits.Load() - before; n != 0 {
		t.Errorf("%d requests reached the node without a CA", n)
	}
}

// TestPasswordAuthTrust: the token request trusts what the API client
// trusts, though Keystone is at another URL.
func TestPasswordAuthTrust(t *testing.T) {
	ks := clienttest.NewTLSKeystone(t, clienttest.NamesBody, clienttest.Password)
	creds := byNames
	creds.AuthURL = ks.AuthURL()
	node := clienttest.NewTLSServer(t, ks.Protect(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte(`{"flavors":[]}`))
	})))
	trust := WithCA(clienttest.CAPool(ks.Certificate()))
	ctx := context.Background()

	c := New(node.URL, trust, WithTokenSource(NewPasswordAuth(creds, nil, trust)))
	if _, err := c.Flavors(ctx); err != nil {
		t.Fatal(err)
	}
	if ks.Auths() != 1 {
		t.Errorf("%d auths, want 1", ks.Auths())
	}

	c = New(node.URL, trust, WithTokenSource(NewPasswordAuth(creds, nil)))
	if _, err := c.Flavors(ctx); !notTrusted(err) || !strings.Contains(err.Error(), ks.AuthURL()) {
		t.Errorf("password auth without the CA: %v, want an unknown authority naming the auth URL", err)
	}
	if _, err := Authenticate(ctx, nil, creds); !notTrusted(err) {
		t.Errorf("Authenticate without the CA: %v", err)
	}
	tok, err := Authenticate(ctx, HTTPClient(trust), creds)
	if err != nil {
		t.Fatal(err)
	}
	if err := RevokeToken(ctx, HTTPClient(trust), creds.AuthURL, tok.ID, tok.ID); err != nil {
		t.Errorf("revoke: %v", err)
	}
	if ks.Auths() != 2 {
		t.Errorf("%d auths, want 2 (no untrusted request got through)", ks.Auths())
	}
}

func TestLoadCA(t *testing.T) {
	ca1, ca2 := clienttest.SelfSigned(t, "CA one"), clienttest.SelfSigned(t, "CA two")
	certPEM := func(c *x509.Certificate) string {
		return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw}))
	}
	keyPEM := string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: []byte("not really a key")}))
	badPEM := string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: []byte("not DER")}))
	for _, tc := range []struct {
		name    string
		content *string // nil: no file
		want    error   // nil: loads
		trusted []*x509.Certificate
	}{
		{"missing file", nil, fs.ErrNotExist, nil},
		{"empty file", ptr(""), ErrNoCertificate, nil},
		{"not PEM", ptr("hello\n"), ErrNoCertificate, nil},
		{"a key, not a certificate", ptr(keyPEM), ErrNoCertificate, nil},
		{"a broken certificate", ptr(certPEM(ca1) + badPEM), errBroken, nil},
		{"one certificate", ptr(certPEM(ca1)), nil, []*x509.Certificate{ca1}},
		{"a bundle with comments and a key", ptr("# cluster CA\n" + certPEM(ca1) + keyPEM + "second:\n" + certPEM(ca2)), nil, []*x509.Certificate{ca1, ca2}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "ca.crt")
			if tc.content != nil {
				if err := os.WriteFile(path, []byte(*tc.content), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			pool, err := LoadCA(path)
			switch {
			case tc.want == errBroken:
				if err == nil || errors.Is(err, ErrNoCertificate) || !strings.Contains(err.Error(), "certificate 2") {
					t.Errorf("LoadCA: %v, want the second certificate named as broken", err)
				}
				return
			case tc.want != nil:
				if !errors.Is(err, tc.want) || !strings.Contains(err.Error(), path) {
					t.Errorf("LoadCA: %v, want %v naming %s", err, tc.want, path)
				}
				return
			case err != nil:
				t.Fatal(err)
			}
			for _, c := range tc.trusted {
				if _, err := c.Verify(x509.VerifyOptions{Roots: pool}); err != nil {
					t.Errorf("%s not trusted: %v", c.Subject.CommonName, err)
				}
			}
		})
	}
}

// errBroken marks the case where LoadCA must refuse a malformed certificate.
var errBroken = errors.New("a broken certificate")

func ptr(s string) *string { return &s }
