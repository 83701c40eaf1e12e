// Package pki is the cluster's public key infrastructure: its CA, node
// certificates, the files under DATA_DIR/tls, the TLS configurations of every
// listener and dialer, and the sealing of gossip keys.
//
// Trust model (issue 11):
//   - One CA per cluster, ECDSA P-256, self-signed, made at bootstrap.
//   - Every node holds the CA key (0600), as every Incus member holds the
//     cluster key: nodes are symmetric, so whichever voter leads can sign node
//     certificates for joins and renewals. The key travels only inside the
//     join handshake, whose client pins the CA fingerprint from the token.
//   - A node certificate (ServerAuth+ClientAuth, 30 days by default) names the
//     node and InternalServerName; its key is made on the node and never
//     leaves it.
//   - Revocation is a deny-list held by the caller (the Raft replica): a peer
//     must chain to the CA and its serial must not be revoked, checked on every
//     handshake, resumed ones included. Deny rather than allow, so a node with
//     a stale replica still accepts a leader whose certificate it has not seen.
//   - A removed node keeps the CA key; distrusting it needs a CA rotation,
//     which is not built.
//   - Gossip keys are stored sealed (AES-256-GCM under a key derived from the
//     CA key), so only holders of the CA key can read them.
//
// The package imports no other project package.
package pki
