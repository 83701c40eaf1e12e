package main

import (
	"github.com/urfave/cli/v2"

	"github.com/shoal-project/shoal/api"
	"github.com/shoal-project/shoal/api/client"
)

func hostCommand() *cli.Command {
	return &cli.Command{
		Name:  "host",
		Usage: "inspect, enable and disable compute hosts (Nova's services)",
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
			{
				Name:      "disable",
				Usage:     "stop placing new servers on a host (its servers keep running)",
				ArgsUsage: "NAME",
				Flags:     []cli.Flag{&cli.StringFlag{Name: "reason", Usage: "why, shown in host list"}},
				Action: func(c *cli.Context) error {
					return setHost(c, func(cl *client.Client, name string) (api.Host, error) {
						return cl.DisableHost(c.Context, name, c.String("reason"))
					})
				},
			},
			{
				Name:      "enable",
				Usage:     "place new servers on a host again",
				ArgsUsage: "NAME",
				Action: func(c *cli.Context) error {
					return setHost(c, func(cl *client.Client, name string) (api.Host, error) {
						return cl.EnableHost(c.Context, name)
					})
				},
			},
		},
	}
}

// setHost runs enable or disable on the one host named and prints it.
func setHost(c *cli.Context, do func(cl *client.Client, name string) (api.Host, error)) error {
	if c.NArg() != 1 {
		return usageError(c, "host "+c.Command.Name+" needs one host NAME")
	}
	o, err := outputFor(c)
	if err != nil {
		return err
	}
	h, err := do(apiClient(c), c.Args().First())
	if err != nil {
		return err
	}
	if o.json {
		return o.printJSON(api.HostResponse{Host: h})
	}
	return printHosts(o, []api.Host{h})
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
