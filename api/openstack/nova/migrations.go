package nova

import (
	"encoding/json"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"time"

	"github.com/shoal-project/shoal/api"
	"github.com/shoal-project/shoal/api/openstack/osapi"
	"github.com/shoal-project/shoal/fsm"
)

// Nova's os-migrations (an admin's list of every migration) and a
// server's live migrations in progress (2.23; force_complete 2.22, abort
// 2.24), over api.Ops' migration record. Every migration is listed at
// every version, each with Nova's fields of that version: migration_type
// and the links of an in-progress live migration from 2.23; uuid, paging
// (limit, marker: a UUID), changes-since and a strict query from 2.59;
// changes-before from 2.66; user_id and project_id (fields and filters)
// from 2.80. A compute node is its host (source_node = source_compute);
// dest_host is the destination's address; flavors' integer IDs are
// shown, a UUID flavor's as null.

var (
	since222 = osapi.Since(2, 22)
	since223 = osapi.Since(2, 23)
	since224 = osapi.Since(2, 24)
)

func (m *Module) registerMigrations(r api.Router) {
	m.route(r, "GET /os-migrations", api.AccessAdmin, m.listMigrations)
	m.route(r, "GET /servers/{id}/migrations", api.AccessAdmin, m.listServerMigrations, since223)
	m.route(r, "GET /servers/{id}/migrations/{mid}", api.AccessAdmin, m.showServerMigration, since223)
	m.route(r, "DELETE /servers/{id}/migrations/{mid}", api.AccessAdmin, m.abortServerMigration, since224)
	m.route(r, "POST /servers/{id}/migrations/{mid}/action", api.AccessAdmin, m.serverMigrationAction, since222)
}

// migrationTypes are the values 2.59's query schema allows.
var migrationTypes = []string{fsm.MigrationEvacuation, fsm.MigrationLive, fsm.MigrationCold, fsm.MigrationResize}

// last is the last value of a query parameter, as Nova's search options
// (a dict updated from the request's MultiDict) take it.
func last(q url.Values, k string) string {
	if v := q[k]; len(v) > 0 {
		return v[len(v)-1]
	}
	return ""
}

// migrationQuery reads os-migrations' query at the request's version.
func migrationQuery(r *http.Request) (api.MigrationFilter, bool, error) {
	v := osapi.Requested(r.Context())
	q := r.URL.Query()
	f := api.MigrationFilter{InstanceID: last(q, "instance_uuid"), Host: last(q, "host"),
		Source: last(q, "source_compute"), Status: last(q, "status"), Kind: last(q, "migration_type")}
	hidden := false
	if q.Has("hidden") {
		h, ok := parseBool(last(q, "hidden"))
		if !ok {
			return f, false, badRequest("Invalid input for query parameters hidden. Value: %s. %s is not of type 'boolean'",
				last(q, "hidden"), last(q, "hidden"))
		}
		hidden = h
	}
	if !v.AtLeast(2, 59) {
		return f, hidden, nil
	}
	known := []string{"hidden", "host", "instance_uuid", "source_compute", "status", "migration_type", "limit", "marker",
		"changes-since"}
	if v.AtLeast(2, 66) {
		known = append(known, "changes-before")
	}
	if v.AtLeast(2, 80) {
		known = append(known, "user_id", "project_id")
		f.UserID, f.ProjectID = last(q, "user_id"), last(q, "project_id")
	}
	if err := unexpectedParams(q, func(k string) bool { return slices.Contains(known, k) }); err != nil {
		return f, false, err
	}
	if f.Kind != "" && !slices.Contains(migrationTypes, f.Kind) {
		return f, false, badRequest("Invalid input for query parameters migration_type. Value: %s. '%s' is not one of %s",
			f.Kind, f.Kind, pyList(migrationTypes))
	}
	f.Limit = maxPage
	if q.Has("limit") {
		s := last(q, "limit")
		if !nonNegativeInt.MatchString(s) {
			return f, false, badRequest("Invalid input for query parameters limit. Value: %s. '%s' does not match '^[0-9]*$'", s, s)
		}
		if n, err := strconv.Atoi(s); err == nil && n < maxPage {
			f.Limit = n
		}
		if f.Limit == 0 {
			f.Limit = -1 // an empty page, not all
		}
	}
	f.Marker = last(q, "marker")
	for name, at := range map[string]*time.Time{"changes-since": &f.ChangesSince, "changes-before": &f.ChangesBefore} {
		if !q.Has(name) || !slices.Contains(known, name) {
			continue
		}
		s := last(q, name)
		t, err := parseTime(s)
		if err != nil {
			return f, false, badRequest("Invalid input for query parameters %s. Value: %s. '%s' is not a 'date-time'", name, s, s)
		}
		*at = t
	}
	if !f.ChangesSince.IsZero() && !f.ChangesBefore.IsZero() && f.ChangesBefore.Before(f.ChangesSince) {
		return f, false, badRequest("The value of changes-since must be less than or equal to changes-before.")
	}
	return f, hidden, nil
}

