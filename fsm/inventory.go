package fsm

// Inventory is what a host offers, in one shape from end to end: its compute
// driver reports it (compute.Driver.Fingerprint), its node gossips it
// (cluster, compactly), the API shows it per member (GET
// /v1/cluster/members, with these JSON names), and the leader copies its
// Record part into the host's record in Raft (Host embeds it), against which
// placements are checked. Memory and disk are int64 throughout.
type Inventory struct {
	VCPUs             int    `json:"vcpus"`
	VCPUsFree         int    `json:"vcpus_free"` // VCPUs less those of active servers; negative when overcommitted
	MemoryMiB         int64  `json:"memory_mib"`
	MemoryFreeMiB     int64  `json:"memory_free_mib"`
	DiskGiB           int64  `json:"disk_gib"` // of the filesystem holding the data dir
	DiskFreeGiB       int64  `json:"disk_free_gib"`
	Arch              string `json:"arch"`               // x86_64, aarch64 (CanonicalArch)
	HypervisorType    string `json:"hypervisor_type"`    // "QEMU" for libvirt (as Nova reports kvm and qemu), "fake"
	HypervisorVersion string `json:"hypervisor_version"` // e.g. "7.2.0"
	Zone              string `json:"zone"`               // availability zone, from the node's configuration
	Instances         int    `json:"instances"`          // shoal servers on the host
	AgentVersion      string `json:"agent_version"`      // from the node, not the driver
}

// Record is the part of the inventory a host's record keeps in Raft: the
// totals and the host's identity (arch, hypervisor, zone), which change only
// when the host is reconfigured. What moves with every server (the free
// figures, the instance count) and the agent's version stay in gossip and are
// zero here, so the leader writes the record only when Record changes and
// Raft does not churn.
func (i Inventory) Record() Inventory {
	return Inventory{
		VCPUs: i.VCPUs, MemoryMiB: i.MemoryMiB, DiskGiB: i.DiskGiB,
		Arch: i.Arch, HypervisorType: i.HypervisorType, HypervisorVersion: i.HypervisorVersion, Zone: i.Zone,
	}
}
