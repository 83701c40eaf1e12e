package nova

import (
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/shoal-project/shoal/api"
	"github.com/shoal-project/shoal/api/openstack/osapi"
	"github.com/shoal-project/shoal/fsm"
)

// GET /servers and /servers/detail with Nova's query semantics at 2.1:
// unknown parameters are ignored (2.75 makes them 400), filters a member
// may not use are dropped (Nova's remove_invalid_options), all_tenants is
// an admin's (403), the order is newest first unless sort_key says, and a
// full page carries a servers_links "next" with the marker. api.Ops gives
// the servers in the caller's scope; the Nova filters, order and paging are
// the dialect's and live here.

// serverList is the body of both lists.
type serverList[T any] struct {
	Servers []T          `json:"servers"`
	Links   []osapi.Link `json:"servers_links,omitempty"`
}

func (m *Module) listServers(w http.ResponseWriter, r *http.Request) {
	rows, next, err := m.serverPage(w, r, "/servers")
	if err != nil {
		m.fail(w, r, err)
		return
	}
	out := serverList[serverBrief]{Servers: []serverBrief{}, Links: next}
	for _, row := range rows {
		out.Servers = append(out.Servers, serverBrief{ID: row.d.ID, Name: row.d.Name, Links: links(r, "/servers/"+row.d.ID)})
	}
	api.WriteJSON(w, http.StatusOK, out)
}

func (m *Module) listServersDetail(w http.ResponseWriter, r *http.Request) {
	rows, next, err := m.serverPage(w, r, "/servers/detail")
	if err != nil {
		m.fail(w, r, err)
		return
	}
	o := m.detailOpts(r)
	o.list = true
	out := serverList[server]{Servers: []server{}, Links: next}
	for _, row := range rows {
		out.Servers = append(out.Servers, serverView(r, row.d, row.inst, o))
	}
	api.WriteJSON(w, http.StatusOK, out)
}

// serverRow is a listed server: its /v1 detail and its instance.
type serverRow struct {
	d    api.ServerDetail
	inst fsm.Instance
}

// serverPage is the page of servers the query of r asks for, and its
// servers_links; collection is the path the next link repeats. It sets
// the index the page was read at.
func (m *Module) serverPage(w http.ResponseWriter, r *http.Request, collection string) ([]serverRow, []osapi.Link, error) {
	idx := m.ops.Index()
	q, err := parseListQuery(r, collection)
	if err != nil {
		return nil, nil, err
	}
	if q.limit == 0 {
		// Nova answers an empty page without looking.
		api.SetIndex(w, idx)
		return nil, nil, nil
	}
	f := api.ServerFilter{AllTenants: q.allTenants && q.projectID == "", ProjectID: q.projectID}
	details, insts, err := m.ops.ServerInstances(r.Context(), f)
	if err != nil {
		return nil, nil, err
	}
	rows := make([]serverRow, len(details))
	for k := range details {
		rows[k] = serverRow{d: details[k], inst: insts[k]}
	}
	if !q.changesSince.IsZero() {
		// Nova lists what changed since then, deleted servers included.
		gone, err := m.ops.DeletedServers(r.Context(), q.changesSince, q.allTenants)
		if err != nil {
			return nil, nil, err
		}
		for _, g := range gone {
			if q.projectID == "" || g.ProjectID == q.projectID {
				rows = append(rows, deletedRow(g))
			}
		}
	}
	sortRows(rows, q.sort)
	if q.marker != "" {
		k := slices.IndexFunc(rows, func(s serverRow) bool { return s.d.ID == q.marker })
		if k < 0 {
			return nil, nil, badRequest("marker [%s] not found", q.marker)
		}
		rows = rows[k+1:]
	}
	page := []serverRow{}
	for _, row := range rows {
		if len(page) == q.limit {
			break
		}
		if q.matches(row) {
			page = append(page, row)
		}
	}
	var next []osapi.Link
	if len(page) == q.limit {
		next = nextLink(r, collection, page[len(page)-1].d.ID)
	}
	api.SetIndex(w, idx)
	return page, next, nil
}

