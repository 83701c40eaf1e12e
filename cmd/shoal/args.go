package main

import (
	"slices"
	"strings"

	"github.com/urfave/cli/v2"
)

// reorderArgs lets flags follow positional arguments, as people type them
// (`shoal flavor create tiny2 --vcpus 1`): urfave/cli/v2 stops parsing flags at
// the first positional argument. It walks the global flags and the command
// path, then moves the leaf command's flag tokens (with their values) ahead of
// its positional ones, keeping their order otherwise. Global flags typed after
// the command (`shoal members -o json`) move back before it, unless the leaf
// defines a flag of that name. Nothing after a literal "--" moves. Arguments it
// does not understand (an unknown command, a shell-completion request) are
// returned as they are, for urfave/cli to report.
func reorderArgs(app *cli.App, args []string) []string {
	if len(args) < 2 || (app.EnableBashCompletion && args[len(args)-1] == "--generate-bash-completion") {
		return args
	}
	i := skipFlags(app.Flags, args, 1)
	if i >= len(args) {
		return args
	}
	cmd := findCommand(app.Commands, args[i])
	if cmd == nil {
		return args
	}
	commandAt := i
	i++
	for {
		j := skipFlags(cmd.Flags, args, i)
		if j >= len(args) {
			break
		}
		sub := findCommand(cmd.Subcommands, args[j])
		if sub == nil {
			break
		}
		cmd, i = sub, j+1
	}

	var hoisted, flags, positional, rest []string
	for k := i; k < len(args); {
		a := args[k]
		switch {
		case a == "--":
			rest = args[k:]
			k = len(args)
		case !isFlag(a):
			positional = append(positional, a)
			k++
		case lookupFlag(cmd.Flags, a) == nil && lookupFlag(app.Flags, a) != nil:
			w := flagWidth(app.Flags, args, k)
			hoisted = append(hoisted, args[k:k+w]...)
			k += w
		default:
			w := flagWidth(cmd.Flags, args, k)
			flags = append(flags, args[k:k+w]...)
			k += w
		}
	}

	out := make([]string, 0, len(args))
	out = append(out, args[:commandAt]...)
	out = append(out, hoisted...)
	out = append(out, args[commandAt:i]...)
	out = append(out, flags...)
	if rest != nil {
		// Keep the positional arguments positional after the flags end.
		out = append(out, "--")
		rest = rest[1:]
	}
	out = append(out, positional...)
	return append(out, rest...)
}

// skipFlags returns the index of the first token at or after i that is not a
// flag or a flag's value; "--" counts as the end.
func skipFlags(flags []cli.Flag, args []string, i int) int {
	for i < len(args) && isFlag(args[i]) {
		i += flagWidth(flags, args, i)
	}
	return i
}

// isFlag reports whether a looks like a flag; "-" alone and "--" do not.
func isFlag(a string) bool {
	return len(a) > 1 && a[0] == '-' && a != "--"
}

// flagWidth is how many tokens the flag at args[i] spans: two for a flag that
// takes a value given as a separate token, one otherwise (unknown flags
// included; urfave/cli will report those).
func flagWidth(flags []cli.Flag, args []string, i int) int {
	if strings.Contains(args[i], "=") || i+1 >= len(args) {
		return 1
	}
	if f, ok := lookupFlag(flags, args[i]).(interface{ TakesValue() bool }); ok && f.TakesValue() {
		return 2
	}
	return 1
}

// lookupFlag finds the flag a token (-o, --output, --output=json) names.
func lookupFlag(flags []cli.Flag, token string) cli.Flag {
	name := strings.TrimLeft(token, "-")
	name, _, _ = strings.Cut(name, "=")
	for _, f := range flags {
		if slices.Contains(f.Names(), name) {
			return f
		}
	}
	return nil
}

func findCommand(cmds []*cli.Command, name string) *cli.Command {
	for _, c := range cmds {
		if c.HasName(name) {
			return c
		}
	}
	return nil
}
