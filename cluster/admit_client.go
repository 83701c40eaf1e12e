package cluster

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"

	"github.com/shoal-project/shoal/cluster/jointoken"
	"github.com/shoal-project/shoal/cluster/pki"
	"github.com/shoal-project/shoal/fsm"
)

// JoinRequest is what a new node needs to be admitted: the token an admin
// made, its own name and addresses, and its data directory, where the
// bundle it receives is saved.
type JoinRequest struct {
	Token         string
	Name          string
	BindAddr      string
	AdvertiseAddr string
	DataDir       string
	// Addrs are tried before the token's own (the CLI's PEER argument).
	Addrs []string
}

// RequestJoin trades a join token for this node's certificate, the cluster
// CA and the gossip keyring, and saves them in the data directory. It
// talks only to a server whose certificate chains to the CA the token
// names (its fingerprint), so the token is never sent anywhere else. It
// returns the gossip addresses of the cluster's live members.
func RequestJoin(ctx context.Context, req JoinRequest) ([]string, error) {
	tok, err := jointoken.Parse(req.Token)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", fsm.ErrInvalid, err)
	}
	key, err := pki.NewKey()
	if err != nil {
		return nil, err
	}
	pub, err := x509.MarshalPKIXPublicKey(key.Public())
	if err != nil {
		return nil, err
	}
	body := admitRequest{Token: req.Token, Name: req.Name, PublicKey: pub}
	for _, ip := range CertIPs(req.BindAddr, req.AdvertiseAddr) {
		body.IPs = append(body.IPs, ip.String())
	}
	data, err := json.Marshal(body)
	if err != nil {
		return nil, err
	}
	hc := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{
		TLSClientConfig: pki.PinnedClientTLS(tok.CA), TLSHandshakeTimeout: 5 * time.Second,
		DialContext: (&net.Dialer{Timeout: 5 * time.Second}).DialContext}}
	var errs []error
	for _, addr := range append(append([]string{}, req.Addrs...), tok.Addrs...) {
		reply, err := postAdmit(ctx, hc, addr, data)
		if err == nil {
			return reply.Peers, saveAdmitted(req.DataDir, tok.CA, key, reply)
		}
		// A refusal is the cluster's answer, the same from every member.
		if errors.Is(err, fsm.ErrUnauthorized) || errors.Is(err, fsm.ErrInvalid) || errors.Is(err, fsm.ErrConflict) {
			return nil, err
		}
		errs = append(errs, fmt.Errorf("%s: %w", addr, err))
		if ctx.Err() != nil {
			break
		}
	}
	return nil, fmt.Errorf("%w: no member of the token's cluster answered: %w", fsm.ErrUnavailable, errors.Join(errs...))
}

func postAdmit(ctx context.Context, hc *http.Client, addr string, data []byte) (*admitReply, error) {
	r, err := http.NewRequestWithContext(ctx, http.MethodPost, "https://"+addr+admitPath, bytes.NewReader(data))
	if err != nil {
		return nil, err
	}
	r.Header.Set("Content-Type", "application/json")
	resp, err := hc.Do(r)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		var e struct {
			Error struct {
				Kind    string `json:"kind"`
				Message string `json:"message"`
			} `json:"error"`
		}
		_ = json.Unmarshal(raw, &e)
		sentinel := fsm.ErrorOfKind(e.Error.Kind)
		if sentinel == nil {
			sentinel = fsm.ErrUnavailable
		}
		return nil, &remoteError{sentinel: sentinel, msg: fmt.Sprintf("join refused by %s: %s", addr, e.Error.Message)}
	}
	var reply admitReply
	if err := json.Unmarshal(raw, &reply); err != nil {
		return nil, fmt.Errorf("reply from %s: %w", addr, err)
	}
	return &reply, nil
}

// saveAdmitted checks what the cluster sent against the token and this
// node's key, then saves it as the node's bundle.
func saveAdmitted(dataDir string, fp [32]byte, key any, reply *admitReply) error {
	caCert, err := x509.ParseCertificate(reply.CA)
	if err != nil || pki.FingerprintOf(reply.CA) != fp {
		return fmt.Errorf("%w: the cluster sent a CA other than the token's", fsm.ErrUnavailable)
	}
	caKey, err := x509.ParsePKCS8PrivateKey(reply.CAKey)
	if err != nil {
		return fmt.Errorf("the cluster sent an unreadable CA key: %w", err)
	}
	ca, err := pki.NewCAFrom(caCert, caKey)
	if err != nil {
		return err
	}
	cert, err := pki.NodeCertificate(reply.Certificate, key, ca)
	if err != nil {
		return fmt.Errorf("the cluster sent a certificate this node cannot use: %w", err)
	}
	if len(reply.GossipKeys) == 0 {
		return fmt.Errorf("the cluster sent no gossip key")
	}
	b := &pki.Bundle{CA: ca, Node: cert, GossipKeys: reply.GossipKeys}
	return b.Save(TLSDir(dataDir))
}

// tlsCertificate is used by a node certifying itself (bootstrap, renewal
// on the leader): a fresh key and its certificate from ca.
func IssueNodeCert(ca *pki.CA, name string, ips []net.IP, ttl time.Duration, now time.Time) (tls.Certificate, error) {
	key, err := pki.NewKey()
	if err != nil {
		return tls.Certificate{}, err
	}
	cert, err := ca.Issue(pki.NodeRequest{Name: name, PublicKey: key.Public(), IPs: ips, TTL: ttl}, now)
	if err != nil {
		return tls.Certificate{}, err
	}
	return pki.NodeCertificate(cert.Raw, key, ca)
}
