package main

import (
	"fmt"
	"io"
	"strconv"

	"github.com/urfave/cli/v2"

	"github.com/shoal-project/shoal/api"
)

func joinCommand() *cli.Command {
	return &cli.Command{
		Name:      "join",
		Usage:     "join the node at --addr to the cluster that PEER (a gossip host:port) belongs to",
		ArgsUsage: "PEER [PEER...]",
		Action: func(c *cli.Context) error {
			if c.NArg() == 0 {
				return usageError(c, "join needs at least one PEER")
			}
			o, err := outputFor(c)
			if err != nil {
				return err
			}
			h, err := apiClient(c).Join(c.Context, c.Args().Slice())
			if err != nil {
				return err
			}
			if o.json {
				return o.printJSON(api.JoinResponse{Health: h})
			}
			return printJoined(o.w, h)
		},
	}
}

func leaveCommand() *cli.Command {
	return &cli.Command{
		Name:  "leave",
		Usage: "make the node at --addr leave its cluster gracefully (it is removed from Raft) and stop",
		Action: func(c *cli.Context) error {
			if c.NArg() > 0 {
				return usageError(c, "leave takes no arguments")
			}
			name, err := apiClient(c).Leave(c.Context)
			if err != nil {
				return err
			}
			_, err = fmt.Fprintf(c.App.Writer, "left: %s has left the cluster and is stopping\n", name)
			return err
		},
	}
}

func printJoined(w io.Writer, h api.Health) error {
	_, err := fmt.Fprintf(w, "joined: %s is a member of cluster %s (role %s)\n", h.Name, h.ClusterID, h.Role)
	return err
}

func membersCommand() *cli.Command {
	return &cli.Command{
		Name:  "members",
		Usage: "list the nodes of the cluster with their gossip status, Raft role and capacity",
		Action: func(c *cli.Context) error {
			if c.NArg() > 0 {
				return usageError(c, "members takes no arguments")
			}
			o, err := outputFor(c)
			if err != nil {
				return err
			}
			members, err := apiClient(c).Members(c.Context)
			if err != nil {
				return err
			}
			return printMembers(o, members)
		},
	}
}

func printMembers(o *output, members []api.Member) error {
	if members == nil {
		members = []api.Member{}
	}
	if o.json {
		return o.printJSON(api.MemberList{Members: members})
	}
	header := []string{"NAME", "ADDRESS", "STATUS", "ROLE", "FENCED", "VCPUS(free/total)", "MEMORY(free/total MiB)",
		"DISK(free/total GiB)", "ZONE", "HYPERVISOR", "INSTANCES", "VERSION"}
	rows := make([][]string, 0, len(members))
	for _, m := range members {
		inv := m.Inventory
		rows = append(rows, []string{
			m.Name, m.Address, m.Status, m.Role, yesNo(m.Fenced),
			fmt.Sprintf("%d/%d", inv.VCPUsFree, inv.VCPUs),
			fmt.Sprintf("%d/%d", inv.MemoryFreeMiB, inv.MemoryMiB),
			fmt.Sprintf("%d/%d", inv.DiskFreeGiB, inv.DiskGiB),
			inv.Zone, hypervisor(inv), strconv.Itoa(inv.Instances), inv.AgentVersion,
		})
	}
	return o.table(header, rows)
}

func hypervisor(inv api.Inventory) string {
	if inv.HypervisorVersion == "" {
		return inv.HypervisorType
	}
	return inv.HypervisorType + " " + inv.HypervisorVersion
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}
