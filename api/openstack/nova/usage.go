package nova

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/shoal-project/shoal/api"
	"github.com/shoal-project/shoal/api/openstack/osapi"
	"github.com/shoal-project/shoal/fsm"
)

// os-simple-tenant-usage: the hours each server ran in a period, with
// its flavor's vCPUs, RAM and disk, summed per project as Nova sums them.
// A server counts from its creation (shoal keeps no separate launch time)
// up to the period's end, or to its deletion for the deleted servers fsm
// still keeps on record (the last fsm.MaxDeletedInstances). A period
// ends at now at the latest.
//
// Microversions: 2.40 pages the servers (oldest first) with limit and
// marker (a server's ID) and adds tenant_usages_links/tenant_usage_links;
// below it a page is silently maxPage servers long, as Nova's. 2.75
// refuses unknown query parameters.

// TenantUsage is one project's usage in a period.
type TenantUsage struct {
	TenantID           string         `json:"tenant_id"`
	TotalLocalGBUsage  float64        `json:"total_local_gb_usage"`
	TotalVCPUsUsage    float64        `json:"total_vcpus_usage"`
	TotalMemoryMBUsage float64        `json:"total_memory_mb_usage"`
	TotalHours         float64        `json:"total_hours"`
	Start              string         `json:"start"`
	Stop               string         `json:"stop"`
	ServerUsages       *[]ServerUsage `json:"server_usages,omitempty"`
}

// ServerUsage is one server's part of a project's usage.
type ServerUsage struct {
	InstanceID string  `json:"instance_id"`
	Name       string  `json:"name"`
	TenantID   string  `json:"tenant_id"`
	Flavor     string  `json:"flavor"`
	VCPUs      int     `json:"vcpus"`
	MemoryMB   int     `json:"memory_mb"`
	LocalGB    int     `json:"local_gb"`
	Hours      float64 `json:"hours"`
	StartedAt  string  `json:"started_at"`
	EndedAt    *string `json:"ended_at"`
	State      string  `json:"state"`
	Uptime     int     `json:"uptime"`
}

func (m *Module) registerUsage(r api.Router) {
	m.route(r, "GET /os-simple-tenant-usage", api.AccessAdmin, m.listUsage)
	m.route(r, "GET /os-simple-tenant-usage/{tenant_id}", api.AccessProjectReader, m.showUsage)
}

// period reads start, end and detailed as Nova does: a missing time is
// now; start must come before end.
func period(q url.Values, now time.Time) (start, stop time.Time, detailed bool, err error) {
	if start, err = usageParam(q.Get("start"), now); err != nil {
		return
	}
	if stop, err = usageParam(q.Get("end"), now); err != nil {
		return
	}
	if !start.Before(stop) {
		err = badRequest("Invalid start time. The start time cannot occur after the end time.")
	}
	return start, stop, q.Get("detailed") == "1", err
}

