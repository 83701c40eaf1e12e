// Command shoal is the one binary of a shoal cluster: `shoal agent` runs a node,
// every other command is a client of a node's HTTP API.
package main

import (
	"errors"
	"fmt"
	"net/http"
	"os"

	"github.com/urfave/cli/v2"

	"github.com/shoal-project/shoal/api/client"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "0.1.0-dev"

func main() {
	app := newApp()
	if err := app.Run(reorderArgs(app, os.Args)); err != nil {
		fmt.Fprintln(os.Stderr, "shoal:", err)
		if hint := hintFor(err); hint != "" {
			fmt.Fprintln(os.Stderr, "shoal:", hint)
		}
		os.Exit(1)
	}
}

// hintFor says what to do about err, when the fix is the user's to make.
func hintFor(err error) string {
	if apiErr := (*client.Error)(nil); errors.As(err, &apiErr) && apiErr.Status == http.StatusUnauthorized {
		return "the node wants a valid token: `source` an openrc (the bootstrap node writes DATA_DIR/admin-openrc) " +
			"or give --os-auth-url and the user's credentials, or --token"
	}
	return ""
}

func newApp() *cli.App {
	return &cli.App{
		Name:                 "shoal",
		Usage:                "a compute service in one binary: gossip, Raft, scheduler and libvirt on every host",
		Version:              version,
		EnableBashCompletion: true,
		// --property k=v may carry commas in its value.
		DisableSliceFlagSeparator: true,
		Flags: append([]cli.Flag{
			&cli.StringFlag{Name: "addr", Value: "http://127.0.0.1:8774", EnvVars: []string{"SHOAL_ADDR"}, Usage: "HTTP address of any shoal node"},
			&cli.StringFlag{Name: "output", Aliases: []string{"o"}, Value: "table", Usage: "output format: table|json"},
		}, authFlags()...),
		Commands: []*cli.Command{
			agentCommand(),
			fenceGuardCommand(),
			joinCommand(),
			leaveCommand(),
			membersCommand(),
			flavorCommand(),
			hostCommand(),
			benchCommand(),
			hypervisorCommand(),
			serverCommand(),
			imageCommand(),
			serverGroupCommand(),
			tokenCommand(),
			projectCommand(),
			userCommand(),
			roleCommand(),
			quotaCommand(),
			limitsCommand(),
		},
	}
}
