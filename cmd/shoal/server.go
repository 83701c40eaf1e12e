package main

import (
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"strconv"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/shoal-project/shoal/api"
	"github.com/shoal-project/shoal/api/client"
	"github.com/shoal-project/shoal/fsm"
)

// serverRef names a server argument in usage errors: resolveServer takes
// either.
const serverRef = "server ID or name"

func serverCommand() *cli.Command {
	return &cli.Command{
		Name:  "server",
		Usage: "manage servers (virtual machines)",
		Subcommands: []*cli.Command{
			serverCreateCommand(),
			serverListCommand(),
			oneServerCommand("show", "show one server by ID or name", func(_ *cli.Context, o *output, s api.ServerDetail) error {
				return printServer(o, s)
			}),
			serverDeleteCommand(),
			serverActionCommand("start", "start a SHUTOFF server", nil),
			serverActionCommand("stop", "stop (power off) a server", nil),
			serverActionCommand("pause", "pause an ACTIVE server (its memory stays resident)", nil),
			serverActionCommand("unpause", "unpause a PAUSED server", nil),
			serverActionCommand("suspend", "suspend an ACTIVE server (its memory is saved to disk)", nil),
			serverActionCommand("resume", "resume a SUSPENDED server", nil),
			serverActionCommand("reboot", "reboot a server (soft: ask the guest; --hard: power cycle)",
				[]cli.Flag{&cli.BoolFlag{Name: "hard", Usage: "power cycle instead of asking the guest"}}),
			serverResetStateCommand(),
			serverMigrateCommand(),
			serverResizeCommand(),
			serverActionCommand("evacuate", "rebuild a server of a down host on another host (same UUID, IP and MAC)",
				[]cli.Flag{&cli.StringFlag{Name: "target", Usage: "the host to rebuild on (default: the scheduler picks)"}}),
			serverConsoleLogCommand(),
			oneServerCommand("actions", "list a server's actions, newest first", func(c *cli.Context, o *output, s api.ServerDetail) error {
				actions, err := apiClient(c).ServerActions(c.Context, s.ID)
				if err != nil {
					return err
				}
				return printActions(o, actions)
			}),
			serverAddRemoveCommand("add", "attach a floating IP to a server, or put it in a security group",
				api.ActionAddFloatingIP, api.ActionAddSecurityGroup),
			serverAddRemoveCommand("remove", "detach a floating IP from a server, or take it out of a security group",
				api.ActionRemoveFloatingIP, api.ActionRemoveSecurityGroup),
		},
	}
}

