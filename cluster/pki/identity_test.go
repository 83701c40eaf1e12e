package pki

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"sync/atomic"
	"testing"
	"time"
)

func TestPeerVerification(t *testing.T) {
	ca, other := newTestCA(t, "c1"), newTestCA(t, "c2")
	now := time.Now()
	good := func(name string) tls.Certificate { return newNode(t, ca, name, now, 0) }
	expired := newNode(t, ca, "old", now.Add(-60*24*time.Hour), 30*24*time.Hour)
	stranger := newNode(t, other, "stranger", now, 0)
	serverOnly := usageCert(t, ca, x509.ExtKeyUsageServerAuth)
	clientOnly := usageCert(t, ca, x509.ExtKeyUsageClientAuth)
	revokedServer, revokedClient := good("s-revoked"), good("c-revoked")

	cases := []struct {
		name                    string
		server, client          tls.Certificate
		serverDenies, clientDen []string
		noClientCert            bool
		wantServer, wantClient  error // the side that refuses; the other sees errAny
	}{
		{name: "both good", server: good("a"), client: good("b")},
		{name: "client expired", server: good("a"), client: expired, wantServer: errAny},
		{name: "client from another CA", server: good("a"), client: stranger, wantServer: errAny},
		{name: "client revoked", server: good("a"), client: revokedClient,
			serverDenies: []string{SerialOf(revokedClient.Leaf)}, wantServer: ErrRevoked},
		{name: "client lacks client usage", server: good("a"), client: serverOnly, wantServer: errAny},
		{name: "client without certificate", server: good("a"), noClientCert: true, wantServer: errAny},
		{name: "server expired", server: expired, client: good("b"), wantClient: errAny},
		{name: "server from another CA", server: stranger, client: good("b"), wantClient: errAny},
		{name: "server revoked", server: revokedServer, client: good("b"),
			clientDen: []string{SerialOf(revokedServer.Leaf)}, wantClient: ErrRevoked},
		{name: "server lacks server usage", server: clientOnly, client: good("b"), wantClient: errAny},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			// Both identities trust ca whatever certificate they present, so
			// only the certificate under test can fail.
			srvID := NewIdentity(&Bundle{CA: ca, Node: tc.server}, denied(tc.serverDenies...))
			cliID := NewIdentity(&Bundle{CA: ca, Node: tc.client}, denied(tc.clientDen...))
			clientCfg := cliID.PeerClientTLS()
			if tc.noClientCert {
				clientCfg.GetClientCertificate = nil
			}
			srv, cli := handshake(t, srvID.PeerServerTLS(), clientCfg)
			switch {
			case tc.wantServer != nil:
				mustErr(t, "server", srv.err, tc.wantServer)
				mustErr(t, "client", cli.err, errAny)
			case tc.wantClient != nil:
				mustErr(t, "client", cli.err, tc.wantClient)
				mustErr(t, "server", srv.err, errAny)
			default:
				mustErr(t, "server", srv.err, nil)
				mustErr(t, "client", cli.err, nil)
				if cli.state.Version != tls.VersionTLS13 {
					t.Fatalf("version %x, want TLS 1.3", cli.state.Version)
				}
				name, serial, ok := NodePeer(&srv.state)
				if !ok || name != "b" || serial != SerialOf(tc.client.Leaf) {
					t.Fatalf("NodePeer = %q %q %v, want b %s", name, serial, ok, SerialOf(tc.client.Leaf))
				}
			}
		})
	}
}

func TestPeerServerRefusesTLS12(t *testing.T) {
	ca := newTestCA(t, "")
	id := NewIdentity(&Bundle{CA: ca, Node: newNode(t, ca, "a", time.Now(), 0)}, nil)
	client := id.PeerClientTLS()
	client.MaxVersion = tls.VersionTLS12
	srv, cli := handshake(t, id.PeerServerTLS(), client)
	mustErr(t, "server", srv.err, errAny)
	mustErr(t, "client", cli.err, errAny)
}

