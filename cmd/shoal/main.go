// Command shoal is the one binary of a shoal cluster: `shoal agent` runs a node,
// every other command is a client of a node's HTTP API.
package main

import (
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strings"

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
	var (
		apiErr   *client.Error
		unknown  x509.UnknownAuthorityError
		hostname x509.HostnameError
	)
	switch {
	case errors.As(err, &apiErr) && apiErr.Status == http.StatusUnauthorized:
		return "the node wants a valid token: `source` an openrc (the bootstrap node writes DATA_DIR/admin-openrc) " +
			"or give --os-auth-url and the user's credentials, or --token"
	case errors.As(err, &apiErr) && apiErr.Status == http.StatusBadRequest && apiErr.Kind == "" &&
		strings.Contains(apiErr.Message, "HTTP request to an HTTPS server"): // Go's server says so, not shoal's API
		return "the node speaks HTTPS only: give --addr (SHOAL_ADDR) and --os-auth-url (OS_AUTH_URL) as https:// URLs, " +
			"or `source` a fresh admin-openrc"
	case errors.As(err, &unknown):
		return "the node's certificate is not trusted: `source` the admin-openrc (it sets OS_CACERT) " +
			"or pass --os-cacert DATA_DIR/tls/ca.crt"
	case errors.As(err, &hostname):
		return "the node's certificate does not name the host in --addr: address the node by a name or IP " +
			"its certificate holds (a node's own certificate holds its node name, its addresses and 127.0.0.1)"
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
			&cli.StringFlag{Name: "addr", Value: "https://127.0.0.1:8774", EnvVars: []string{"SHOAL_ADDR"},
				Usage: "HTTPS address of any shoal node's API (a bare host:port means https)"},
			&cli.StringFlag{Name: "output", Aliases: []string{"o"}, Value: "table", Usage: "output format: table|json"},
		}, authFlags()...),
		Commands: []*cli.Command{
			agentCommand(),
			fenceGuardCommand(),
			networkResetCommand(),
			joinCommand(),
			leaveCommand(),
			membersCommand(),
			clusterCommand(),
			flavorCommand(),
			hostCommand(),
			benchCommand(),
			hypervisorCommand(),
			serverCommand(),
			migrationCommand(),
			imageCommand(),
			serverGroupCommand(),
			networkCommand(),
			floatingIPCommand(),
			securityGroupCommand(),
			keyPairCommand(),
			tokenCommand(),
			projectCommand(),
			userCommand(),
			roleCommand(),
			quotaCommand(),
			limitsCommand(),
		},
	}
}
