package network

import (
	"errors"

	"github.com/shoal-project/shoal/compute/network/link"
	"github.com/shoal-project/shoal/compute/network/nft"
)

// The functions here take away what one node programmed in this network
// namespace and what is that node's alone, leaving other nodes sharing the
// namespace theirs. They are for when the node's guests are gone or going:
// the fence guard once the agent's lease has run out, and `shoal
// network-reset` when a cluster is taken down. The agent never calls them
// on shutdown: guests keep running without their agent, and so must their
// filters. Routes and proxy neighbours stay (the nodes of one namespace
// share them; see link.RemoveRoutes), and so do the sysctls.

// WithdrawFloating takes the floating IPs node recorded in dataDir
// (link.StateFile) off the host and empties the record; it returns what it
// removed.
func WithdrawFloating(dataDir string) ([]string, error) {
	return link.WithdrawOwned(stateFile(dataDir))
}

// RemoveTables deletes node's nftables tables: its NAT and its filters.
func RemoveTables(node string) error { return nft.Remove(nft.TableFor(node)) }

// Reset is WithdrawFloating, then RemoveTables (an address never stays
// without its NAT). It returns what it removed.
func Reset(node, dataDir string) ([]string, error) {
	removed, err := WithdrawFloating(dataDir)
	if terr := RemoveTables(node); terr != nil {
		return removed, errors.Join(err, terr)
	}
	return append(removed, "-tables "+nft.TableFor(node)), err
}
