package main

import (
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/shoal-project/shoal/api"
	"github.com/shoal-project/shoal/api/client"
	"github.com/shoal-project/shoal/fsm"
)

func serverGroupCommand() *cli.Command {
	arg := operand{"GROUP", "group ID or name"}
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
					name, err := oneArg(c, "NAME")
					if err != nil {
						return err
					}
					return callAndPrint(c, func(cl *client.Client) (fsm.ServerGroup, error) {
						return cl.CreateServerGroup(c.Context, name, c.String("policy"))
					}, printGroup)
				},
			},
			listCommand("list", "list server groups", (*client.Client).ServerGroups, printGroups),
			showCommand("show one server group by ID or name", arg, (*client.Client).ServerGroup, printGroup),
			deleteCommand("delete a server group by ID or name (its servers stay)", arg, "server group",
				(*client.Client).DeleteServerGroup),
		},
	}
}

func printGroups(o *output, groups []fsm.ServerGroup) error {
	return printList(o, groups, func(l []fsm.ServerGroup) any { return api.ServerGroupList{ServerGroups: l} },
		[]string{"ID", "NAME", "POLICY", "MEMBERS"},
		func(g fsm.ServerGroup) []string {
			return []string{g.ID, g.Name, g.Policy, strings.Join(g.Members, ", ")}
		})
}

func printGroup(o *output, g fsm.ServerGroup) error {
	if g.Members == nil {
		g.Members = []string{} // JSON shows an empty group's members as [], never null
	}
	return o.printObject(api.ServerGroupResponse{ServerGroup: g}, [][]string{
		{"id", g.ID},
		{"name", g.Name},
		{"policy", g.Policy},
		{"members", strings.Join(g.Members, ", ")},
		{"created", timestamp(g.Created)},
	})
}
