package cluster_test

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/shoal-project/shoal/cluster"
	"github.com/shoal-project/shoal/cluster/clustertest"
	"github.com/shoal-project/shoal/cluster/pki"
	"github.com/shoal-project/shoal/fsm"
	"github.com/shoal-project/shoal/internal/testkit"
)

// identityOf is node nd's TLS identity as its data dir holds it: what a
// thief of that directory would have.
func identityOf(t *testing.T, nd *clustertest.Node) *pki.Identity {
	t.Helper()
	b, err := pki.Load(cluster.TLSDir(nd.Config.DataDir))
	if err != nil {
		t.Fatalf("loading %s's bundle: %v", nd.Name(), err)
	}
	return pki.NewIdentity(b, func(string) bool { return false })
}

// strangerIdentity is a node certificate of a CA no cluster trusts.
func strangerIdentity(t *testing.T) *pki.Identity {
	t.Helper()
	ca, err := pki.NewCA("stranger", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	key, err := pki.NewKey()
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := ca.Issue(pki.NodeRequest{Name: "stranger", PublicKey: key.Public(), IPs: []net.IP{net.IPv4(127, 0, 0, 1)}}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	cert, err := pki.NodeCertificate(leaf.Raw, key, ca)
	if err != nil {
		t.Fatal(err)
	}
	return pki.NewIdentity(&pki.Bundle{CA: ca, Node: cert, GossipKeys: [][]byte{make([]byte, 32)}}, nil)
}

// internalGet asks a node's internal read-index endpoint with cfg's TLS.
func internalGet(addr string, cfg *tls.Config, header http.Header) (int, error) {
	hc := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: cfg}}
	req, _ := http.NewRequest(http.MethodGet, "https://"+addr+"/internal/v1/read-index", nil)
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := hc.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode, nil
}

func TestInternalEndpointsTakeOnlyNodeCertificates(t *testing.T) {
	c, leader := newFormed(t, nil)
	addr := c.Nodes[leader].HTTPAddr()
	member := identityOf(t, c.Nodes[(leader+1)%3])
	noCert := member.PeerClientTLS().Clone()
	noCert.GetClientCertificate = nil
	tests := []struct {
		name   string
		cfg    *tls.Config
		header http.Header
		want   int // 0: the handshake fails
	}{
		{"a member's certificate", member.PeerClientTLS(), nil, http.StatusOK},
		{"no certificate, the admin's token", noCert, http.Header{"X-Auth-Token": {"anything"}}, http.StatusForbidden},
		{"no certificate", noCert, nil, http.StatusForbidden},
		{"a certificate of another CA", strangerIdentity(t).PeerClientTLS(), nil, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := tt.cfg
			if tt.want == 0 {
				// It trusts our server, so only its own certificate fails.
				cfg = cfg.Clone()
				cfg.RootCAs = member.PeerClientTLS().RootCAs
			}
			got, err := internalGet(addr, cfg, tt.header)
			if tt.want == 0 {
				if err == nil {
					t.Fatalf("status %d with a foreign certificate, want a failed handshake", got)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("status %d, %v; want %d", got, err, tt.want)
			}
		})
	}
}

// TestRaftNeedsANodeCertificate: a TLS client without a node certificate of
// the cluster, or with one of another CA, gets no Raft RPC answered.
func TestRaftNeedsANodeCertificate(t *testing.T) {
	c, leader := newFormed(t, nil)
	target := c.Nodes[(leader+1)%3]
	before := target.FSM().Index()
	member := identityOf(t, c.Nodes[leader])
	noCert := member.PeerClientTLS().Clone()
	noCert.GetClientCertificate = nil
	foreign := strangerIdentity(t).PeerClientTLS().Clone()
	foreign.RootCAs = member.PeerClientTLS().RootCAs
	for name, cfg := range map[string]*tls.Config{"no certificate": noCert, "another CA": foreign} {
		t.Run(name, func(t *testing.T) {
			conn, err := tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", target.RaftAddr(), cfg)
			if err != nil {
				return // refused in the handshake
			}
			defer conn.Close()
			_ = conn.SetDeadline(time.Now().Add(5 * time.Second))
			// A raft RPC type byte and a msgpack body: the server must
			// close the connection without reading it as raft.
			_, _ = conn.Write([]byte{0, 0x80})
			if n, err := conn.Read(make([]byte, 64)); err == nil {
				t.Fatalf("read %d bytes from raft without a node certificate", n)
			}
		})
	}
	// The genuine article still works, and nothing changed state.
	createFlavor(t, c.Nodes[leader], "after-strangers")
	waitFlavor(t, target, "after-strangers")
	if target.FSM().Index() <= before {
		t.Fatalf("index did not move: %d", target.FSM().Index())
	}
}

