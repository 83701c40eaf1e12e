package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/shoal-project/shoal/api"
	"github.com/shoal-project/shoal/api/client"
	"github.com/shoal-project/shoal/fsm"
)

// errDrainFailed marks a drain that ended with servers it could not move.
var errDrainFailed = errors.New("drain failed")

func hostDrainCommand() *cli.Command {
	return &cli.Command{
		Name: "drain",
		Usage: "disable a host and move its servers away, a few at a time (running ones live, stopped ones cold); " +
			"servers in ERROR or that fail to move twice are left",
		ArgsUsage: "NAME",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "wait", Usage: "wait until the host is empty, showing the progress; exits non-zero when the drain fails"},
			&cli.BoolFlag{Name: "cancel", Usage: "stop the host's drain: no new move starts (the host stays disabled)"},
			&cli.BoolFlag{Name: "status", Usage: "show how the host's drain goes, without starting one"},
		},
		Action: func(c *cli.Context) error {
			name, err := oneArg(c, "host NAME")
			if err != nil {
				return err
			}
			if c.Bool("cancel") && (c.Bool("status") || c.Bool("wait")) {
				return usageError(c, "--cancel goes alone")
			}
			o, err := outputFor(c)
			if err != nil {
				return err
			}
			cl := apiClient(c)
			var p fsm.DrainProgress
			switch {
			case c.Bool("cancel"):
				p, err = cl.CancelHostDrain(c.Context, name)
			case c.Bool("status"):
				p, err = cl.HostDrain(c.Context, name)
			default:
				p, err = cl.StartHostDrain(c.Context, name)
			}
			if err != nil {
				return err
			}
			if !c.Bool("wait") {
				return printDrain(o, p)
			}
			progress := o.w
			if o.json {
				progress = c.App.ErrWriter // stdout stays one JSON document
			}
			p, err = waitForDrain(c.Context, cl, progress, p)
			if o.json && (err == nil || errors.Is(err, errDrainFailed)) {
				if perr := printDrain(o, p); perr != nil {
					return perr
				}
			}
			return err
		},
	}
}

func printDrain(o *output, p fsm.DrainProgress) error {
	if o.json {
		return o.printJSON(api.HostDrainResponse{Drain: p})
	}
	fmt.Fprintln(o.w, drainLine(p))
	for _, f := range p.Failed {
		fmt.Fprintf(o.w, "  left %s: %s\n", f.Instance, f.Message)
	}
	return nil
}

// drainLine is a drain in one line: "node1: draining: 3 of 5 moved, 2
// moving (a, b), 0 failed".
func drainLine(p fsm.DrainProgress) string {
	line := fmt.Sprintf("%s: %s: %d of %d moved, %d moving", p.Host, p.State, p.Moved, p.Total, len(p.InProgress))
	if len(p.InProgress) > 0 {
		line += " (" + strings.Join(p.InProgress, ", ") + ")"
	}
	return line + fmt.Sprintf(", %d failed", len(p.Failed))
}

// waitForDrain polls until the drain is no longer running, showing its
// progress on w: a bar redrawn in place on a terminal, else a line each
// time it changes. A drain that ends failed is errDrainFailed, naming what
// was left; one cancelled meanwhile is an error too.
func waitForDrain(ctx context.Context, cl *client.Client, w io.Writer, p fsm.DrainProgress) (fsm.DrainProgress, error) {
	show := lineProgress(w)
	if isTerminal(w) {
		show = barProgress(w)
	}
	ticker := time.NewTicker(waitInterval)
	defer ticker.Stop()
	for p.State == fsm.DrainDraining {
		show(p, false)
		select {
		case <-ctx.Done():
			return p, ctx.Err()
		case <-ticker.C:
		}
		got, err := cl.HostDrain(ctx, p.Host)
		switch {
		case errors.Is(err, fsm.ErrNoLeader), errors.Is(err, fsm.ErrUnavailable):
			continue // an election or a node catching up: ask again next tick
		case err != nil:
			return p, err
		}
		p = got
	}
	show(p, true)
	switch p.State {
	case fsm.DrainDone:
		return p, nil
	case fsm.DrainFailed:
		var left []string
		for _, f := range p.Failed {
			left = append(left, f.Instance+": "+f.Message)
		}
		return p, fmt.Errorf("%w: %s: %d servers left: %s", errDrainFailed, p.Host, len(p.Failed), strings.Join(left, "; "))
	}
	return p, fmt.Errorf("no drain runs on %s: it was cancelled, or never started", p.Host)
}

// lineProgress writes the drain's line whenever it changes.
func lineProgress(w io.Writer) func(fsm.DrainProgress, bool) {
	shown := ""
	return func(p fsm.DrainProgress, _ bool) {
		if line := drainLine(p); line != shown {
			fmt.Fprintln(w, line)
			shown = line
		}
	}
}

// barProgress redraws one line in place (as image upload's progressBar):
// a bar of the servers moved, and counts; the last draw ends the line.
func barProgress(w io.Writer) func(fsm.DrainProgress, bool) {
	const width = 20
	drawn := ""
	return func(p fsm.DrainProgress, last bool) {
		full := width
		if p.Total > 0 {
			full = width * p.Moved / p.Total
		}
		line := fmt.Sprintf("%s [%s%s] %d/%d moved, %d moving, %d failed", p.Host, strings.Repeat("#", full),
			strings.Repeat(".", width-full), p.Moved, p.Total, len(p.InProgress), len(p.Failed))
		if last {
			line += " (" + p.State + ")"
		}
		if line != drawn {
			fmt.Fprintf(w, "\r%s%s", line, strings.Repeat(" ", max(len(drawn)-len(line), 0)))
			drawn = line
		}
		if last {
			fmt.Fprintln(w)
		}
	}
}
