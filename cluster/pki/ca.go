package pki

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"math/big"
	"net"
	"time"
)

// InternalServerName is the DNS name every node certificate carries besides
// the node's own name. Nodes dial each other with it as the server name (and
// as SNI), so a peer is verified as "a node of this cluster" whatever its name
// or address, and the HTTPS listener can tell node traffic from API clients.
const InternalServerName = "node.shoal.internal"

const (
	// CALifetime is long because rotating the CA is not built: a cluster
	// lives with its first CA.
	CALifetime = 10 * 365 * 24 * time.Hour
	// DefaultNodeTTL is a node certificate's lifetime when the request names
	// none; nodes renew at two thirds of it.
	DefaultNodeTTL = 30 * 24 * time.Hour
	// clockSkew backdates NotBefore so a peer whose clock is a little behind
	// still accepts a fresh certificate.
	clockSkew  = time.Minute
	maxNameLen = 253
)

// ErrBadRequest marks a NodeRequest the CA refuses to sign.
var ErrBadRequest = errors.New("pki: bad certificate request")

// CA is the cluster's certificate authority. Every node holds one (key
// included) so that any leader can sign.
type CA struct {
	Cert *x509.Certificate
	Key  *ecdsa.PrivateKey
}

// NewCA makes a self-signed ECDSA P-256 CA valid for CALifetime from now.
// clusterHint (say the cluster ID) only goes into the subject, to tell CAs
// apart in an operator's trust store.
func NewCA(clusterHint string, now time.Time) (*CA, error) {
	key, err := NewKey()
	if err != nil {
		return nil, err
	}
	serial, err := randomSerial()
	if err != nil {
		return nil, err
	}
	cn := "shoal cluster CA"
	if clusterHint != "" {
		cn += " " + clusterHint
	}
	if len(cn) > 64 { // the X.509 upper bound of a common name
		cn = cn[:64]
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: cn, Organization: []string{"shoal"}},
		NotBefore:             now.Add(-clockSkew),
		NotAfter:              now.Add(CALifetime),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLenZero:        true, // it signs node certificates only, never another CA
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		return nil, fmt.Errorf("pki: create CA: %w", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("pki: parse CA: %w", err)
	}
	return &CA{Cert: cert, Key: key}, nil
}

// Fingerprint is the SHA-256 of the CA certificate's DER: what a join token
// pins, so a joiner trusts only the cluster that issued its token.
func (ca *CA) Fingerprint() [32]byte { return FingerprintOf(ca.Cert.Raw) }

// FingerprintOf is the SHA-256 of a certificate's DER.
func FingerprintOf(der []byte) [32]byte { return sha256.Sum256(der) }

// NodeRequest asks the CA for a node certificate. PublicKey is the node's own
// (its private key never leaves it); IPs are the addresses peers dial.
type NodeRequest struct {
	Name      string
	PublicKey crypto.PublicKey
	IPs       []net.IP
	TTL       time.Duration // 0 means DefaultNodeTTL
}

// Issue signs a node certificate for req: DNS names req.Name and
// InternalServerName, IPs req.IPs (unspecified ones dropped) plus 127.0.0.1,
// usable as server and client, valid from now-1m for req.TTL (never past the
// CA's own expiry).
func (ca *CA) Issue(req NodeRequest, now time.Time) (*x509.Certificate, error) {
	if err := validNodeName(req.Name); err != nil {
		return nil, err
	}
	// The key comes from a joiner over the network: take only the kind the
	// cluster makes (NewKey), never a weak or exotic one.
	if pub, ok := req.PublicKey.(*ecdsa.PublicKey); !ok || pub.Curve != elliptic.P256() {
		return nil, fmt.Errorf("%w: the public key must be ECDSA P-256, not %T", ErrBadRequest, req.PublicKey)
	}
	if req.TTL < 0 {
		return nil, fmt.Errorf("%w: negative lifetime", ErrBadRequest)
	}
	ttl := req.TTL
	if ttl == 0 {
		ttl = DefaultNodeTTL
	}
	notAfter := now.Add(ttl)
	if notAfter.After(ca.Cert.NotAfter) {
		notAfter = ca.Cert.NotAfter
	}
	serial, err := randomSerial()
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: req.Name, Organization: []string{"shoal node"}},
		NotBefore:    now.Add(-clockSkew),
		NotAfter:     notAfter,
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		DNSNames:     []string{req.Name, InternalServerName},
		IPAddresses:  nodeIPs(req.IPs),
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.Cert, req.PublicKey, ca.Key)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadRequest, err)
	}
	return x509.ParseCertificate(der)
}

// NewKey makes an ECDSA P-256 key, the only kind the cluster uses.
func NewKey() (*ecdsa.PrivateKey, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("pki: generate key: %w", err)
	}
	return key, nil
}

// SerialOf names a certificate by its serial in lowercase hex: the name the
// revocation list in Raft and gossip metadata use.
func SerialOf(c *x509.Certificate) string { return fmt.Sprintf("%x", c.SerialNumber) }

// randomSerial is 128 random bits, never zero (RFC 5280 wants it positive).
func randomSerial() (*big.Int, error) {
	limit := new(big.Int).Lsh(big.NewInt(1), 128)
	for {
		n, err := rand.Int(rand.Reader, limit)
		if err != nil {
			return nil, fmt.Errorf("pki: serial: %w", err)
		}
		if n.Sign() > 0 {
			return n, nil
		}
	}
}

// validNodeName keeps node names usable as a DNS SAN, and distinct from the
// shared name so that NodePeer can tell which SAN is the node's.
func validNodeName(name string) error {
	if name == "" || len(name) > maxNameLen {
		return fmt.Errorf("%w: node name must be 1 to %d characters", ErrBadRequest, maxNameLen)
	}
	if name == InternalServerName {
		return fmt.Errorf("%w: node name %q is reserved", ErrBadRequest, name)
	}
	for _, r := range name {
		ok := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '.' || r == '_'
		if !ok {
			return fmt.Errorf("%w: node name %q: only letters, digits, '-', '.' and '_'", ErrBadRequest, name)
		}
	}
	return nil
}

// nodeIPs drops unspecified and duplicate addresses and always adds
// loopback, so local tools can dial the node by 127.0.0.1.
func nodeIPs(ips []net.IP) []net.IP {
	out := []net.IP{}
	seen := map[string]bool{}
	for _, ip := range append(append([]net.IP{}, ips...), net.IPv4(127, 0, 0, 1)) {
		if ip == nil || ip.IsUnspecified() || seen[ip.String()] {
			continue
		}
		seen[ip.String()] = true
		out = append(out, ip)
	}
	return out
}

// NewCAFrom makes a CA from a certificate and key received from a peer,
// refusing a key that is not the certificate's or a certificate that is not
// a CA.
func NewCAFrom(cert *x509.Certificate, key crypto.PrivateKey) (*CA, error) {
	k, ok := key.(*ecdsa.PrivateKey)
	if !ok || !cert.IsCA || !k.PublicKey.Equal(cert.PublicKey) {
		return nil, fmt.Errorf("%w: the CA key is not the CA certificate's", ErrBadBundle)
	}
	return &CA{Cert: cert, Key: k}, nil
}
