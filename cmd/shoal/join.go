package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/shoal-project/shoal/api"
	shoalagent "github.com/shoal-project/shoal/cmd/shoal/agent"
	"github.com/shoal-project/shoal/fsm"
)

// localTimeout bounds a call to the local agent; a join may try each of the
// token's addresses in turn.
const localTimeout = 3 * time.Minute

func joinCommand() *cli.Command {
	return &cli.Command{
		Name:      "join",
		Usage:     "make the agent on this host a member of a cluster, with a join token",
		ArgsUsage: "[PEER...]",
		Description: "Talks only to the local agent, through its socket DATA_DIR/" + shoalagent.SocketFile +
			" (run it as the agent's user). The agent presents the token at PEERs (members' API host:port) first, " +
			"then at the addresses the token carries, and only to a server whose certificate chains to the CA the token names. " +
			"`shoal agent --join-token TOKEN` does the same in one command.",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "token", EnvVars: []string{"SHOAL_JOIN_TOKEN"},
				Usage: "the join `TOKEN` (made by shoal cluster join-token create on a member)"},
			&cli.StringFlag{Name: "data-dir", Value: shoalagent.DefaultDataDir, EnvVars: []string{"SHOAL_DATA_DIR"},
				Usage: "the local agent's data `DIR`, where its socket is"},
		},
		Action: func(c *cli.Context) error {
			token := c.String("token")
			if token == "" {
				return usageError(c, "join needs --token TOKEN")
			}
			o, err := outputFor(c)
			if err != nil {
				return err
			}
			req := shoalagent.LocalJoinRequest{Token: token, Peers: c.Args().Slice()}
			var reply shoalagent.LocalJoinReply
			if err := callLocal(c.Context, c.String("data-dir"), http.MethodPost, shoalagent.LocalJoinPath, req, &reply); err != nil {
				return err
			}
			return printJoined(o, reply)
		},
	}
}

func printJoined(o *output, r shoalagent.LocalJoinReply) error {
	if o.json {
		return o.printJSON(r)
	}
	fp := r.CAFingerprint
	if len(fp) > 16 {
		fp = fp[:16] + "…"
	}
	_, err := fmt.Fprintf(o.w, "joined: %s holds its certificate from the cluster whose CA is sha256:%s; "+
		"its agent is starting the node (gossip peers: %s)\n", r.Name, fp, strings.Join(r.GossipPeers, ", "))
	return err
}

// localError is the local agent's refusal; it matches the sentinel of its
// kind (errors.Is(err, fsm.ErrUnauthorized) for a refused token).
type localError struct {
	status int
	kind   string
	msg    string
}

func (e *localError) Error() string { return e.msg }
func (e *localError) Unwrap() error { return fsm.ErrorOfKind(e.kind) }

// callLocal calls the local API of the agent whose data dir is dataDir,
// through its unix socket, and decodes its JSON answer into out.
func callLocal(ctx context.Context, dataDir, method, path string, in, out any) error {
	sock := filepath.Join(dataDir, shoalagent.SocketFile)
	hc := &http.Client{Timeout: localTimeout, Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, "unix", sock)
		}}}
	defer hc.CloseIdleConnections()
	body, err := json.Marshal(in)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, method, "http://shoal"+path, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := hc.Do(req)
	switch {
	case errors.Is(err, fs.ErrNotExist), errors.Is(err, syscall.ECONNREFUSED):
		return fmt.Errorf("no agent listens on %s: start `shoal agent` on this host, or give the agent's --data-dir: %w", sock, err)
	case errors.Is(err, fs.ErrPermission):
		return fmt.Errorf("cannot reach the agent's socket %s: run this as the agent's user (root): %w", sock, err)
	case err != nil:
		return err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode >= 300 {
		var e api.ErrorBody
		if json.Unmarshal(data, &e) != nil || e.Error.Message == "" {
			return fmt.Errorf("the agent answered %s", resp.Status)
		}
		return &localError{status: resp.StatusCode, kind: e.Error.Kind, msg: e.Error.Message}
	}
	return json.Unmarshal(data, out)
}
