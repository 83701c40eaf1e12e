package main

import (
	"strconv"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/shoal-project/shoal/api"
	"github.com/shoal-project/shoal/api/client"
	"github.com/shoal-project/shoal/fsm"
)

func flavorCommand() *cli.Command {
	arg := operand{"REF", "flavor ID or name"}
	return &cli.Command{
		Name:  "flavor",
		Usage: "manage flavors, the hardware templates of servers",
		Subcommands: []*cli.Command{
			listCommand("list", "list flavors", (*client.Client).Flavors, printFlavors),
			showCommand("show one flavor by ID or name", arg, (*client.Client).Flavor, printFlavor),
			{
				Name:      "create",
				Usage:     "create a flavor",
				ArgsUsage: "NAME",
				// Defaults are those of `openstack flavor create`.
				Flags: []cli.Flag{
					&cli.IntFlag{Name: "vcpus", Value: 1, Usage: "virtual CPUs"},
					&cli.IntFlag{Name: "ram", Value: 256, Usage: "memory in MiB"},
					&cli.IntFlag{Name: "disk", Value: 0, Usage: "root disk in GiB"},
					&cli.StringFlag{Name: "id", Usage: "flavor ID (default: a generated UUID)"},
				},
				Action: func(c *cli.Context) error {
					name, err := oneArg(c, "NAME")
					if err != nil {
						return err
					}
					return callAndPrint(c, func(cl *client.Client) (fsm.Flavor, error) {
						return cl.CreateFlavor(c.Context, name, c.Int("vcpus"), c.Int("ram"), c.Int("disk"), c.String("id"))
					}, printFlavor)
				},
			},
			deleteCommand("delete a flavor by ID or name", arg, "flavor", (*client.Client).DeleteFlavor),
		},
	}
}

func printFlavors(o *output, flavors []fsm.Flavor) error {
	return printList(o, flavors, func(l []fsm.Flavor) any { return api.FlavorList{Flavors: l} },
		[]string{"ID", "NAME", "VCPUS", "RAM", "DISK"},
		func(f fsm.Flavor) []string {
			return []string{f.ID, f.Name, strconv.Itoa(f.VCPUs), strconv.Itoa(f.RAM), strconv.Itoa(f.Disk)}
		})
}

func printFlavor(o *output, f fsm.Flavor) error {
	return o.printObject(api.FlavorResponse{Flavor: f}, [][]string{
		{"id", f.ID},
		{"name", f.Name},
		{"vcpus", strconv.Itoa(f.VCPUs)},
		{"ram", strconv.Itoa(f.RAM) + " MiB"},
		{"disk", strconv.Itoa(f.Disk) + " GiB"},
		{"created", f.Created.Format(time.RFC3339)},
		{"create_index", strconv.FormatUint(f.CreateIndex, 10)},
		{"modify_index", strconv.FormatUint(f.ModifyIndex, 10)},
	})
}
