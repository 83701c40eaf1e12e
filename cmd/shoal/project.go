package main

import (
	"github.com/urfave/cli/v2"

	"github.com/shoal-project/shoal/api/client"
)

func projectCommand() *cli.Command {
	arg := operand{"PROJECT", "project ID or name"}
	enableFlags := []cli.Flag{
		&cli.BoolFlag{Name: "enable", Usage: "enable the project"},
		&cli.BoolFlag{Name: "disable", Usage: "disable the project (its tokens stop working)"},
	}
	return &cli.Command{
		Name:  "project",
		Usage: "manage projects (Keystone v3; admin only)",
		Subcommands: []*cli.Command{
			listCommand("list", "list projects", (*client.Client).Projects, printProjects),
			showCommand("show one project by ID or name", arg, (*client.Client).Project, printProject),
			{
				Name:      "create",
				Usage:     "create a project",
				ArgsUsage: "NAME",
				Flags:     append([]cli.Flag{&cli.StringFlag{Name: "description", Usage: "what the project is for"}}, enableFlags...),
				Action: func(c *cli.Context) error {
					name, err := oneArg(c, "NAME")
					if err != nil {
						return err
					}
					enabled, err := enableFlag(c)
					if err != nil {
						return err
					}
					return callAndPrint(c, func(cl *client.Client) (client.Project, error) {
						return cl.CreateProject(c.Context, client.ProjectCreate{Name: name, Description: c.String("description"), Enabled: enabled})
					}, printProject)
				},
			},
			{
				Name:      "set",
				Usage:     "change a project's name, description or enabled state",
				ArgsUsage: arg.usage,
				Flags: append([]cli.Flag{
					&cli.StringFlag{Name: "name", Usage: "new name"},
					&cli.StringFlag{Name: "description", Usage: "new description"},
				}, enableFlags...),
				Action: func(c *cli.Context) error {
					ref, err := oneArg(c, arg.what)
					if err != nil {
						return err
					}
					enabled, err := enableFlag(c)
					if err != nil {
						return err
					}
					u := client.ProjectUpdate{Name: stringFlag(c, "name"), Description: stringFlag(c, "description"), Enabled: enabled}
					return callAndPrint(c, func(cl *client.Client) (client.Project, error) {
						return cl.UpdateProject(c.Context, ref, u)
					}, printProject)
				},
			},
			deleteCommand("delete a project by ID or name", arg, "project", (*client.Client).DeleteProject),
		},
	}
}

// enableFlag reads --enable/--disable: nil when neither is given.
func enableFlag(c *cli.Context) (*bool, error) {
	on, off := c.Bool("enable"), c.Bool("disable")
	switch {
	case on && off:
		return nil, usageError(c, "--enable and --disable exclude each other")
	case on || off:
		return &on, nil
	}
	return nil, nil
}

// stringFlag is a string flag's value when it was given, else nil (unchanged).
func stringFlag(c *cli.Context, name string) *string {
	if !c.IsSet(name) {
		return nil
	}
	v := c.String(name)
	return &v
}

func printProjects(o *output, projects []client.Project) error {
	return printList(o, projects, func(l []client.Project) any { return map[string]any{"projects": l} },
		[]string{"ID", "NAME", "ENABLED", "DESCRIPTION"},
		func(p client.Project) []string { return []string{p.ID, p.Name, yesNo(p.Enabled), p.Description} })
}

func printProject(o *output, p client.Project) error {
	return o.printObject(map[string]any{"project": p}, [][]string{
		{"id", p.ID},
		{"name", p.Name},
		{"domain_id", p.DomainID},
		{"description", p.Description},
		{"enabled", yesNo(p.Enabled)},
	})
}
