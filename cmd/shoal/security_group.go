package main

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/shoal-project/shoal/api"
	"github.com/shoal-project/shoal/api/client"
	"github.com/shoal-project/shoal/fsm"
)

func securityGroupCommand() *cli.Command {
	arg := operand{"GROUP", "security group ID or name"}
	return &cli.Command{
		Name:  "security-group",
		Usage: "manage security groups (stateful filters on servers' ports)",
		Subcommands: []*cli.Command{
			{
				Name:      "create",
				Usage:     "create a security group (until rules are added it lets all out and nothing in)",
				ArgsUsage: "NAME",
				Flags:     []cli.Flag{&cli.StringFlag{Name: "description", Usage: "what the group is for"}},
				Action: func(c *cli.Context) error {
					name, err := oneArg(c, "NAME")
					if err != nil {
						return err
					}
					return callAndPrint(c, func(cl *client.Client) (api.SecurityGroup, error) {
						return cl.CreateSecurityGroup(c.Context, name, c.String("description"))
					}, printSecurityGroup)
				},
			},
			{
				Name:      "set",
				Usage:     "rename a security group or change its description (default keeps its name)",
				ArgsUsage: "GROUP",
				Flags: []cli.Flag{
					&cli.StringFlag{Name: "name", Usage: "the group's new name"},
					&cli.StringFlag{Name: "description", Usage: "the group's new description (\"\" clears it)"},
				},
				Action: setSecurityGroup,
			},
			listCommand("list", "list the current project's security groups", (*client.Client).SecurityGroups, printSecurityGroups),
			showCommand("show one security group by ID or name, with its rules", arg, resolveSecurityGroup, printSecurityGroup),
			deleteCommand("delete a security group by ID or name (not default, nor one a server is in)", arg, "security group",
				func(cl *client.Client, ctx context.Context, ref string) error {
					g, err := resolveSecurityGroup(cl, ctx, ref)
					if err != nil {
						return err
					}
					return cl.DeleteSecurityGroup(ctx, g.ID)
				}),
			securityGroupRuleCommand(),
		},
	}
}

// setSecurityGroup is `security-group set`: the flags given change, the
// others stay; at least one is needed.
func setSecurityGroup(c *cli.Context) error {
	ref, err := oneArg(c, "security group ID or name")
	if err != nil {
		return err
	}
	var u api.SecurityGroupUpdate
	if c.IsSet("name") {
		name := c.String("name")
		u.Name = &name
	}
	if c.IsSet("description") {
		desc := c.String("description")
		u.Description = &desc
	}
	if u.Name == nil && u.Description == nil {
		return usageError(c, "security-group set needs --name or --description")
	}
	return callAndPrint(c, func(cl *client.Client) (api.SecurityGroup, error) {
		g, err := resolveSecurityGroup(cl, c.Context, ref)
		if err != nil {
			return api.SecurityGroup{}, err
		}
		return cl.UpdateSecurityGroup(c.Context, g.ID, u)
	}, printSecurityGroup)
}

func securityGroupRuleCommand() *cli.Command {
	return &cli.Command{
		Name:  "rule",
		Usage: "manage the rules of a security group",
		Subcommands: []*cli.Command{
			{
				Name:      "create",
				Usage:     "add a rule to a security group (ingress unless --egress)",
				ArgsUsage: "GROUP",
				Flags: []cli.Flag{
					&cli.BoolFlag{Name: "ingress", Usage: "the rule lets traffic in (the default)"},
					&cli.BoolFlag{Name: "egress", Usage: "the rule lets traffic out"},
					&cli.StringFlag{Name: "protocol", Usage: "tcp, udp, icmp or any (the default)"},
					&cli.StringFlag{Name: "dst-port", Usage: "tcp/udp destination port or range: PORT or MIN:MAX (default: any)"},
					&cli.IntFlag{Name: "icmp-type", Usage: "icmp: the ICMP type (default: any)"},
					&cli.IntFlag{Name: "icmp-code", Usage: "icmp: the ICMP code, with --icmp-type (default: any)"},
					&cli.StringFlag{Name: "remote-ip", Usage: "the peer's CIDR (default: anywhere)"},
					&cli.StringFlag{Name: "remote-group", Usage: "peers are the servers of this security group (ID or name)"},
				},
				Action: createRule,
			},
			{
				Name:      "list",
				Usage:     "list the rules of a security group",
				ArgsUsage: "GROUP",
				Action: func(c *cli.Context) error {
					ref, err := oneArg(c, "security group ID or name")
					if err != nil {
						return err
					}
					return callAndPrint(c, func(cl *client.Client) ([]api.SecurityGroupRule, error) {
						g, err := resolveSecurityGroup(cl, c.Context, ref)
						return g.Rules, err
					}, printRules)
				},
			},
			deleteCommand("delete a rule by ID", operand{"RULE", "security group rule ID"}, "security group rule",
				(*client.Client).DeleteSecurityGroupRule),
		},
	}
}

