package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"unicode"

	"github.com/urfave/cli/v2"

	"github.com/shoal-project/shoal/api/client"
)

// output writes a command's result as a table or as the API's JSON.
type output struct {
	w    io.Writer
	json bool
}

// outputFor reads the global -o flag. Commands call it before they change
// anything, so a typo in -o never costs a write.
func outputFor(c *cli.Context) (*output, error) {
	switch f := c.String("output"); f {
	case "", "table":
		return &output{w: c.App.Writer}, nil
	case "json":
		return &output{w: c.App.Writer, json: true}, nil
	default:
		return nil, fmt.Errorf("unknown output format %q (want table or json)", f)
	}
}

// apiClient is a client of the node --addr names.
func apiClient(c *cli.Context) *client.Client {
	return client.New(c.String("addr"))
}

// printJSON writes v indented, one document per command.
func (o *output) printJSON(v any) error {
	enc := json.NewEncoder(o.w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// table writes aligned columns under a header.
func (o *output) table(header []string, rows [][]string) error {
	tw := tabwriter.NewWriter(o.w, 0, 8, 2, ' ', 0)
	writeRow(tw, header)
	for _, r := range rows {
		writeRow(tw, r)
	}
	return tw.Flush()
}

func writeRow(w io.Writer, cells []string) {
	clean := make([]string, len(cells))
	for i, c := range cells {
		clean[i] = cell(c)
	}
	fmt.Fprintln(w, strings.Join(clean, "\t"))
}

// cell keeps one value on one line and in one column, and shows "-" for empty.
func cell(s string) string {
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, s)
	if s == "" {
		return "-"
	}
	return s
}

// usageError says how a command is called when its arguments are wrong.
func usageError(c *cli.Context, problem string) error {
	name := c.Command.HelpName // "shoal flavor show", set up by urfave/cli
	if name == "" {
		name = c.App.Name + " " + c.Command.Name
	}
	return fmt.Errorf("%s (usage: %s)", problem, strings.TrimSpace(name+" "+c.Command.ArgsUsage))
}
