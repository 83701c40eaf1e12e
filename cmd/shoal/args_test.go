package main

import (
	"reflect"
	"strings"
	"testing"

	"github.com/urfave/cli/v2"
)

func TestReorderArgs(t *testing.T) {
	app := &cli.App{
		Name:                 "shoal",
		EnableBashCompletion: true,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "addr"},
			&cli.StringFlag{Name: "output", Aliases: []string{"o"}},
			&cli.BoolFlag{Name: "debug"},
		},
		Commands: []*cli.Command{
			{Name: "join"},
			{Name: "members"},
			{Name: "flavor", Aliases: []string{"flavors"}, Subcommands: []*cli.Command{
				{Name: "list"},
				{Name: "create", Flags: []cli.Flag{
					&cli.IntFlag{Name: "vcpus"},
					&cli.IntFlag{Name: "ram"},
					&cli.StringFlag{Name: "id"},
					&cli.BoolFlag{Name: "public"},
					&cli.StringFlag{Name: "output"}, // shadows the global flag
				}},
			}},
		},
	}
	tests := []struct{ name, in, want string }{
		{"nothing", "shoal", "shoal"},
		{"only globals", "shoal --addr x", "shoal --addr x"},
		{"already in order", "shoal flavor create --vcpus 1 tiny", "shoal flavor create --vcpus 1 tiny"},
		{"flags after name", "shoal flavor create tiny2 --vcpus 1 --ram 256", "shoal flavor create --vcpus 1 --ram 256 tiny2"},
		{"mixed", "shoal flavor create --vcpus 1 tiny2 --ram=256 --id x", "shoal flavor create --vcpus 1 --ram=256 --id x tiny2"},
		{"single dash", "shoal flavor create tiny -vcpus 2", "shoal flavor create -vcpus 2 tiny"},
		{"bool takes no value", "shoal flavor create tiny --public extra", "shoal flavor create --public tiny extra"},
		{"globals stay", "shoal --addr h:1 -o json flavor create t --vcpus 1", "shoal --addr h:1 -o json flavor create --vcpus 1 t"},
		{"global value named like a command", "shoal --addr members flavor list", "shoal --addr members flavor list"},
		{"global hoisted", "shoal members -o json", "shoal -o json members"},
		{"globals hoisted in order", "shoal --debug flavor list --addr h:1 -o=json", "shoal --debug --addr h:1 -o=json flavor list"},
		{"leaf flag shadows global", "shoal flavor create t --output x", "shoal flavor create --output x t"},
		{"alias", "shoal flavors create t --vcpus 4", "shoal flavors create --vcpus 4 t"},
		{"double dash", "shoal flavor create t --vcpus 1 -- --ram 2", "shoal flavor create --vcpus 1 -- t --ram 2"},
		{"double dash first", "shoal flavor create -- -t", "shoal flavor create -- -t"},
		{"value looks like a flag", "shoal flavor create t --id -x", "shoal flavor create --id -x t"},
		{"dangling value flag", "shoal flavor create t --vcpus", "shoal flavor create --vcpus t"},
		{"unknown flag moves alone", "shoal flavor create t --bogus v", "shoal flavor create --bogus t v"},
		{"positionals keep order", "shoal join a:1 --addr h:1 b:2", "shoal --addr h:1 join a:1 b:2"},
		{"unknown command", "shoal nope t --vcpus 1", "shoal nope t --vcpus 1"},
		{"help command", "shoal help flavor", "shoal help flavor"},
		{"dash is positional", "shoal flavor create - --vcpus 1", "shoal flavor create --vcpus 1 -"},
		{"completion", "shoal flavor create t --vcpus 1 --generate-bash-completion", "shoal flavor create t --vcpus 1 --generate-bash-completion"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := reorderArgs(app, strings.Fields(tt.in))
			if want := strings.Fields(tt.want); !reflect.DeepEqual(got, want) {
				t.Errorf("reorderArgs(%q)\n got %q\nwant %q", tt.in, got, want)
			}
		})
	}
}

// TestReorderArgsRealApp checks the real command tree parses what people type.
func TestReorderArgsRealApp(t *testing.T) {
	var got []string
	app := newApp()
	create := findCommand(findCommand(app.Commands, "flavor").Subcommands, "create")
	create.Action = func(c *cli.Context) error {
		got = []string{c.Args().First(), c.String("vcpus"), c.String("ram"), c.String("id"), c.String("output"), c.String("addr")}
		return nil
	}
	args := strings.Fields("shoal flavor create tiny2 --vcpus 3 --ram=512 -o json --id t-2 --addr h:9")
	if err := app.Run(reorderArgs(app, args)); err != nil {
		t.Fatal(err)
	}
	if want := []string{"tiny2", "3", "512", "t-2", "json", "h:9"}; !reflect.DeepEqual(got, want) {
		t.Errorf("parsed %q, want %q", got, want)
	}
}
