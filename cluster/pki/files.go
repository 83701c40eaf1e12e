package pki

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// File names under DATA_DIR/tls.
const (
	CACertFile   = "ca.crt"
	CAKeyFile    = "ca.key"
	NodeCertFile = "node.crt"
	NodeKeyFile  = "node.key"
	// nodeKeyPrevFile keeps the key a renewal replaces until its
	// certificate is replaced too.
	nodeKeyPrevFile = "node.key.prev"
	GossipKeysFile  = "gossip.keys"
)

var (
	// ErrNoBundle means the node has no certificate yet (node.crt is absent):
	// a node that has not joined. It wraps fs.ErrNotExist.
	ErrNoBundle = fmt.Errorf("pki: no node certificate: %w", fs.ErrNotExist)
	// ErrBadBundle means the files exist but do not make a usable identity.
	// It deliberately does not wrap fs.ErrNotExist, even for a missing file
	// beside node.crt: a half bundle is damage to report, not a blank node.
	ErrBadBundle = errors.New("pki: bad TLS bundle")
	// ErrKeyPermissions means a key file is readable by group or others.
	ErrKeyPermissions = errors.New("pki: key file readable by group or others")
)

// Bundle is everything a node keeps under DATA_DIR/tls. Node.Certificate is
// [leaf, CA] with Leaf set, so the CA travels in every handshake (the join
// client pins it).
type Bundle struct {
	CA         *CA
	Node       tls.Certificate
	GossipKeys [][]byte // primary first
}

// Load reads and checks the bundle in dir: every file parses, the node
// certificate chains to the CA, each key matches its certificate, key files
// are 0600 at most, gossip keys are GossipKeySize bytes. Expiry is not
// checked: a node back after a long stop must still start and say why peers
// refuse it. ErrNoBundle when node.crt is absent.
func Load(dir string) (*Bundle, error) {
	nodePEM, err := os.ReadFile(filepath.Join(dir, NodeCertFile))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%w (%s)", ErrNoBundle, filepath.Join(dir, NodeCertFile))
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadBundle, err)
	}
	caPEM, err := readFile(dir, CACertFile, false)
	if err != nil {
		return nil, err
	}
	caKeyPEM, err := readFile(dir, CAKeyFile, true)
	if err != nil {
		return nil, err
	}
	nodeKeyPEM, err := readFile(dir, NodeKeyFile, true)
	if err != nil {
		return nil, err
	}
	keysJSON, err := readFile(dir, GossipKeysFile, true)
	if err != nil {
		return nil, err
	}

	caPair, err := tls.X509KeyPair(caPEM, caKeyPEM)
	if err != nil {
		return nil, fmt.Errorf("%w: %s and %s: %v", ErrBadBundle, CACertFile, CAKeyFile, err)
	}
	caKey, ok := caPair.PrivateKey.(*ecdsa.PrivateKey)
	if !ok || !caPair.Leaf.IsCA || caPair.Leaf.CheckSignatureFrom(caPair.Leaf) != nil {
		return nil, fmt.Errorf("%w: %s is not a self-signed ECDSA CA", ErrBadBundle, CACertFile)
	}
	ca := &CA{Cert: caPair.Leaf, Key: caKey}
	node, err := tls.X509KeyPair(nodePEM, nodeKeyPEM)
	if err != nil {
		// A renewal saves the key, then the certificate: between the two
		// the certificate is still the previous one, whose key it kept.
		if prev, perr := readFile(dir, nodeKeyPrevFile, true); perr == nil {
			if pair, perr := tls.X509KeyPair(nodePEM, prev); perr == nil {
				node, err = pair, nil
			}
		}
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %s and %s: %v", ErrBadBundle, NodeCertFile, NodeKeyFile, err)
	}
	node = withChain(node, ca)
	if err := checkNode(ca, node); err != nil {
		return nil, err
	}
	keys, err := decodeGossipKeys(keysJSON)
	if err != nil {
		return nil, err
	}
	return &Bundle{CA: ca, Node: node, GossipKeys: keys}, nil
}

// Save writes the whole bundle, node.crt last: its presence is what Load
// takes as "this node has joined", so a crash half way leaves a blank node.
func (b *Bundle) Save(dir string) error {
	if b.CA == nil || b.CA.Cert == nil || b.CA.Key == nil {
		return fmt.Errorf("%w: no CA", ErrBadBundle)
	}
	node := withChain(b.Node, b.CA)
	if err := checkNode(b.CA, node); err != nil {
		return err
	}
	if err := ensureDir(dir); err != nil {
		return err
	}
	caKey, err := keyPEM(b.CA.Key)
	if err != nil {
		return err
	}
	if err := writeFile(dir, CACertFile, certPEM(b.CA.Cert.Raw), 0o644); err != nil {
		return err
	}
	if err := writeFile(dir, CAKeyFile, caKey, 0o600); err != nil {
		return err
	}
	if err := SaveGossipKeys(dir, b.GossipKeys); err != nil {
		return err
	}
	return saveNode(dir, node)
}

