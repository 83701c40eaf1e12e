package main

import (
	"fmt"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/shoal-project/shoal/api"
	"github.com/shoal-project/shoal/fsm"
)

func serverGroupCommand() *cli.Command {
	return &cli.Command{
		Name:  "server-group",
		Usage: "manage server groups ((anti-)affinity of servers)",
		Subcommands: []*cli.Command{
			{
				Name:      "create",
				Usage:     "create a server group",
				ArgsUsage: "NAME",
				Flags: []cli.Flag{
					&cli.StringFlag{Name: "policy", Required: true, Usage: "affinity, anti-affinity, soft-affinity or soft-anti-affinity"},
				},
				Action: func(c *cli.Context) error {
					if c.NArg() != 1 {
						return usageError(c, "server-group create needs one NAME")
					}
					o, err := outputFor(c)
					if err != nil {
						return err
					}
					g, err := apiClient(c).CreateServerGroup(c.Context, c.Args().First(), c.String("policy"))
					if err != nil {
						return err
					}
					return printGroup(o, g)
				},
			},
			{
				Name:  "list",
				Usage: "list server groups",
				Action: func(c *cli.Context) error {
					if c.NArg() > 0 {
						return usageError(c, "server-group list takes no arguments")
					}
					o, err := outputFor(c)
					if err != nil {
						return err
					}
					groups, err := apiClient(c).ServerGroups(c.Context)
					if err != nil {
						return err
					}
					return printGroups(o, groups)
				},
			},
			{
				Name:      "show",
				Usage:     "show one server group by ID or name",
				ArgsUsage: "GROUP",
				Action: func(c *cli.Context) error {
					if c.NArg() != 1 {
						return usageError(c, "server-group show needs one group ID or name")
					}
					o, err := outputFor(c)
					if err != nil {
						return err
					}
					g, err := apiClient(c).ServerGroup(c.Context, c.Args().First())
					if err != nil {
						return err
					}
					return printGroup(o, g)
				},
			},
			{
				Name:      "delete",
				Usage:     "delete a server group by ID or name (its servers stay)",
				ArgsUsage: "GROUP",
				Action: func(c *cli.Context) error {
					if c.NArg() != 1 {
						return usageError(c, "server-group delete needs one group ID or name")
					}
					o, err := outputFor(c)
					if err != nil {
						return err
					}
					ref := c.Args().First()
					if err := apiClient(c).DeleteServerGroup(c.Context, ref); err != nil {
						return err
					}
					if o.json {
						return nil // the API answers 204 with no body
					}
					_, err = fmt.Fprintf(o.w, "deleted server group %s\n", ref)
					return err
				},
			},
		},
	}
}

func printGroups(o *output, groups []fsm.ServerGroup) error {
	if groups == nil {
		groups = []fsm.ServerGroup{}
	}
	if o.json {
		return o.printJSON(api.ServerGroupList{ServerGroups: groups})
	}
	rows := make([][]string, 0, len(groups))
	for _, g := range groups {
		rows = append(rows, []string{g.ID, g.Name, g.Policy, strings.Join(g.Members, ", ")})
	}
	return o.table([]string{"ID", "NAME", "POLICY", "MEMBERS"}, rows)
}

func printGroup(o *output, g fsm.ServerGroup) error {
	if o.json {
		if g.Members == nil {
			g.Members = []string{}
		}
		return o.printJSON(api.ServerGroupResponse{ServerGroup: g})
	}
	return o.table([]string{"FIELD", "VALUE"}, [][]string{
		{"id", g.ID},
		{"name", g.Name},
		{"policy", g.Policy},
		{"members", strings.Join(g.Members, ", ")},
		{"created", timestamp(g.Created)},
	})
}
