package main

import (
	"fmt"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/shoal-project/shoal/api"
	"github.com/shoal-project/shoal/api/client"
	"github.com/shoal-project/shoal/fsm"
)

func networkCommand() *cli.Command {
	arg := operand{"NETWORK", "network ID or name"}
	return &cli.Command{
		Name:  "network",
		Usage: "manage networks (the tenant network, and external networks for floating IPs)",
		Subcommands: []*cli.Command{
			{
				Name:      "create",
				Usage:     "create an external network (admin only)",
				ArgsUsage: "NAME",
				Flags: []cli.Flag{
					&cli.BoolFlag{Name: "external", Usage: "an external network: floating IPs come from its pools (required: the tenant network is made at bootstrap)"},
					&cli.StringFlag{Name: "cidr", Required: true, Usage: "the network's IPv4 CIDR, e.g. 10.66.0.0/24"},
					&cli.StringFlag{Name: "gateway", Required: true, Usage: "the network's gateway, inside the CIDR"},
					&cli.StringSliceFlag{Name: "allocation-pool", Usage: "start=IP,end=IP: where floating IPs come from (repeat for more)"},
				},
				Action: func(c *cli.Context) error {
					name, err := oneArg(c, "NAME")
					if err != nil {
						return err
					}
					pools, err := parsePools(c.StringSlice("allocation-pool"))
					if err != nil {
						return usageError(c, err.Error())
					}
					req := api.NetworkCreate{Name: name, External: c.Bool("external"), CIDR: c.String("cidr"),
						Gateway: c.String("gateway"), AllocationPools: pools}
					return callAndPrint(c, func(cl *client.Client) (api.Network, error) {
						return cl.CreateNetwork(c.Context, req)
					}, printNetwork)
				},
			},
			listCommand("list", "list networks", (*client.Client).Networks, printNetworks),
			showCommand("show one network by ID or name", arg, (*client.Client).Network, printNetwork),
			deleteCommand("delete an external network by ID or name (admin only; refused while it has floating IPs)",
				arg, "network", (*client.Client).DeleteNetwork),
		},
	}
}

// parsePools reads --allocation-pool start=A,end=B flags, as openstack's
// `subnet create` takes them.
func parsePools(flags []string) ([]fsm.IPRange, error) {
	var pools []fsm.IPRange
	for _, f := range flags {
		var p fsm.IPRange
		for _, kv := range strings.Split(f, ",") {
			k, v, ok := strings.Cut(strings.TrimSpace(kv), "=")
			switch {
			case ok && k == "start" && p.Start == "":
				p.Start = v
			case ok && k == "end" && p.End == "":
				p.End = v
			default:
				return nil, fmt.Errorf("--allocation-pool %q must be start=IP,end=IP", f)
			}
		}
		if p.Start == "" || p.End == "" {
			return nil, fmt.Errorf("--allocation-pool %q must be start=IP,end=IP", f)
		}
		pools = append(pools, p)
	}
	return pools, nil
}

func printNetworks(o *output, networks []api.Network) error {
	return printList(o, networks, func(l []api.Network) any { return api.NetworkList{Networks: l} },
		[]string{"ID", "NAME", "EXTERNAL", "CIDR", "GATEWAY", "ALLOCATION POOLS"},
		func(n api.Network) []string {
			return []string{n.ID, n.Name, yesNo(n.External), n.CIDR, n.Gateway, pools(n.AllocationPools)}
		})
}

func printNetwork(o *output, n api.Network) error {
	if n.AllocationPools == nil {
		n.AllocationPools = []fsm.IPRange{}
	}
	return o.printObject(api.NetworkResponse{Network: n}, [][]string{
		{"id", n.ID},
		{"name", n.Name},
		{"external", yesNo(n.External)},
		{"cidr", n.CIDR},
		{"gateway", n.Gateway},
		{"allocation_pools", pools(n.AllocationPools)},
		{"project_id", n.ProjectID},
		{"created", timestamp(n.Created)},
	})
}

// pools shows allocation pools as openstack does: start-end, comma separated.
func pools(ps []fsm.IPRange) string {
	parts := make([]string, len(ps))
	for k, p := range ps {
		parts[k] = p.Start + "-" + p.End
	}
	return strings.Join(parts, ", ")
}
