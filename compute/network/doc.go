// Package network keeps a host's data plane what the replica says: the one
// tenant network across hosts (routed, with an anycast gateway), floating
// IPs, egress NAT and security groups. It is the host's second reconciler,
// beside compute's (domains), and like it reads the FSM and never writes it.
//
// Three layers, so the rules are tested without a kernel:
//
//   - View (FromFSM): one consistent read of the replica (fsm.NetworkView)
//     plus the few facts only this host knows (its bridge and uplink).
//   - Plan: pure; the routes, proxy neighbours, floating IPs, external routes
//     (link.Desired) and the nftables ruleset (nft.Ruleset) one host should
//     hold. Golden table tests.
//   - Reconciler: plans on every replica change, every 10 s and whenever the
//     fence changes, and applies through a Dataplane (the kernel: package
//     link for netlink, package nft for nftables, /proc/sys for sysctls).
//
// DESIGN.md is the card: why routed, what VXLAN would add, and the
// invariants.
package network
