package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/shoal-project/shoal/api/client"
)

// The shapes the client commands share, so that each resource's file says
// only what is particular to it. Every command checks its arguments first,
// then reads -o (so that neither a wrong argument nor a typo in -o costs a
// write), then calls the API.

// apiClient is a client of the node --addr names, authenticated as the
// global flags say (clientOptions).
func apiClient(c *cli.Context) *client.Client {
	return client.New(c.String("addr"), clientOptions(c)...)
}

// usageError says how a command is called when its arguments are wrong.
func usageError(c *cli.Context, problem string) error {
	return fmt.Errorf("%s (usage: %s)", problem, strings.TrimSpace(helpName(c)+" "+c.Command.ArgsUsage))
}

// helpName is the command as typed, with the binary's name: "shoal flavor show".
func helpName(c *cli.Context) string {
	if name := c.Command.HelpName; name != "" { // set up by urfave/cli
		return name
	}
	return c.App.Name + " " + c.Command.Name
}

// noArgs refuses positional arguments.
func noArgs(c *cli.Context) error {
	if c.NArg() > 0 {
		return argsError(c, "takes no arguments")
	}
	return nil
}

// oneArg returns the one positional argument; what names it in the error.
func oneArg(c *cli.Context, what string) (string, error) {
	if c.NArg() != 1 {
		return "", argsError(c, "needs one "+what)
	}
	return c.Args().First(), nil
}

// someArgs returns the positional arguments, of which there must be one or more.
func someArgs(c *cli.Context, what string) ([]string, error) {
	if c.NArg() == 0 {
		return nil, argsError(c, "needs at least one "+what)
	}
	return c.Args().Slice(), nil
}

// argsError is a usage error that starts with the command: "flavor show
// needs one flavor ID or name".
func argsError(c *cli.Context, rule string) error {
	return usageError(c, strings.TrimPrefix(helpName(c), c.App.Name+" ")+" "+rule)
}

// callAndPrint is the rest of most commands once their arguments are checked:
// read -o, make one API call, print its answer.
func callAndPrint[T any](c *cli.Context, call func(*client.Client) (T, error), print func(*output, T) error) error {
	o, err := outputFor(c)
	if err != nil {
		return err
	}
	v, err := call(apiClient(c))
	if err != nil {
		return err
	}
	return print(o, v)
}

// operand is the one positional argument of a show or delete command: how
// the usage line shows it and how the error names it when it is missing.
type operand struct{ usage, what string }

// listCommand is a command that takes no arguments and prints what one GET
// answers: a list, or a summary such as hypervisor stats.
func listCommand[T any](name, usage string, get func(*client.Client, context.Context) (T, error), print func(*output, T) error) *cli.Command {
	return &cli.Command{
		Name:  name,
		Usage: usage,
		Action: func(c *cli.Context) error {
			if err := noArgs(c); err != nil {
				return err
			}
			return callAndPrint(c, func(cl *client.Client) (T, error) { return get(cl, c.Context) }, print)
		},
	}
}

// showCommand is `show`: print the one object its argument names.
func showCommand[T any](usage string, arg operand, get func(*client.Client, context.Context, string) (T, error), print func(*output, T) error) *cli.Command {
	return refCommand("show", usage, arg, get, print)
}

// deleteCommand is `delete`: delete the one object its argument names and
// say so ("deleted flavor tiny"); with -o json it prints nothing, as the API
// answers 204 with no body.
func deleteCommand(usage string, arg operand, noun string, del func(*client.Client, context.Context, string) error) *cli.Command {
	return refCommand("delete", usage, arg,
		func(cl *client.Client, ctx context.Context, ref string) (string, error) {
			return ref, del(cl, ctx, ref)
		},
		func(o *output, ref string) error {
			if o.json {
				return nil
			}
			_, err := fmt.Fprintf(o.w, "deleted %s %s\n", noun, ref)
			return err
		})
}

// refCommand is a command on the one object its argument names.
func refCommand[T any](name, usage string, arg operand, call func(*client.Client, context.Context, string) (T, error), print func(*output, T) error) *cli.Command {
	return &cli.Command{
		Name:      name,
		Usage:     usage,
		ArgsUsage: arg.usage,
		Action: func(c *cli.Context) error {
			ref, err := oneArg(c, arg.what)
			if err != nil {
				return err
			}
			return callAndPrint(c, func(cl *client.Client) (T, error) { return call(cl, c.Context, ref) }, print)
		},
	}
}
