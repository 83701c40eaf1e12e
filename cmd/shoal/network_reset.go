package main

import (
	"errors"
	"fmt"

	"github.com/urfave/cli/v2"

	shoalagent "github.com/shoal-project/shoal/cmd/shoal/agent"
	"github.com/shoal-project/shoal/compute/network"
	"github.com/shoal-project/shoal/compute/network/link"
)

// networkResetCommand takes a stopped node's data plane away from this
// machine's network namespace: its recorded floating IPs and its nftables
// tables (network.Reset) and, with --routes, every route of protocol 250.
// The agent leaves them in place when it stops (its guests keep running);
// whoever destroys the guests with it (scripts/local-cluster.sh down, a
// test's cleanup) runs this afterwards. Hidden: it is plumbing, not a user
// command.
func networkResetCommand() *cli.Command {
	return &cli.Command{
		Name:   "network-reset",
		Usage:  "remove a stopped node's floating IPs and nftables tables from this host (run as root)",
		Hidden: true,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "name", Required: true, Usage: "the node's name"},
			&cli.StringFlag{Name: "data-dir", Value: shoalagent.DefaultDataDir, Usage: "the node's data dir (its floating IP record)"},
			&cli.BoolFlag{Name: "routes", Usage: "also delete every route of protocol 250, whichever node made it " +
				"(only when no other shoal node runs in this namespace)"},
		},
		Action: func(c *cli.Context) error {
			removed, err := network.Reset(c.String("name"), c.String("data-dir"))
			if c.Bool("routes") {
				r, rerr := link.RemoveRoutes()
				removed, err = append(removed, r...), errors.Join(err, rerr)
			}
			for _, r := range removed {
				fmt.Fprintln(c.App.Writer, r)
			}
			return err
		},
	}
}
