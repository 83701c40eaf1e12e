package main

import (
	"github.com/urfave/cli/v2"

	"github.com/shoal-project/shoal/api"
	"github.com/shoal-project/shoal/api/client"
)

func hostCommand() *cli.Command {
	return &cli.Command{
		Name:  "host",
		Usage: "inspect, enable, disable, force down and evacuate compute hosts (Nova's services)",
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
			{
				Name:      "force-down",
				Usage:     "treat a host as down (Nova's forced_down): it gets no lease, fences itself, and its servers are evacuated",
				ArgsUsage: "NAME",
				Flags:     []cli.Flag{&cli.BoolFlag{Name: "unset", Usage: "clear forced_down: the host gets leases again"}},
				Action: func(c *cli.Context) error {
					return setHost(c, func(cl *client.Client, name string) (api.Host, error) {
						return cl.ForceHostDown(c.Context, name, !c.Bool("unset"))
					})
				},
			},
			hostEvacuateCommand(),
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
		rows = append(rows, []string{h.Name, h.State, h.Status, yesNo(h.ForcedDown), h.HTTPAddress, h.DisabledReason})
	}
	return o.table([]string{"NAME", "STATE", "STATUS", "FORCED DOWN", "HTTP ADDRESS", "REASON"}, rows)
}

func hostEvacuateCommand() *cli.Command {
	return &cli.Command{
		Name:      "evacuate",
		Usage:     "rebuild every server of a down host elsewhere (refused while the host is up)",
		ArgsUsage: "NAME",
		Flags:     []cli.Flag{&cli.StringFlag{Name: "target", Usage: "the host to rebuild on (default: the scheduler picks)"}},
		Action: func(c *cli.Context) error {
			if c.NArg() != 1 {
				return usageError(c, "host evacuate needs one host NAME")
			}
			o, err := outputFor(c)
			if err != nil {
				return err
			}
			servers, err := apiClient(c).EvacuateHost(c.Context, c.Args().First(), c.String("target"))
			if err != nil {
				return err
			}
			return printServers(o, servers)
		},
	}
}