// listQuery is a parsed list query.
type listQuery struct {
	allTenants   bool
	projectID    string // with allTenants: the one project listed
	statuses     []string
	name         *regexp.Regexp
	host         string
	image        string
	flavor       string
	ip           *regexp.Regexp
	reservation  string // reservation_id: the servers one create made
	changesSince time.Time
	exact        map[string]string // an admin's filters on state fields
	sort         []sortKey
	limit        int
	marker       string
	later        laterFilters // the filters of microversions after 2.1
}

// memberFilters are the filters Nova lets a non-admin use at 2.1
// (_get_server_search_options); for anyone else the others are dropped.
var memberFilters = []string{"reservation_id", "name", "status", "image", "flavor", "ip", "changes-since", "all_tenants"}

// joinedFilters name joined tables: Nova refuses them ("Invalid filter
// field"), as anything starting with "_".
var joinedFilters = []string{"block_device_mapping", "services", "metadata", "system_metadata", "info_cache",
	"security_groups", "pci_devices"}

// exactFilters are the admin filters this list honours on the instance's
// own fields; Nova has more columns, which an admin's query may name
// without effect here.
var exactFilters = map[string]func(serverRow) string{
	"user_id":           func(s serverRow) string { return s.d.UserID },
	"uuid":              func(s serverRow) string { return s.d.ID },
	"vm_state":          func(s serverRow) string { return s.d.VMState },
	"task_state":        func(s serverRow) string { return s.d.TaskState },
	"node":              func(s serverRow) string { return s.d.Host },
	"key_name":          func(s serverRow) string { return s.d.KeyName },
	"availability_zone": func(s serverRow) string { return s.d.AvailabilityZone },
}

// parseListQuery reads the parameters Nova reads; the last of a repeated
// one counts (webob's), except status and sort, which may repeat.
func parseListQuery(r *http.Request, collection string) (listQuery, error) {
	v := r.URL.Query()
	admin := isAdmin(r)
	version := osapi.Requested(r.Context())
	members := memberFiltersAt(version)
	q := listQuery{exact: map[string]string{}}
	for k := range v {
		if strings.HasPrefix(k, "_") || slices.Contains(joinedFilters, k) {
			return q, badRequest("Invalid filter field: %s.", k)
		}
	}
	if err := serverListQuery(version, v); err != nil {
		return q, err
	}
	get := func(k string) (string, bool) {
		vals, ok := v[k]
		if !ok || !admin && !slices.Contains(members, k) {
			return "", false
		}
		return vals[len(vals)-1], true
	}
	if s, ok := get("all_tenants"); ok {
		on, err := allTenants(s)
		if err != nil {
			return q, err
		}
		if on && !admin {
			rule := "os_compute_api:servers:index:get_all_tenants"
			if collection == "/servers/detail" {
				rule = "os_compute_api:servers:detail:get_all_tenants"
			}
			return q, policyErr(rule)
		}
		q.allTenants = on
	}
	if q.allTenants {
		if p, ok := get("project_id"); ok {
			q.projectID = p
		} else if p, ok := get("tenant_id"); ok {
			q.projectID = p
		}
	}
	if _, ok := get("status"); ok {
		q.statuses = v["status"]
		if slices.ContainsFunc(q.statuses, func(s string) bool { return strings.EqualFold(s, "DELETED") }) && !admin {
			return q, failure(http.StatusForbidden, "Only administrators may list deleted instances")
		}
	}
	name, ok := get("name")
	if !ok {
		name, ok = get("display_name")
	}
	if ok && name != "" {
		re, err := regexp.Compile(name)
		if err != nil {
			return q, badRequest("Invalid input for query parameters name. Value: %s. '%s' is not a 'regex'", name, name)
		}
		q.name = re
	}
	q.host, _ = get("host")
	if s, ok := get("image"); ok {
		q.image = lastSegment(s)
	} else if s, ok := get("image_ref"); ok {
		q.image = lastSegment(s)
	}
	if s, ok := get("flavor"); ok {
		q.flavor = lastSegment(s)
	}
	if s, ok := get("ip"); ok && s != "" {
		re, err := regexp.Compile(s)
		if err != nil {
			return q, badRequest("Invalid input for query parameters ip. Value: %s. '%s' is not a 'regex'", s, s)
		}
		q.ip = re
	}
	q.reservation, _ = get("reservation_id")
	if s, ok := get("changes-since"); ok {
		t, err := parseTime(s)
		if err != nil {
			return q, badRequest("Invalid input for query parameters changes-since. Value: %s. '%s' is not a 'date-time'", s, s)
		}
		q.changesSince = t
	}
	for k := range exactFilters {
		if s, ok := get(k); ok {
			q.exact[k] = s
		}
	}
	var err error
	if q.sort, err = parseSort(v, admin); err != nil {
		return q, err
	}
	if err = q.later.parse(get, version, q.statuses, q.changesSince); err != nil {
		return q, err
	}
	q.limit, q.marker, _, err = page(v)
	return q, err
}

