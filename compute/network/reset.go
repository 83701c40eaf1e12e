package network

import (
	"errors"
	"fmt"

	"github.com/shoal-project/shoal/compute/network/link"
	"github.com/shoal-project/shoal/compute/network/nft"
)

// Reset takes away what node programmed in this network namespace and
// what is node's alone: the floating IPs its record (in dataDir) names,
// then its nftables tables, NAT and filters, in that order (an address
// never stays without its NAT). Other nodes sharing the namespace keep
// theirs. It returns what it removed.
//
// It is for when node's guests are gone or going: the fence guard once the
// agent's lease has run out, and `shoal network-reset` when a cluster is
// taken down. The agent never calls it on shutdown: guests keep running
// without their agent, and so must their filters. Routes and proxy
// neighbours stay (they are shared by the nodes of one namespace; see
// link.RemoveRoutes), and so do the sysctls.
func Reset(node, dataDir string) ([]string, error) {
	removed, err := link.WithdrawOwned(stateFile(dataDir))
	table := nft.TableFor(node)
	if terr := nft.Remove(table); terr != nil {
		err = errors.Join(err, terr)
	} else {
		removed = append(removed, fmt.Sprintf("-tables %s", table))
	}
	return removed, err
}
