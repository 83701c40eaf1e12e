package main

import (
	"fmt"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/shoal-project/shoal/api"
)

// serverConsoleLogCommand prints the tail of a server's serial console
// (Nova's `console log show`).
func serverConsoleLogCommand() *cli.Command {
	return &cli.Command{
		Name:      "console-log",
		Usage:     "print the tail of a server's serial console log",
		ArgsUsage: "SERVER",
		Flags:     []cli.Flag{&cli.IntFlag{Name: "lines", Usage: "how many lines from the end (0: all the host keeps)"}},
		Action: func(c *cli.Context) error {
			if c.Int("lines") < 0 {
				return usageError(c, "--lines must not be negative")
			}
			o, s, err := oneServer(c)
			if err != nil {
				return err
			}
			out, err := apiClient(c).ConsoleLog(c.Context, s.ID, c.Int("lines"))
			if err != nil {
				return err
			}
			if o.json {
				return o.printJSON(api.ConsoleOutput{Output: out})
			}
			if out != "" && !strings.HasSuffix(out, "\n") {
				out += "\n"
			}
			_, err = fmt.Fprint(o.w, out)
			return err
		},
	}
}
