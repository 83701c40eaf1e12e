package nova

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"

	"github.com/shoal-project/shoal/api"
	"github.com/shoal-project/shoal/api/openstack/osapi"
	"github.com/shoal-project/shoal/fsm"
)

// os-hypervisors at 2.1: one hypervisor per host, its id the host's
// service id (the record's create index), its figures api's (capacity
// from the record, claims from Raft, the same as /v1/hypervisors).

// HypervisorSummary is a hypervisor in the plain list, search and
// servers answers (Servers only in the last, and from 2.53 on request).
// ID is the create index below 2.53, then a UUID.
type HypervisorSummary struct {
	ID       any                `json:"id"`
	Hostname string             `json:"hypervisor_hostname"`
	State    string             `json:"state"`
	Status   string             `json:"status"`
	Servers  *[]HypervisorGuest `json:"servers,omitempty"`
}

// HypervisorGuest is a server in GET os-hypervisors/{hostname}/servers.
type HypervisorGuest struct {
	UUID string `json:"uuid"`
	Name string `json:"name"`
}

// HypervisorDetail is a hypervisor in the detailed list and show: the
// figures only below 2.88, the uptime only from it.
type HypervisorDetail struct {
	ID                any     `json:"id"`
	Hostname          string  `json:"hypervisor_hostname"`
	State             string  `json:"state"`
	Status            string  `json:"status"`
	HypervisorType    string  `json:"hypervisor_type"`
	HypervisorVersion int     `json:"hypervisor_version"`
	HostIP            *string `json:"host_ip"`
	*HypervisorFigures
	*HypervisorUptimeField
	Service HypervisorService  `json:"service"`
	Servers *[]HypervisorGuest `json:"servers,omitempty"`
}

// HypervisorFigures are the inventory fields 2.88 drops. CPUInfo is JSON
// text below 2.28, then the object.
type HypervisorFigures struct {
	CPUInfo            any  `json:"cpu_info"`
	VCPUs              int  `json:"vcpus"`
	VCPUsUsed          int  `json:"vcpus_used"`
	MemoryMB           int  `json:"memory_mb"`
	MemoryMBUsed       int  `json:"memory_mb_used"`
	FreeRAMMB          int  `json:"free_ram_mb"`
	LocalGB            int  `json:"local_gb"`
	LocalGBUsed        int  `json:"local_gb_used"`
	FreeDiskGB         int  `json:"free_disk_gb"`
	DiskAvailableLeast *int `json:"disk_available_least"`
	CurrentWorkload    int  `json:"current_workload"`
	RunningVMs         int  `json:"running_vms"`
}

// HypervisorUptimeField is 2.88's uptime in the detail: uptime(1)'s line,
// null when the host's is not known here.
type HypervisorUptimeField struct {
	Uptime *string `json:"uptime"`
}

// HypervisorService is the service a hypervisor belongs to (its ID as
// the service's in os-services).
type HypervisorService struct {
	Host           string  `json:"host"`
	ID             any     `json:"id"`
	DisabledReason *string `json:"disabled_reason"`
}

// HypervisorStatistics sums every hypervisor.
type HypervisorStatistics struct {
	Count              int  `json:"count"`
	VCPUs              int  `json:"vcpus"`
	VCPUsUsed          int  `json:"vcpus_used"`
	MemoryMB           int  `json:"memory_mb"`
	MemoryMBUsed       int  `json:"memory_mb_used"`
	FreeRAMMB          int  `json:"free_ram_mb"`
	LocalGB            int  `json:"local_gb"`
	LocalGBUsed        int  `json:"local_gb_used"`
	FreeDiskGB         int  `json:"free_disk_gb"`
	DiskAvailableLeast *int `json:"disk_available_least"`
	CurrentWorkload    int  `json:"current_workload"`
	RunningVMs         int  `json:"running_vms"`
}

func (m *Module) registerHypervisors(r api.Router) {
	m.route(r, "GET /os-hypervisors", api.AccessAdmin, m.listHypervisors)
	m.route(r, "GET /os-hypervisors/detail", api.AccessAdmin, m.listHypervisorsDetail)
	m.route(r, "GET /os-hypervisors/statistics", api.AccessAdmin, m.hypervisorStatistics, osapi.Until(2, 87))
	m.route(r, "GET /os-hypervisors/{id}", api.AccessAdmin, m.showHypervisor)
	m.route(r, "GET /os-hypervisors/{id}/uptime", api.AccessAdmin, m.hypervisorUptime, osapi.Until(2, 87))
	m.route(r, "GET /os-hypervisors/{hostname}/search", api.AccessAdmin, m.searchHypervisors, osapi.Until(2, 52))
	m.route(r, "GET /os-hypervisors/{hostname}/servers", api.AccessAdmin, m.hypervisorServers, osapi.Until(2, 52))
}

