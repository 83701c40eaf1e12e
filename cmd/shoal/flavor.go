package main

import (
	"fmt"
	"strconv"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/shoal-project/shoal/api"
	"github.com/shoal-project/shoal/fsm"
)

func flavorCommand() *cli.Command {
	return &cli.Command{
		Name:  "flavor",
		Usage: "manage flavors, the hardware templates of servers",
		Subcommands: []*cli.Command{
			{
				Name:  "list",
				Usage: "list flavors",
				Action: func(c *cli.Context) error {
					if c.NArg() > 0 {
						return usageError(c, "flavor list takes no arguments")
					}
					o, err := outputFor(c)
					if err != nil {
						return err
					}
					flavors, err := apiClient(c).Flavors(c.Context)
					if err != nil {
						return err
					}
					return printFlavors(o, flavors)
				},
			},
			{
				Name:      "show",
				Usage:     "show one flavor by ID or name",
				ArgsUsage: "REF",
				Action: func(c *cli.Context) error {
					if c.NArg() != 1 {
						return usageError(c, "flavor show needs one flavor ID or name")
					}
					o, err := outputFor(c)
					if err != nil {
						return err
					}
					f, err := apiClient(c).Flavor(c.Context, c.Args().First())
					if err != nil {
						return err
					}
					return printFlavor(o, f)
				},
			},
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
					if c.NArg() != 1 {
						return usageError(c, "flavor create needs one NAME")
					}
					o, err := outputFor(c)
					if err != nil {
						return err
					}
					f, err := apiClient(c).CreateFlavor(c.Context, c.Args().First(),
						c.Int("vcpus"), c.Int("ram"), c.Int("disk"), c.String("id"))
					if err != nil {
						return err
					}
					return printFlavor(o, f)
				},
			},
			{
				Name:      "delete",
				Usage:     "delete a flavor by ID or name",
				ArgsUsage: "REF",
				Action: func(c *cli.Context) error {
					if c.NArg() != 1 {
						return usageError(c, "flavor delete needs one flavor ID or name")
					}
					o, err := outputFor(c)
					if err != nil {
						return err
					}
					ref := c.Args().First()
					if err := apiClient(c).DeleteFlavor(c.Context, ref); err != nil {
						return err
					}
					if o.json {
						return nil // the API answers 204 with no body
					}
					_, err = fmt.Fprintf(o.w, "deleted flavor %s\n", ref)
					return err
				},
			},
		},
	}
}

func printFlavors(o *output, flavors []fsm.Flavor) error {
	if flavors == nil {
		flavors = []fsm.Flavor{}
	}
	if o.json {
		return o.printJSON(api.FlavorList{Flavors: flavors})
	}
	rows := make([][]string, 0, len(flavors))
	for _, f := range flavors {
		rows = append(rows, []string{f.ID, f.Name, strconv.Itoa(f.VCPUs), strconv.Itoa(f.RAM), strconv.Itoa(f.Disk)})
	}
	return o.table([]string{"ID", "NAME", "VCPUS", "RAM", "DISK"}, rows)
}

func printFlavor(o *output, f fsm.Flavor) error {
	if o.json {
		return o.printJSON(api.FlavorResponse{Flavor: f})
	}
	return o.table([]string{"FIELD", "VALUE"}, [][]string{
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