// A renewed certificate reaches the next handshake of configs made before
// the swap, on both ends, with no new listener or dialer.
func TestSetCertificateSwap(t *testing.T) {
	ca := newTestCA(t, "")
	now := time.Now()
	srvID := NewIdentity(&Bundle{CA: ca, Node: newNode(t, ca, "a", now, 0)}, nil)
	cliID := NewIdentity(&Bundle{CA: ca, Node: newNode(t, ca, "b", now, 0)}, nil)
	serverCfg, clientCfg := srvID.PeerServerTLS(), cliID.PeerClientTLS()

	serials := func() (server, client string) {
		t.Helper()
		srv, cli := handshake(t, serverCfg, clientCfg)
		mustErr(t, "server", srv.err, nil)
		mustErr(t, "client", cli.err, nil)
		_, client, _ = NodePeer(&srv.state)
		return SerialOf(cli.state.PeerCertificates[0]), client
	}
	s1, c1 := serials()
	if s1 != SerialOf(srvID.Certificate().Leaf) || c1 != SerialOf(cliID.Certificate().Leaf) {
		t.Fatalf("first handshake saw %s %s", s1, c1)
	}
	renewedS, renewedC := newNode(t, ca, "a", now, 0), newNode(t, ca, "b", now, 0)
	if err := srvID.SetCertificate(renewedS); err != nil {
		t.Fatal(err)
	}
	if err := cliID.SetCertificate(renewedC); err != nil {
		t.Fatal(err)
	}
	s2, c2 := serials()
	if s2 != SerialOf(renewedS.Leaf) || c2 != SerialOf(renewedC.Leaf) {
		t.Fatalf("after the swap the handshake saw %s %s, want %s %s",
			s2, c2, SerialOf(renewedS.Leaf), SerialOf(renewedC.Leaf))
	}
}

func TestSetCertificateRefuses(t *testing.T) {
	ca, other := newTestCA(t, ""), newTestCA(t, "")
	now := time.Now()
	orig := newNode(t, ca, "a", now, 0)
	id := NewIdentity(&Bundle{CA: ca, Node: orig}, nil)
	mismatched := newNode(t, ca, "a", now, 0)
	mismatched.PrivateKey = orig.PrivateKey
	for name, cert := range map[string]tls.Certificate{
		"another CA": newNode(t, other, "a", now, 0),
		"wrong key":  mismatched,
		"no usage":   usageCert(t, ca, x509.ExtKeyUsageServerAuth),
		"empty":      {},
	} {
		if err := id.SetCertificate(cert); !errors.Is(err, ErrBadBundle) {
			t.Errorf("%s: %v, want ErrBadBundle", name, err)
		}
	}
	if SerialOf(id.Certificate().Leaf) != SerialOf(orig.Leaf) {
		t.Fatal("a refused certificate replaced the current one")
	}
}

