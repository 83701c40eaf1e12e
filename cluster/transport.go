package cluster

import (
	"context"
	"crypto/tls"
	"net"
	"time"

	"github.com/hashicorp/raft"
)

// tlsStreamLayer is raft's stream layer over mutual TLS: both ends present
// a node certificate of the cluster CA that the replica has not revoked. The
// listener is ours (port 0 works, the advertised address is ours to choose).
// An accepted connection's handshake runs on its first read, in the
// transport's own goroutine, so a peer that never finishes one holds up no
// other.
type tlsStreamLayer struct {
	ln     net.Listener // already wrapped by tls.NewListener
	adv    net.Addr
	client *tls.Config
}

func newTLSStreamLayer(ln net.Listener, adv net.Addr, server, client *tls.Config) *tlsStreamLayer {
	return &tlsStreamLayer{ln: tls.NewListener(ln, server), adv: adv, client: client}
}

func (t *tlsStreamLayer) Accept() (net.Conn, error) { return t.ln.Accept() }
func (t *tlsStreamLayer) Close() error              { return t.ln.Close() }
func (t *tlsStreamLayer) Addr() net.Addr            { return t.adv }

// Dial connects and completes the handshake within timeout, so a peer that
// refuses this node's certificate (or presents one it must refuse) fails the
// dial, not a later RPC.
func (t *tlsStreamLayer) Dial(addr raft.ServerAddress, timeout time.Duration) (net.Conn, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	d := tls.Dialer{NetDialer: &net.Dialer{}, Config: t.client}
	return d.DialContext(ctx, "tcp", string(addr))
}
