package cluster

import (
	"errors"
	"fmt"
	"net"
	"path/filepath"
	"time"

	"github.com/shoal-project/shoal/cluster/pki"
)

// DefaultCertTTL is how long a node certificate is valid; the node renews it
// once two thirds of that have passed.
const DefaultCertTTL = 30 * 24 * time.Hour

// ErrNotJoined: this node has no cluster certificate. It bootstraps a new
// cluster (--bootstrap) or joins one with a join token; nothing else can
// make it a member.
var ErrNotJoined = errors.New("this node has not joined a cluster")

// TLSDir is where a node keeps its CA, certificate and gossip keys.
func TLSDir(dataDir string) string { return filepath.Join(dataDir, "tls") }

// CertIPs are the addresses a node's certificate names: the advertised and
// bound ones (an unspecified bind names none) and loopback, so that a CLI on
// the host itself can verify the API.
func CertIPs(bind, advertise string) []net.IP {
	ips := []net.IP{net.ParseIP("127.0.0.1")}
	for _, s := range []string{advertise, bind} {
		ip := net.ParseIP(s)
		if ip == nil || ip.IsUnspecified() {
			continue
		}
		dup := false
		for _, have := range ips {
			dup = dup || have.Equal(ip)
		}
		if !dup {
			ips = append(ips, ip)
		}
	}
	return ips
}

// loadBundle reads this node's TLS bundle. A node about to bootstrap a new
// cluster (no Raft state, --bootstrap) that has none makes the cluster's CA,
// its own certificate and the first gossip key; any other node without one
// has not joined.
func (n *Node) loadBundle(hasState bool) (*pki.Bundle, error) {
	dir := TLSDir(n.cfg.DataDir)
	b, err := pki.Load(dir)
	switch {
	case err == nil:
		return b, nil
	case !errors.Is(err, pki.ErrNoBundle):
		return nil, fmt.Errorf("cluster TLS: %w", err)
	case hasState:
		return nil, fmt.Errorf("%w: %s holds Raft state but no certificate in %s; "+
			"start from an empty data directory and join with a token", ErrNotJoined, n.cfg.DataDir, dir)
	case !n.cfg.Bootstrap:
		return nil, fmt.Errorf("%w: no certificate in %s; bootstrap a new cluster or join one with a join token",
			ErrNotJoined, dir)
	}
	b, err = n.newClusterBundle(time.Now())
	if err != nil {
		return nil, fmt.Errorf("making the cluster CA: %w", err)
	}
	if err := b.Save(dir); err != nil {
		return nil, fmt.Errorf("saving the cluster CA: %w", err)
	}
	n.log.Info("made the cluster CA and this node's certificate", "dir", dir)
	return b, nil
}

// newClusterBundle makes what a new cluster's first node holds.
func (n *Node) newClusterBundle(now time.Time) (*pki.Bundle, error) {
	ca, err := pki.NewCA(n.cfg.Name, now)
	if err != nil {
		return nil, err
	}
	cert, err := IssueNodeCert(ca, n.cfg.Name, CertIPs(n.cfg.BindAddr, n.cfg.AdvertiseAddr), n.cfg.CertTTL, now)
	if err != nil {
		return nil, err
	}
	key, err := pki.NewGossipKey()
	if err != nil {
		return nil, err
	}
	return &pki.Bundle{CA: ca, Node: cert, GossipKeys: [][]byte{key}}, nil
}
