package main

import (
	"strconv"

	"github.com/urfave/cli/v2"

	"github.com/shoal-project/shoal/api"
	"github.com/shoal-project/shoal/api/client"
)

func hypervisorCommand() *cli.Command {
	return &cli.Command{
		Name:  "hypervisor",
		Usage: "inspect hosts' capacity against what is claimed on them",
		Subcommands: []*cli.Command{
			listCommand("list", "list hypervisors with used/total vCPUs, memory and disk",
				(*client.Client).Hypervisors, printHypervisors),
			showCommand("show one hypervisor", operand{"NAME", "NAME"}, (*client.Client).Hypervisor, printHypervisor),
			listCommand("stats", "sum every hypervisor's capacity and claims",
				(*client.Client).HypervisorStats, printHypervisorStats),
		},
	}
}

func printHypervisors(o *output, hv []api.Hypervisor) error {
	return printList(o, hv, func(l []api.Hypervisor) any { return api.HypervisorList{Hypervisors: l} },
		[]string{"NAME", "TYPE", "STATE", "STATUS", "VCPUS(used/total)", "MEMORY(used/total MiB)", "DISK(used/total GiB)", "VMS"},
		func(h api.Hypervisor) []string {
			return []string{h.Name, hypervisorLabel(h.HypervisorType, h.HypervisorVersion), h.State, h.Status,
				outOf(h.VCPUsUsed, h.VCPUs), outOf(h.MemoryMiBUsed, h.MemoryMiB), outOf(h.DiskGiBUsed, h.DiskGiB),
				strconv.Itoa(h.RunningVMs)}
		})
}

func printHypervisor(o *output, h api.Hypervisor) error {
	return o.printObject(api.HypervisorResponse{Hypervisor: h}, [][]string{
		{"name", h.Name},
		{"state", h.State},
		{"status", h.Status},
		{"disabled_reason", h.DisabledReason},
		{"hypervisor", hypervisorLabel(h.HypervisorType, h.HypervisorVersion)},
		{"arch", h.Arch},
		{"zone", h.Zone},
		{"host_ip", h.HostIP},
		{"vcpus", outOf(h.VCPUsUsed, h.VCPUs) + " used"},
		{"memory", usedAndFree(h.MemoryMiBUsed, h.MemoryMiB, h.FreeRAMMiB, "MiB")},
		{"disk", usedAndFree(h.DiskGiBUsed, h.DiskGiB, h.FreeDiskGiB, "GiB")},
		{"running_vms", strconv.Itoa(h.RunningVMs)},
	})
}

func printHypervisorStats(o *output, st api.HypervisorStatistics) error {
	return o.printObject(api.HypervisorStatisticsResponse{Statistics: st}, [][]string{
		{"count", strconv.Itoa(st.Count)},
		{"vcpus", outOf(st.VCPUsUsed, st.VCPUs) + " used"},
		{"memory", usedAndFree(st.MemoryMiBUsed, st.MemoryMiB, st.FreeRAMMiB, "MiB")},
		{"disk", usedAndFree(st.DiskGiBUsed, st.DiskGiB, st.FreeDiskGiB, "GiB")},
		{"running_vms", strconv.Itoa(st.RunningVMs)},
	})
}

// usedAndFree is "1024/16384 MiB used, 15360 free".
func usedAndFree(used, total, free int, unit string) string {
	return outOf(used, total) + " " + unit + " used, " + strconv.Itoa(free) + " free"
}