func serverCreateCommand() *cli.Command {
	return &cli.Command{
		Name:      "create",
		Usage:     "create a server, or --count of them named NAME-1 … NAME-N",
		ArgsUsage: "NAME",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "flavor", Required: true, Usage: "flavor ID or name"},
			&cli.StringFlag{Name: "image", Required: true, Usage: "image ID or name"},
			&cli.StringFlag{Name: "availability-zone", Usage: "ZONE, ZONE:HOST or :HOST (forces the host)"},
			&cli.StringFlag{Name: "server-group", Usage: "server group ID or name"},
			&cli.StringSliceFlag{Name: "property", KeepSpace: true, Usage: "metadata KEY=VALUE (repeat for more)"},
			&cli.IntFlag{Name: "count", Value: 1, Usage: "how many servers to create (1-100)"},
			&cli.BoolFlag{Name: "wait", Usage: "wait until every server is ACTIVE or ERROR, printing each change"},
			&cli.StringFlag{Name: "ha", Usage: "when its host dies: restart (the default: evacuated automatically) or none (ERROR until an operator acts)"},
			&cli.StringSliceFlag{Name: "security-group", Usage: "a security group of the project, by name or ID (repeat for more; default: default)"},
			&cli.StringFlag{Name: "key-name", Usage: "one of your keypairs: the guest gets its public key"},
			&cli.StringFlag{Name: "user-data", Usage: "a `FILE` the guest reads at boot (a cloud-init script or #cloud-config; at most 48 KiB)"},
			&cli.BoolFlag{Name: "config-drive", Usage: "attach a config drive (the metadata as an ISO 9660 disk)"},
		},
		Action: func(c *cli.Context) error {
			name, err := oneArg(c, "NAME")
			if err != nil {
				return err
			}
			if c.Int("count") < 1 {
				return usageError(c, "--count must be at least 1")
			}
			o, err := outputFor(c)
			if err != nil {
				return err
			}
			metadata, err := parseProperties(c.StringSlice("property"))
			if err != nil {
				return err
			}
			userData, err := readUserData(c.String("user-data"))
			if err != nil {
				return err
			}
			req := api.ServerCreate{
				Name: name, Flavor: c.String("flavor"), Image: c.String("image"),
				AvailabilityZone: c.String("availability-zone"), ServerGroup: c.String("server-group"),
				Metadata: metadata, Count: c.Int("count"), HA: c.String("ha"),
				KeyName: c.String("key-name"), UserData: userData, ConfigDrive: c.Bool("config-drive"),
			}
			for _, g := range c.StringSlice("security-group") {
				req.SecurityGroups = append(req.SecurityGroups, api.SecurityGroupRef{Name: g})
			}
			cl := apiClient(c)
			servers, err := cl.CreateServer(c.Context, req)
			if err != nil {
				return err
			}
			if !c.Bool("wait") {
				return printCreated(o, servers)
			}
			progress := o.w
			if o.json {
				progress = c.App.ErrWriter // stdout stays one JSON document
			}
			servers, err = waitForServers(c.Context, cl, progress, servers)
			if o.json && (err == nil || errors.Is(err, errServerFailed)) {
				if perr := printCreated(o, servers); perr != nil {
					return perr
				}
			}
			return err
		},
	}
}

// printCreated prints servers as the API answered a create: one server, or a list.
func printCreated(o *output, servers []api.ServerDetail) error {
	if len(servers) == 1 {
		return printServer(o, servers[0])
	}
	return printServers(o, servers)
}

func serverListCommand() *cli.Command {
	return &cli.Command{
		Name:  "list",
		Usage: "list servers, oldest first",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "status", Usage: "only servers with this status (ACTIVE, BUILD, SHUTOFF, ERROR, …)"},
			&cli.StringFlag{Name: "host", Usage: "only servers on this host"},
			&cli.StringFlag{Name: "name", Usage: "only servers whose name matches this regular expression"},
			&cli.IntFlag{Name: "limit", Usage: "at most this many servers (1-1000)"},
			&cli.StringFlag{Name: "marker", Usage: "start after the server with this ID (the last of the previous page)"},
			&cli.BoolFlag{Name: "all-projects", Usage: "servers of every project (admin only; Nova's all_tenants)"},
			&cli.StringFlag{Name: "project", Usage: "only servers of this project, by name or ID (admin only, with --all-projects)"},
		},
		Action: func(c *cli.Context) error {
			if err := noArgs(c); err != nil {
				return err
			}
			return callAndPrint(c, func(cl *client.Client) ([]api.ServerDetail, error) {
				f := api.ServerFilter{Status: c.String("status"), Host: c.String("host"), Name: c.String("name"),
					Limit: c.Int("limit"), Marker: c.String("marker"), AllTenants: c.Bool("all-projects")}
				if ref := c.String("project"); ref != "" {
					p, err := cl.Project(c.Context, ref)
					if err != nil {
						return nil, err
					}
					f.ProjectID, f.AllTenants = p.ID, true
				}
				return cl.Servers(c.Context, f)
			}, printServers)
		},
	}
}