func TestJoinTokenRefusals(t *testing.T) {
	c, leader := newFormed(t, nil)
	l := c.Nodes[leader]
	ctx, cancel := context.WithTimeout(context.Background(), settle)
	defer cancel()
	join := func(token, name string) error {
		_, err := cluster.RequestJoin(ctx, cluster.JoinRequest{Token: token, Name: name, BindAddr: "127.0.0.1",
			DataDir: t.TempDir()})
		return err
	}
	once, _, err := l.CreateJoinToken(ctx, time.Hour, 1, "test")
	if err != nil {
		t.Fatal(err)
	}
	if err := join(once, "first"); err != nil {
		t.Fatalf("first use: %v", err)
	}
	revoked, rec, err := l.CreateJoinToken(ctx, time.Hour, 1, "test")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := l.Apply(ctx, &fsm.RevokeJoinToken{ID: rec.ID}); err != nil {
		t.Fatal(err)
	}
	expired, _, err := l.CreateJoinToken(ctx, time.Millisecond, 1, "test")
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(5 * time.Millisecond) // past its expiry (a refusal, not a timing assertion)
	tests := []struct {
		name, token, want string
		sentinel          error
	}{
		{"reused", once, "already used", fsm.ErrUnauthorized},
		{"revoked", revoked, "revoked", fsm.ErrUnauthorized},
		{"expired", expired, "expired", fsm.ErrUnauthorized},
		{"malformed", "shoaljoin1_AAAA", "", fsm.ErrInvalid},
		{"missing", "", "", fsm.ErrInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			_, err := cluster.RequestJoin(ctx, cluster.JoinRequest{Token: tt.token, Name: "n-" + strings.ReplaceAll(tt.name, " ", ""),
				BindAddr: "127.0.0.1", DataDir: dir, Addrs: []string{l.HTTPAddr()}})
			if err == nil {
				t.Fatal("joined")
			}
			if tt.sentinel != nil && !errors.Is(err, tt.sentinel) {
				t.Errorf("err = %v, want %v", err, tt.sentinel)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want it to say %q", err, tt.want)
			}
			if _, err := os.Stat(cluster.TLSDir(dir)); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("a refused join left %s behind (%v)", cluster.TLSDir(dir), err)
			}
		})
	}
	for _, m := range l.Members() {
		if m.Name != "first" && strings.HasPrefix(m.Name, "n-") {
			t.Errorf("refused node %s is a member", m.Name)
		}
	}
}

// TestStrangerNeverAppearsInMembers: a node of another cluster (its own CA
// and gossip key) that joins through our gossip port is refused, and no
// member ever lists it.
func TestStrangerNeverAppearsInMembers(t *testing.T) {
	c, leader := newFormed(t, nil)
	stranger := clustertest.New(t, 1, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	if err := stranger.Nodes[0].Join(ctx, []string{c.Nodes[leader].GossipAddr()}); err == nil {
		t.Fatal("a node of another cluster joined our gossip")
	}
	for _, nd := range c.Nodes {
		for _, m := range nd.Members() {
			if m.Name == stranger.Nodes[0].Name() && m.Address == stranger.Nodes[0].GossipAddr() {
				t.Fatalf("%s lists the stranger: %+v", nd.Name(), m)
			}
		}
	}
}

func TestRemovedHostsCertificateIsRefused(t *testing.T) {
	c, leader := newFormed(t, nil)
	gone := (leader + 1) % 3
	stolen := identityOf(t, c.Nodes[gone])
	name := c.Nodes[gone].Name()
	if code, err := internalGet(c.Nodes[leader].HTTPAddr(), stolen.PeerClientTLS(), nil); err != nil || code != 200 {
		t.Fatalf("before removal: %d, %v", code, err)
	}
	c.Stop(gone)
	ctx, cancel := context.WithTimeout(context.Background(), settle)
	defer cancel()
	if err := c.Nodes[leader].RemoveHost(ctx, name); err != nil {
		t.Fatalf("remove host: %v", err)
	}
	for i, nd := range c.Nodes {
		if i == gone {
			continue
		}
		testkit.WaitFor(t, settle, nd.Name()+" to refuse "+name+"'s certificate", func() bool {
			code, err := internalGet(nd.HTTPAddr(), stolen.PeerClientTLS(), nil)
			return err != nil || code == http.StatusForbidden
		})
		conn, err := tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", nd.RaftAddr(), stolen.PeerClientTLS())
		if err == nil {
			_ = conn.SetDeadline(time.Now().Add(5 * time.Second))
			_, _ = conn.Write([]byte{0})
			_, err = conn.Read(make([]byte, 1))
			conn.Close()
		}
		if err == nil {
			t.Errorf("%s's raft port answered a removed node's certificate", nd.Name())
		}
	}
	// Started again from its data dir, it stays out.
	c.Start(gone)
	testkit.WaitFor(t, settle, "the removed node alive in gossip again", func() bool {
		for _, m := range c.Nodes[leader].Members() {
			if m.Name == name && m.Status == "alive" {
				return true
			}
		}
		return false
	})
	// A window for a wrong readmission to happen in (several reconciles).
	time.Sleep(2 * time.Second)
	for _, m := range c.Nodes[leader].Members() {
		if m.Name == name && m.Role != "none" {
			t.Fatalf("removed node is back in raft as %s", m.Role)
		}
	}
	if _, err := c.Nodes[leader].FSM().Host(name); !errors.Is(err, fsm.ErrNotFound) {
		t.Fatalf("removed node's host record is back: %v", err)
	}
}
