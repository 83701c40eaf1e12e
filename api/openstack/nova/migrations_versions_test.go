package nova_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/shoal-project/shoal/api/apitest"
	"github.com/shoal-project/shoal/api/identity/identitytest"
	"github.com/shoal-project/shoal/fsm"
)

// Tempest's os-migrations schemas (v2_1, v2_23, v2_59 migrations.py).
var (
	migration21 = shape{"id": "integer", "status": "string|null", "instance_uuid": "string|null",
		"source_node": "string|null", "source_compute": "string|null", "dest_node": "string|null",
		"dest_compute": "string|null", "dest_host": "string|null", "old_instance_type_id": "integer|null",
		"new_instance_type_id": "integer|null", "created_at": "datetime", "updated_at": "datetime|null"}
	migration223 = withKeys(migration21, shape{"migration_type": "string|null", "?links": links})
	migration259 = withKeys(migration223, shape{"uuid": "string"})
	migration280 = withKeys(migration259, shape{"user_id": "string|null", "project_id": "string|null"})
)

// TestMigrationsMicroversions: the os-migrations fields and query of each
// microversion, and the bodies of the moving actions per version.
func TestMigrationsMicroversions(t *testing.T) {
	e := newServersEnv(t)
	admin := apitest.AdminToken
	ids := []string{"d2000000-0000-4000-8000-000000000001", "d2000000-0000-4000-8000-000000000002"}
	for k, id := range ids {
		e.SeedServer(t, e.alpha, id, "m"+string(rune('a'+k)), apitest.CirrosID, apitest.NodeName)
	}

	// Bodies, refused before anything is looked up or proposed.
	for _, c := range []struct {
		version, body string
		status        int
		contains      string
	}{
		{"2.1", `{"os-migrateLive":{"host":null,"block_migration":false}}`, 400, "'disk_over_commit' is a required property"},
		{"2.24", `{"os-migrateLive":{"host":null,"block_migration":"auto","disk_over_commit":false}}`, 400, "boolean"},
		{"2.25", `{"os-migrateLive":{"host":null,"block_migration":false,"disk_over_commit":false}}`, 400, "disk_over_commit"},
		{"2.29", `{"os-migrateLive":{"host":"node2","block_migration":false,"force":true}}`, 400, "force"},
		{"2.30", `{"os-migrateLive":{"host":null,"block_migration":"auto","force":true}}`, 400,
			"Can't force to a non-provided destination"},
		{"2.68", `{"os-migrateLive":{"host":"node2","block_migration":"auto","force":false}}`, 400, "force"},
		{"2.56", `{"migrate":{"host":"node9"}}`, 400, "Compute host node9 could not be found."},
		{"2.56", `{"migrate":{"host":"` + apitest.NodeName + `"}}`, 400, "current host"},
		{"2.56", `{"migrate":{"hots":"node2"}}`, 400, "Additional properties"},
		{"2.1", `{"resize":{}}`, 400, "'flavorRef' is a required property"},
		{"2.1", `{"resize":{"flavorRef":"2","OS-DCF:diskConfig":"NONE"}}`, 400, "NONE"},
		{"2.1", `{"resize":{"flavorRef":"1"}}`, 400, "When resizing, instances must change flavor!"},
		{"2.1", `{"revertResize":null}`, 409, "Cannot 'revertResize' instance " + ids[0] + " while it is in vm_state active"},
	} {
		before := e.FSM.Index()
		status, raw := e.call(t, "POST", "/servers/"+ids[0]+"/action", c.body, admin, at(c.version)...)
		if _, _, msg := fault(t, raw); status != c.status || !strings.Contains(msg, c.contains) {
			t.Errorf("%s at %s: %d %s, want %d %q", c.body, c.version, status, raw, c.status, c.contains)
		}
		if c.status != 409 && e.FSM.Index() != before { // a state conflict is Apply's call
			t.Errorf("%s at %s: refused but proposed", c.body, c.version)
		}
	}

	// One live migration in progress (2.25's "auto"; 2.30's force false),
	// one cold migration by the scheduler (2.56 null), then finished.
	for _, c := range []struct{ id, version, body string }{
		{ids[0], "2.30", `{"os-migrateLive":{"host":"node2","block_migration":"auto","force":false}}`},
		{ids[1], "2.56", `{"migrate":null}`},
	} {
		if status, raw := e.call(t, "POST", "/servers/"+c.id+"/action", c.body, admin, at(c.version)...); status != 202 || len(raw) != 0 {
			t.Fatalf("%s: %d %s", c.body, status, raw)
		}
	}
	e.schedule(t, ids[1], "node2")
	e.complete(t, ids[1], fsm.PowerShutdown)
	e.complete(t, ids[1], fsm.PowerRunning)
	status, raw := e.call(t, "GET", "/servers/"+ids[1], "", admin, at("2.3")...)
	if status != 200 || !strings.Contains(string(raw), `"status":"VERIFY_RESIZE"`) ||
		!strings.Contains(string(raw), `"OS-EXT-SRV-ATTR:host":"node2"`) {
		t.Errorf("a migrated server: %d %s", status, raw)
	}

	list := func(version, query string, want shape) []map[string]any {
		t.Helper()
		status, raw := e.call(t, "GET", "/os-migrations"+query, "", admin, at(version)...)
		if status != 200 {
			t.Fatalf("os-migrations%s at %s: %d %s", query, version, status, raw)
		}
		checkShape(t, "os-migrations at "+version, raw, shape{"migrations": []any{want}, "?migrations_links": links})
		var body struct{ Migrations []map[string]any }
		_ = json.Unmarshal(raw, &body)
		return body.Migrations
	}
	for _, c := range []struct {
		version string
		want    shape
	}{{"2.1", migration21}, {"2.23", migration223}, {"2.59", migration259}, {"2.80", migration280}} {
		if got := list(c.version, "", c.want); len(got) != 2 {
			t.Errorf("at %s: %d migrations", c.version, len(got))
		}
	}
	got := list("2.23", "", migration223)
	if got[0]["migration_type"] != "migration" || got[0]["status"] != "finished" || got[0]["links"] != nil ||
		got[1]["migration_type"] != "live-migration" || got[1]["links"] == nil {
		t.Errorf("newest first, links for the live one in progress: %v", got)
	}
	if got := list("2.1", "?host=node2&status=finished&bogus=1", migration21); len(got) != 1 || got[0]["instance_uuid"] != ids[1] {
		t.Errorf("filtered at 2.1: %v", got)
	}
	if got := list("2.1", "?hidden=true", migration21); len(got) != 0 {
		t.Errorf("hidden ones: %v", got)
	}
	if got := list("2.80", "?migration_type=live-migration&user_id="+identitytest.AdminUserID, migration280); len(got) != 1 {
		t.Errorf("by type and user at 2.80: %v", got)
	}

	// Paging from 2.59: a full page links to the next.
	status, raw = e.call(t, "GET", "/os-migrations?limit=1", "", admin, at("2.59")...)
	var page struct {
		Migrations []map[string]any
		Links      []map[string]string `json:"migrations_links"`
	}
	_ = json.Unmarshal(raw, &page)
	if status != 200 || len(page.Migrations) != 1 || len(page.Links) != 1 || !strings.Contains(page.Links[0]["href"], "marker=") {
		t.Fatalf("a page of one: %d %s", status, raw)
	}
	status, raw = e.call(t, "GET", "/os-migrations?limit=1&marker="+page.Migrations[0]["uuid"].(string), "", admin, at("2.59")...)
	if status != 200 || !strings.Contains(string(raw), ids[0]) {
		t.Errorf("the next page: %d %s", status, raw)
	}
	for _, c := range []struct{ version, query, contains string }{
		{"2.59", "?bogus=1", "Additional properties are not allowed ('bogus' was unexpected)"},
		{"2.59", "?marker=nope", "Marker nope could not be found."},
		{"2.59", "?migration_type=teleport", "is not one of"},
		{"2.59", "?changes-before=2020-01-01T00:00:00Z", "'changes-before' was unexpected"},
		{"2.66", "?changes-since=2030-01-01T00:00:00Z&changes-before=2020-01-01T00:00:00Z", "changes-since must be less"},
		{"2.79", "?user_id=x", "'user_id' was unexpected"},
	} {
		status, raw := e.call(t, "GET", "/os-migrations"+c.query, "", admin, at(c.version)...)
		if _, _, msg := fault(t, raw); status != 400 || !strings.Contains(msg, c.contains) {
			t.Errorf("%s at %s: %d %s", c.query, c.version, status, raw)
		}
	}
	if got := list("2.66", "?changes-since=2030-01-01T00:00:00Z", migration259); len(got) != 0 {
		t.Errorf("changes-since in the future: %v", got)
	}
	status, raw = e.call(t, "GET", "/os-migrations", "", e.alpha.Token)
	if status != 403 {
		t.Errorf("a member's os-migrations: %d %s", status, raw)
	}
	// A server's migrations exist from 2.23 (force_complete's route from 2.22).
	if status, _ := e.call(t, "GET", "/servers/"+ids[0]+"/migrations", "", admin, at("2.22")...); status != 404 {
		t.Errorf("server migrations at 2.22: %d", status)
	}
	status, raw = e.call(t, "POST", "/servers/"+ids[1]+"/migrations/2/action", `{"force_complete":null}`, admin, at("2.22")...)
	if _, _, msg := fault(t, raw); status != 409 || msg != "Cannot 'force_complete' instance "+ids[1]+" while it is in vm_state resized" {
		t.Errorf("force_complete of a resized server: %d %s", status, raw)
	}
	status, raw = e.call(t, "DELETE", "/servers/"+ids[0]+"/migrations/2", "", admin, at("2.24")...)
	if _, _, msg := fault(t, raw); status != 404 || msg != "Migration 2 not found for instance "+ids[0] {
		t.Errorf("abort of another server's migration: %d %s", status, raw)
	}
}
