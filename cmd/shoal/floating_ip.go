package main

import (
	"github.com/urfave/cli/v2"

	"github.com/shoal-project/shoal/api"
	"github.com/shoal-project/shoal/api/client"
)

func floatingIPCommand() *cli.Command {
	arg := operand{"FLOATING_IP", "floating IP ID or address"}
	return &cli.Command{
		Name:  "floating-ip",
		Usage: "manage floating IPs (addresses of an external network, attached with `server add floating-ip`)",
		Subcommands: []*cli.Command{
			{
				Name:  "create",
				Usage: "allocate a floating IP to the current project",
				Flags: []cli.Flag{
					&cli.StringFlag{Name: "network", Required: true, Usage: "the external network's name or ID"},
				},
				Action: func(c *cli.Context) error {
					if err := noArgs(c); err != nil {
						return err
					}
					return callAndPrint(c, func(cl *client.Client) (api.FloatingIP, error) {
						return cl.CreateFloatingIP(c.Context, c.String("network"))
					}, printFloatingIP)
				},
			},
			listCommand("list", "list the current project's floating IPs", (*client.Client).FloatingIPs, printFloatingIPs),
			showCommand("show one floating IP by ID or address", arg, (*client.Client).FloatingIP, printFloatingIP),
			deleteCommand("release a floating IP by ID or address (detached first when attached)", arg, "floating IP",
				(*client.Client).DeleteFloatingIP),
		},
	}
}

func printFloatingIPs(o *output, fips []api.FloatingIP) error {
	return printList(o, fips, func(l []api.FloatingIP) any { return api.FloatingIPList{FloatingIPs: l} },
		[]string{"ID", "FLOATING IP", "FIXED IP", "SERVER", "NETWORK"},
		func(f api.FloatingIP) []string {
			return []string{f.ID, f.IP, f.FixedIP, f.ServerID, f.Network}
		})
}

func printFloatingIP(o *output, f api.FloatingIP) error {
	return o.printObject(api.FloatingIPResponse{FloatingIP: f}, [][]string{
		{"id", f.ID},
		{"ip", f.IP},
		{"network", f.Network},
		{"server_id", f.ServerID},
		{"fixed_ip", f.FixedIP},
		{"project_id", f.ProjectID},
		{"created", timestamp(f.Created)},
	})
}