// createRule is `security-group rule create`: the flags are checked before
// any call, then the groups are resolved by name and the rule sent.
func createRule(c *cli.Context) error {
	ref, err := oneArg(c, "security group ID or name")
	if err != nil {
		return err
	}
	req, err := ruleRequest(c)
	if err != nil {
		return usageError(c, err.Error())
	}
	return callAndPrint(c, func(cl *client.Client) (api.SecurityGroupRule, error) {
		g, err := resolveSecurityGroup(cl, c.Context, ref)
		if err != nil {
			return api.SecurityGroupRule{}, err
		}
		req.SecurityGroupID = g.ID
		if remote := c.String("remote-group"); remote != "" {
			rg, err := resolveSecurityGroup(cl, c.Context, remote)
			if err != nil {
				return api.SecurityGroupRule{}, fmt.Errorf("remote group: %w", err)
			}
			req.RemoteGroupID = rg.ID
		}
		return cl.CreateSecurityGroupRule(c.Context, req)
	}, printRule)
}

// ruleRequest reads the rule flags (without the groups, which need the API).
func ruleRequest(c *cli.Context) (api.SecurityGroupRuleCreate, error) {
	req := api.SecurityGroupRuleCreate{Direction: "ingress", RemoteIPPrefix: c.String("remote-ip")}
	switch {
	case c.Bool("ingress") && c.Bool("egress"):
		return req, errors.New("--ingress and --egress exclude each other")
	case c.Bool("egress"):
		req.Direction = "egress"
	}
	if c.String("remote-ip") != "" && c.String("remote-group") != "" {
		return req, errors.New("--remote-ip and --remote-group exclude each other")
	}
	if p := c.String("protocol"); !strings.EqualFold(p, "any") {
		req.Protocol = p
	}
	if c.IsSet("dst-port") && (c.IsSet("icmp-type") || c.IsSet("icmp-code")) {
		return req, errors.New("--dst-port goes with tcp or udp, --icmp-type and --icmp-code with icmp")
	}
	if c.IsSet("icmp-code") && !c.IsSet("icmp-type") {
		return req, errors.New("--icmp-code needs --icmp-type")
	}
	if c.IsSet("dst-port") {
		lo, hi, err := parsePortRange(c.String("dst-port"))
		if err != nil {
			return req, err
		}
		req.PortRangeMin, req.PortRangeMax = &lo, &hi
	}
	if c.IsSet("icmp-type") {
		t := c.Int("icmp-type")
		req.PortRangeMin = &t
		if c.IsSet("icmp-code") {
			code := c.Int("icmp-code")
			req.PortRangeMax = &code
		}
	}
	return req, nil
}

// parsePortRange reads PORT or MIN:MAX; whether the ports are valid is the
// API's call.
func parsePortRange(s string) (lo, hi int, err error) {
	a, b, isRange := strings.Cut(s, ":")
	if lo, err = strconv.Atoi(a); err != nil {
		return 0, 0, fmt.Errorf("--dst-port %q must be PORT or MIN:MAX", s)
	}
	hi = lo
	if isRange {
		if hi, err = strconv.Atoi(b); err != nil {
			return 0, 0, fmt.Errorf("--dst-port %q must be PORT or MIN:MAX", s)
		}
	}
	return lo, hi, nil
}

