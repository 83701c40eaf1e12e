package agent

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"

	"github.com/shoal-project/shoal/cluster"
	"github.com/shoal-project/shoal/cluster/pki"
)

// Membership is how an agent about to start is, or becomes, a member of a
// cluster: cluster.New starts only a node that holds a certificate of its
// cluster or bootstraps a new one.
type Membership int

const (
	// Member: the node holds its certificate (DATA_DIR/tls/node.crt), or
	// bootstraps a new cluster. It starts as it is.
	Member Membership = iota
	// JoinWithToken: the node trades its join token for a certificate first.
	JoinWithToken
	// Blank: the node waits on its local socket for `shoal join`.
	Blank
)

// MembershipOf says how cfg's node becomes a member. A node that holds a
// certificate ignores a join token: it has joined already.
func MembershipOf(cfg Config) (Membership, error) {
	_, err := os.Stat(filepath.Join(cluster.TLSDir(cfg.DataDir), pki.NodeCertFile))
	switch {
	case err == nil || cfg.Bootstrap:
		return Member, nil
	case !errors.Is(err, fs.ErrNotExist):
		return 0, fmt.Errorf("cluster TLS: %w", err)
	case cfg.JoinToken != "":
		return JoinWithToken, nil
	}
	return Blank, nil
}

// Admit readies what New needs and makes the node a member if it is not
// one: it checks cfg and the host (so a token is not spent on an agent that
// cannot start), makes the data dir, opens the local socket, then joins with
// cfg.JoinToken, or waits for `shoal join` on the socket, until ctx ends.
// It returns cfg with the cluster's members added to Join, and the socket,
// which serves for the agent's life: the caller Attaches the agent to it,
// and Closes it last. On error nothing is left open, nor a half bundle.
func Admit(ctx context.Context, cfg Config, deps Deps) (*LocalServer, Config, error) {
	full := cfg.WithDefaults()
	if err := full.Validate(); err != nil {
		return nil, cfg, err
	}
	if err := Preflight(full, deps.Host); err != nil {
		return nil, cfg, err
	}
	if _, err := loadAPICert(full.TLSCertFile, full.TLSKeyFile); err != nil {
		return nil, cfg, err
	}
	m, err := MembershipOf(full)
	if err != nil {
		return nil, cfg, err
	}
	if err := makeDataDir(full.DataDir); err != nil {
		return nil, cfg, err
	}
	local, err := ListenLocal(full.DataDir, full.Logger)
	if err != nil {
		return nil, cfg, err
	}
	j := joiner{full.clusterConfig().WithDefaults()}
	var reply LocalJoinReply
	switch m {
	case Member:
		return local, cfg, nil
	case JoinWithToken:
		reply, err = j.join(ctx, cfg.JoinToken, nil)
	case Blank:
		full.Logger.Info("this node has not joined a cluster: waiting for `shoal join --token TOKEN` on its socket",
			"socket", local.Path())
		reply, err = local.AwaitJoin(ctx, j.join)
	}
	if err != nil {
		return nil, cfg, errors.Join(fmt.Errorf("joining a cluster: %w", err), local.Close())
	}
	full.Logger.Info("joined a cluster: starting the node", "ca_fingerprint", reply.CAFingerprint,
		"gossip_peers", reply.GossipPeers)
	cfg.Join = slices.Clone(cfg.Join)
	for _, p := range reply.GossipPeers {
		if !slices.Contains(cfg.Join, p) {
			cfg.Join = append(cfg.Join, p)
		}
	}
	return local, cfg, nil
}

// joiner makes a node a member with a join token.
type joiner struct{ cfg cluster.Config }

// join trades token for this node's bundle, presenting it at addrs (members'
// API addresses) before the token's own. A refusal leaves no TLS dir behind
// when there was none: the node stays blank.
func (j joiner) join(ctx context.Context, token string, addrs []string) (LocalJoinReply, error) {
	dir := cluster.TLSDir(j.cfg.DataDir)
	_, err := os.Stat(dir)
	fresh := errors.Is(err, fs.ErrNotExist)
	peers, err := cluster.RequestJoin(ctx, cluster.JoinRequest{Token: token, Name: j.cfg.Name,
		BindAddr: j.cfg.BindAddr, AdvertiseAddr: j.cfg.AdvertiseAddr, DataDir: j.cfg.DataDir, Addrs: addrs})
	var b *pki.Bundle
	if err == nil {
		b, err = pki.Load(dir)
	}
	if err != nil {
		if fresh {
			err = errors.Join(err, os.RemoveAll(dir))
		}
		return LocalJoinReply{}, err
	}
	fp := b.CA.Fingerprint()
	return LocalJoinReply{Name: j.cfg.Name, CAFingerprint: hex.EncodeToString(fp[:]), GossipPeers: peers}, nil
}
