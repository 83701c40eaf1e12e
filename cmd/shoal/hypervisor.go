package main

import (
	"fmt"
	"strconv"

	"github.com/urfave/cli/v2"

	"github.com/shoal-project/shoal/api"
)

func hypervisorCommand() *cli.Command {
	return &cli.Command{
		Name:  "hypervisor",
		Usage: "inspect hosts' capacity against what is claimed on them",
		Subcommands: []*cli.Command{
			{
				Name:  "list",
				Usage: "list hypervisors with used/total vCPUs, memory and disk",
				Action: func(c *cli.Context) error {
					if c.NArg() > 0 {
						return usageError(c, "hypervisor list takes no arguments")
					}
					o, err := outputFor(c)
					if err != nil {
						return err
					}
					hv, err := apiClient(c).Hypervisors(c.Context)
					if err != nil {
						return err
					}
					return printHypervisors(o, hv)
				},
			},
			{
				Name:      "show",
				Usage:     "show one hypervisor",
				ArgsUsage: "NAME",
				Action: func(c *cli.Context) error {
					if c.NArg() != 1 {
						return usageError(c, "hypervisor show needs one NAME")
					}
					o, err := outputFor(c)
					if err != nil {
						return err
					}
					h, err := apiClient(c).Hypervisor(c.Context, c.Args().First())
					if err != nil {
						return err
					}
					return printHypervisor(o, h)
				},
			},
			{
				Name:  "stats",
				Usage: "sum every hypervisor's capacity and claims",
				Action: func(c *cli.Context) error {
					if c.NArg() > 0 {
						return usageError(c, "hypervisor stats takes no arguments")
					}
					o, err := outputFor(c)
					if err != nil {
						return err
					}
					st, err := apiClient(c).HypervisorStats(c.Context)
					if err != nil {
						return err
					}
					return printHypervisorStats(o, st)
				},
			},
		},
	}
}

func printHypervisors(o *output, hv []api.Hypervisor) error {
	if hv == nil {
		hv = []api.Hypervisor{}
	}
	if o.json {
		return o.printJSON(api.HypervisorList{Hypervisors: hv})
	}
	rows := make([][]string, 0, len(hv))
	for _, h := range hv {
		rows = append(rows, []string{h.Name, hypervisorType(h), h.State, h.Status,
			used(h.VCPUsUsed, h.VCPUs), used(h.MemoryMiBUsed, h.MemoryMiB), used(h.DiskGiBUsed, h.DiskGiB),
			strconv.Itoa(h.RunningVMs)})
	}
	return o.table([]string{"NAME", "TYPE", "STATE", "STATUS", "VCPUS(used/total)", "MEMORY(used/total MiB)",
		"DISK(used/total GiB)", "VMS"}, rows)
}

func printHypervisor(o *output, h api.Hypervisor) error {
	if o.json {
		return o.printJSON(api.HypervisorResponse{Hypervisor: h})
	}
	return o.table([]string{"FIELD", "VALUE"}, [][]string{
		{"name", h.Name},
		{"state", h.State},
		{"status", h.Status},
		{"disabled_reason", h.DisabledReason},
		{"hypervisor", hypervisorType(h)},
		{"arch", h.Arch},
		{"zone", h.Zone},
		{"host_ip", h.HostIP},
		{"vcpus", used(h.VCPUsUsed, h.VCPUs) + " used"},
		{"memory", used(h.MemoryMiBUsed, h.MemoryMiB) + " MiB used, " + strconv.Itoa(h.FreeRAMMiB) + " free"},
		{"disk", used(h.DiskGiBUsed, h.DiskGiB) + " GiB used, " + strconv.Itoa(h.FreeDiskGiB) + " free"},
		{"running_vms", strconv.Itoa(h.RunningVMs)},
	})
}

func printHypervisorStats(o *output, st api.HypervisorStatistics) error {
	if o.json {
		return o.printJSON(api.HypervisorStatisticsResponse{Statistics: st})
	}
	return o.table([]string{"FIELD", "VALUE"}, [][]string{
		{"count", strconv.Itoa(st.Count)},
		{"vcpus", used(st.VCPUsUsed, st.VCPUs) + " used"},
		{"memory", used(st.MemoryMiBUsed, st.MemoryMiB) + " MiB used, " + strconv.Itoa(st.FreeRAMMiB) + " free"},
		{"disk", used(st.DiskGiBUsed, st.DiskGiB) + " GiB used, " + strconv.Itoa(st.FreeDiskGiB) + " free"},
		{"running_vms", strconv.Itoa(st.RunningVMs)},
	})
}

func used(n, total int) string { return fmt.Sprintf("%d/%d", n, total) }

func hypervisorType(h api.Hypervisor) string {
	if h.HypervisorVersion == "" {
		return h.HypervisorType
	}
	return h.HypervisorType + " " + h.HypervisorVersion
}