// resolveSecurityGroup finds a security group by ID, then by name among the
// current project's (the API takes IDs only).
func resolveSecurityGroup(cl *client.Client, ctx context.Context, ref string) (api.SecurityGroup, error) {
	g, err := cl.SecurityGroup(ctx, ref)
	if !errors.Is(err, fsm.ErrNotFound) {
		return g, err
	}
	groups, lerr := cl.SecurityGroups(ctx)
	if lerr != nil {
		return g, err
	}
	var named []api.SecurityGroup
	for _, h := range groups {
		if h.Name == ref {
			named = append(named, h)
		}
	}
	switch len(named) {
	case 0:
		return g, err
	case 1:
		return named[0], nil
	}
	return api.SecurityGroup{}, fmt.Errorf("%d security groups are named %q; use the ID", len(named), ref)
}

func printSecurityGroups(o *output, groups []api.SecurityGroup) error {
	return printList(o, groups, func(l []api.SecurityGroup) any { return api.SecurityGroupList{SecurityGroups: l} },
		[]string{"ID", "NAME", "DESCRIPTION", "PROJECT", "RULES"},
		func(g api.SecurityGroup) []string {
			return []string{g.ID, g.Name, g.Description, g.ProjectID, strconv.Itoa(len(g.Rules))}
		})
}

func printSecurityGroup(o *output, g api.SecurityGroup) error {
	if g.Rules == nil {
		g.Rules = []api.SecurityGroupRule{}
	}
	rules := make([]string, len(g.Rules))
	for k, r := range g.Rules {
		rules[k] = ruleSummary(r)
	}
	return o.printObject(api.SecurityGroupResponse{SecurityGroup: g}, [][]string{
		{"id", g.ID},
		{"name", g.Name},
		{"description", g.Description},
		{"project_id", g.ProjectID},
		{"rules", strings.Join(rules, "; ")},
		{"created", timestamp(g.Created)},
	})
}

func printRules(o *output, rules []api.SecurityGroupRule) error {
	return printList(o, rules, func(l []api.SecurityGroupRule) any {
		return map[string][]api.SecurityGroupRule{"security_group_rules": l}
	},
		[]string{"ID", "DIRECTION", "ETHERTYPE", "PROTOCOL", "PORT RANGE", "REMOTE"},
		func(r api.SecurityGroupRule) []string {
			return []string{r.ID, r.Direction, r.Ethertype, orAny(r.Protocol), portRange(r), remote(r)}
		})
}

func printRule(o *output, r api.SecurityGroupRule) error {
	return o.printObject(api.SecurityGroupRuleResponse{SecurityGroupRule: r}, [][]string{
		{"id", r.ID},
		{"security_group_id", r.SecurityGroupID},
		{"direction", r.Direction},
		{"ethertype", r.Ethertype},
		{"protocol", orAny(r.Protocol)},
		{"port_range", portRange(r)},
		{"remote", remote(r)},
		{"project_id", r.ProjectID},
		{"created", timestamp(r.Created)},
	})
}

// ruleSummary is one rule on one line: "ingress tcp 22 from 0.0.0.0/0".
func ruleSummary(r api.SecurityGroupRule) string {
	s := r.Direction + " " + r.Ethertype + " " + orAny(r.Protocol)
	if pr := portRange(r); pr != "any" {
		s += " " + pr
	}
	peer := "from"
	if r.Direction == "egress" {
		peer = "to"
	}
	return s + " " + peer + " " + remote(r)
}

func orAny(p *string) string {
	if p == nil || *p == "" {
		return "any"
	}
	return *p
}

// portRange shows a rule's ports: "22", "8000:8080", for icmp
// "type=8,code=0", or "any".
func portRange(r api.SecurityGroupRule) string {
	if r.PortRangeMin == nil {
		return "any"
	}
	if orAny(r.Protocol) == "icmp" {
		s := "type=" + strconv.Itoa(*r.PortRangeMin)
		if r.PortRangeMax != nil {
			s += ",code=" + strconv.Itoa(*r.PortRangeMax)
		}
		return s
	}
	if r.PortRangeMax == nil || *r.PortRangeMax == *r.PortRangeMin {
		return strconv.Itoa(*r.PortRangeMin)
	}
	return fmt.Sprintf("%d:%d", *r.PortRangeMin, *r.PortRangeMax)
}

// remote is who a rule's peers are: a prefix, a group, or anywhere.
func remote(r api.SecurityGroupRule) string {
	switch {
	case r.RemoteGroupID != nil:
		return "group " + *r.RemoteGroupID
	case r.RemoteIPPrefix != nil:
		return *r.RemoteIPPrefix
	}
	return "0.0.0.0/0"
}
