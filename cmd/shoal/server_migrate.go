package main

import (
	"errors"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/shoal-project/shoal/api"
	"github.com/shoal-project/shoal/api/client"
	"github.com/shoal-project/shoal/fsm"
)

// errMoveFailed marks a --wait whose migration ended in failure.
var errMoveFailed = errors.New("migration failed")

var waitFlag = &cli.BoolFlag{Name: "wait", Usage: "wait until the move is over, printing each change and the migration's end"}

func serverMigrateCommand() *cli.Command {
	return &cli.Command{
		Name:      "migrate",
		Usage:     "move a server to another host (admin): cold (stopped, then VERIFY_RESIZE to confirm or revert) or --live",
		ArgsUsage: "SERVER",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "live", Usage: "keep it running while it moves"},
			&cli.StringFlag{Name: "host", Usage: "the destination (default: the scheduler picks)"},
			waitFlag,
		},
		Action: func(c *cli.Context) error {
			req := api.ServerActionRequest{Action: api.ActionMigrate, Host: c.String("host")}
			if c.Bool("live") {
				req.Action = api.ActionLiveMigrate
			}
			return moveServer(c, req)
		},
	}
}

func serverResizeCommand() *cli.Command {
	return &cli.Command{
		Name:      "resize",
		Usage:     "move a server to a new flavor (then VERIFY_RESIZE: confirm or revert)",
		ArgsUsage: "SERVER",
		// Not Required: urfave/cli would ask it of confirm and revert too.
		Flags: []cli.Flag{&cli.StringFlag{Name: "flavor", Usage: "the new flavor, by ID or name (required)"}, waitFlag},
		Action: func(c *cli.Context) error {
			if c.String("flavor") == "" {
				return usageError(c, "resize needs --flavor")
			}
			return moveServer(c, api.ServerActionRequest{Action: api.ActionResize, Flavor: c.String("flavor")})
		},
		Subcommands: []*cli.Command{
			{
				Name:      "confirm",
				Usage:     "keep a resized or cold-migrated server where and as it is now (the source's copy goes)",
				ArgsUsage: "SERVER",
				Action: func(c *cli.Context) error {
					return moveServer(c, api.ServerActionRequest{Action: api.ActionConfirmResize})
				},
			},
			{
				Name:      "revert",
				Usage:     "take a resized or cold-migrated server back where and as it was",
				ArgsUsage: "SERVER",
				Flags:     []cli.Flag{waitFlag},
				Action: func(c *cli.Context) error {
					return moveServer(c, api.ServerActionRequest{Action: api.ActionRevertResize})
				},
			},
		},
	}
}

// moveServer sends a moving action to the one server the arguments name
// and, with --wait, follows its migration to its end.
func moveServer(c *cli.Context, req api.ServerActionRequest) error {
	ref, err := oneArg(c, serverRef)
	if err != nil {
		return err
	}
	o, err := outputFor(c)
	if err != nil {
		return err
	}
	s, err := resolveServer(c, ref)
	if err != nil {
		return err
	}
	cl := apiClient(c)
	got, err := cl.ServerAction(c.Context, s.ID, req)
	if err != nil {
		return err
	}
	if !c.Bool("wait") {
		if o.json {
			return o.printJSON(api.ServerResponse{Server: got})
		}
		_, err = fmt.Fprintf(o.w, "%s: %s requested; now %s\n", got.Name, req.Action, statusWithTask(got))
		return err
	}
	progress := o.w
	if o.json {
		progress = c.App.ErrWriter // stdout stays one JSON document
	}
	m, err := cl.Migrations(c.Context, api.MigrationFilter{InstanceID: s.ID})
	if err != nil {
		return err
	}
	if len(m) == 0 {
		return fmt.Errorf("server %s has no migration to wait for", s.Name)
	}
	end, err := waitForMove(c, cl, progress, got, m[0].ID)
	if o.json && (err == nil || errors.Is(err, errMoveFailed)) {
		if perr := o.printJSON(api.MigrationResponse{Migration: end}); perr != nil {
			return perr
		}
	}
	return err
}

