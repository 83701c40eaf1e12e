package nova

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/shoal-project/shoal/api"
	"github.com/shoal-project/shoal/api/openstack/osapi"
	"github.com/shoal-project/shoal/fsm"
)

// The hypervisor views by microversion: integer ids below 2.53, UUIDs
// (osapi.HostUUID of kind "hypervisor", the service's of kind "service")
// from it; cpu_info an object from 2.28; paging from 2.33; the
// hostname pattern and with_servers query from 2.53 (the search and
// servers routes end at 2.52); the figures dropped and the uptime added
// at 2.88.

// hypervisorID is h's id as the request's version shows it.
func (m *Module) hypervisorID(r *http.Request, h hypervisor) any {
	if osapi.Requested(r.Context()).AtLeast(2, 53) {
		return osapi.HostUUID(m.ops.ClusterID(), "hypervisor", h.host.Name)
	}
	return h.host.CreateIndex
}

// idText is an id as a marker or a path names it.
func idText(id any) string { return fmt.Sprint(id) }

func (m *Module) summary(r *http.Request, h hypervisor) HypervisorSummary {
	return HypervisorSummary{ID: m.hypervisorID(r, h), Hostname: h.host.Name, State: h.host.State, Status: h.host.Status}
}

func (m *Module) detail(r *http.Request, h hypervisor) HypervisorDetail {
	v := osapi.Requested(r.Context())
	u := h.usage
	typ := u.HypervisorType
	if typ == "" {
		typ = "QEMU"
	}
	var serviceID any = h.host.CreateIndex
	if v.AtLeast(2, 53) {
		serviceID = m.serviceUUID(h.host.Name)
	}
	d := HypervisorDetail{
		ID: m.hypervisorID(r, h), Hostname: h.host.Name, State: h.host.State, Status: h.host.Status,
		HypervisorType: typ, HypervisorVersion: versionNumber(u.HypervisorVersion), HostIP: hostIP(h.host.HTTPAddress),
		Service: HypervisorService{Host: h.host.Name, ID: serviceID, DisabledReason: nullable(h.host.DisabledReason)},
	}
	if v.AtLeast(2, 88) {
		d.HypervisorUptimeField = &HypervisorUptimeField{Uptime: m.uptimeOf(h)}
		return d
	}
	var info any = cpuInfo(h.host.Arch)
	if v.AtLeast(2, 28) {
		info = json.RawMessage(cpuInfo(h.host.Arch))
	}
	d.HypervisorFigures = &HypervisorFigures{
		CPUInfo: info, VCPUs: u.VCPUs, VCPUsUsed: u.VCPUsUsed,
		MemoryMB: u.MemoryMiB, MemoryMBUsed: u.MemoryMiBUsed, FreeRAMMB: u.FreeRAMMiB,
		LocalGB: u.DiskGiB, LocalGBUsed: u.DiskGiBUsed, FreeDiskGB: u.FreeDiskGiB,
		RunningVMs: u.RunningVMs, CurrentWorkload: h.workload,
	}
	return d
}

// uptimeOf is 2.88's uptime: this node's line, null for another host's
// (Nova's null when the driver cannot tell).
func (m *Module) uptimeOf(h hypervisor) *string {
	if h.host.Name != m.ops.NodeName() {
		return nil
	}
	line, err := uptimeLine(time.Now())
	if err != nil {
		return nil
	}
	return &line
}

// hypervisorByID finds the hypervisor of an id: an integer below 2.53
// (anything else is Nova's 404), a UUID from it (anything else is 400).
func (m *Module) hypervisorByID(r *http.Request, id string) (hypervisor, error) {
	if osapi.Requested(r.Context()).AtLeast(2, 53) {
		if _, err := uuid.Parse(id); err != nil {
			return hypervisor{}, badRequest("Invalid uuid %s", id)
		}
	}
	all, err := m.hypervisors(r.Context())
	if err != nil {
		return hypervisor{}, err
	}
	for _, h := range all {
		if idText(m.hypervisorID(r, h)) == id {
			return h, nil
		}
	}
	return hypervisor{}, fmt.Errorf("%w: Hypervisor with ID '%s' could not be found.", fsm.ErrNotFound, id)
}

