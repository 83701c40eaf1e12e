package main

import (
	"bufio"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/shoal-project/shoal/api/client"
)

func userCommand() *cli.Command {
	arg := operand{"USER", "user ID or name"}
	passwordFlags := []cli.Flag{
		&cli.StringFlag{Name: "password", Usage: "the password (seen by ps and shell history: prefer --password-prompt)"},
		&cli.BoolFlag{Name: "password-prompt", Usage: "read the password from standard input"},
	}
	enableFlags := []cli.Flag{
		&cli.BoolFlag{Name: "enable", Usage: "enable the user"},
		&cli.BoolFlag{Name: "disable", Usage: "disable the user (their tokens stop working)"},
	}
	return &cli.Command{
		Name:  "user",
		Usage: "manage users (Keystone v3; admin only)",
		Subcommands: []*cli.Command{
			listCommand("list", "list users", (*client.Client).Users, printUsers),
			showCommand("show one user by ID or name", arg, (*client.Client).User, printUser),
			{
				Name:      "create",
				Usage:     "create a user",
				ArgsUsage: "NAME",
				Flags: append(append([]cli.Flag{
					&cli.StringFlag{Name: "project", Usage: "default project (ID or name)"},
				}, passwordFlags...), enableFlags...),
				Action: func(c *cli.Context) error {
					name, err := oneArg(c, "NAME")
					if err != nil {
						return err
					}
					enabled, err := enableFlag(c)
					if err != nil {
						return err
					}
					password, err := passwordFlag(c)
					if err != nil {
						return err
					}
					u := client.UserCreate{Name: name, Enabled: enabled}
					if password != nil {
						u.Password = *password
					}
					return callAndPrint(c, func(cl *client.Client) (client.User, error) {
						if ref := c.String("project"); ref != "" {
							p, err := cl.Project(c.Context, ref)
							if err != nil {
								return client.User{}, err
							}
							u.DefaultProjectID = p.ID
						}
						return cl.CreateUser(c.Context, u)
					}, printUser)
				},
			},
			{
				Name:      "set",
				Usage:     "change a user's name, password, default project or enabled state",
				ArgsUsage: arg.usage,
				Flags: append(append([]cli.Flag{
					&cli.StringFlag{Name: "name", Usage: "new name"},
					&cli.StringFlag{Name: "project", Usage: "new default project (ID or name)"},
				}, passwordFlags...), enableFlags...),
				Action: func(c *cli.Context) error {
					ref, err := oneArg(c, arg.what)
					if err != nil {
						return err
					}
					enabled, err := enableFlag(c)
					if err != nil {
						return err
					}
					password, err := passwordFlag(c)
					if err != nil {
						return err
					}
					u := client.UserUpdate{Name: stringFlag(c, "name"), Password: password, Enabled: enabled}
					return callAndPrint(c, func(cl *client.Client) (client.User, error) {
						if ref := c.String("project"); ref != "" {
							p, err := cl.Project(c.Context, ref)
							if err != nil {
								return client.User{}, err
							}
							u.DefaultProjectID = &p.ID
						}
						return cl.UpdateUser(c.Context, ref, u)
					}, printUser)
				},
			},
			deleteCommand("delete a user by ID or name", arg, "user", (*client.Client).DeleteUser),
		},
	}
}

// passwordFlag is the password --password or --password-prompt gives, nil
// when neither does. The prompt reads one line from standard input, so that
// the password stays out of the command line (ps, shell history); it goes to
// stderr, never to the output a script captures.
func passwordFlag(c *cli.Context) (*string, error) {
	given, prompt := c.IsSet("password"), c.Bool("password-prompt")
	switch {
	case given && prompt:
		return nil, usageError(c, "--password and --password-prompt exclude each other")
	case given:
		pw := c.String("password")
		return &pw, nil
	case !prompt:
		return nil, nil
	}
	_, _ = c.App.ErrWriter.Write([]byte("User Password: "))
	line, err := bufio.NewReader(c.App.Reader).ReadString('\n')
	if err != nil && line == "" {
		return nil, usageError(c, "--password-prompt read no password")
	}
	pw := strings.TrimRight(line, "\r\n")
	if pw == "" {
		return nil, usageError(c, "--password-prompt read an empty password")
	}
	return &pw, nil
}

func printUsers(o *output, users []client.User) error {
	return printList(o, users, func(l []client.User) any { return map[string]any{"users": l} },
		[]string{"ID", "NAME", "ENABLED", "DEFAULT PROJECT"},
		func(u client.User) []string { return []string{u.ID, u.Name, yesNo(u.Enabled), u.DefaultProjectID} })
}

func printUser(o *output, u client.User) error {
	return o.printObject(map[string]any{"user": u}, [][]string{
		{"id", u.ID},
		{"name", u.Name},
		{"domain_id", u.DomainID},
		{"default_project_id", u.DefaultProjectID},
		{"enabled", yesNo(u.Enabled)},
	})
}
