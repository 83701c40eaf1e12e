package main

import (
	"strconv"

	"github.com/urfave/cli/v2"

	"github.com/shoal-project/shoal/api/client"
	"github.com/shoal-project/shoal/fsm"
)

// quotaFlags are `openstack quota set`'s flags for Nova's limits, in the
// order the quota set shows them.
var quotaFlags = []struct{ flag, usage string }{
	{"instances", "servers"},
	{"cores", "vCPUs"},
	{"ram", "memory in MiB"},
	{"server-groups", "server groups"},
	{"server-group-members", "servers in one server group"},
	{"key-pairs", "key pairs"},
	{"floating-ips", "floating IPs"},
}

func quotaCommand() *cli.Command {
	var setFlags []cli.Flag
	for _, f := range quotaFlags {
		setFlags = append(setFlags, &cli.IntFlag{Name: f.flag, Usage: "limit of " + f.usage + " (-1: unlimited)"})
	}
	return &cli.Command{
		Name:  "quota",
		Usage: "show and set a project's quotas (Nova's quota sets)",
		Subcommands: []*cli.Command{
			{
				Name:      "show",
				Usage:     "show a project's quotas (default: the current project's)",
				ArgsUsage: "[PROJECT]",
				Flags:     []cli.Flag{&cli.BoolFlag{Name: "default", Usage: "show the defaults instead"}},
				Action: func(c *cli.Context) error {
					if c.NArg() > 1 {
						return argsError(c, "takes at most one project ID or name")
					}
					return callAndPrint(c, func(cl *client.Client) (client.QuotaSet, error) {
						id, err := projectID(c, cl, c.Args().First())
						if err != nil {
							return client.QuotaSet{}, err
						}
						if c.Bool("default") {
							return cl.DefaultQuota(c.Context, id)
						}
						return cl.Quota(c.Context, id)
					}, printQuota)
				},
			},
			{
				Name:      "set",
				Usage:     "change a project's quotas (the limits given; the others stay)",
				ArgsUsage: "PROJECT",
				Flags:     setFlags,
				Action: func(c *cli.Context) error {
					ref, err := oneArg(c, "project ID or name")
					if err != nil {
						return err
					}
					var u client.QuotaUpdate
					limits := []**int{&u.Instances, &u.Cores, &u.RAM, &u.ServerGroups, &u.ServerGroupMembers, &u.KeyPairs, &u.FloatingIPs}
					given := false
					for i, f := range quotaFlags {
						if c.IsSet(f.flag) {
							v := c.Int(f.flag)
							*limits[i], given = &v, true
						}
					}
					if !given {
						return usageError(c, "quota set needs at least one limit (--instances, --cores, …)")
					}
					return callAndPrint(c, func(cl *client.Client) (client.QuotaSet, error) {
						p, err := cl.Project(c.Context, ref)
						if err != nil {
							return client.QuotaSet{}, err
						}
						return cl.SetQuota(c.Context, p.ID, u)
					}, printQuota)
				},
			},
		},
	}
}

func limitsCommand() *cli.Command {
	return &cli.Command{
		Name:  "limits",
		Usage: "show the absolute limits of a project and what it uses of them",
		Flags: []cli.Flag{&cli.StringFlag{Name: "project", Usage: "another project (ID or name; admin only)"}},
		Action: func(c *cli.Context) error {
			if err := noArgs(c); err != nil {
				return err
			}
			return callAndPrint(c, func(cl *client.Client) (client.Limits, error) {
				id := ""
				if ref := c.String("project"); ref != "" {
					p, err := cl.Project(c.Context, ref)
					if err != nil {
						return client.Limits{}, err
					}
					id = p.ID
				}
				return cl.Limits(c.Context, id)
			}, printLimits)
		},
	}
}

// projectID is the ID of the project ref names, or, when ref is empty, of
// the project the command's token is scoped to (as openstack defaults to).
func projectID(c *cli.Context, cl *client.Client, ref string) (string, error) {
	if ref != "" {
		p, err := cl.Project(c.Context, ref)
		return p.ID, err
	}
	token, err := cl.CurrentToken(c.Context)
	if err != nil {
		return "", err
	}
	if token == "" {
		return "", usageError(c, "no project given and no credentials to find the current one")
	}
	info, err := cl.ValidateToken(c.Context, token)
	if err != nil {
		return "", err
	}
	return info.Project.ID, nil
}

func printQuota(o *output, q client.QuotaSet) error {
	return o.printObject(map[string]any{"quota_set": q}, [][]string{
		{"project", q.ID},
		{fsm.QuotaInstances, strconv.Itoa(q.Instances)},
		{fsm.QuotaCores, strconv.Itoa(q.Cores)},
		{fsm.QuotaRAM, strconv.Itoa(q.RAM)},
		{fsm.QuotaServerGroups, strconv.Itoa(q.ServerGroups)},
		{fsm.QuotaServerGroupMembers, strconv.Itoa(q.ServerGroupMembers)},
		{fsm.QuotaKeyPairs, strconv.Itoa(q.KeyPairs)},
		{fsm.QuotaFloatingIPs, strconv.Itoa(q.FloatingIPs)},
	})
}

// printLimits shows the absolute limits as `openstack limits show
// --absolute` does: NAME and VALUE, in Nova's names.
func printLimits(o *output, l client.Limits) error {
	if l.Rate == nil {
		l.Rate = []any{}
	}
	a := l.Absolute
	rows := [][]string{
		{"maxTotalInstances", strconv.Itoa(a.MaxTotalInstances)},
		{"maxTotalCores", strconv.Itoa(a.MaxTotalCores)},
		{"maxTotalRAMSize", strconv.Itoa(a.MaxTotalRAMSize)},
		{"maxServerGroups", strconv.Itoa(a.MaxServerGroups)},
		{"maxServerGroupMembers", strconv.Itoa(a.MaxServerGroupMembers)},
		{"maxTotalKeypairs", strconv.Itoa(a.MaxTotalKeypairs)},
		{"maxTotalFloatingIps", strconv.Itoa(a.MaxTotalFloatingIPs)},
		{"totalInstancesUsed", strconv.Itoa(a.TotalInstancesUsed)},
		{"totalCoresUsed", strconv.Itoa(a.TotalCoresUsed)},
		{"totalRAMUsed", strconv.Itoa(a.TotalRAMUsed)},
		{"totalServerGroupsUsed", strconv.Itoa(a.TotalServerGroupsUsed)},
		{"totalFloatingIpsUsed", strconv.Itoa(a.TotalFloatingIPsUsed)},
	}
	if o.json {
		return o.printJSON(map[string]any{"limits": l})
	}
	return o.table([]string{"NAME", "VALUE"}, rows)
}
