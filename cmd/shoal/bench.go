package main

import (
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/shoal-project/shoal/api"
	"github.com/shoal-project/shoal/fsm"
)

func benchCommand() *cli.Command {
	return &cli.Command{
		Name:  "bench",
		Usage: "measure the cluster at --addr and print figures",
		Subcommands: []*cli.Command{{
			Name: "boot",
			Usage: "create servers one after another and time each from the POST to ACTIVE " +
				"(the host reported its domain running); deletes them afterwards",
			Flags: []cli.Flag{
				&cli.IntFlag{Name: "count", Value: 20, Usage: "servers to boot"},
				&cli.StringFlag{Name: "flavor", Value: "m1.tiny", Usage: "flavor ID or name"},
				&cli.StringFlag{Name: "image", Required: true, Usage: "image ID or name (cached on the hosts for a warm figure)"},
				&cli.StringFlag{Name: "availability-zone", Usage: "zone, or zone:host to pin one host"},
				&cli.DurationFlag{Name: "timeout", Value: 2 * time.Minute, Usage: "give up on a server after this long"},
			},
			Action: benchBoot,
		}},
	}
}

func benchBoot(c *cli.Context) error {
	n := c.Int("count")
	if n < 1 || n > 1000 {
		return usageError(c, "--count must be from 1 to 1000")
	}
	cl := apiClient(c)
	var took []time.Duration
	var created []string
	defer func() {
		for _, id := range created {
			_ = cl.DeleteServer(c.Context, id)
		}
	}()
	for i := 0; i < n; i++ {
		start := time.Now()
		servers, err := cl.CreateServer(c.Context, api.ServerCreate{Name: fmt.Sprintf("bench-%d", i),
			Flavor: c.String("flavor"), Image: c.String("image"), AvailabilityZone: c.String("availability-zone")})
		if err != nil {
			return fmt.Errorf("create %d: %w", i, err)
		}
		if len(servers) != 1 {
			return fmt.Errorf("create %d: the API answered with %d servers, want 1", i, len(servers))
		}
		id := servers[0].ID
		created = append(created, id)
		for {
			s, err := cl.Server(c.Context, id)
			if err != nil {
				return fmt.Errorf("polling %s: %w", id, err)
			}
			if s.Status == "ACTIVE" {
				break
			}
			if s.Status == "ERROR" {
				msg := ""
				if s.Fault != nil {
					msg = s.Fault.Message
				}
				return fmt.Errorf("server %s went to ERROR: %s", id, msg)
			}
			if time.Since(start) > c.Duration("timeout") {
				return fmt.Errorf("server %s not ACTIVE after %v (status %s)", id, c.Duration("timeout"), s.Status)
			}
			time.Sleep(10 * time.Millisecond)
		}
		took = append(took, time.Since(start))
	}
	p50, p95, worst := percentiles(took)
	_, err := fmt.Fprintf(c.App.Writer, "boot: %d servers, POST to ACTIVE: p50 %.3f s, p95 %.3f s, max %.3f s\n",
		n, p50.Seconds(), p95.Seconds(), worst.Seconds())
	if err != nil {
		return err
	}
	for _, id := range created {
		if err := cl.DeleteServer(c.Context, id); err != nil && !errors.Is(err, fsm.ErrNotFound) {
			return fmt.Errorf("delete %s: %w", id, err)
		}
	}
	// Leave nothing behind: wait until every host has destroyed its domains.
	deadline := time.Now().Add(c.Duration("timeout"))
	for _, id := range created {
		for {
			_, err := cl.Server(c.Context, id)
			if errors.Is(err, fsm.ErrNotFound) {
				break
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("server %s still not deleted after %v", id, c.Duration("timeout"))
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	created = nil
	return nil
}

// percentiles returns the nearest-rank p50 and p95 and the maximum.
func percentiles(d []time.Duration) (p50, p95, worst time.Duration) {
	s := slices.Clone(d)
	slices.Sort(s)
	rank := func(p float64) time.Duration {
		i := int(p*float64(len(s))+0.999999) - 1
		return s[max(0, min(i, len(s)-1))]
	}
	return rank(0.50), rank(0.95), s[len(s)-1]
}