func usageParam(s string, now time.Time) (time.Time, error) {
	if s == "" {
		return now, nil
	}
	for _, layout := range []string{"2006-01-02T15:04:05", "2006-01-02T15:04:05.999999", "2006-01-02 15:04:05.999999"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, badRequest("Datetime is in invalid format")
}

// usageRecord is a server as usage sees it, living or deleted.
type usageRecord struct {
	id, name, project string
	flavor            fsm.FlavorSpec
	state             string
	created, ended    time.Time // ended is zero while the server lives
}

// records are the servers of the projects asked (one project, or all)
// that may have run in a period starting at start, deleted ones included.
func (m *Module) records(ctx context.Context, project string, start time.Time) ([]usageRecord, error) {
	f := api.ServerFilter{AllTenants: project == "", ProjectID: project}
	servers, err := m.ops.Servers(ctx, f)
	if err != nil {
		return nil, err
	}
	own := project == m.ops.Principal(ctx).ProjectID
	deleted, err := m.ops.DeletedServers(ctx, start, !own)
	if err != nil {
		return nil, err
	}
	var out []usageRecord
	for _, s := range servers {
		out = append(out, usageRecord{id: s.ID, name: s.Name, project: s.TenantID, flavor: s.Flavor,
			state: vmState(s), created: s.Created})
	}
	for _, d := range deleted {
		if project == "" || d.ProjectID == project {
			out = append(out, usageRecord{id: d.ID, name: d.Name, project: d.ProjectID, flavor: d.Flavor,
				state: "terminated", created: d.Created, ended: d.Deleted})
		}
	}
	return out, nil
}

// usagePage is which servers a usage request sums: at most limit, after
// the one with ID marker ("": from the first).
type usagePage struct {
	limit  int
	marker string
}

// usages sums the servers of project ("": every project's) over [start,
// stop], one TenantUsage per project that has any, in project order,
// for the page of servers (oldest first) p asks; next is the last
// server's ID when the page is full.
func (m *Module) usages(ctx context.Context, project string, start, stop, now time.Time, detailed bool, p usagePage) (out []TenantUsage, next string, err error) {
	all, err := m.records(ctx, project, start)
	if err != nil {
		return nil, "", err
	}
	records := all[:0]
	for _, s := range all {
		if !s.created.After(stop) && (s.ended.IsZero() || !s.ended.Before(start)) {
			records = append(records, s) // running in the period
		}
	}
	slices.SortFunc(records, func(a, b usageRecord) int {
		if c := a.created.Compare(b.created); c != 0 {
			return c
		}
		return strings.Compare(a.id, b.id)
	})
	records, next, err = pageByMarker(records, p.limit, p.marker, func(s usageRecord) string { return s.id })
	if err != nil {
		return nil, "", err
	}
	byProject := map[string]*TenantUsage{}
	var projects []string
	for _, s := range records {
		end, uptimeEnd := stop, now
		if !s.ended.IsZero() {
			end, uptimeEnd = minTime(stop, s.ended), s.ended
		}
		hours := end.Sub(maxTime(s.created, start)).Hours()
		u := ServerUsage{InstanceID: s.id, Name: s.name, TenantID: s.project, Flavor: s.flavor.Name,
			VCPUs: s.flavor.VCPUs, MemoryMB: s.flavor.RAM, LocalGB: s.flavor.Disk, Hours: hours,
			StartedAt: naiveTime(s.created), State: s.state, Uptime: int(uptimeEnd.Sub(s.created).Seconds())}
		if !s.ended.IsZero() {
			ended := naiveTime(s.ended)
			u.EndedAt = &ended
		}
		t, ok := byProject[s.project]
		if !ok {
			t = &TenantUsage{TenantID: s.project, Start: naiveTime(start), Stop: naiveTime(stop)}
			if detailed {
				t.ServerUsages = &[]ServerUsage{}
			}
			byProject[s.project] = t
			projects = append(projects, s.project)
		}
		t.TotalLocalGBUsage += float64(u.LocalGB) * hours
		t.TotalVCPUsUsage += float64(u.VCPUs) * hours
		t.TotalMemoryMBUsage += float64(u.MemoryMB) * hours
		t.TotalHours += hours
		if detailed {
			*t.ServerUsages = append(*t.ServerUsages, u)
		}
	}
	slices.Sort(projects)
	out = []TenantUsage{}
	for _, p := range projects {
		out = append(out, *byProject[p])
	}
	return out, next, nil
}

// vmState is a server's Nova vm_state ("building", "active", …).
func vmState(s api.ServerDetail) string {
	if s.VMState == "" {
		return fsm.VMBuilding
	}
	return s.VMState
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

// usageRequest reads a usage request's query: the period, detailed, and
// the page (from 2.40); from 2.75 only the parameters named are allowed.
func usageRequest(r *http.Request, now time.Time, allowed ...string) (start, stop time.Time, detailed bool, p usagePage, err error) {
	if err = onlyQuery(r, append(allowed, "start", "end", "limit", "marker")...); err != nil {
		return
	}
	if start, stop, detailed, err = period(r.URL.Query(), now); err != nil {
		return
	}
	stop = minTime(stop, now)
	p.limit, p.marker, err = pageSince(r, 2, 40)
	return
}

// usageLinks is the "next" link of a full page, from 2.40.
func usageLinks(r *http.Request, body map[string]any, key, collection, next string) {
	if next != "" && osapi.Requested(r.Context()).AtLeast(2, 40) {
		body[key] = nextLink(r, collection, next)
	}
}

// listUsage is every project's usage (an admin's).
func (m *Module) listUsage(w http.ResponseWriter, r *http.Request) {
	now := time.Now().UTC()
	start, stop, detailed, p, err := usageRequest(r, now, "detailed")
	var (
		out  []TenantUsage
		next string
	)
	if err == nil {
		out, next, err = m.usages(r.Context(), "", start, stop, now, detailed, p)
	}
	if err != nil {
		m.fail(w, r, err)
		return
	}
	body := map[string]any{"tenant_usages": out}
	usageLinks(r, body, "tenant_usages_links", "/os-simple-tenant-usage", next)
	api.WriteJSON(w, http.StatusOK, body)
}

// showUsage is one project's usage, always with its servers; a project
// without any answers {} as Nova does. Another project's is an admin's.
func (m *Module) showUsage(w http.ResponseWriter, r *http.Request) {
	now := time.Now().UTC()
	project := r.PathValue("tenant_id")
	start, stop, _, p, err := usageRequest(r, now)
	var (
		out  []TenantUsage
		next string
	)
	if err == nil {
		out, next, err = m.usages(r.Context(), project, start, stop, now, true, p)
	}
	if err != nil {
		m.fail(w, r, err)
		return
	}
	body := map[string]any{"tenant_usage": map[string]any{}}
	if len(out) > 0 {
		body["tenant_usage"] = out[0]
	}
	usageLinks(r, body, "tenant_usage_links", "/os-simple-tenant-usage/"+url.PathEscape(project), next)
	api.WriteJSON(w, http.StatusOK, body)
}
