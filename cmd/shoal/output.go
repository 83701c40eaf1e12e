package main

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
	"time"
	"unicode"

	"github.com/urfave/cli/v2"
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

// printJSON writes v indented, one document per command.
func (o *output) printJSON(v any) error {
	enc := json.NewEncoder(o.w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// printList writes items as the API's JSON list body (wrap builds it; an empty
// list is [], never null) or as a table with one row per item.
func printList[T any](o *output, items []T, wrap func([]T) any, header []string, row func(T) []string) error {
	if items == nil {
		items = []T{}
	}
	if o.json {
		return o.printJSON(wrap(items))
	}
	rows := make([][]string, 0, len(items))
	for _, it := range items {
		rows = append(rows, row(it))
	}
	return o.table(header, rows)
}

// printObject writes one object as the API's JSON body, or as a FIELD/VALUE
// table of fields.
func (o *output) printObject(body any, fields [][]string) error {
	if o.json {
		return o.printJSON(body)
	}
	return o.table([]string{"FIELD", "VALUE"}, fields)
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

func timestamp(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

// outOf is "n/total", as the used/total and free/total columns show it.
func outOf[N int | int64](n, total N) string { return fmt.Sprintf("%d/%d", n, total) }

// properties shows a string map as openstack does: a='1', b='2', sorted.
func properties(m map[string]string) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%s='%s'", k, m[k]))
	}
	return strings.Join(parts, ", ")
}

// hypervisorLabel is a hypervisor's type and, when known, its version ("QEMU 8.2.2").
func hypervisorLabel(kind, version string) string {
	if version == "" {
		return kind
	}
	return kind + " " + version
}
