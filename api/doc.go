// Package api is shoal's native HTTP API (/v1). Any node serves it: reads come
// from the local replica and carry the Raft index they reflect in X-Shoal-Index;
// writes are validated here, stamped with IDs and times, and committed through
// the Cluster interface, which forwards them to the leader when needed.
// ?consistent=true routes a read through the leader after a barrier.
//
// The package sees the node only through the State and Cluster interfaces it
// declares (backend.go), so it is tested against a real fsm.FSM without Raft.
// Every error leaves as {"error":{"code":N,"title":"...","kind":"...","message":"..."}}
// (Keystone's shape plus the kind), its status taken from one table (errors.go). Package client is the Go client of
// this API.
//
// Two words collide here: router.go is the HTTP server (the Server type, its
// routes and middleware), while servers.go and server_actions.go handle
// Nova's servers, the instances.
package api