func (m *Module) listMigrations(w http.ResponseWriter, r *http.Request) {
	f, hidden, err := migrationQuery(r)
	if err != nil {
		m.fail(w, r, err)
		return
	}
	empty := f.Limit < 0
	if empty {
		f.Limit = 0
	}
	var list []fsm.Migration
	// No shoal migration is hidden (Nova hides a cross-cell move's
	// bookkeeping): hidden=true lists none.
	if !hidden && !empty {
		if list, err = m.ops.Migrations(r.Context(), f); err != nil {
			m.fail(w, r, err)
			return
		}
	}
	hosts := m.hostAddresses(r)
	out := make([]map[string]any, 0, len(list))
	for _, mg := range list {
		out = append(out, migrationView(r, mg, hosts))
	}
	body := map[string]any{"migrations": out}
	if osapi.Requested(r.Context()).AtLeast(2, 59) && f.Limit > 0 && len(list) == f.Limit {
		body["migrations_links"] = nextLink(r, "/os-migrations", list[len(list)-1].UUID)
	}
	api.WriteJSON(w, http.StatusOK, body)
}

// hostAddresses maps each host to its address (Nova's dest_host is the
// destination's IP).
func (m *Module) hostAddresses(r *http.Request) map[string]string {
	out := map[string]string{}
	hosts, err := m.ops.Hosts(r.Context())
	if err != nil {
		return out
	}
	for _, h := range hosts {
		addr := h.HTTPAddress
		if addr == "" {
			addr = h.RaftAddress
		}
		if host, _, err := net.SplitHostPort(addr); err == nil {
			addr = host
		}
		out[h.Name] = addr
	}
	return out
}

// migrationView is one os-migrations entry at the request's version.
func migrationView(r *http.Request, mg fsm.Migration, hosts map[string]string) map[string]any {
	v := osapi.Requested(r.Context())
	out := map[string]any{
		"id": mg.ID, "status": mg.Status, "instance_uuid": mg.InstanceID,
		"source_compute": nullable(mg.Source), "source_node": nullable(mg.Source),
		"dest_compute": nullable(mg.Dest), "dest_node": nullable(mg.Dest), "dest_host": destHost(mg, hosts),
		"old_instance_type_id": flavorNumber(mg.OldFlavor), "new_instance_type_id": flavorNumber(mg.NewFlavor),
		"created_at": naiveTime(mg.Created), "updated_at": nullable(naiveTime(mg.Updated)),
	}
	if v.AtLeast(2, 23) {
		out["migration_type"] = mg.Kind
		if mg.Kind == fsm.MigrationLive && mg.InProgress() {
			out["links"] = links(r, "/servers/"+mg.InstanceID+"/migrations/"+strconv.FormatUint(mg.ID, 10))
		}
	}
	if v.AtLeast(2, 59) {
		out["uuid"] = mg.UUID
	}
	if v.AtLeast(2, 80) {
		out["user_id"], out["project_id"] = nullable(mg.UserID), nullable(mg.ProjectID)
	}
	return out
}

func destHost(mg fsm.Migration, hosts map[string]string) *string {
	if mg.Dest == "" {
		return nil
	}
	return nullable(hosts[mg.Dest])
}

// flavorNumber is Nova's instance_type_id: the flavor's integer ID, null
// for a flavor whose ID is not one.
func flavorNumber(f fsm.FlavorSpec) *int64 {
	n, err := strconv.ParseInt(f.ID, 10, 64)
	if err != nil {
		return nil
	}
	return &n
}