// allTenants is oslo's bool_from_string, strict, with "" meaning true (a
// bare ?all_tenants), as Nova reads the flag.
func allTenants(s string) (bool, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "", "1", "t", "true", "on", "y", "yes":
		return true, nil
	case "0", "f", "false", "off", "n", "no":
		return false, nil
	}
	return false, badRequest("Invalid input received: Unrecognized value '%s', acceptable values are: "+
		"'0', '1', 'f', 'false', 'n', 'no', 'off', 'on', 't', 'true', 'y', 'yes'", s)
}

// matches applies the filters Ops did not.
func (q listQuery) matches(s serverRow) bool {
	switch {
	case q.name != nil && !q.name.MatchString(s.d.Name), q.host != "" && s.d.Host != q.host:
		return false
	case len(q.statuses) > 0 && !statusMatches(q.statuses, s.d.VMState, s.d.TaskState):
		return false
	case q.image != "" && s.d.Image.ID != q.image:
		return false
	case q.flavor != "" && s.d.Flavor.ID != q.flavor:
		return false
	case !q.changesSince.IsZero() && s.d.Updated.Before(q.changesSince):
		return false
	case q.ip != nil && !slices.ContainsFunc(s.d.Addresses, func(a api.ServerAddress) bool { return q.ip.MatchString(a.IP) }):
		return false
	case q.reservation != "" && reservationOf(s.inst) != q.reservation:
		return false
	}
	if !q.later.matches(s) {
		return false
	}
	for k, want := range q.exact {
		if exactFilters[k](s) != want {
			return false
		}
	}
	return true
}

// deletedRow is a deleted server's record as a list row: what Nova shows
// of a deleted instance (status DELETED, no addresses, no metadata).
func deletedRow(g fsm.DeletedInstance) serverRow {
	i := g.Instance
	d := api.ServerDetail{ID: i.ID, Name: i.Name, Status: i.Status(), Host: i.Host, Flavor: i.Flavor,
		Image: api.ImageRef{ID: i.ImageID}, VMState: i.VMState, PowerState: i.PowerState, Created: i.Created,
		Updated: i.Updated, Metadata: map[string]string{}, AvailabilityZone: i.AvailabilityZone, TenantID: i.ProjectID,
		UserID: i.UserID, KeyName: i.KeyName, Description: i.Description, AccessIPv4: i.AccessIPv4, AccessIPv6: i.AccessIPv6}
	if i.ConfigDrive {
		d.ConfigDrive = "True"
	}
	return serverRow{d: d, inst: i}
}

// lastSegment is the ID at the end of a reference that may be a URL (Nova
// takes hrefs as well as IDs).
func lastSegment(ref string) string {
	if u, err := url.Parse(ref); err == nil && u.Path != "" {
		return u.Path[strings.LastIndex(u.Path, "/")+1:]
	}
	return ref
}

// parseTime reads the ISO 8601 forms clients send for changes-since.
func parseTime(s string) (time.Time, error) {
	var err error
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999", "2006-01-02T15:04:05Z0700",
		"2006-01-02 15:04:05", "2006-01-02"} {
		var t time.Time
		if t, err = time.Parse(layout, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, err
}

// reservationOf is the reservation of the create that made inst: derived
// from that create's request ID, as the create answered it. A server whose
// action log no longer holds its create (the oldest entries go first) has
// none and matches no reservation_id.
func reservationOf(inst fsm.Instance) string {
	k := slices.IndexFunc(inst.Actions, func(a fsm.Action) bool { return a.Action == "create" })
	if k < 0 {
		return ""
	}
	return reservationID(inst.Actions[k].RequestID)
}
