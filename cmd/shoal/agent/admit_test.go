package agent

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"io/fs"
	"log/slog"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/shoal-project/shoal/api"
	"github.com/shoal-project/shoal/api/client"
	"github.com/shoal-project/shoal/cluster"
	"github.com/shoal-project/shoal/cluster/jointoken"
	"github.com/shoal-project/shoal/cluster/pki"
	"github.com/shoal-project/shoal/fsm"
	"github.com/shoal-project/shoal/internal/testkit"
)

func TestMembershipOf(t *testing.T) {
	joined := t.TempDir()
	if err := os.MkdirAll(cluster.TLSDir(joined), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(cluster.TLSDir(joined), pki.NodeCertFile), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	blank := t.TempDir()
	for _, tc := range []struct {
		name      string
		dir       string
		bootstrap bool
		token     string
		want      Membership
	}{
		{"holds a certificate", joined, false, "", Member},
		{"holds a certificate, a token is ignored", joined, false, "tok", Member},
		{"bootstraps", blank, true, "", Member},
		{"has a token", blank, false, "tok", JoinWithToken},
		{"blank", blank, false, "", Blank},
		{"no data dir yet", filepath.Join(blank, "absent"), false, "", Blank},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, err := MembershipOf(Config{DataDir: tc.dir, Bootstrap: tc.bootstrap, JoinToken: tc.token})
			if err != nil || m != tc.want {
				t.Fatalf("MembershipOf = %v, %v; want %v", m, err, tc.want)
			}
		})
	}
}

// bootAgent is a running bootstrap agent that leads its cluster.
func bootAgent(t *testing.T) *Agent {
	t.Helper()
	a := startAgent(t, fakeAgent(filepath.Join(t.TempDir(), "data")))
	testkit.WaitFor(t, 30*time.Second, "the bootstrap node to lead its cluster", func() bool {
		return a.Health().Status == "ok" && a.Health().ClusterID != ""
	})
	return a
}

func joinToken(t *testing.T, a *Agent, uses int) string {
	t.Helper()
	tok, _, err := a.Node().CreateJoinToken(t.Context(), time.Hour, uses, "test")
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// newNode is a node that has not joined, with token (maybe none), logging
// to logs.
func newNode(t *testing.T, name, token string, logs *testkit.SyncBuffer) Config {
	return Config{Name: name, DataDir: filepath.Join(t.TempDir(), "data"), BindAddr: "127.0.0.1", Driver: DriverFake,
		JoinToken: token, Logger: slog.New(slog.NewTextHandler(logs, nil))}
}

// `shoal agent --join-token`: a refused token stops the agent with a clear
// error, names no secret, and leaves neither a TLS dir nor a socket; a good
// one gives the node its certificate and the members to gossip with, and
// the node then starts and is a member. A token is good once.
func TestAdmitWithJoinToken(t *testing.T) {
	boot := bootAgent(t)
	state := boot.Node().FSM() // its cluster ID names the cluster in the 409
	stranger, err := jointoken.New(bootCA(t, boot).Fingerprint(), []string{boot.HTTPAddr()})
	if err != nil {
		t.Fatal(err)
	}
	good := joinToken(t, boot, 1)
	for _, tc := range []struct {
		name, token string
		sentinel    error
		message     string
	}{
		{"a token the cluster never made", stranger.String(), fsm.ErrUnauthorized, "not recognised"},
		{"a malformed token", jointoken.Prefix + "AAAA", fsm.ErrInvalid, "malformed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			logs := &testkit.SyncBuffer{}
			cfg := newNode(t, "n2", tc.token, logs)
			local, _, err := Admit(t.Context(), cfg, Deps{})
			if !errors.Is(err, tc.sentinel) || !strings.Contains(err.Error(), tc.message) || local != nil {
				t.Fatalf("Admit = %v, %v; want %v (%q)", local, err, tc.sentinel, tc.message)
			}
			if strings.Contains(err.Error(), tc.token) || bytes.Contains(logs.Bytes(), []byte(tc.token)) {
				t.Errorf("the token was echoed: %v\n%s", err, logs.Bytes())
			}
			for _, p := range []string{cluster.TLSDir(cfg.DataDir), filepath.Join(cfg.DataDir, SocketFile)} {
				if _, err := os.Lstat(p); !errors.Is(err, fs.ErrNotExist) {
					t.Errorf("%s after a refused join: %v", p, err)
				}
			}
		})
	}

	logs := &testkit.SyncBuffer{}
	cfg := newNode(t, "n2", good, logs)
	cfg.Join = []string{"192.0.2.1:7946"}
	local, joined, err := Admit(t.Context(), cfg, Deps{})
	if err != nil {
		t.Fatalf("Admit with a good token: %v", err)
	}
	t.Cleanup(func() { local.Close() })
	if !slices.Equal(joined.Join[:1], cfg.Join) || !slices.Contains(joined.Join, boot.Node().GossipAddr()) {
		t.Errorf("Join = %q, want %q and the bootstrap node's gossip address %s", joined.Join, cfg.Join, boot.Node().GossipAddr())
	}
	if _, err := pki.Load(cluster.TLSDir(cfg.DataDir)); err != nil {
		t.Fatalf("the node's bundle: %v", err)
	}
	if bytes.Contains(logs.Bytes(), []byte(good)) {
		t.Errorf("the token is in the log:\n%s", logs.Bytes())
	}
	joined.Join = joined.Join[1:] // the made-up member is not there
	a := startAgent(t, joined)
	local.Attach(a)
	testkit.WaitFor(t, 30*time.Second, "n2 alive in the bootstrap node's members", func() bool {
		return slices.ContainsFunc(boot.Node().Members(), func(m cluster.Member) bool { return m.Name == "n2" && m.Status == "alive" })
	})
	testkit.WaitFor(t, 30*time.Second, "n2's replica to hold the cluster", func() bool { return a.Health().ClusterID != "" })
	var e api.ErrorBody
	if code := localCall(t, local.Path(), LocalJoinPath, LocalJoinRequest{Token: good}, &e); code != 409 ||
		!strings.Contains(e.Error.Message, "already a member of cluster "+state.ClusterID()) {
		t.Errorf("a join on a member: %d %+v, want 409 naming cluster %s", code, e, state.ClusterID())
	}

	// The token is used up: a third node is refused, and says why.
	third := newNode(t, "n3", good, &testkit.SyncBuffer{})
	if _, _, err := Admit(t.Context(), third, Deps{}); !errors.Is(err, fsm.ErrUnauthorized) {
		t.Errorf("a used token: %v, want it refused", err)
	}
	if _, err := os.Stat(cluster.TLSDir(third.DataDir)); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("a used token left a TLS dir: %v", err)
	}
}