func serverDeleteCommand() *cli.Command {
	return &cli.Command{
		Name:      "delete",
		Usage:     "delete servers by ID or name",
		ArgsUsage: "SERVER [SERVER...]",
		Flags:     []cli.Flag{&cli.BoolFlag{Name: "wait", Usage: "wait until each server is gone"}},
		Action: func(c *cli.Context) error {
			refs, o, err := someServers(c)
			if err != nil {
				return err
			}
			cl := apiClient(c)
			return eachServer(c, refs, func(s api.ServerDetail) error {
				if err := cl.DeleteServer(c.Context, s.ID); err != nil {
					return err
				}
				if c.Bool("wait") {
					if err := waitGone(c.Context, cl, s.ID); err != nil {
						return err
					}
				}
				if o.json {
					return nil // the API answers 204 with no body
				}
				verb := "deleting"
				if c.Bool("wait") {
					verb = "deleted"
				}
				_, err := fmt.Fprintf(o.w, "%s server %s (%s)\n", verb, s.Name, s.ID)
				return err
			})
		},
	}
}

// serverActionCommand is one of the plain actions (start, stop, …); reboot
// adds --hard.
func serverActionCommand(action, usage string, flags []cli.Flag) *cli.Command {
	return &cli.Command{
		Name:      action,
		Usage:     usage,
		ArgsUsage: "SERVER [SERVER...]",
		Flags:     flags,
		Action: func(c *cli.Context) error {
			refs, o, err := someServers(c)
			if err != nil {
				return err
			}
			req := api.ServerActionRequest{Action: action}
			if action == fsm.ActionReboot && c.Bool("hard") {
				req.Type = "HARD"
			}
			if action == fsm.ActionEvacuate {
				req.Host = c.String("target")
			}
			return runAction(c, o, refs, req)
		},
	}
}

func serverResetStateCommand() *cli.Command {
	return &cli.Command{
		Name:      "reset-state",
		Usage:     "force a server's state to error (the default) or active, clearing its task",
		ArgsUsage: "SERVER",
		Flags:     []cli.Flag{&cli.StringFlag{Name: "state", Value: "error", Usage: "active|error"}},
		Action: func(c *cli.Context) error {
			ref, err := oneArg(c, serverRef)
			if err != nil {
				return err
			}
			o, err := outputFor(c)
			if err != nil {
				return err
			}
			return runAction(c, o, []string{ref}, api.ServerActionRequest{Action: fsm.ActionResetState, State: c.String("state")})
		},
	}
}

// runAction sends req for every server refs name.
func runAction(c *cli.Context, o *output, refs []string, req api.ServerActionRequest) error {
	cl := apiClient(c)
	return eachServer(c, refs, func(s api.ServerDetail) error {
		got, err := cl.ServerAction(c.Context, s.ID, req)
		if err != nil {
			return err
		}
		if o.json {
			return o.printJSON(api.ServerResponse{Server: got})
		}
		_, err = fmt.Fprintf(o.w, "%s: %s requested; now %s\n", got.Name, req.Action, statusWithTask(got))
		return err
	})
}

