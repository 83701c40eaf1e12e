package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/shoal-project/shoal/api"
	"github.com/shoal-project/shoal/api/client"
	"github.com/shoal-project/shoal/fsm"
)

// waitInterval is how often --wait polls the API.
var waitInterval = 500 * time.Millisecond

// errServerFailed marks a wait that ended with servers in ERROR.
var errServerFailed = errors.New("server failed")

// waitForServers polls until every server is ACTIVE or ERROR, writing a line
// to w whenever one changes ("vm1: BUILD (scheduling)", "vm1: ACTIVE on n2
// 10.88.0.5"). It returns the servers as they ended; the error names every
// server that went to ERROR, with its fault, and wraps errServerFailed.
func waitForServers(ctx context.Context, cl *client.Client, w io.Writer, servers []api.ServerDetail) ([]api.ServerDetail, error) {
	current := slices.Clone(servers)
	shown := make([]string, len(current))
	ticker := time.NewTicker(waitInterval)
	defer ticker.Stop()
	for {
		pending := 0
		for k, s := range current {
			if line := progressLine(s); line != shown[k] {
				fmt.Fprintln(w, line)
				shown[k] = line
			}
			if !settled(s) {
				pending++
			}
		}
		if pending == 0 {
			break
		}
		select {
		case <-ctx.Done():
			return current, ctx.Err()
		case <-ticker.C:
		}
		for k, s := range current {
			if settled(s) {
				continue
			}
			got, err := cl.Server(ctx, s.ID)
			switch {
			case errors.Is(err, fsm.ErrNotFound):
				return current, fmt.Errorf("%s: the server was deleted while waiting for it", s.Name)
			case errors.Is(err, fsm.ErrNoLeader), errors.Is(err, fsm.ErrUnavailable):
				continue // an election or a node catching up: ask again next tick
			case err != nil:
				return current, err
			}
			current[k] = got
		}
	}
	var failed []string
	for _, s := range current {
		if s.Status == "ERROR" {
			failed = append(failed, s.Name+": "+faultMessage(s))
		}
	}
	if len(failed) > 0 {
		return current, fmt.Errorf("%w: %s", errServerFailed, strings.Join(failed, "; "))
	}
	return current, nil
}

// settled reports whether a created server has reached ACTIVE (with no task
// left) or ERROR.
func settled(s api.ServerDetail) bool {
	return s.Status == "ERROR" || s.Status == "ACTIVE" && s.TaskState == ""
}

// progressLine is one server's state as --wait shows it.
func progressLine(s api.ServerDetail) string {
	line := s.Name + ": " + statusWithTask(s)
	if s.Host != "" {
		line += " on " + s.Host
	}
	switch s.Status {
	case "ACTIVE":
		var ips []string
		for _, a := range s.Addresses {
			ips = append(ips, a.IP)
		}
		if len(ips) > 0 {
			line += " " + strings.Join(ips, ", ")
		}
	case "ERROR":
		line += ": " + faultMessage(s)
	}
	return line
}

func statusWithTask(s api.ServerDetail) string {
	if s.TaskState == "" {
		return s.Status
	}
	return s.Status + " (" + s.TaskState + ")"
}

func faultMessage(s api.ServerDetail) string {
	if s.Fault == nil || s.Fault.Message == "" {
		return "no fault recorded"
	}
	return s.Fault.Message
}

// waitGone polls until the server is deleted (the API answers 404).
func waitGone(ctx context.Context, cl *client.Client, id string) error {
	ticker := time.NewTicker(waitInterval)
	defer ticker.Stop()
	for {
		_, err := cl.Server(ctx, id)
		switch {
		case errors.Is(err, fsm.ErrNotFound):
			return nil
		case err != nil && !errors.Is(err, fsm.ErrNoLeader) && !errors.Is(err, fsm.ErrUnavailable):
			return err
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for server %s to be deleted: %w", id, ctx.Err())
		case <-ticker.C:
		}
	}
}
