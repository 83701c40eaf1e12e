package pki

import (
	"crypto/tls"
	"net"
	"testing"
	"time"
)

// BenchmarkIssue is the leader's cost of one join or renewal (the node makes
// its key itself).
func BenchmarkIssue(b *testing.B) {
	ca := newTestCA(b, "")
	key, err := NewKey()
	if err != nil {
		b.Fatal(err)
	}
	req := NodeRequest{Name: "n1", PublicKey: key.Public(), IPs: []net.IP{net.ParseIP("10.0.0.1")}}
	now := time.Now()
	for b.Loop() {
		if _, err := ca.Issue(req, now); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkHandshake is one new mutual TLS 1.3 connection between nodes
// over loopback (Raft and internal requests pay it per new connection).
func BenchmarkHandshake(b *testing.B) {
	ca := newTestCA(b, "")
	now := time.Now()
	server := NewIdentity(&Bundle{CA: ca, Node: newNode(b, ca, "a", now, 0)}, denied())
	client := NewIdentity(&Bundle{CA: ca, Node: newNode(b, ca, "b", now, 0)}, denied())
	ln, err := tls.Listen("tcp", "127.0.0.1:0", server.PeerServerTLS())
	if err != nil {
		b.Fatal(err)
	}
	done := make(chan struct{})
	b.Cleanup(func() { ln.Close(); <-done })
	go func() {
		defer close(done)
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			// The server's handshake finishes with the client's first
			// read, which waits for this byte.
			if conn.(*tls.Conn).Handshake() == nil {
				conn.Write([]byte{1})
			}
			conn.Close()
		}
	}()
	cfg := client.PeerClientTLS()
	buf := make([]byte, 1)
	for b.Loop() {
		conn, err := tls.Dial("tcp", ln.Addr().String(), cfg)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := conn.Read(buf); err != nil {
			b.Fatal(err)
		}
		conn.Close()
	}
}