// SaveNode replaces the node certificate and key (renewal). The two renames
// are not one atomic step: a crash between them leaves a mismatch that Load
// reports, and the node must rejoin.
func SaveNode(dir string, cert tls.Certificate) error {
	if err := ensureDir(dir); err != nil {
		return err
	}
	return saveNode(dir, cert)
}

// SaveGossipKeys caches the keyring (primary first) for start-up, before the
// replica can be read.
func SaveGossipKeys(dir string, keys [][]byte) error {
	for _, k := range keys {
		if len(k) != GossipKeySize {
			return fmt.Errorf("%w: gossip key of %d bytes, want %d", ErrBadBundle, len(k), GossipKeySize)
		}
	}
	if keys == nil {
		keys = [][]byte{}
	}
	data, err := json.Marshal(keys) // []byte marshals as base64
	if err != nil {
		return err
	}
	if err := ensureDir(dir); err != nil {
		return err
	}
	return writeFile(dir, GossipKeysFile, data, 0o600)
}

func saveNode(dir string, cert tls.Certificate) error {
	if len(cert.Certificate) == 0 || cert.PrivateKey == nil {
		return fmt.Errorf("%w: node certificate or key missing", ErrBadBundle)
	}
	key, err := keyPEM(cert.PrivateKey)
	if err != nil {
		return err
	}
	var chain []byte
	for _, der := range cert.Certificate {
		chain = append(chain, certPEM(der)...)
	}
	// The two files cannot be replaced in one step: the key being replaced
	// is kept until the certificate is, so Load always finds a matching
	// pair (a crash in between leaves the previous, still valid, one).
	if old, err := os.ReadFile(filepath.Join(dir, NodeKeyFile)); err == nil {
		if err := writeFile(dir, nodeKeyPrevFile, old, 0o600); err != nil {
			return err
		}
	}
	if err := writeFile(dir, NodeKeyFile, key, 0o600); err != nil {
		return err
	}
	return writeFile(dir, NodeCertFile, chain, 0o644)
}

// withChain makes the chain exactly [leaf, CA], whatever came with cert.
func withChain(cert tls.Certificate, ca *CA) tls.Certificate {
	if cert.Leaf == nil && len(cert.Certificate) > 0 {
		cert.Leaf, _ = x509.ParseCertificate(cert.Certificate[0])
	}
	if len(cert.Certificate) > 0 {
		cert.Certificate = [][]byte{cert.Certificate[0], ca.Cert.Raw}
	}
	return cert
}

// checkNode refuses a node certificate the CA did not sign, that is not a
// node certificate, or whose key is not the certificate's: any of them would
// only fail later, in every handshake, far from the cause.
func checkNode(ca *CA, cert tls.Certificate) error {
	if cert.Leaf == nil || cert.PrivateKey == nil {
		return fmt.Errorf("%w: node certificate or key missing", ErrBadBundle)
	}
	if err := cert.Leaf.CheckSignatureFrom(ca.Cert); err != nil {
		return fmt.Errorf("%w: node certificate not signed by the cluster CA: %v", ErrBadBundle, err)
	}
	if !hasUsage(cert.Leaf, x509.ExtKeyUsageServerAuth) || !hasUsage(cert.Leaf, x509.ExtKeyUsageClientAuth) {
		return fmt.Errorf("%w: node certificate lacks server or client usage", ErrBadBundle)
	}
	pub, ok := cert.PrivateKey.(interface{ Public() crypto.PublicKey })
	if !ok {
		return fmt.Errorf("%w: node key of type %T", ErrBadBundle, cert.PrivateKey)
	}
	if eq, ok := pub.Public().(interface{ Equal(crypto.PublicKey) bool }); !ok || !eq.Equal(cert.Leaf.PublicKey) {
		return fmt.Errorf("%w: node key does not match the node certificate", ErrBadBundle)
	}
	return nil
}

func hasUsage(c *x509.Certificate, want x509.ExtKeyUsage) bool {
	for _, u := range c.ExtKeyUsage {
		if u == want {
			return true
		}
	}
	return false
}

func decodeGossipKeys(data []byte) ([][]byte, error) {
	var keys [][]byte
	if err := json.Unmarshal(data, &keys); err != nil {
		return nil, fmt.Errorf("%w: %s: not a JSON list of base64 keys", ErrBadBundle, GossipKeysFile)
	}
	for i, k := range keys {
		if len(k) != GossipKeySize {
			return nil, fmt.Errorf("%w: %s: key %d has %d bytes, want %d", ErrBadBundle, GossipKeysFile, i, len(k), GossipKeySize)
		}
	}
	return keys, nil
}

// NodeCertificate makes a node's TLS certificate from the DER the CA
// signed and the node's own key, checked like a loaded bundle: signed by
// ca, for nodes, and of this key. Its chain is the leaf then the CA.
func NodeCertificate(der []byte, key crypto.PrivateKey, ca *CA) (tls.Certificate, error) {
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("%w: node certificate: %v", ErrBadBundle, err)
	}
	cert := withChain(tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, ca)
	if err := checkNode(ca, cert); err != nil {
		return tls.Certificate{}, err
	}
	return cert, nil
}
