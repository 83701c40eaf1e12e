package main

import (
	"fmt"

	"github.com/urfave/cli/v2"

	"github.com/shoal-project/shoal/api/client"
)

func roleCommand() *cli.Command {
	arg := operand{"ROLE", "role ID or name"}
	grantFlags := []cli.Flag{
		&cli.StringFlag{Name: "project", Required: true, Usage: "project (ID or name)"},
		&cli.StringFlag{Name: "user", Required: true, Usage: "user (ID or name)"},
	}
	grant := func(name, usage, done string, call func(*client.Client, *cli.Context, string) error) *cli.Command {
		return &cli.Command{
			Name: name, Usage: usage, ArgsUsage: arg.usage, Flags: grantFlags,
			Action: func(c *cli.Context) error {
				role, err := oneArg(c, arg.what)
				if err != nil {
					return err
				}
				o, err := outputFor(c)
				if err != nil {
					return err
				}
				if err := call(apiClient(c), c, role); err != nil {
					return err
				}
				if o.json {
					return nil // the API answers 204, no body
				}
				_, err = fmt.Fprintf(o.w, "%s role %s: user %s on project %s\n", done, role, c.String("user"), c.String("project"))
				return err
			},
		}
	}
	return &cli.Command{
		Name:  "role",
		Usage: "manage roles and who holds them (Keystone v3; admin only)",
		Subcommands: []*cli.Command{
			listCommand("list", "list roles", (*client.Client).Roles, printRoles),
			showCommand("show one role by ID or name", arg, (*client.Client).Role, printRole),
			refCommand("create", "create a role", operand{"NAME", "NAME"}, (*client.Client).CreateRole, printRole),
			deleteCommand("delete a role by ID or name (its assignments go with it)", arg, "role", (*client.Client).DeleteRole),
			grant("add", "give a user a role on a project", "added", func(cl *client.Client, c *cli.Context, role string) error {
				return cl.AddRole(c.Context, c.String("project"), c.String("user"), role)
			}),
			grant("remove", "take a role on a project away from a user", "removed", func(cl *client.Client, c *cli.Context, role string) error {
				return cl.RemoveRole(c.Context, c.String("project"), c.String("user"), role)
			}),
			{
				Name:  "assignment",
				Usage: "who holds which role where",
				Subcommands: []*cli.Command{{
					Name:  "list",
					Usage: "list role assignments",
					Flags: []cli.Flag{
						&cli.StringFlag{Name: "user", Usage: "only this user's (ID or name)"},
						&cli.StringFlag{Name: "project", Usage: "only on this project (ID or name)"},
					},
					Action: func(c *cli.Context) error {
						if err := noArgs(c); err != nil {
							return err
						}
						f := client.AssignmentFilter{User: c.String("user"), Project: c.String("project")}
						return callAndPrint(c, func(cl *client.Client) ([]client.RoleAssignment, error) {
							return cl.RoleAssignments(c.Context, f)
						}, printAssignments)
					},
				}},
			},
		},
	}
}

func printRoles(o *output, roles []client.Role) error {
	return printList(o, roles, func(l []client.Role) any { return map[string]any{"roles": l} },
		[]string{"ID", "NAME"}, func(r client.Role) []string { return []string{r.ID, r.Name} })
}

func printRole(o *output, r client.Role) error {
	return o.printObject(map[string]any{"role": r}, [][]string{{"id", r.ID}, {"name", r.Name}})
}

// printAssignments shows IDs, as `openstack role assignment list` does.
func printAssignments(o *output, l []client.RoleAssignment) error {
	return printList(o, l, func(l []client.RoleAssignment) any { return map[string]any{"role_assignments": l} },
		[]string{"ROLE", "USER", "PROJECT"},
		func(a client.RoleAssignment) []string { return []string{a.Role.ID, a.User.ID, a.Scope.Project.ID} })
}
