package main

import (
	"context"
	"fmt"

	"github.com/urfave/cli/v2"

	"github.com/shoal-project/shoal/api"
	"github.com/shoal-project/shoal/api/client"
)

func hostCommand() *cli.Command {
	return &cli.Command{
		Name:  "host",
		Usage: "inspect, enable, disable, drain, force down and evacuate compute hosts (Nova's services)",
		Subcommands: []*cli.Command{
			listCommand("list", "list hosts with their state (up|down) and status (enabled|disabled)",
				(*client.Client).Hosts, printHosts),
			{
				Name:      "disable",
				Usage:     "stop placing new servers on a host (its servers keep running)",
				ArgsUsage: "NAME",
				Flags:     []cli.Flag{&cli.StringFlag{Name: "reason", Usage: "why, shown in host list"}},
				Action: setHost(func(c *cli.Context, cl *client.Client, name string) (api.Host, error) {
					return cl.DisableHost(c.Context, name, c.String("reason"))
				}),
			},
			{
				Name:      "enable",
				Usage:     "place new servers on a host again",
				ArgsUsage: "NAME",
				Action: setHost(func(c *cli.Context, cl *client.Client, name string) (api.Host, error) {
					return cl.EnableHost(c.Context, name)
				}),
			},
			{
				Name:      "force-down",
				Usage:     "treat a host as down (Nova's forced_down): it gets no lease, fences itself, and its servers are evacuated",
				ArgsUsage: "NAME",
				Flags:     []cli.Flag{&cli.BoolFlag{Name: "unset", Usage: "clear forced_down: the host gets leases again"}},
				Action: setHost(func(c *cli.Context, cl *client.Client, name string) (api.Host, error) {
					return cl.ForceHostDown(c.Context, name, !c.Bool("unset"))
				}),
			},
			hostEvacuateCommand(),
			hostDrainCommand(),
			refCommand("remove", "remove a host from the cluster for good (Nova's service delete): its certificates are "+
				"refused by every node from then on, and coming back takes a new join token; refused while it has servers",
				operand{usage: "NAME", what: "host name"},
				func(cl *client.Client, ctx context.Context, name string) (string, error) {
					return name, cl.RemoveHost(ctx, name)
				}, printRemovedHost),
		},
	}
}

// setHost is enable, disable or force-down: do it to the one host named and
// print the host as it now is.
func setHost(do func(c *cli.Context, cl *client.Client, name string) (api.Host, error)) cli.ActionFunc {
	return func(c *cli.Context) error {
		name, err := oneArg(c, "host NAME")
		if err != nil {
			return err
		}
		return callAndPrint(c, func(cl *client.Client) (api.Host, error) { return do(c, cl, name) }, printHost)
	}
}

func printHost(o *output, h api.Host) error {
	if o.json {
		return o.printJSON(api.HostResponse{Host: h})
	}
	return printHosts(o, []api.Host{h})
}

func printHosts(o *output, hosts []api.Host) error {
	return printList(o, hosts, func(l []api.Host) any { return api.HostList{Hosts: l} },
		[]string{"NAME", "STATE", "STATUS", "FORCED DOWN", "HTTP ADDRESS", "REASON"},
		func(h api.Host) []string {
			return []string{h.Name, h.State, h.Status, yesNo(h.ForcedDown), h.HTTPAddress, h.DisabledReason}
		})
}

func hostEvacuateCommand() *cli.Command {
	return &cli.Command{
		Name:      "evacuate",
		Usage:     "rebuild every server of a down host elsewhere (refused while the host is up)",
		ArgsUsage: "NAME",
		Flags:     []cli.Flag{&cli.StringFlag{Name: "target", Usage: "the host to rebuild on (default: the scheduler picks)"}},
		Action: func(c *cli.Context) error {
			name, err := oneArg(c, "host NAME")
			if err != nil {
				return err
			}
			return callAndPrint(c, func(cl *client.Client) ([]api.ServerDetail, error) {
				return cl.EvacuateHost(c.Context, name, c.String("target"))
			}, printServers)
		},
	}
}

func printRemovedHost(o *output, name string) error {
	if o.json {
		return nil
	}
	_, err := fmt.Fprintf(o.w, "removed host %s: its certificates are revoked\n", name)
	return err
}
