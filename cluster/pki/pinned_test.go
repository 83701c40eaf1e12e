package pki

import (
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"testing"
	"time"
)

// joinServer accepts one connection with cfg and reports the handshake
// error and how many application bytes arrived after it.
func joinServer(t *testing.T, cfg *tls.Config) (addr string, report <-chan joinReport) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	ch := make(chan joinReport, 1)
	go func() {
		raw, err := ln.Accept()
		if err != nil {
			ch <- joinReport{handshake: err}
			return
		}
		defer raw.Close()
		conn := tls.Server(raw, cfg)
		r := joinReport{handshake: conn.Handshake()}
		if r.handshake == nil {
			r.received, _ = io.ReadAll(conn)
		}
		ch <- r
	}()
	return ln.Addr().String(), ch
}

type joinReport struct {
	handshake error
	received  []byte
}

func TestPinnedClientTLS(t *testing.T) {
	ca, public := newTestCA(t, "cluster"), newTestCA(t, "public")
	now := time.Now()
	node := newNode(t, ca, "leader", now, 0)
	api := newNode(t, public, "api.example", now, 0)
	// An impostor holds the (public) CA certificate but not its key: it
	// presents its own leaf with the real CA beside it.
	impostor := newNode(t, public, "leader", now, 0)
	impostor.Certificate = [][]byte{impostor.Leaf.Raw, ca.Cert.Raw}
	wrong := public.Fingerprint()

	cases := []struct {
		name     string
		server   tls.Certificate
		pin      [32]byte
		wantErr  bool
		wantText []string
	}{
		{name: "right fingerprint", server: node, pin: ca.Fingerprint()},
		{name: "wrong fingerprint", server: node, pin: wrong, wantErr: true,
			wantText: []string{fmt.Sprintf("expected %x", wrong), fmt.Sprintf("got %x", ca.Fingerprint())}},
		{name: "real CA, foreign leaf", server: impostor, pin: ca.Fingerprint(), wantErr: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			// The API port's config with an operator certificate: the pinned
			// client must still get the node certificate through SNI.
			id := NewIdentity(&Bundle{CA: ca, Node: node}, nil)
			id.cert.Store(&tc.server) // the impostor is no node SetCertificate would take
			addr, report := joinServer(t, id.HTTPServerTLS(&api))
			raw, err := net.Dial("tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			conn := tls.Client(raw, PinnedClientTLS(tc.pin))
			// Write runs the handshake first: the token goes out only if the
			// server proved it belongs to the pinned CA.
			_, err = conn.Write([]byte("POST /join/v1 token=secret"))
			conn.Close()
			r := <-report
			if !tc.wantErr {
				if err != nil || r.handshake != nil || !strings.Contains(string(r.received), "secret") {
					t.Fatalf("client %v, server %v, received %q", err, r.handshake, r.received)
				}
				return
			}
			if !errors.Is(err, ErrFingerprint) {
				t.Fatalf("client error %v, want ErrFingerprint", err)
			}
			for _, want := range tc.wantText {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q lacks %q", err, want)
				}
			}
			if r.handshake == nil || len(r.received) != 0 {
				t.Fatalf("server handshake %v, received %q: the client sent data to an unverified server", r.handshake, r.received)
			}
		})
	}
}

func TestVerifyPinnedNoCertificate(t *testing.T) {
	if err := verifyPinned([32]byte{1}, nil); !errors.Is(err, ErrFingerprint) {
		t.Fatalf("%v, want ErrFingerprint", err)
	}
}