func TestHTTPServerTLS(t *testing.T) {
	ca, public := newTestCA(t, "cluster"), newTestCA(t, "public")
	now := time.Now()
	node := newNode(t, ca, "a", now, 0)
	api := newNode(t, public, "api.example", now, 0)
	peer, revoked := newNode(t, ca, "b", now, 0), newNode(t, ca, "gone", now, 0)
	stranger := newNode(t, public, "stranger", now, 0)
	id := NewIdentity(&Bundle{CA: ca, Node: node}, denied(SerialOf(revoked.Leaf)))

	cases := []struct {
		name       string
		api        *tls.Certificate
		sni        string
		clientCert *tls.Certificate
		maxVersion uint16
		wantLeaf   tls.Certificate
		wantPeer   string // NodePeer name on the server, "" for none
		wantServer error
	}{
		{name: "no api cert, public name", sni: "api.example", wantLeaf: node},
		{name: "api cert, public name", api: &api, sni: "api.example", wantLeaf: api},
		{name: "api cert, no SNI", api: &api, wantLeaf: api},
		{name: "api cert, internal name", api: &api, sni: InternalServerName, wantLeaf: node},
		{name: "TLS 1.2 client", api: &api, sni: "api.example", maxVersion: tls.VersionTLS12, wantLeaf: api},
		{name: "node client", api: &api, sni: InternalServerName, clientCert: &peer, wantLeaf: node, wantPeer: "b"},
		{name: "revoked node client", api: &api, sni: InternalServerName, clientCert: &revoked, wantServer: ErrRevoked},
		{name: "client from another CA", api: &api, sni: "api.example", clientCert: &stranger, wantServer: errAny},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			client := &tls.Config{ServerName: tc.sni, InsecureSkipVerify: true, MaxVersion: tc.maxVersion}
			if tc.clientCert != nil {
				// Certificates would be filtered by the server's list of
				// acceptable CAs; a hostile client sends what it likes.
				client.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) {
					return tc.clientCert, nil
				}
			}
			srv, cli := handshake(t, id.HTTPServerTLS(tc.api), client)
			if tc.wantServer != nil {
				mustErr(t, "server", srv.err, tc.wantServer)
				mustErr(t, "client", cli.err, errAny)
				return
			}
			mustErr(t, "server", srv.err, nil)
			mustErr(t, "client", cli.err, nil)
			if got := cli.state.PeerCertificates[0]; !got.Equal(tc.wantLeaf.Leaf) {
				t.Fatalf("server presented %q, want %q", got.Subject.CommonName, tc.wantLeaf.Leaf.Subject.CommonName)
			}
			name, _, ok := NodePeer(&srv.state)
			if name != tc.wantPeer || ok != (tc.wantPeer != "") {
				t.Fatalf("NodePeer = %q %v, want %q", name, ok, tc.wantPeer)
			}
		})
	}
}

func TestNodePeerRefusesUnverified(t *testing.T) {
	ca := newTestCA(t, "")
	leaf := newNode(t, ca, "a", time.Now(), 0).Leaf
	for name, cs := range map[string]*tls.ConnectionState{
		"nil":                   nil,
		"presented only":        {PeerCertificates: []*x509.Certificate{leaf}},
		"the CA itself":         {VerifiedChains: [][]*x509.Certificate{{ca.Cert}}},
		"CA as leaf of a chain": {VerifiedChains: [][]*x509.Certificate{{ca.Cert, ca.Cert}}},
	} {
		if _, _, ok := NodePeer(cs); ok {
			t.Errorf("%s: NodePeer ok", name)
		}
	}
}

// A session resumed after its node was removed is refused too: revocation
// runs in VerifyConnection, which crypto/tls calls on resumption.
func TestRevokedOnResumption(t *testing.T) {
	ca := newTestCA(t, "")
	now := time.Now()
	client := newNode(t, ca, "b", now, 0)
	var gone atomic.Bool
	revoked := func(serial string) bool { return gone.Load() && serial == SerialOf(client.Leaf) }
	server := NewIdentity(&Bundle{CA: ca, Node: newNode(t, ca, "a", now, 0)}, revoked).PeerServerTLS()
	clientCfg := NewIdentity(&Bundle{CA: ca, Node: client}, nil).PeerClientTLS()
	clientCfg.ClientSessionCache = tls.NewLRUClientSessionCache(4)

	for i, wantResumed := range []bool{false, true} {
		srv, cli := handshake(t, server, clientCfg)
		mustErr(t, "server", srv.err, nil)
		mustErr(t, "client", cli.err, nil)
		if cli.state.DidResume != wantResumed {
			t.Fatalf("handshake %d: resumed %v, want %v", i, cli.state.DidResume, wantResumed)
		}
	}
	gone.Store(true)
	srv, cli := handshake(t, server, clientCfg)
	mustErr(t, "server", srv.err, ErrRevoked)
	mustErr(t, "client", cli.err, errAny)
	if !srv.state.DidResume {
		t.Fatal("the refused handshake was not a resumption: the test proves nothing")
	}
}
