package nft

import (
	"crypto/sha256"
	"encoding/hex"
)

// TableName is the name of both of shoal's tables (inet and bridge).
const TableName = "shoal"

// Chain and set names. Every per-port or per-group name is built here from a
// tap name (validated by validIfname) or a group ID, never from user text.
const (
	chainPrerouting  = "prerouting"  // inet nat: DNAT floating → fixed
	chainOutput      = "output"      // inet nat: the same for the host's own traffic
	chainPostrouting = "postrouting" // inet nat: SNAT fixed → floating, else → uplink
	chainForward     = "forward"     // inet filter and bridge filter
	chainInput       = "input"       // inet filter and bridge filter

	mapFIPDNAT = "fip-dnat" // floating IP → fixed IP
	mapFIPSNAT = "fip-snat" // fixed IP → floating IP
	mapEgress  = "egress"   // port IP → jump eg-<tap>
	mapIngress = "ingress"  // port IP → jump in-<tap>
	mapPorts   = "ports"    // bridge: tap name → jump port-<tap>
)

func egressChain(tap string) string  { return "eg-" + tap }
func ingressChain(tap string) string { return "in-" + tap }
func portChain(tap string) string    { return "port-" + tap }

// groupSet names the set of a group's members. Group IDs are UUIDs or
// derived from one; an ID that is not a short plain token is hashed, so a
// name is always safe, bounded and still one-to-one in practice.
func groupSet(id string) string {
	if len(id) <= 64 && plainToken(id) {
		return "sg-" + id
	}
	sum := sha256.Sum256([]byte(id))
	return "sgh-" + hex.EncodeToString(sum[:12])
}

func plainToken(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range []byte(s) {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}