// withServers reads 2.53's with_servers (oslo's strict boolean).
func withServers(r *http.Request) (bool, error) {
	q := r.URL.Query()
	if !osapi.Requested(r.Context()).AtLeast(2, 53) || !q.Has("with_servers") {
		return false, nil
	}
	v := q.Get("with_servers")
	b, ok := parseBool(v)
	if !ok {
		return false, badRequest("Invalid input for query parameters with_servers. Value: %s. '%s' is not one of "+
			"['True', 'true', 'False', 'false', '1', '0', 'yes', 'no', 'on', 'off', 't', 'f', 'y', 'n']", v, v)
	}
	return b, nil
}

// guestsFor are the servers of h for a with_servers answer: nil (the key
// left out) when there are none below 2.75, as Nova.
func (m *Module) guestsFor(r *http.Request, h hypervisor) (*[]HypervisorGuest, error) {
	guests, err := m.guestsOn(r.Context(), h.host.Name)
	if err != nil || len(guests) == 0 && !osapi.Requested(r.Context()).AtLeast(2, 75) {
		return nil, err
	}
	return &guests, nil
}

// pickHypervisors is the list request's selection: every hypervisor, or
// those matching 2.53's hostname pattern (no paging then), or a page
// (2.33's limit and marker); next is the next page's marker.
func (m *Module) pickHypervisors(r *http.Request) (picked []hypervisor, next string, err error) {
	v := osapi.Requested(r.Context())
	if err := onlyQuerySince(r, 2, 53, "limit", "marker", "hypervisor_hostname_pattern", "with_servers"); err != nil {
		return nil, "", err
	}
	all, err := m.hypervisors(r.Context())
	if err != nil || !v.AtLeast(2, 33) {
		return all, "", err
	}
	q := r.URL.Query()
	limit, marker, given, err := page(q)
	if err != nil {
		return nil, "", err
	}
	if v.AtLeast(2, 53) && q.Has("hypervisor_hostname_pattern") {
		if given || marker != "" {
			return nil, "", badRequest("Paging over hypervisors with the hypervisor_hostname_pattern query parameter is not supported.")
		}
		match := q.Get("hypervisor_hostname_pattern")
		for _, h := range all {
			if strings.Contains(h.host.Name, match) {
				picked = append(picked, h)
			}
		}
		if len(picked) == 0 {
			return nil, "", fmt.Errorf("%w: No hypervisor matching '%s' could be found.", fsm.ErrNotFound, match)
		}
		return picked, "", nil
	}
	return pageOf(all, limit, marker, func(h hypervisor) string { return idText(m.hypervisorID(r, h)) })
}

func (m *Module) listHypervisors(w http.ResponseWriter, r *http.Request) {
	m.listHypervisorsAs(w, r, false)
}

func (m *Module) listHypervisorsDetail(w http.ResponseWriter, r *http.Request) {
	m.listHypervisorsAs(w, r, true)
}

func (m *Module) listHypervisorsAs(w http.ResponseWriter, r *http.Request, detailed bool) {
	picked, next, err := m.pickHypervisors(r)
	var servers bool
	if err == nil {
		servers, err = withServers(r)
	}
	out := []any{}
	for _, h := range picked {
		var guests *[]HypervisorGuest
		if err == nil && servers {
			guests, err = m.guestsFor(r, h)
		}
		if detailed {
			d := m.detail(r, h)
			d.Servers = guests
			out = append(out, d)
		} else {
			s := m.summary(r, h)
			s.Servers = guests
			out = append(out, s)
		}
	}
	if err != nil {
		m.fail(w, r, err)
		return
	}
	body := map[string]any{"hypervisors": out}
	if next != "" {
		collection := "/os-hypervisors"
		if detailed {
			collection += "/detail"
		}
		body["hypervisors_links"] = nextLink(r, collection, next)
	}
	api.WriteJSON(w, http.StatusOK, body)
}

func (m *Module) showHypervisor(w http.ResponseWriter, r *http.Request) {
	err := onlyQuerySince(r, 2, 53, "with_servers")
	var servers bool
	if err == nil {
		servers, err = withServers(r)
	}
	var h hypervisor
	if err == nil {
		h, err = m.hypervisorByID(r, r.PathValue("id"))
	}
	var d HypervisorDetail
	if err == nil {
		d = m.detail(r, h)
		if servers {
			d.Servers, err = m.guestsFor(r, h)
		}
	}
	if err != nil {
		m.fail(w, r, err)
		return
	}
	api.WriteJSON(w, http.StatusOK, map[string]HypervisorDetail{"hypervisor": d})
}
