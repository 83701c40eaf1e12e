package cluster

import (
	"encoding/json"
	"net/http"

	"github.com/shoal-project/shoal/cluster/pki"
)

// internalURL is the URL of an internal endpoint on the node at addr
// (host:port). Internal requests always go over TLS with this node's
// certificate: the server takes nothing else.
func internalURL(addr, path string) string { return "https://" + addr + path }

// InternalClient reaches other nodes' HTTPS port as this node: it presents
// the node certificate (renewals included) and trusts only a node
// certificate of the cluster CA that is not revoked. Write forwarding uses
// it; so do the API's hops to other nodes and the image cache's fetches.
func (n *Node) InternalClient() *http.Client { return n.fwd.client }

// requireNode serves h only to a peer that presented a node certificate of
// this cluster's CA that the replica has not revoked. A user's token, even
// the admin's, does not open these endpoints. The handshake already refused
// a revoked certificate; asking again per request cuts off a connection
// that was opened before the revocation.
func (n *Node) requireNode(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, serial, ok := pki.NodePeer(r.TLS); !ok || n.fsm.NodeCertRevoked(serial) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusForbidden)
			_ = json.NewEncoder(w).Encode(map[string]any{"error": map[string]any{
				"code": http.StatusForbidden, "kind": "forbidden",
				"message": "internal endpoints take only a node certificate of this cluster",
			}})
			return
		}
		h.ServeHTTP(w, r)
	})
}

// handler is everything the node's HTTPS listener serves: the internal
// endpoints behind requireNode (the API's own ones among them, such as the
// image data other nodes fetch) and public (the API) for the rest.
func (n *Node) handler(public http.Handler) http.Handler {
	internal := http.NewServeMux()
	n.fwd.register(internal)
	internal.HandleFunc("POST "+leasePath, n.serveLease)
	internal.HandleFunc("POST "+certPath, n.serveCert)
	if public != nil {
		internal.Handle("/internal/", public)
	}
	mux := http.NewServeMux()
	mux.Handle("/internal/", n.requireNode(internal))
	mux.HandleFunc("POST "+admitPath, n.serveAdmit)
	if public != nil {
		mux.Handle("/", public)
	}
	return mux
}
