package cluster

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/shoal-project/shoal/cluster/pki"
	"github.com/shoal-project/shoal/fsm"
	"github.com/shoal-project/shoal/internal/backoff"
)

// certPath is where a node asks the leader to certify a new key of its own
// (renewal). The name certified is the one of the certificate the request
// came with: a node renews only itself.
const certPath = "/internal/v1/certificate"

type certRequest struct {
	PublicKey []byte `json:"public_key"` // PKIX DER
}

type certReply struct {
	Certificate []byte     `json:"certificate,omitempty"` // DER
	Error       *wireError `json:"error,omitempty"`
}

// renewAt is when a certificate is renewed: two thirds into its life.
func renewAt(c *x509.Certificate) time.Time {
	return c.NotBefore.Add(c.NotAfter.Sub(c.NotBefore) * 2 / 3)
}

// certLoop renews this node's certificate before it expires, with no
// restart: the new one is saved, then served to new handshakes.
func (n *Node) certLoop(ctx context.Context) {
	retry := backoff.Backoff{Min: time.Second, Max: time.Minute}
	for {
		wait := time.Until(renewAt(n.tls.Certificate().Leaf))
		if wait > 0 {
			if !sleepCtx(ctx, wait) {
				return
			}
			continue
		}
		if err := n.renewCert(ctx); err != nil {
			n.log.Warn("renewing this node's certificate; retrying", "err", err,
				"expires", n.tls.Certificate().Leaf.NotAfter)
			if !retry.Wait(ctx) {
				return
			}
			continue
		}
		retry.Reset()
	}
}

// RenewCertificate renews this node's certificate now (tests, operators).
func (n *Node) RenewCertificate(ctx context.Context) error { return n.renewCert(ctx) }

func (n *Node) renewCert(ctx context.Context) error {
	key, err := pki.NewKey()
	if err != nil {
		return err
	}
	pub, err := x509.MarshalPKIXPublicKey(key.Public())
	if err != nil {
		return err
	}
	var der []byte
	if n.IsLeader() {
		der, err = n.certify(ctx, n.tls.Certificate().Leaf, pub)
	} else {
		der, err = n.requestCert(ctx, pub)
	}
	if err != nil {
		return err
	}
	cert, err := pki.NodeCertificate(der, key, n.tls.CA())
	if err != nil {
		return err
	}
	if err := pki.SaveNode(TLSDir(n.cfg.DataDir), cert); err != nil {
		return err
	}
	if err := n.tls.SetCertificate(cert); err != nil {
		return err
	}
	// Gossip the new serial: the leader checks it before anything else.
	go func() { _ = n.ml.UpdateNode(time.Second) }()
	n.log.Info("renewed this node's certificate", "serial", pki.SerialOf(cert.Leaf), "expires", cert.Leaf.NotAfter)
	return nil
}

// certify signs pub for the node that current (its verified certificate)
// names, with the same addresses, and records the new certificate in Raft
// before handing it out.
func (n *Node) certify(ctx context.Context, current *x509.Certificate, pubDER []byte) ([]byte, error) {
	pub, err := x509.ParsePKIXPublicKey(pubDER)
	if err != nil {
		return nil, fmt.Errorf("%w: unreadable public key: %v", fsm.ErrInvalid, err)
	}
	name := pki.NodeName(current)
	now := time.Now().UTC()
	cert, err := n.tls.CA().Issue(pki.NodeRequest{Name: name, PublicKey: pub, IPs: current.IPAddresses,
		TTL: n.cfg.CertTTL}, now)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", fsm.ErrInvalid, err)
	}
	if _, err := n.Apply(ctx, &fsm.RecordNodeCert{Serial: pki.SerialOf(cert), Node: name,
		NotAfter: cert.NotAfter.UTC(), Now: now}); err != nil {
		return nil, err
	}
	return cert.Raw, nil
}

// requestCert asks the leader to certify pub for this node.
func (n *Node) requestCert(ctx context.Context, pub []byte) ([]byte, error) {
	l, ok := n.Leader()
	if !ok || l.HTTPAddress == "" {
		return nil, fsm.ErrNoLeader
	}
	body, _ := json.Marshal(certRequest{PublicKey: pub})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, internalURL(l.HTTPAddress, certPath), bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := n.fwd.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var reply certReply
	if err := json.NewDecoder(resp.Body).Decode(&reply); err != nil {
		return nil, fmt.Errorf("certificate reply from %s: %w", l.Name, err)
	}
	if reply.Error != nil {
		return nil, fromWire(reply.Error)
	}
	return reply.Certificate, nil
}

// serveCert is the leader's side of a renewal.
func (n *Node) serveCert(w http.ResponseWriter, r *http.Request) {
	var req certRequest
	var reply certReply
	switch err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 4096)).Decode(&req); {
	case err != nil:
		reply.Error = toWire(fmt.Errorf("%w: a certificate request is JSON with a public key", fsm.ErrInvalid))
	case r.TLS == nil || len(r.TLS.PeerCertificates) == 0:
		// requireNode lets nothing else through; a node renews only itself.
		reply.Error = toWire(fmt.Errorf("%w: a renewal comes with the node's certificate", fsm.ErrInvalid))
	case !n.IsLeader():
		reply.Error = toWire(errNotLeader)
	default:
		der, err := n.certify(r.Context(), r.TLS.PeerCertificates[0], req.PublicKey)
		if err != nil {
			reply.Error = toWire(err)
		}
		reply.Certificate = der
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(reply)
}