// hypervisor is a host with its figures and its workload (Nova's
// current_workload: the servers on it with a task under way).
type hypervisor struct {
	host     api.Host
	usage    api.Hypervisor
	workload int
}

// hypervisors joins api's hosts, hypervisors and servers by host name.
func (m *Module) hypervisors(ctx context.Context) ([]hypervisor, error) {
	hosts, err := m.ops.Hosts(ctx)
	if err != nil {
		return nil, err
	}
	figures, err := m.ops.Hypervisors(ctx)
	if err != nil {
		return nil, err
	}
	servers, err := m.ops.Servers(ctx, api.ServerFilter{AllTenants: true})
	if err != nil {
		return nil, err
	}
	byName := map[string]api.Hypervisor{}
	for _, f := range figures {
		byName[f.Name] = f
	}
	busy := map[string]int{}
	for _, s := range servers {
		if s.TaskState != "" {
			busy[s.Host]++
		}
	}
	out := make([]hypervisor, 0, len(hosts))
	for _, h := range hosts {
		out = append(out, hypervisor{host: h, usage: byName[h.Name], workload: busy[h.Name]})
	}
	return out, nil
}

// versionNumber is Nova's integer form of a hypervisor version:
// "8.2.2" is 8002002 (each part after the first takes three digits).
func versionNumber(v string) int {
	n := 0
	for _, part := range strings.SplitN(v, ".", 3) {
		d, err := strconv.Atoi(part)
		if err != nil || d < 0 || d > 999 {
			return 0
		}
		n = n*1000 + d
	}
	for i := strings.Count(v, "."); i < 2 && v != ""; i++ {
		n *= 1000
	}
	return n
}

// hostIP is the address of a host's API ("ip:port"), null when it is a
// name and not an IP.
func hostIP(addr string) *string {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		host = addr
	}
	if net.ParseIP(host) == nil {
		return nil
	}
	return &host
}

// cpuInfo is the JSON text Nova gives below 2.28: we know the host's
// architecture, not its CPU model or features.
func cpuInfo(arch string) string {
	b, _ := json.Marshal(map[string]any{"arch": arch, "features": []string{}})
	return string(b)
}

func (m *Module) hypervisorStatistics(w http.ResponseWriter, r *http.Request) {
	all, err := m.hypervisors(r.Context())
	if err != nil {
		m.fail(w, r, err)
		return
	}
	var s HypervisorStatistics
	for _, h := range all {
		u := h.usage
		s.Count++
		s.VCPUs += u.VCPUs
		s.VCPUsUsed += u.VCPUsUsed
		s.MemoryMB += u.MemoryMiB
		s.MemoryMBUsed += u.MemoryMiBUsed
		s.FreeRAMMB += u.FreeRAMMiB
		s.LocalGB += u.DiskGiB
		s.LocalGBUsed += u.DiskGiBUsed
		s.FreeDiskGB += u.FreeDiskGiB
		s.CurrentWorkload += h.workload
		s.RunningVMs += u.RunningVMs
	}
	api.WriteJSON(w, http.StatusOK, map[string]HypervisorStatistics{"hypervisor_statistics": s})
}

// search is Nova's hypervisor_hostname LIKE %match%.
func (m *Module) search(r *http.Request) ([]hypervisor, error) {
	all, err := m.hypervisors(r.Context())
	if err != nil {
		return nil, err
	}
	match := r.PathValue("hostname")
	var out []hypervisor
	for _, h := range all {
		if strings.Contains(h.host.Name, match) {
			out = append(out, h)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%w: No hypervisor matching '%s' could be found.", fsm.ErrNotFound, match)
	}
	return out, nil
}

func (m *Module) searchHypervisors(w http.ResponseWriter, r *http.Request) {
	found, err := m.search(r)
	if err != nil {
		m.fail(w, r, err)
		return
	}
	out := []HypervisorSummary{}
	for _, h := range found {
		out = append(out, m.summary(r, h))
	}
	api.WriteJSON(w, http.StatusOK, map[string][]HypervisorSummary{"hypervisors": out})
}

func (m *Module) hypervisorServers(w http.ResponseWriter, r *http.Request) {
	found, err := m.search(r)
	if err != nil {
		m.fail(w, r, err)
		return
	}
	out := []HypervisorSummary{}
	for _, h := range found {
		guests, err := m.guestsOn(r.Context(), h.host.Name)
		if err != nil {
			m.fail(w, r, err)
			return
		}
		s := m.summary(r, h)
		s.Servers = &guests
		out = append(out, s)
	}
	api.WriteJSON(w, http.StatusOK, map[string][]HypervisorSummary{"hypervisors": out})
}