// serverMigrationView is one of a server's live migrations in progress
// (Nova's server_migrations view); shoal keeps no memory or disk
// progress, so those are null.
func serverMigrationView(r *http.Request, mg fsm.Migration, hosts map[string]string) map[string]any {
	v := osapi.Requested(r.Context())
	out := map[string]any{
		"id": mg.ID, "server_uuid": mg.InstanceID, "status": mg.Status,
		"source_compute": nullable(mg.Source), "source_node": nullable(mg.Source),
		"dest_compute": nullable(mg.Dest), "dest_node": nullable(mg.Dest), "dest_host": destHost(mg, hosts),
		"created_at": naiveTime(mg.Created), "updated_at": nullable(naiveTime(mg.Updated)),
		"memory_total_bytes": nil, "memory_processed_bytes": nil, "memory_remaining_bytes": nil,
		"disk_total_bytes": nil, "disk_processed_bytes": nil, "disk_remaining_bytes": nil,
	}
	if v.AtLeast(2, 59) {
		out["uuid"] = mg.UUID
	}
	if v.AtLeast(2, 80) {
		out["user_id"], out["project_id"] = nullable(mg.UserID), nullable(mg.ProjectID)
	}
	return out
}

func (m *Module) listServerMigrations(w http.ResponseWriter, r *http.Request) {
	_, _, err := m.server(r)
	var list []fsm.Migration
	if err == nil {
		list, err = m.ops.ServerMigrations(r.Context(), r.PathValue("id"))
	}
	if err != nil {
		m.fail(w, r, err)
		return
	}
	hosts := m.hostAddresses(r)
	out := make([]map[string]any, 0, len(list))
	for _, mg := range list {
		out = append(out, serverMigrationView(r, mg, hosts))
	}
	api.WriteJSON(w, http.StatusOK, map[string]any{"migrations": out})
}

// migrationID is the {mid} of a path: an integer (Nova's route takes any
// string and then finds no migration: 404).
func migrationID(r *http.Request) (uint64, error) {
	id, err := strconv.ParseUint(r.PathValue("mid"), 10, 64)
	if err != nil {
		return 0, notFound("In-progress live migration %s is not found for server %s.", r.PathValue("mid"), r.PathValue("id"))
	}
	return id, nil
}

func (m *Module) showServerMigration(w http.ResponseWriter, r *http.Request) {
	_, _, err := m.server(r)
	var id uint64
	if err == nil {
		id, err = migrationID(r)
	}
	var mg fsm.Migration
	if err == nil {
		mg, err = m.ops.ServerMigration(r.Context(), r.PathValue("id"), id)
	}
	if err != nil {
		m.fail(w, r, err)
		return
	}
	api.WriteJSON(w, http.StatusOK, map[string]any{"migration": serverMigrationView(r, mg, m.hostAddresses(r))})
}

// abortServerMigration is Nova's DELETE of a live migration (2.24): 2.65
// lets a queued or preparing one be aborted, which shoal refuses as Nova
// does a compute that cannot (409).
func (m *Module) abortServerMigration(w http.ResponseWriter, r *http.Request) {
	_, _, err := m.server(r)
	var id uint64
	if err == nil {
		id, err = migrationID(r)
	}
	if err == nil {
		err = m.ops.AbortMigration(r.Context(), r.PathValue("id"), id, osapi.Requested(r.Context()).AtLeast(2, 65))
	}
	m.fail(w, r, err)
}

// serverMigrationAction is Nova's force_complete (2.22), the one action
// of a server's migration: {"force_complete": null}.
func (m *Module) serverMigrationAction(w http.ResponseWriter, r *http.Request) {
	b, err := readObject(w, r)
	if err != nil {
		m.fail(w, r, err)
		return
	}
	if _, ok := b["force_complete"]; !ok || len(b) != 1 {
		m.fail(w, r, badRequest("There is no such action: %s", firstKey(b)))
		return
	}
	if _, _, err := m.server(r); err != nil {
		m.fail(w, r, err)
		return
	}
	id, err := strconv.ParseUint(r.PathValue("mid"), 10, 64)
	if err != nil {
		m.fail(w, r, badRequest("Migration %s not found for instance %s", r.PathValue("mid"), r.PathValue("id")))
		return
	}
	m.fail(w, r, m.ops.ForceCompleteMigration(r.Context(), r.PathValue("id"), id))
}

// firstKey is some member of b ("" when empty), to name an unknown action.
func firstKey(b map[string]json.RawMessage) string {
	for k := range b {
		return k
	}
	return ""
}
