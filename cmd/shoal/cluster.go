package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/shoal-project/shoal/api"
	"github.com/shoal-project/shoal/api/client"
)

func clusterCommand() *cli.Command {
	return &cli.Command{
		Name:  "cluster",
		Usage: "admit nodes (join tokens) and rotate the gossip key",
		Subcommands: []*cli.Command{
			{
				Name:  "join-token",
				Usage: "make, list and revoke the tokens new nodes join with",
				Subcommands: []*cli.Command{
					joinTokenCreateCommand(),
					listCommand("list", "list join tokens with their state (active|expired|used|revoked); never their secrets",
						(*client.Client).JoinTokens, printJoinTokens),
					refCommand("revoke", "stop a join token from admitting anyone more (nodes it admitted stay)",
						operand{usage: "ID", what: "join token ID"},
						func(cl *client.Client, ctx context.Context, id string) (string, error) {
							return id, cl.RevokeJoinToken(ctx, id)
						}, printRevoked),
				},
			},
			{
				Name:  "gossip-key",
				Usage: "manage the key gossip is encrypted with",
				Subcommands: []*cli.Command{
					{
						Name: "rotate",
						Usage: "replace the gossip key on every node with no downtime " +
							"(waits until every live member uses the new key)",
						Action: func(c *cli.Context) error {
							if err := noArgs(c); err != nil {
								return err
							}
							return callAndPrint(c, func(cl *client.Client) (string, error) { return cl.RotateGossipKey(c.Context) },
								printGossipKey)
						},
					},
				},
			},
		},
	}
}

func joinTokenCreateCommand() *cli.Command {
	return &cli.Command{
		Name: "create",
		Usage: "make a join token and print it alone, for a new node's `shoal join --token` " +
			"(TOKEN=$(shoal cluster join-token create)); it is shown only this once",
		Flags: []cli.Flag{
			&cli.DurationFlag{Name: "ttl", Usage: "how long the token is valid (default: the cluster's, 1h; at most 168h)"},
			&cli.IntFlag{Name: "uses", Value: 1, Usage: "how many nodes the token admits"},
		},
		Action: func(c *cli.Context) error {
			if err := noArgs(c); err != nil {
				return err
			}
			ttl, uses := c.Duration("ttl"), c.Int("uses")
			if c.IsSet("ttl") && ttl <= 0 {
				return usageError(c, "--ttl must be a positive duration such as 1h or 30m")
			}
			if uses < 1 {
				return usageError(c, "--uses must be at least 1")
			}
			return callAndPrint(c, func(cl *client.Client) (api.NewJoinToken, error) {
				return cl.CreateJoinToken(c.Context, ttl, uses)
			}, printNewJoinToken)
		},
	}
}

// printNewJoinToken prints the token alone, so a script can capture it; -o
// json prints the API's answer, the token with its record.
func printNewJoinToken(o *output, t api.NewJoinToken) error {
	if o.json {
		return o.printJSON(api.JoinTokenResponse{JoinToken: t})
	}
	_, err := fmt.Fprintln(o.w, t.Token)
	return err
}

func printJoinTokens(o *output, tokens []api.JoinTokenInfo) error {
	return printList(o, tokens, func(l []api.JoinTokenInfo) any { return api.JoinTokenList{JoinTokens: l} },
		[]string{"ID", "STATE", "USES", "EXPIRES", "CREATED", "CREATED BY", "USED BY"},
		func(t api.JoinTokenInfo) []string {
			return []string{t.ID, t.State, outOf(t.Uses, t.MaxUses), timestamp(t.ExpiresAt), timestamp(t.CreatedAt),
				t.CreatedBy, strings.Join(t.UsedBy, ", ")}
		})
}

// printRevoked says what was revoked; with -o json it prints nothing, as
// the API answers 204 with no body.
func printRevoked(o *output, id string) error {
	if o.json {
		return nil
	}
	_, err := fmt.Fprintf(o.w, "revoked join token %s\n", id)
	return err
}

func printGossipKey(o *output, id string) error {
	if o.json {
		return o.printJSON(api.GossipKeyResponse{GossipKey: api.GossipKey{ID: id}})
	}
	_, err := fmt.Fprintf(o.w, "gossip key rotated: every live member now uses key %s\n", id)
	return err
}