// eachServer resolves and handles every server refs name, going on after a
// failure (as the openstack client does); with one ref its error is returned
// as it is.
func eachServer(c *cli.Context, refs []string, do func(api.ServerDetail) error) error {
	var errs []error
	for _, ref := range refs {
		s, err := resolveServer(c, ref)
		if err == nil {
			err = do(s)
		}
		if err != nil && len(refs) == 1 {
			return err
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", ref, err))
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("%d of %d servers failed: %w", len(errs), len(refs), errors.Join(errs...))
	}
	return nil
}

// someServers is the common start of commands that take one or more
// servers: their IDs or names, and the output settings.
func someServers(c *cli.Context) ([]string, *output, error) {
	refs, err := someArgs(c, serverRef)
	if err != nil {
		return nil, nil, err
	}
	o, err := outputFor(c)
	return refs, o, err
}

// oneServerCommand is a command on exactly one server, resolved by ID or
// exact name.
func oneServerCommand(name, usage string, do func(c *cli.Context, o *output, s api.ServerDetail) error) *cli.Command {
	return &cli.Command{
		Name:      name,
		Usage:     usage,
		ArgsUsage: "SERVER",
		Action: func(c *cli.Context) error {
			o, s, err := oneServer(c)
			if err != nil {
				return err
			}
			return do(c, o, s)
		},
	}
}

// oneServer is the common start of commands that take exactly one server:
// the output settings and the server, resolved by ID or exact name.
func oneServer(c *cli.Context) (*output, api.ServerDetail, error) {
	ref, err := oneArg(c, serverRef)
	if err != nil {
		return nil, api.ServerDetail{}, err
	}
	o, err := outputFor(c)
	if err != nil {
		return nil, api.ServerDetail{}, err
	}
	s, err := resolveServer(c, ref)
	return o, s, err
}

// resolveServer finds a server by ID, then by exact name (a name several
// servers share is refused).
func resolveServer(c *cli.Context, ref string) (api.ServerDetail, error) {
	cl := apiClient(c)
	s, err := cl.Server(c.Context, ref)
	if !errors.Is(err, fsm.ErrNotFound) {
		return s, err
	}
	named, lerr := cl.Servers(c.Context, api.ServerFilter{Name: "^" + regexp.QuoteMeta(ref) + "$"})
	switch {
	case lerr != nil || len(named) == 0:
		return s, err
	case len(named) > 1:
		return api.ServerDetail{}, fmt.Errorf("%d servers are named %q; use the ID", len(named), ref)
	}
	return named[0], nil
}

func printServers(o *output, servers []api.ServerDetail) error {
	return printList(o, servers, func(l []api.ServerDetail) any { return api.ServerList{Servers: l} },
		[]string{"ID", "NAME", "STATUS", "HOST", "NETWORKS", "FLAVOR", "IMAGE"},
		func(s api.ServerDetail) []string {
			return []string{s.ID, s.Name, s.Status, s.Host, networks(s.Addresses), s.Flavor.Name, imageName(s.Image)}
		})
}

func printServer(o *output, s api.ServerDetail) error {
	fault := ""
	if s.Fault != nil {
		fault = fmt.Sprintf("%d: %s", s.Fault.Code, s.Fault.Message)
	}
	return o.printObject(api.ServerResponse{Server: s}, [][]string{
		{"id", s.ID},
		{"name", s.Name},
		{"status", s.Status},
		{"host", s.Host},
		{"vm_state", s.VMState},
		{"task_state", s.TaskState},
		{"power_state", powerState(s.PowerState)},
		{"flavor", fmt.Sprintf("%s (%s: %d vCPU, %d MiB, %d GiB)", s.Flavor.Name, s.Flavor.ID, s.Flavor.VCPUs, s.Flavor.RAM, s.Flavor.Disk)},
		{"image", imageLabel(s.Image)},
		{"addresses", addresses(s.Addresses)},
		{"availability_zone", s.AvailabilityZone},
		{"server_group", s.ServerGroup},
		{"security_groups", securityGroups(s.SecurityGroups)},
		{"ha", s.HA},
		{"key_name", s.KeyName},
		{"config_drive", s.ConfigDrive},
		{"metadata", properties(s.Metadata)},
		{"fault", fault},
		{"created", timestamp(s.Created)},
		{"updated", timestamp(s.Updated)},
	})
}

func printActions(o *output, actions []fsm.Action) error {
	return printList(o, actions, func(l []fsm.Action) any { return api.ServerActionList{Actions: l} },
		[]string{"REQUEST", "ACTION", "START", "FINISH", "RESULT", "MESSAGE"},
		func(a fsm.Action) []string {
			return []string{a.RequestID, a.Action, timestamp(a.Start), timestamp(a.Finish), a.Result, a.Message}
		})
}

// networks is openstack's NETWORKS column: net=ip, ip; other=ip (a
// floating IP after the fixed one it maps to).
func networks(addrs []api.ServerAddress) string {
	var order []string
	ips := map[string][]string{}
	for _, a := range addrs {
		if _, ok := ips[a.Network]; !ok {
			order = append(order, a.Network)
		}
		ips[a.Network] = append(ips[a.Network], a.IP)
	}
	parts := make([]string, 0, len(order))
	for _, n := range order {
		parts = append(parts, n+"="+strings.Join(ips[n], ", "))
	}
	return strings.Join(parts, "; ")
}

// addresses is networks with each port's MAC, and floating IPs marked.
func addresses(addrs []api.ServerAddress) string {
	parts := make([]string, 0, len(addrs))
	for _, a := range addrs {
		if a.Type == api.AddressFloating {
			parts = append(parts, fmt.Sprintf("%s=%s (floating)", a.Network, a.IP))
			continue
		}
		parts = append(parts, fmt.Sprintf("%s=%s (%s)", a.Network, a.IP, a.MAC))
	}
	return strings.Join(parts, "; ")
}

// securityGroups shows a server's groups by name, comma separated.
func securityGroups(refs []api.SecurityGroupRef) string {
	names := make([]string, len(refs))
	for k, r := range refs {
		names[k] = r.Name
	}
	return strings.Join(names, ", ")
}

// serverAddRemoveCommand is `server add` or `server remove`: a floating IP
// (by address) or a security group (by name or ID) on one server.
func serverAddRemoveCommand(verb, usage, floatingAction, groupAction string) *cli.Command {
	sub := func(name string, arg operand, usage, action string) *cli.Command {
		return &cli.Command{
			Name:      name,
			Usage:     usage,
			ArgsUsage: "SERVER " + arg.usage,
			Action: func(c *cli.Context) error {
				if c.NArg() != 2 {
					return argsError(c, "needs a "+serverRef+" and a "+arg.what)
				}
				o, err := outputFor(c)
				if err != nil {
					return err
				}
				req := api.ServerActionRequest{Action: action}
				if action == floatingAction {
					req.Address = c.Args().Get(1)
				} else {
					req.Name = c.Args().Get(1)
				}
				return runAction(c, o, []string{c.Args().First()}, req)
			},
		}
	}
	return &cli.Command{
		Name:  verb,
		Usage: usage,
		Subcommands: []*cli.Command{
			sub("floating-ip", operand{"IP_ADDRESS", "floating IP address"}, verb+" a floating IP (by address)", floatingAction),
			sub("security-group", operand{"GROUP", "security group name or ID"}, verb+" a security group (by name or ID)", groupAction),
		},
	}
}

func imageName(img api.ImageRef) string {
	if img.Name != "" {
		return img.Name
	}
	return img.ID
}

func imageLabel(img api.ImageRef) string {
	if img.Name == "" {
		return img.ID
	}
	return img.Name + " (" + img.ID + ")"
}

// powerState names Nova's power states.
func powerState(p fsm.PowerState) string {
	switch p {
	case fsm.PowerNoState:
		return "NOSTATE"
	case fsm.PowerRunning:
		return "Running"
	case fsm.PowerPaused:
		return "Paused"
	case fsm.PowerShutdown:
		return "Shutdown"
	case fsm.PowerCrashed:
		return "Crashed"
	case fsm.PowerSuspended:
		return "Suspended"
	}
	return strconv.Itoa(int(p))
}

// readUserData reads a user data file and encodes it as the API takes it
// (base64); "" reads nothing. The API bounds its size.
func readUserData(path string) (string, error) {
	if path == "" {
		return "", nil
	}
	f, err := os.Open(path)
	if err != nil {
		return "", fmt.Errorf("user data: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, fsm.MaxUserDataLen+1)) // past the limit once encoded: let the API say so
	if err != nil {
		return "", fmt.Errorf("user data: %w", err)
	}
	return base64.StdEncoding.EncodeToString(data), nil
}

// parseProperties turns repeated KEY=VALUE flags into a map. The value may be
// empty or contain '='; the key may not be empty or given twice.
func parseProperties(kvs []string) (map[string]string, error) {
	if len(kvs) == 0 {
		return nil, nil
	}
	out := make(map[string]string, len(kvs))
	for _, kv := range kvs {
		k, v, ok := strings.Cut(kv, "=")
		switch {
		case !ok:
			return nil, fmt.Errorf("property %q must be KEY=VALUE", kv)
		case k == "":
			return nil, fmt.Errorf("property %q has an empty key", kv)
		}
		if _, dup := out[k]; dup {
			return nil, fmt.Errorf("property %q is given twice", k)
		}
		out[k] = v
	}
	return out, nil
}
