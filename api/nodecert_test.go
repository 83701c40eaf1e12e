package api

import (
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/shoal-project/shoal/cluster/pki"
)

// testCA is one cluster CA shared by the tests (they only issue from it).
var testCA = sync.OnceValue(func() *pki.CA {
	ca, err := pki.NewCA("api-test", time.Now())
	if err != nil {
		panic(err)
	}
	return ca
})

// nodeIdentity is node name's TLS identity under ca: a fresh key and a
// certificate for it, as a join gives a node. revoked is not asked: the
// API's own check against the replica is what these tests prove.
func nodeIdentity(t *testing.T, ca *pki.CA, name string) *pki.Identity {
	t.Helper()
	key, err := pki.NewKey()
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := ca.Issue(pki.NodeRequest{Name: name, PublicKey: key.Public(), TTL: time.Hour}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	cert, err := pki.NodeCertificate(leaf.Raw, key, ca)
	if err != nil {
		t.Fatal(err)
	}
	return pki.NewIdentity(&pki.Bundle{CA: ca, Node: cert}, nil)
}

// nodeServer serves h as a node's HTTPS listener does (HTTPServerTLS): a
// client asking for pki.InternalServerName gets the node certificate, the
// others (call, with ts.Client(), sends no server name) httptest's own; a
// client certificate is verified when one is given.
func nodeServer(t *testing.T, h http.Handler, id *pki.Identity) *httptest.Server {
	t.Helper()
	ts := httptest.NewUnstartedServer(h)
	ts.TLS = id.HTTPServerTLS(nil)
	ts.Config.ErrorLog = log.New(io.Discard, "", 0) // handshakes refused on purpose
	ts.StartTLS()
	t.Cleanup(ts.Close)
	return ts
}

// nodeClient is what cluster.Node.InternalClient is: it dials other nodes
// as id, with its certificate, and trusts only the cluster CA.
func nodeClient(t *testing.T, id *pki.Identity) *http.Client {
	tr := &http.Transport{TLSClientConfig: id.PeerClientTLS()}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr}
}
