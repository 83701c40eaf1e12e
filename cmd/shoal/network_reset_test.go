package main

import (
	"slices"
	"strings"
	"testing"

	"github.com/urfave/cli/v2"

	shoalagent "github.com/shoal-project/shoal/cmd/shoal/agent"
)

// The command acts on the kernel only through its Action, which these tests
// replace: they never touch this machine's namespace.
func TestNetworkResetFlags(t *testing.T) {
	var name, dir string
	var routes bool
	read := func(c *cli.Context) { name, dir, routes = c.String("name"), c.String("data-dir"), c.Bool("routes") }
	capture(t, "network-reset", read, "--name", "n2", "--data-dir", "/srv/n2", "--routes")
	if name != "n2" || dir != "/srv/n2" || !routes {
		t.Errorf("flags read as %q %q %v", name, dir, routes)
	}
	capture(t, "network-reset", read, "--name", "n2")
	if dir != shoalagent.DefaultDataDir || routes {
		t.Errorf("defaults read as %q %v, want %s and no routes", dir, routes, shoalagent.DefaultDataDir)
	}

	app := newApp()
	i := slices.IndexFunc(app.Commands, func(c *cli.Command) bool { return c.Name == "network-reset" })
	if !app.Commands[i].Hidden {
		t.Error("network-reset is plumbing: it should be hidden")
	}
	app.Commands[i].Action = func(*cli.Context) error { t.Error("ran without a node name"); return nil }
	if err := app.Run([]string{"shoal", "network-reset"}); err == nil || !strings.Contains(err.Error(), "name") {
		t.Errorf("network-reset without --name = %v", err)
	}
}
