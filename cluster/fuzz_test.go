package cluster

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// fuzzNode is one bootstrapped node, leader of its own cluster, whose
// handlers the fuzz targets call directly (below the TLS check, where the
// decoders are).
func fuzzNode(f *testing.F) *Node {
	f.Helper()
	n, err := New(Config{Name: "fz1", DataDir: f.TempDir(), BindAddr: "127.0.0.1", Bootstrap: true,
		GossipProfile: "local", Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}, nil)
	if err != nil {
		f.Fatal(err)
	}
	n.Start(context.Background(), nil)
	f.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = n.Shutdown(ctx)
	})
	deadline := time.Now().Add(30 * time.Second)
	for n.fsm.ClusterID() == "" && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	return n
}

func post(h http.HandlerFunc, path string, body []byte, cs *tls.ConnectionState) int {
	req := httptest.NewRequest(http.MethodPost, path, strings.NewReader(string(body)))
	req.TLS = cs
	rec := httptest.NewRecorder()
	h(rec, req)
	return rec.Code
}

// FuzzAdmit feeds the join handshake's server arbitrary bodies: it answers
// each with a 4xx (no token is forgeable) and never panics.
func FuzzAdmit(f *testing.F) {
	n := fuzzNode(f)
	tok, _, err := n.CreateJoinToken(context.Background(), time.Hour, 1, "fuzz")
	if err != nil {
		f.Fatal(err)
	}
	f.Add([]byte(`{"token":"` + tok + `x","name":"a","ips":["127.0.0.1"],"public_key":"AAAA"}`))
	f.Add([]byte(`{"token":"shoaljoin1_AAAA","name":"","ips":[],"public_key":null}`))
	f.Add([]byte(`{"name":"` + strings.Repeat("n", 100) + `"}`))
	f.Add([]byte(`[]`))
	f.Add([]byte(`{"token":1}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		if code := post(n.serveAdmit, admitPath, body, nil); code < 400 || code >= 500 {
			t.Fatalf("admission of %q answered %d", body, code)
		}
	})
}

// FuzzInternal feeds the internal endpoints' decoders (lease, certificate,
// forwarded write) arbitrary bodies from a peer with a node certificate.
// Only what a real node sends may change state; nothing panics.
func FuzzInternal(f *testing.F) {
	n := fuzzNode(f)
	leaf := n.tls.Certificate().Leaf
	cs := &tls.ConnectionState{PeerCertificates: []*x509.Certificate{leaf}}
	for _, s := range []string{`{"node":"fz1"}`, `{"node":""}`, `{"public_key":"AAAA"}`, `{}`, "\x00\x01", `null`} {
		f.Add([]byte(s), uint8(0))
		f.Add([]byte(s), uint8(1))
		f.Add([]byte(s), uint8(2))
	}
	f.Fuzz(func(t *testing.T, body []byte, which uint8) {
		switch which % 3 {
		case 0:
			post(n.serveLease, leasePath, body, cs)
		case 1:
			post(n.serveCert, certPath, body, cs)
		case 2:
			post(n.fwd.serveApply, applyPath, body, cs)
		}
	})
}
