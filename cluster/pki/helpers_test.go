package pki

import (
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"io"
	"math/big"
	"net"
	"testing"
	"time"
)

func newTestCA(t testing.TB, hint string) *CA {
	t.Helper()
	ca, err := NewCA(hint, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return ca
}

// newNode issues a node certificate valid from now for ttl, chain [leaf, CA].
func newNode(t testing.TB, ca *CA, name string, now time.Time, ttl time.Duration) tls.Certificate {
	t.Helper()
	key, err := NewKey()
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := ca.Issue(NodeRequest{Name: name, PublicKey: key.Public(), TTL: ttl}, now)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{leaf.Raw, ca.Cert.Raw}, PrivateKey: key, Leaf: leaf}
}

// usageCert is a certificate signed by ca with only the given usages: what
// Issue never makes, to prove the usage is checked.
func usageCert(t testing.TB, ca *CA, usage ...x509.ExtKeyUsage) tls.Certificate {
	t.Helper()
	key, err := NewKey()
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject:      pkix.Name{CommonName: "odd"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  usage,
		DNSNames:     []string{"odd", InternalServerName},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.Cert, key.Public(), ca.Key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, _ := x509.ParseCertificate(der)
	return tls.Certificate{Certificate: [][]byte{der, ca.Cert.Raw}, PrivateKey: key, Leaf: leaf}
}

// denied is a revocation list for tests.
func denied(serials ...string) func(string) bool {
	return func(s string) bool {
		for _, d := range serials {
			if d == s {
				return true
			}
		}
		return false
	}
}

// result is one side of a handshake over loopback.
type result struct {
	state tls.ConnectionState
	err   error
}

// handshake runs one TLS connection over 127.0.0.1 and waits for both ends.
// In TLS 1.3 the client's Handshake returns before the server has checked the
// client certificate, so the server answers one byte after its own handshake
// and the client reads it: a refusal on either side then shows on the client
// as an error, and the server's own reason is in server.err.
func handshake(t testing.TB, server, client *tls.Config) (srv, cli result) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	done := make(chan result, 1)
	go func() {
		raw, err := ln.Accept()
		if err != nil {
			done <- result{err: err}
			return
		}
		defer raw.Close()
		conn := tls.Server(raw, server)
		err = conn.Handshake()
		if err == nil {
			_, err = conn.Write([]byte{1})
		}
		done <- result{state: conn.ConnectionState(), err: err}
	}()
	raw, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	conn := tls.Client(raw, client)
	err = conn.Handshake()
	if err == nil {
		_, err = io.ReadFull(conn, make([]byte, 1))
	}
	cli = result{state: conn.ConnectionState(), err: err}
	if err != nil {
		raw.Close() // let a server still reading see the end
	}
	return <-done, cli
}

func mustErr(t *testing.T, side string, err, want error) {
	t.Helper()
	switch {
	case want == nil && err != nil:
		t.Fatalf("%s: unexpected error %v", side, err)
	case want != nil && err == nil:
		t.Fatalf("%s: no error, want %v", side, want)
	case want != nil && !errors.Is(want, errAny) && !errors.Is(err, want):
		t.Fatalf("%s: error %v, want %v", side, err, want)
	}
}

// errAny stands for "some error": crypto/tls's own verification errors have
// no sentinel.
var errAny = errors.New("any error")
