package pki

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"slices"
	"sync/atomic"
)

var (
	// ErrRevoked means the peer's certificate chains to the CA but its serial
	// is on the cluster's deny-list (its node was removed).
	ErrRevoked = errors.New("pki: certificate revoked")
	// ErrUnverified means a peer presented no certificate verified against
	// the cluster CA where one is required.
	ErrUnverified = errors.New("pki: peer certificate not verified by the cluster CA")
)

// Identity is the live TLS identity of a node: the node certificate can be
// swapped (renewal) without a restart, and revocation is asked of the replica
// on every handshake. Every config it returns reads the current certificate
// through GetCertificate/GetClientCertificate, so a swap reaches the next
// handshake of listeners and dialers already running.
type Identity struct {
	ca      *CA
	pool    *x509.CertPool
	revoked func(serial string) bool
	cert    atomic.Pointer[tls.Certificate]
}

// NewIdentity serves b's node certificate. revoked answers from the replica
// whether a serial is denied; it runs in every handshake, concurrently, so it
// must be a cheap lookup. nil denies nothing (tests, a joiner). b is trusted
// as Load or the bootstrap made it.
func NewIdentity(b *Bundle, revoked func(serial string) bool) *Identity {
	if revoked == nil {
		revoked = func(string) bool { return false }
	}
	pool := x509.NewCertPool()
	pool.AddCert(b.CA.Cert)
	i := &Identity{ca: b.CA, pool: pool, revoked: revoked}
	cert := withChain(b.Node, b.CA)
	i.cert.Store(&cert)
	return i
}

// Certificate is the node certificate handshakes use now.
func (i *Identity) Certificate() tls.Certificate { return *i.cert.Load() }

// SetCertificate makes cert (a renewed node certificate) the one new
// handshakes present; connections already open keep theirs. It refuses a
// certificate the CA did not sign or whose key does not match: installing it
// would break every handshake at once.
func (i *Identity) SetCertificate(cert tls.Certificate) error {
	cert = withChain(cert, i.ca)
	if err := checkNode(i.ca, cert); err != nil {
		return err
	}
	i.cert.Store(&cert)
	return nil
}

// CA is the cluster CA (key included, for the leader's signing).
func (i *Identity) CA() *CA { return i.ca }

// PeerServerTLS is for listeners only nodes speak to (Raft): a client
// certificate is required, must chain to the CA for client use, and must not
// be revoked. TLS 1.3 only: both ends are ours.
func (i *Identity) PeerServerTLS() *tls.Config {
	return &tls.Config{
		MinVersion:       tls.VersionTLS13,
		GetCertificate:   i.getCertificate,
		ClientAuth:       tls.RequireAndVerifyClientCert,
		ClientCAs:        i.pool,
		VerifyConnection: i.verifyNode,
	}
}

// PeerClientTLS is for dialing another node: it presents the node
// certificate, wants the server's to chain to the CA under
// InternalServerName (whatever address was dialed), and not be revoked.
func (i *Identity) PeerClientTLS() *tls.Config {
	return &tls.Config{
		MinVersion:           tls.VersionTLS13,
		RootCAs:              i.pool,
		ServerName:           InternalServerName,
		GetClientCertificate: i.getClientCertificate,
		VerifyConnection:     i.verifyNode,
	}
}

// HTTPServerTLS is the API port's listener, shared by API clients, nodes and
// joiners. Nodes ask for InternalServerName (SNI) and get the node
// certificate; everyone else gets api, the operator's own certificate, or the
// node certificate when there is none. A client certificate is optional (API
// clients and joiners have none) but one presented must chain to the CA and
// not be revoked; NodePeer then tells handlers who it is. TLS 1.2 minimum for
// the OpenStack clients that still speak it.
func (i *Identity) HTTPServerTLS(api *tls.Certificate) *tls.Config {
	return &tls.Config{
		MinVersion: tls.VersionTLS12,
		GetCertificate: func(hello *tls.ClientHelloInfo) (*tls.Certificate, error) {
			if api == nil || hello.ServerName == InternalServerName {
				return i.cert.Load(), nil
			}
			return api, nil
		},
		ClientAuth: tls.VerifyClientCertIfGiven,
		ClientCAs:  i.pool,
		VerifyConnection: func(cs tls.ConnectionState) error {
			if len(cs.PeerCertificates) == 0 {
				return nil
			}
			return i.verifyNode(cs)
		},
	}
}

// NodePeer names the node at the other end of a connection whose peer
// presented a certificate verified against the cluster CA (the configs above
// did the verifying); ok is false for anyone else. name is the node's DNS
// name (not InternalServerName), or the common name.
func NodePeer(cs *tls.ConnectionState) (name, serial string, ok bool) {
	if cs == nil || len(cs.VerifiedChains) == 0 || len(cs.VerifiedChains[0]) < 2 {
		return "", "", false
	}
	leaf := cs.VerifiedChains[0][0]
	if leaf.IsCA || !slices.Contains(leaf.DNSNames, InternalServerName) {
		return "", "", false
	}
	return NodeName(leaf), SerialOf(leaf), true
}

// NodeName is the node a node certificate names: its DNS name that is not
// InternalServerName, or its common name.
func NodeName(leaf *x509.Certificate) string {
	for _, n := range leaf.DNSNames {
		if n != InternalServerName {
			return n
		}
	}
	return leaf.Subject.CommonName
}

func (i *Identity) getCertificate(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	return i.cert.Load(), nil
}

func (i *Identity) getClientCertificate(*tls.CertificateRequestInfo) (*tls.Certificate, error) {
	return i.cert.Load(), nil
}

// verifyNode runs after crypto/tls verified the chain, on resumed sessions
// too (unlike VerifyPeerCertificate), so a session resumed after its node was
// removed is still refused.
func (i *Identity) verifyNode(cs tls.ConnectionState) error {
	if len(cs.VerifiedChains) == 0 || len(cs.PeerCertificates) == 0 {
		return ErrUnverified
	}
	if serial := SerialOf(cs.PeerCertificates[0]); i.revoked(serial) {
		return fmt.Errorf("%w: serial %s", ErrRevoked, serial)
	}
	return nil
}
