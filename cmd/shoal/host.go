package main

import (
	"github.com/urfave/cli/v2"

	"github.com/shoal-project/shoal/api"
)

func hostCommand() *cli.Command {
	return &cli.Command{
		Name:  "host",
		Usage: "inspect compute hosts (Nova's services)",
		Subcommands: []*cli.Command{
			{
				Name:  "list",
				Usage: "list hosts with their state (up|down) and status (enabled|disabled)",
				Action: func(c *cli.Context) error {
					if c.NArg() > 0 {
						return usageError(c, "host list takes no arguments")
					}
					o, err := outputFor(c)
					if err != nil {
						return err
					}
					hosts, err := apiClient(c).Hosts(c.Context)
					if err != nil {
						return err
					}
					return printHosts(o, hosts)
				},
			},
		},
	}
}

func printHosts(o *output, hosts []api.Host) error {
	if hosts == nil {
		hosts = []api.Host{}
	}
	if o.json {
		return o.printJSON(api.HostList{Hosts: hosts})
	}
	rows := make([][]string, 0, len(hosts))
	for _, h := range hosts {
		rows = append(rows, []string{h.Name, h.State, h.Status, h.HTTPAddress, h.DisabledReason})
	}
	return o.table([]string{"NAME", "STATE", "STATUS", "HTTP ADDRESS", "REASON"}, rows)
}