// moveOver reports whether a migration has reached where --wait stops: its
// end, or VERIFY_RESIZE (finished, waiting for the user's decision).
func moveOver(m fsm.Migration) bool { return m.Ended() || m.Status == fsm.MigrationFinished }

// moveFailed reports whether a migration that is over went wrong.
func moveFailed(m fsm.Migration) bool {
	return m.Status == fsm.MigrationError || m.Status == fsm.MigrationFailed
}

// waitForMove polls the server and its migration id until the migration
// is over, writing a line to w whenever the server changes and one for the
// migration's end ("migration 3 (resize): finished, node1 -> node2"). A
// migration that failed wraps errMoveFailed, with its message.
func waitForMove(c *cli.Context, cl *client.Client, w io.Writer, s api.ServerDetail, id uint64) (fsm.Migration, error) {
	ticker := time.NewTicker(waitInterval)
	defer ticker.Stop()
	shown := ""
	for {
		if line := progressLine(s); line != shown {
			fmt.Fprintln(w, line)
			shown = line
		}
		m, err := cl.Migration(c.Context, id)
		switch {
		case errors.Is(err, fsm.ErrNoLeader), errors.Is(err, fsm.ErrUnavailable):
		case err != nil:
			return m, err
		case moveOver(m):
			if got, err := cl.Server(c.Context, s.ID); err == nil {
				if line := progressLine(got); line != shown {
					fmt.Fprintln(w, line)
				}
			}
			fmt.Fprintf(w, "migration %d (%s): %s, %s -> %s\n", m.ID, m.Kind, m.Status, m.Source, m.Dest)
			if moveFailed(m) {
				return m, fmt.Errorf("%w: migration %d of %s: %s", errMoveFailed, m.ID, s.Name, m.Message)
			}
			return m, nil
		}
		select {
		case <-c.Context.Done():
			return m, fmt.Errorf("waiting for migration %d of %s: %w", id, s.Name, c.Context.Err())
		case <-ticker.C:
		}
		got, err := cl.Server(c.Context, s.ID)
		switch {
		case errors.Is(err, fsm.ErrNotFound):
			return m, fmt.Errorf("%s: the server was deleted while it moved", s.Name)
		case err == nil:
			s = got
		}
	}
}

func migrationCommand() *cli.Command {
	return &cli.Command{
		Name:  "migration",
		Usage: "the record of server moves (live and cold migrations, resizes, evacuations)",
		Subcommands: []*cli.Command{{
			Name:  "list",
			Usage: "list migrations, newest first (a member sees its project's servers' only)",
			Flags: []cli.Flag{
				&cli.StringFlag{Name: "server", Usage: "only this server's, by ID or name"},
				&cli.StringFlag{Name: "host", Usage: "only those from or to this host"},
				&cli.StringFlag{Name: "status", Usage: "only those with this status (completed, finished, error, …)"},
				&cli.StringFlag{Name: "type", Usage: "only live-migration, migration, resize or evacuation"},
			},
			Action: func(c *cli.Context) error {
				if err := noArgs(c); err != nil {
					return err
				}
				return callAndPrint(c, func(cl *client.Client) ([]fsm.Migration, error) {
					f := api.MigrationFilter{Host: c.String("host"), Status: c.String("status"), Kind: c.String("type")}
					if ref := c.String("server"); ref != "" {
						s, err := resolveServer(c, ref)
						if err != nil {
							return nil, err
						}
						f.InstanceID = s.ID
					}
					return cl.Migrations(c.Context, f)
				}, printMigrations)
			},
		}},
	}
}

func printMigrations(o *output, ms []fsm.Migration) error {
	return printList(o, ms, func(l []fsm.Migration) any { return api.MigrationList{Migrations: l} },
		[]string{"ID", "TYPE", "STATUS", "SERVER", "SOURCE", "DEST", "OLD FLAVOR", "NEW FLAVOR", "CREATED"},
		func(m fsm.Migration) []string {
			return []string{strconv.FormatUint(m.ID, 10), m.Kind, m.Status, m.InstanceID, m.Source, m.Dest,
				m.OldFlavor.Name, m.NewFlavor.Name, timestamp(m.Created)}
		})
}
