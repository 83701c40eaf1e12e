package cluster

import (
	"context"
	"crypto/ecdsa"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/hashicorp/raft"

	"github.com/shoal-project/shoal/cluster/jointoken"
	"github.com/shoal-project/shoal/cluster/pki"
	"github.com/shoal-project/shoal/fsm"
)

// admitPath is where a new node trades a join token for its certificate,
// the CA and the gossip keyring. It needs no client certificate (the new
// node has none yet): the token is the credential.
const admitPath = "/join/v1"

// maxAdmitBody bounds an admission request; a real one is well under 1 KiB.
const maxAdmitBody = 8 << 10

// maxCertIPs bounds the addresses a node certificate may name.
const maxCertIPs = 8

// admitRequest is what a new node sends: the token, its name, the addresses
// its certificate names and its public key (PKIX, DER). Its private key
// never leaves it.
type admitRequest struct {
	Token     string   `json:"token"`
	Name      string   `json:"name"`
	IPs       []string `json:"ips"`
	PublicKey []byte   `json:"public_key"`
}

// admitReply is what an admitted node receives, over TLS it verified
// against the token's CA fingerprint.
type admitReply struct {
	Certificate []byte   `json:"certificate"` // DER, signed by the CA
	CA          []byte   `json:"ca"`          // DER
	CAKey       []byte   `json:"ca_key"`      // PKCS #8 DER: every node may sign
	GossipKeys  [][]byte `json:"gossip_keys"` // primary first
	Peers       []string `json:"peers"`       // gossip host:port of live members
}

// errNotRecognised is what a stranger hears for any token that is not a
// live token of this cluster, whatever the reason, unless the token was
// ours: then the FSM's refusal (expired, revoked, used up) says which.
var errNotRecognised = fmt.Errorf("%w: join token not recognised", fsm.ErrUnauthorized)

// serveAdmit admits a new node that presents a live join token.
func (n *Node) serveAdmit(w http.ResponseWriter, r *http.Request) {
	var req admitRequest
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxAdmitBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		writeAdmitError(w, fmt.Errorf("%w: the join request is not valid JSON: %v", fsm.ErrInvalid, err))
		return
	}
	reply, err := n.admit(r.Context(), req)
	if err != nil {
		n.log.Warn("refused a join", "from", r.RemoteAddr, "name", clip(req.Name, 63), "err", err)
		writeAdmitError(w, err)
		return
	}
	n.log.Info("admitted a node", "name", req.Name, "from", r.RemoteAddr)
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(reply)
}

func (n *Node) admit(ctx context.Context, req admitRequest) (*admitReply, error) {
	tok, err := jointoken.Parse(req.Token)
	if err != nil || tok.CA != n.tls.CA().Fingerprint() {
		return nil, errNotRecognised
	}
	pub, ips, err := checkAdmitRequest(req)
	if err != nil {
		return nil, err
	}
	if n.isMember(req.Name) {
		return nil, fmt.Errorf("%w: a node named %s is already a member of this cluster; "+
			"remove it first (shoal host remove) or choose another name", fsm.ErrConflict, req.Name)
	}
	now := time.Now().UTC()
	if _, err := n.Apply(ctx, &fsm.ConsumeJoinToken{ID: tok.ID(), SecretHash: tok.SecretHash(),
		Node: req.Name, Now: now}); err != nil {
		return nil, err
	}
	ca := n.tls.CA()
	cert, err := ca.Issue(pki.NodeRequest{Name: req.Name, PublicKey: pub, IPs: ips, TTL: n.cfg.CertTTL}, now)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", fsm.ErrInvalid, err)
	}
	if _, err := n.Apply(ctx, &fsm.RecordNodeCert{Serial: pki.SerialOf(cert), Node: req.Name,
		NotAfter: cert.NotAfter.UTC(), Now: now}); err != nil {
		return nil, err
	}
	caKey, err := x509.MarshalPKCS8PrivateKey(ca.Key)
	if err != nil {
		return nil, err
	}
	reply := &admitReply{Certificate: cert.Raw, CA: ca.Cert.Raw, CAKey: caKey,
		GossipKeys: n.currentGossipKeys()}
	for _, m := range n.memberSnapshot() {
		if m.status == "alive" {
			reply.Peers = append(reply.Peers, m.addr)
		}
	}
	return reply, nil
}

// checkAdmitRequest validates what the new node asks to be certified as.
func checkAdmitRequest(req admitRequest) (*ecdsa.PublicKey, []net.IP, error) {
	if req.Name == "" || len(req.Name) > 63 {
		return nil, nil, fmt.Errorf("%w: a node name is 1 to 63 characters", fsm.ErrInvalid)
	}
	if len(req.IPs) == 0 || len(req.IPs) > maxCertIPs {
		return nil, nil, fmt.Errorf("%w: a join names 1 to %d addresses", fsm.ErrInvalid, maxCertIPs)
	}
	ips := make([]net.IP, 0, len(req.IPs))
	for _, s := range req.IPs {
		ip := net.ParseIP(s)
		if ip == nil || ip.IsUnspecified() {
			return nil, nil, fmt.Errorf("%w: %q is not an address a certificate can name", fsm.ErrInvalid, clip(s, 64))
		}
		ips = append(ips, ip)
	}
	key, err := x509.ParsePKIXPublicKey(req.PublicKey)
	pub, ok := key.(*ecdsa.PublicKey)
	if err != nil || !ok {
		return nil, nil, fmt.Errorf("%w: the public key must be an ECDSA P-256 key (PKIX DER)", fsm.ErrInvalid)
	}
	return pub, ips, nil
}

// isMember reports whether name is in Raft or alive in gossip.
func (n *Node) isMember(name string) bool {
	if f := n.raft.GetConfiguration(); f.Error() == nil {
		for _, s := range f.Configuration().Servers {
			if s.ID == raft.ServerID(name) {
				return true
			}
		}
	}
	for _, m := range n.memberSnapshot() {
		if m.name == name && m.status == "alive" {
			return true
		}
	}
	return false
}

// currentGossipKeys is memberlist's keyring, primary first.
func (n *Node) currentGossipKeys() [][]byte {
	kr := n.keyring
	keys := [][]byte{kr.GetPrimaryKey()}
	for _, k := range kr.GetKeys() {
		if pki.GossipKeyID(k) != pki.GossipKeyID(keys[0]) {
			keys = append(keys, k)
		}
	}
	return keys
}

func writeAdmitError(w http.ResponseWriter, err error) {
	status := http.StatusServiceUnavailable
	kind := fsm.KindOf(err)
	switch {
	case errors.Is(err, fsm.ErrUnauthorized):
		status = http.StatusUnauthorized
	case errors.Is(err, fsm.ErrInvalid):
		status = http.StatusBadRequest
	case errors.Is(err, fsm.ErrConflict):
		status = http.StatusConflict
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"error": map[string]any{
		"code": status, "kind": kind, "message": err.Error()}})
}
