package cluster

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/hashicorp/raft"
	raftboltdb "github.com/hashicorp/raft-boltdb/v2"

	"github.com/shoal-project/shoal/cluster/pki"
)

func (n *Node) setupRaft() error {
	cfg := n.cfg
	dir := filepath.Join(cfg.DataDir, "raft")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("raft dir: %w", err)
	}
	store, err := raftboltdb.New(raftboltdb.Options{Path: filepath.Join(dir, "raft.db")})
	if err != nil {
		return fmt.Errorf("raft store: %w", err)
	}
	n.store = store
	hlog := newHCLogger(n.log, "raft")
	snaps, err := raft.NewFileSnapshotStoreWithLogger(dir, 3, hlog)
	if err != nil {
		return fmt.Errorf("snapshot store: %w", err)
	}
	has, err := raft.HasExistingState(store, store, snaps)
	if err != nil {
		return fmt.Errorf("raft state: %w", err)
	}
	bundle, err := n.loadBundle(has)
	if err != nil {
		return err
	}
	n.tls = pki.NewIdentity(bundle, n.fsm.NodeCertRevoked)
	n.gossipKeys = bundle.GossipKeys
	bind := net.JoinHostPort(cfg.BindAddr, strconv.Itoa(cfg.RaftPort))
	ln, err := net.Listen("tcp", bind)
	if err != nil {
		return fmt.Errorf("raft listener: %w", err)
	}
	adv := &net.TCPAddr{IP: net.ParseIP(cfg.AdvertiseAddr), Port: ln.Addr().(*net.TCPAddr).Port}
	stream := newTLSStreamLayer(ln, adv, n.tls.PeerServerTLS(), n.tls.PeerClientTLS())
	n.transport = raft.NewNetworkTransportWithLogger(stream, 5, 10*time.Second, hlog)

	rc := raft.DefaultConfig()
	rc.LocalID = raft.ServerID(cfg.Name)
	rc.Logger = hlog
	rc.HeartbeatTimeout = cfg.HeartbeatTimeout
	rc.ElectionTimeout = cfg.ElectionTimeout
	rc.LeaderLeaseTimeout = cfg.HeartbeatTimeout / 2
	rc.SnapshotThreshold = cfg.SnapshotThreshold
	rc.SnapshotInterval = cfg.SnapshotInterval
	rc.TrailingLogs = cfg.TrailingLogs
	rc.NotifyCh = n.leaderCh

	if !has && cfg.Bootstrap {
		if cfg.Bootstrapping != nil {
			id, err := cfg.Bootstrapping(n.HTTPAddr())
			if err != nil {
				return fmt.Errorf("bootstrap: %w", err)
			}
			n.identity = id
		}
		conf := raft.Configuration{Servers: []raft.Server{{
			Suffrage: raft.Voter, ID: rc.LocalID, Address: n.transport.LocalAddr(),
		}}}
		if err := raft.BootstrapCluster(rc, store, store, snaps, n.transport, conf); err != nil {
			return fmt.Errorf("bootstrap: %w", err)
		}
		n.log.Info("bootstrapped a new cluster")
	} else if has && cfg.Bootstrap {
		n.log.Info("raft state found; not bootstrapping again")
	}
	r, err := raft.NewRaft(rc, raftFSM{n.fsm}, store, store, snaps, n.transport)
	if err != nil {
		return fmt.Errorf("raft: %w", err)
	}
	n.raft = r
	return nil
}

// hasState reports whether this node has ever been part of a Raft cluster.
func (n *Node) hasState() bool {
	return n.raft.LastIndex() > 0
}
