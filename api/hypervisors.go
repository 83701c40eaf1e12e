package api

import (
	"net/http"

	"github.com/shoal-project/shoal/fsm"
)

// Hypervisor is the wire shape of GET /v1/hypervisors: what a host offers
// (its record, copied from gossip) against what is claimed on it (Raft).
type Hypervisor struct {
	Name              string `json:"name"`
	State             string `json:"state"`  // up|down
	Status            string `json:"status"` // enabled|disabled
	DisabledReason    string `json:"disabled_reason,omitempty"`
	HypervisorType    string `json:"hypervisor_type"`
	HypervisorVersion string `json:"hypervisor_version"`
	Arch              string `json:"arch,omitempty"`
	Zone              string `json:"zone,omitempty"`
	HostIP            string `json:"host_ip,omitempty"` // the HTTP address, as Nova shows the host's IP
	VCPUs             int    `json:"vcpus"`
	VCPUsUsed         int    `json:"vcpus_used"`
	MemoryMiB         int    `json:"memory_mib"`
	MemoryMiBUsed     int    `json:"memory_mib_used"`
	FreeRAMMiB        int    `json:"free_ram_mib"`
	DiskGiB           int    `json:"disk_gib"`
	DiskGiBUsed       int    `json:"disk_gib_used"`
	FreeDiskGiB       int    `json:"free_disk_gib"`
	RunningVMs        int    `json:"running_vms"`
}

// HypervisorList is the body of GET /v1/hypervisors.
type HypervisorList struct {
	Hypervisors []Hypervisor `json:"hypervisors"`
}

// HypervisorResponse is the body of GET /v1/hypervisors/{name}.
type HypervisorResponse struct {
	Hypervisor Hypervisor `json:"hypervisor"`
}

// HypervisorStatistics sums every hypervisor (GET /v1/hypervisors/statistics).
type HypervisorStatistics struct {
	Count         int `json:"count"`
	VCPUs         int `json:"vcpus"`
	VCPUsUsed     int `json:"vcpus_used"`
	MemoryMiB     int `json:"memory_mib"`
	MemoryMiBUsed int `json:"memory_mib_used"`
	FreeRAMMiB    int `json:"free_ram_mib"`
	DiskGiB       int `json:"disk_gib"`
	DiskGiBUsed   int `json:"disk_gib_used"`
	FreeDiskGiB   int `json:"free_disk_gib"`
	RunningVMs    int `json:"running_vms"`
}

// HypervisorStatisticsResponse is the body of GET /v1/hypervisors/statistics.
type HypervisorStatisticsResponse struct {
	Statistics HypervisorStatistics `json:"hypervisor_statistics"`
}

func (s *Server) listHypervisors(w http.ResponseWriter, r *http.Request) {
	SetIndex(w, s.state.Index())
	WriteJSON(w, http.StatusOK, HypervisorList{Hypervisors: s.hypervisors()})
}

func (s *Server) showHypervisor(w http.ResponseWriter, r *http.Request) {
	idx := s.state.Index()
	h, err := s.ops.Hypervisor(r.Context(), r.PathValue("name"))
	s.writeFound(w, r, idx, err, func() any { return HypervisorResponse{Hypervisor: h} })
}

func (s *Server) hypervisorStatistics(w http.ResponseWriter, r *http.Request) {
	SetIndex(w, s.state.Index())
	st, _ := s.ops.HypervisorStatistics(r.Context())
	WriteJSON(w, http.StatusOK, HypervisorStatisticsResponse{Statistics: st})
}

func (s *Server) hypervisors() []Hypervisor {
	usage, up := s.state.Usage(), s.upHosts()
	out := []Hypervisor{}
	for _, h := range s.state.Hosts() {
		out = append(out, hypervisor(h, usage[h.Name], up))
	}
	return out
}

// hypervisor combines a host record with its claims. Free figures may go
// negative when allocation ratios overcommit, as Nova's do.
func hypervisor(h fsm.Host, u fsm.Usage, up map[string]bool) Hypervisor {
	v, c := hostView(h, up), h.Capacity()
	return Hypervisor{
		Name: h.Name, State: v.State, Status: v.Status, DisabledReason: h.DisabledReason,
		HypervisorType: h.HypervisorType, HypervisorVersion: h.HypervisorVersion,
		Arch: h.Arch, Zone: h.InZone(), HostIP: h.HTTPAddress,
		VCPUs: c.VCPUs, VCPUsUsed: u.VCPUs,
		MemoryMiB: c.MemoryMiB, MemoryMiBUsed: u.RAM, FreeRAMMiB: c.MemoryMiB - u.RAM,
		DiskGiB: c.DiskGiB, DiskGiBUsed: u.Disk, FreeDiskGiB: c.DiskGiB - u.Disk,
		RunningVMs: u.Instances,
	}
}
