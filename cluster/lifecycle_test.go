package cluster_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"errors"
	"net"
	"testing"
	"time"

	"github.com/shoal-project/shoal/cluster"
	"github.com/shoal-project/shoal/cluster/pki"
	"github.com/shoal-project/shoal/fsm"
	"github.com/shoal-project/shoal/internal/testkit"
)

// servedSerial is the serial of the node certificate a node serves now.
func servedSerial(t *testing.T, addr string, cfg *tls.Config) string {
	t.Helper()
	conn, err := tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", addr, cfg)
	if err != nil {
		t.Fatalf("dialing %s: %v", addr, err)
	}
	defer conn.Close()
	return pki.SerialOf(conn.ConnectionState().PeerCertificates[0])
}

// TestCertificatesRenewWithoutRestart: with a short certificate life every
// node renews its own at two thirds of it, serves the new one, and the
// cluster keeps working after the first certificates expired.
func TestCertificatesRenewWithoutRestart(t *testing.T) {
	const ttl = 4 * time.Second
	c, leader := newFormed(t, func(cfg *cluster.Config) { cfg.CertTTL = ttl })
	ask := identityOf(t, c.Nodes[leader]).PeerClientTLS()
	first := map[string]string{}
	for _, nd := range c.Nodes {
		first[nd.Name()] = servedSerial(t, nd.RaftAddr(), ask)
	}
	// The first certificates expire after ttl; wait well past it.
	deadline := time.Now().Add(2 * ttl)
	for _, nd := range c.Nodes {
		testkit.WaitFor(t, 3*ttl, nd.Name()+" to serve a renewed certificate", func() bool {
			return servedSerial(t, nd.RaftAddr(), ask) != first[nd.Name()] && time.Now().After(deadline)
		})
	}
	// Through a follower: forwarding, Raft. An election while the write
	// commits (a busy machine) is a true answer, not a failure of renewal:
	// the write is retried until the flavor is there or settle runs out.
	via := c.Nodes[(leader+1)%3]
	testkit.WaitFor(t, settle, "a write through "+via.Name()+" after renewal", func() bool {
		ctx, cancel := context.WithTimeout(context.Background(), settle)
		defer cancel()
		_, err := via.Apply(ctx, &fsm.CreateFlavor{Flavor: fsm.Flavor{ID: "after-renewal", Name: "after-renewal", VCPUs: 1, RAM: 64, Disk: 1}})
		if err != nil && !errors.Is(err, fsm.ErrUnavailable) && !errors.Is(err, fsm.ErrConflict) {
			t.Fatalf("create flavor after renewal through %s: %v", via.Name(), err)
		}
		_, err = via.FSM().Flavor("after-renewal")
		return err == nil
	})
	for _, nd := range c.Nodes {
		waitFlavor(t, nd, "after-renewal")
		b, err := pki.Load(cluster.TLSDir(nd.Config.DataDir))
		if err != nil || pki.SerialOf(b.Node.Leaf) == first[nd.Name()] {
			t.Fatalf("%s's saved certificate was not renewed (%v)", nd.Name(), err)
		}
	}
}

// TestGossipKeyRotation rotates the key with the cluster up: every node
// ends with only the new key, on disk too, and gossip never stopped.
func TestGossipKeyRotation(t *testing.T) {
	c, leader := newFormed(t, nil)
	ctx, cancel := context.WithTimeout(context.Background(), settle)
	defer cancel()
	before, err := pki.Load(cluster.TLSDir(c.Nodes[0].Config.DataDir))
	if err != nil {
		t.Fatal(err)
	}
	id, err := c.Nodes[(leader+1)%3].RotateGossipKey(ctx)
	if err != nil {
		t.Fatalf("rotate: %v", err)
	}
	for _, nd := range c.Nodes {
		testkit.WaitFor(t, settle, nd.Name()+" to hold only the new key", func() bool {
			b, err := pki.Load(cluster.TLSDir(nd.Config.DataDir))
			return err == nil && len(b.GossipKeys) == 1 && pki.GossipKeyID(b.GossipKeys[0]) == id
		})
	}
	if bytes.Equal(before.GossipKeys[0], mustLoad(t, c.Nodes[0].Config.DataDir).GossipKeys[0]) {
		t.Fatal("the key did not change")
	}
	keys, primary := c.Nodes[leader].FSM().GossipKeys()
	if len(keys) != 1 || primary != id {
		t.Fatalf("raft keyring = %d keys, primary %s; want only %s", len(keys), primary, id)
	}
	waitFormed(t, c, 3, 0)
	// A node restarted after the rotation starts with the new key it saved.
	c.Stop(2)
	c.Start(2)
	waitFormed(t, c, 3, 0)
}

func mustLoad(t *testing.T, dir string) *pki.Bundle {
	t.Helper()
	b, err := pki.Load(cluster.TLSDir(dir))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestHostileTrafficChangesNothing throws garbage at every port of every
// node: gossip (TCP and UDP), Raft and HTTPS. No node crashes, none changes
// state, and the cluster still commits writes.
func TestHostileTrafficChangesNothing(t *testing.T) {
	c, leader := newFormed(t, nil)
	waitFlavor(t, c.Nodes[0], "m1.tiny")
	// Every node registers itself as a host; count them once all have (a
	// node registering late read as "garbage added a host").
	hosts := len(c.Nodes)
	testkit.WaitFor(t, settle, "every node registered as a host", func() bool {
		return len(c.Nodes[leader].FSM().Hosts()) == hosts
	})
	junk := make([]byte, 4096)
	for _, nd := range c.Nodes {
		for _, addr := range []string{nd.GossipAddr(), nd.RaftAddr(), nd.HTTPAddr()} {
			for round := 0; round < 20; round++ {
				_, _ = rand.Read(junk)
				size := 1 + round*200
				if conn, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
					_ = conn.SetDeadline(time.Now().Add(time.Second))
					_, _ = conn.Write(junk[:size])
					_, _ = conn.Read(make([]byte, 512))
					conn.Close()
				}
				if conn, err := net.Dial("udp", addr); err == nil {
					_, _ = conn.Write(junk[:min(size, 1400)])
					conn.Close()
				}
			}
		}
	}
	waitFormed(t, c, 3, 0)
	for _, nd := range c.Nodes {
		if got := len(nd.FSM().Hosts()); got != hosts {
			t.Errorf("%s has %d hosts after the garbage, want %d", nd.Name(), got, hosts)
		}
		if got := len(nd.Members()); got != 3 {
			t.Errorf("%s lists %d members after the garbage, want 3", nd.Name(), got)
		}
	}
	createFlavor(t, c.Nodes[leader], "after-garbage")
	for _, nd := range c.Nodes {
		waitFlavor(t, nd, "after-garbage")
	}
}
