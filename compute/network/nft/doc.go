// Package nft programs this host's packet filter and NAT with nftables,
// through netlink (github.com/google/nftables), never by running `nft`.
//
// Each node owns two tables, both named TableFor(node) ("shoal-n1"), and
// nothing else:
//
//   - table inet: 1:1 NAT for floating IPs (DNAT in prerouting and output
//     by the map fip-dnat, SNAT in postrouting by fip-snat), SNAT to the
//     tenant gateway of flows DNATed back into the tenant network (hairpin),
//     SNAT of the rest of the tenant network to the uplink address
//     (postrouting-uplink, after every node's postrouting), DNAT of this
//     node's guests' (set guests) 169.254.169.254:80 to its metadata service
//     on the gateway, and the stateful security groups on the forward and
//     input hooks (every port may reach the metadata service, before and
//     after DNAT). Bridged traffic reaches these hooks through br_netfilter
//     (bridge-nf-call-iptables=1), so one rule set covers same-host, routed
//     and DNATed traffic alike.
//   - table bridge: stateless anti-spoofing per guest tap (the bridge family
//     has no conntrack on this kernel, so state lives in inet).
//
// Tables per node, not per host, because nodes may share a network
// namespace (a development cluster on one machine): each node's tables
// match only its own ports, every other packet passes them, and base chains
// of several tables compose (a drop in any drops). Apply and Remove touch
// only the tables they are named.
//
// Because anti-spoofing ties each fixed IP to its tap, the groups key on
// fixed IPs: membership is a set per group (sg-<id>), and ports are found by
// the verdict maps egress and ingress (fixed IP → per-port chain).
//
// Apply is declarative and idempotent: it computes the desired tables from a
// Ruleset (pure, see build*.go), reads what the kernel holds (read.go),
// diffs the two (diff.go, pure) and sends only the difference in one atomic
// batch (kernel.go). Set and map elements change one by one, so a
// membership change rewrites no chain; chains whose rules changed are
// flushed and refilled.
// Names derive only from tap names and group IDs, never from user text.
package nft
