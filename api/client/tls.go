package client

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"net/http"
	"os"
)

// A node's API speaks HTTPS only, with a certificate its cluster's own CA
// signed (DATA_DIR/tls/ca.crt) unless the operator gave it one from a public
// CA. A client therefore trusts either the system's roots (the default) or
// the bundle it is given (WithCA, WithCAFile); never both, as curl and the
// openstack CLI do with --cacert / OS_CACERT.

// ErrNoCertificate says a CA bundle holds no PEM certificate.
var ErrNoCertificate = errors.New("no PEM certificate")

// LoadCA reads a PEM bundle of one or more CA certificates, such as a
// cluster's DATA_DIR/tls/ca.crt. Blocks other than certificates are skipped
// (a bundle may carry comments or parameters); a file without any
// certificate is an error wrapping ErrNoCertificate, so that a key or an
// empty file given by mistake is named rather than trusted as nothing.
func LoadCA(path string) (*x509.CertPool, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading the CA bundle: %w", err) // the error names path
	}
	pool := x509.NewCertPool()
	n := 0
	for rest := data; ; {
		var block *pem.Block
		if block, rest = pem.Decode(rest); block == nil {
			break
		}
		if block.Type != "CERTIFICATE" {
			continue
		}
		cert, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("CA bundle %s: certificate %d: %w", path, n+1, err)
		}
		pool.AddCert(cert)
		n++
	}
	if n == 0 {
		return nil, fmt.Errorf("CA bundle %s: %w", path, ErrNoCertificate)
	}
	return pool, nil
}

// WithCA makes the client trust the certificates in pool, and only those,
// when it checks a node's certificate; nil means the system's roots.
func WithCA(pool *x509.CertPool) Option {
	return func(c *Client) { c.http.Transport = transportTrusting(pool) }
}

// WithCAFile is WithCA with the bundle LoadCA reads from path. A file that
// cannot be used makes every request of the client fail with LoadCA's error:
// a program such as a command line builds its clients before it knows
// whether it will make a call, and must fail only if it does.
func WithCAFile(path string) Option {
	pool, err := LoadCA(path)
	if err != nil {
		return func(c *Client) { c.http.Transport = failingTransport{err} }
	}
	return WithCA(pool)
}

// HTTPClient is the HTTP client New builds with opts (WithCA, WithCAFile),
// bounded by Timeout: what Authenticate and RevokeToken need to reach
// Keystone with the trust the API client has.
func HTTPClient(opts ...Option) *http.Client { return New("", opts...).http }

// transportTrusting is Go's default transport (proxies from the
// environment, HTTP/2, pooled connections) trusting pool.
func transportTrusting(pool *x509.CertPool) *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	return t
}

// failingTransport answers every request with err.
type failingTransport struct{ err error }

func (t failingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Body != nil {
		req.Body.Close() // a RoundTripper closes the body, even on error
	}
	return nil, t.err
}
