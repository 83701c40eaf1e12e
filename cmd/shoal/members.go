package main

import (
	"fmt"
	"strconv"

	"github.com/urfave/cli/v2"

	"github.com/shoal-project/shoal/api"
	"github.com/shoal-project/shoal/api/client"
)

func leaveCommand() *cli.Command {
	return &cli.Command{
		Name:  "leave",
		Usage: "make the node at --addr leave its cluster gracefully (it is removed from Raft) and stop",
		Action: func(c *cli.Context) error {
			// Leave reads no -o: it prints one sentence either way.
			if err := noArgs(c); err != nil {
				return err
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

func membersCommand() *cli.Command {
	return listCommand("members", "list the nodes of the cluster with their gossip status, Raft role and capacity",
		(*client.Client).Members, printMembers)
}

func printMembers(o *output, members []api.Member) error {
	return printList(o, members, func(l []api.Member) any { return api.MemberList{Members: l} },
		[]string{"NAME", "ADDRESS", "STATUS", "ROLE", "FENCED", "VCPUS(free/total)", "MEMORY(free/total MiB)",
			"DISK(free/total GiB)", "ZONE", "HYPERVISOR", "INSTANCES", "VERSION"},
		func(m api.Member) []string {
			inv := m.Inventory
			return []string{
				m.Name, m.Address, m.Status, m.Role, yesNo(m.Fenced),
				outOf(inv.VCPUsFree, inv.VCPUs), outOf(inv.MemoryFreeMiB, inv.MemoryMiB), outOf(inv.DiskFreeGiB, inv.DiskGiB),
				inv.Zone, hypervisorLabel(inv.HypervisorType, inv.HypervisorVersion), strconv.Itoa(inv.Instances), inv.AgentVersion,
			}
		})
}
