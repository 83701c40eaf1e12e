package main

import (
	"github.com/urfave/cli/v2"

	"github.com/shoal-project/shoal/api/client"
)

func tokenCommand() *cli.Command {
	return &cli.Command{
		Name:  "token",
		Usage: "issue and revoke Keystone tokens",
		Subcommands: []*cli.Command{
			{
				Name:  "issue",
				Usage: "print a token for the --os-* credentials (the cached one while it lasts)",
				Action: func(c *cli.Context) error {
					if err := noArgs(c); err != nil {
						return err
					}
					if c.String("os-auth-url") == "" {
						return usageError(c, "token issue "+errNoAuthURL.Error())
					}
					o, err := outputFor(c)
					if err != nil {
						return err
					}
					t, err := passwordAuth(c).Current(c.Context)
					if err != nil {
						return err
					}
					return printToken(o, t)
				},
			},
			{
				Name:      "revoke",
				Usage:     "revoke a token",
				ArgsUsage: "TOKEN",
				Action: func(c *cli.Context) error {
					token, err := oneArg(c, "TOKEN")
					if err != nil {
						return err
					}
					if c.String("os-auth-url") == "" {
						return usageError(c, "token revoke "+errNoAuthURL.Error())
					}
					if own := c.String("token"); own != "" {
						return client.RevokeToken(c.Context, client.HTTPClient(trustOptions(c)...), c.String("os-auth-url"), own, token)
					}
					return passwordAuth(c).Revoke(c.Context, token)
				},
			},
		},
	}
}

// tokenView is a token as `openstack token issue` shows it.
type tokenView struct {
	Expires   string `json:"expires"`
	ID        string `json:"id"`
	ProjectID string `json:"project_id"`
	UserID    string `json:"user_id"`
}

func printToken(o *output, t client.Token) error {
	v := tokenView{Expires: timestamp(t.ExpiresAt), ID: t.ID, ProjectID: t.ProjectID, UserID: t.UserID}
	return o.printObject(v, [][]string{
		{"expires", v.Expires},
		{"id", v.ID},
		{"project_id", v.ProjectID},
		{"user_id", v.UserID},
	})
}
