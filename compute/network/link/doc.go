// Package link programs the kernel side of shoal's routed tenant network
// through netlink (github.com/vishvananda/netlink), never by running ip:
//
//   - a /32 route (protocol 250) via the peer's underlay address for every
//     instance that runs on another host, and a proxy neighbour (NTF_PROXY)
//     for it on the tenant bridge, so local guests' ARP for it is answered by
//     the bridge (the anycast gateway) and the packet is routed;
//   - the floating IPs of this host's servers as /32 addresses on the uplink,
//     announced by gratuitous ARP when they arrive, and an on-link route to
//     each external network's CIDR on the uplink.
//
// It owns only what it can recognise as its own: routes of protocol 250,
// the floating IPs its node recorded in its state file (StateFile) before
// adding them, and proxy neighbours on the bridge. Everything else on the
// host is left as it is, other nodes' floating IPs in the same namespace
// included.
//
// Everything happens in the network namespace of the calling thread; an
// agent's threads all share the host's, and tests lock a thread into a
// throwaway namespace.
package link