// bootCA is the CA of a's cluster.
func bootCA(t *testing.T, a *Agent) *pki.CA {
	t.Helper()
	b, err := pki.Load(cluster.TLSDir(a.cfg.DataDir))
	if err != nil {
		t.Fatal(err)
	}
	return b.CA
}

// A blank node's wait ends with its context (SIGTERM): nothing joined,
// nothing left but the data dir.
func TestAdmitBlankStops(t *testing.T) {
	cfg := newNode(t, "n2", "", &testkit.SyncBuffer{})
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() {
		_, _, err := Admit(ctx, cfg, Deps{})
		done <- err
	}()
	waitWaiting(t, filepath.Join(cfg.DataDir, SocketFile))
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("Admit = %v, want context.Canceled", err)
	}
	for _, p := range []string{cluster.TLSDir(cfg.DataDir), filepath.Join(cfg.DataDir, SocketFile)} {
		if _, err := os.Lstat(p); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("%s after the wait ended: %v", p, err)
		}
	}
}

// operatorCert writes a self-signed certificate for 127.0.0.1 and its key
// (with keyMode) as an operator would give them.
func operatorCert(t *testing.T, keyMode os.FileMode) (cert *x509.Certificate, certFile, keyFile string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(7), Subject: pkix.Name{CommonName: "api.example.org"},
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, NotBefore: time.Now().Add(-time.Hour),
		NotAfter: time.Now().Add(time.Hour), ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	if cert, err = x509.ParseCertificate(der); err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	certFile, keyFile = filepath.Join(dir, "api.crt"), filepath.Join(dir, "api.key")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(keyFile, keyMode); err != nil {
		t.Fatal(err)
	}
	return cert, certFile, keyFile
}

// --tls-cert/--tls-key: the API shows clients the operator's certificate,
// while node traffic (SNI pki.InternalServerName) still gets the node
// certificate from the cluster CA. A key others may read, or half of the
// pair, is refused before anything starts.
func TestAgentAPICert(t *testing.T) {
	opCert, certFile, keyFile := operatorCert(t, 0o644)
	cfg := fakeAgent(filepath.Join(t.TempDir(), "data"))
	cfg.TLSCertFile = certFile
	if _, err := New(cfg, Deps{}); !errors.Is(err, ErrAPICert) || !strings.Contains(err.Error(), "both") {
		t.Fatalf("a certificate without its key: %v", err)
	}
	cfg.TLSKeyFile = keyFile
	if _, err := New(cfg, Deps{}); !errors.Is(err, ErrAPICert) || !strings.Contains(err.Error(), "chmod 600") {
		t.Fatalf("a key others may read: %v", err)
	}
	if _, err := os.Stat(cfg.DataDir); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("a refused certificate made the data dir: %v", err)
	}
	if err := os.Chmod(keyFile, 0o600); err != nil {
		t.Fatal(err)
	}
	a := startAgent(t, cfg)

	ops := x509.NewCertPool()
	ops.AddCert(opCert)
	if _, err := client.New(a.HTTPAddr(), client.WithCA(ops)).Health(t.Context()); err != nil {
		t.Errorf("a client trusting only the operator's certificate: %v", err)
	}
	conn, err := tls.Dial("tcp", a.HTTPAddr(), &tls.Config{RootCAs: ops})
	if err != nil {
		t.Fatal(err)
	}
	if leaf := conn.ConnectionState().PeerCertificates[0]; !leaf.Equal(opCert) {
		t.Errorf("the API showed %s, want the operator's certificate", leaf.Subject)
	}
	conn.Close()

	nodes := x509.NewCertPool()
	nodes.AddCert(bootCA(t, a).Cert)
	conn, err = tls.Dial("tcp", a.HTTPAddr(), &tls.Config{RootCAs: nodes, ServerName: pki.InternalServerName})
	if err != nil {
		t.Fatalf("node traffic verified against the cluster CA: %v", err)
	}
	defer conn.Close()
	if leaf := conn.ConnectionState().PeerCertificates[0]; !slices.Contains(leaf.DNSNames, pki.InternalServerName) {
		t.Errorf("node traffic got %s (%v), want the node certificate", leaf.Subject, leaf.DNSNames)
	}
}
