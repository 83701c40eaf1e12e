package nft

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
)

// Table names. Each node has its own pair of tables, one name for both
// (inet and bridge), so nodes that share a network namespace (a
// development cluster on one machine) never delete each other's filters:
// base chains of several tables compose (a packet a chain drops is gone; an
// accept ends only its own chain), and so do NAT chains (see build_inet.go).
const (
	tablePrefix       = "shoal-"  // + the node's name when it is plain and short
	hashedTablePrefix = "shoalx-" // + a digest of any other name
	maxTableName      = 64
)

// TableFor is the name of node's tables: "shoal-" and its name when that is
// made of letters, digits, '-', '_' and '.' and short enough, else
// "shoalx-" and a digest of it (node names are free text). The two forms
// cannot collide: the hashed one's prefix is not "shoal-".
func TableFor(node string) string {
	if len(tablePrefix)+len(node) <= maxTableName && tableToken(node) {
		return tablePrefix + node
	}
	sum := sha256.Sum256([]byte(node))
	return hashedTablePrefix + hex.EncodeToString(sum[:8])
}

// validTable accepts the names TableFor makes, and only names that start
// with "shoal": Apply and Remove never touch a table that is not shoal's.
func validTable(name string) bool {
	return len(name) <= maxTableName && strings.HasPrefix(name, "shoal") && tableToken(name)
}

// tableToken accepts what `nft` parses as a table name without quoting.
func tableToken(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range []byte(s) {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			return false
		}
	}
	return true
}

// Chain and set names. Every per-port or per-group name is built here from a
// tap name (validated by validIfname) or a group ID, never from user text.
const (
	chainPrerouting  = "prerouting"         // inet nat: DNAT floating → fixed
	chainOutput      = "output"             // inet nat: the same for the host's own traffic
	chainPostrouting = "postrouting"        // inet nat: SNAT fixed → floating
	chainUplinkSNAT  = "postrouting-uplink" // inet nat, after every postrouting: SNAT the rest → uplink
	chainForward     = "forward"            // inet filter and bridge filter
	chainInput       = "input"              // inet filter and bridge filter

	mapFIPDNAT = "fip-dnat" // floating IP → fixed IP
	mapFIPSNAT = "fip-snat" // fixed IP → floating IP
	mapEgress  = "egress"   // port IP → jump eg-<tap>
	mapIngress = "ingress"  // port IP → jump in-<tap>
	mapPorts   = "ports"    // bridge: tap name → jump port-<tap>
	setGuests  = "guests"   // this node's port IPs: whose metadata requests its table DNATs
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
