package main

import (
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/urfave/cli/v2"

	"github.com/shoal-project/shoal/cluster"
	shoalagent "github.com/shoal-project/shoal/cmd/shoal/agent"
	"github.com/shoal-project/shoal/compute/libvirt"
)

// fenceGuardCommand runs the fence guard the agent starts next to itself
// (see shoalagent.FenceGuard); the agent writes its command line with
// shoalagent.GuardArgs.
func fenceGuardCommand() *cli.Command {
	return &cli.Command{
		Name:   shoalagent.GuardCommand,
		Usage:  "stop this node's servers when its lease runs out (started by the agent)",
		Hidden: true,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "name", Required: true},
			&cli.StringFlag{Name: "data-dir", Required: true},
			&cli.StringFlag{Name: "libvirt-uri", Value: libvirt.DefaultURI},
			&cli.DurationFlag{Name: "lease", Value: cluster.DefaultLease, Usage: "the agent's lease"},
			&cli.DurationFlag{Name: "interval", Value: shoalagent.DefaultGuardInterval},
		},
		Action: runFenceGuard,
	}
}

// guardConfig maps the guard's flags onto its Config.
func guardConfig(c *cli.Context) shoalagent.GuardConfig {
	return shoalagent.GuardConfig{Name: c.String("name"), DataDir: c.String("data-dir"),
		LibvirtURI: c.String("libvirt-uri"), Lease: c.Duration("lease"), Interval: c.Duration("interval"),
		Logger: slog.New(slog.NewTextHandler(os.Stderr, nil))}
}

func runFenceGuard(c *cli.Context) error {
	ctx, stop := signal.NotifyContext(c.Context, syscall.SIGTERM, os.Interrupt)
	defer stop()
	pipe, err := shoalagent.InheritedAgentPipe()
	if err != nil {
		return err
	}
	g, err := shoalagent.NewFenceGuard(guardConfig(c), shoalagent.GuardDeps{Agent: pipe})
	if err != nil {
		pipe.Close()
		return err
	}
	return g.Run(ctx)
}
