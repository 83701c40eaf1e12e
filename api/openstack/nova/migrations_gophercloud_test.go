package nova_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/migrations"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/servers"

	"github.com/shoal-project/shoal/api/apitest"
	"github.com/shoal-project/shoal/fsm"
)

// schedule gives a migration waiting for the scheduler its destination,
// as the scheduler would.
func (e *serversEnv) schedule(t *testing.T, id, host string) {
	t.Helper()
	e.Apply(t, &fsm.Plan{Time: apitest.SeedTime, Ratios: fsm.DefaultRatios, MaxAttempts: 3,
		Placements: []fsm.Placement{{InstanceID: id, Host: host}}})
}

// rawGet reads path (below the compute endpoint) with c into a map.
func rawGet(t *testing.T, c *gophercloud.ServiceClient, path string) map[string]any {
	t.Helper()
	var body map[string]any
	if _, err := c.Get(context.Background(), c.ServiceURL(strings.Split(path, "/")...), &body, nil); err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	return body
}

func (e *serversEnv) status(t *testing.T, c *gophercloud.ServiceClient, id string) (string, string) {
	t.Helper()
	s, err := servers.Get(context.Background(), c, id).Extract()
	if err != nil {
		t.Fatal(err)
	}
	return s.Status, s.TaskState
}

// TestMigrationsThroughGophercloud moves a server with gophercloud as an
// operator and its owner would (live, resize + confirm, cold + revert),
// checks the refusals in Nova's words, and reads the record through
// compute/v2/migrations and a server's migrations. The hosts never act:
// their Done reports are fsm commands here.
func TestMigrationsThroughGophercloud(t *testing.T) {
	ctx := context.Background()
	e := newServersEnv(t)
	const id = "d1000000-0000-4000-8000-000000000001"
	e.SeedServer(t, e.alpha, id, "mover", apitest.CirrosID, apitest.NodeName)
	member, admin := e.compute(t, false), e.compute(t, true)
	admin.Microversion = "2.30"
	node2 := "node2"
	no := false

	// Live: an admin's; the owner is refused by policy.
	err := servers.LiveMigrate(ctx, member, id, servers.LiveMigrateOpts{Host: &node2, BlockMigration: &no, DiskOverCommit: &no}).ExtractErr()
	if msg := novaFault(t, err, http.StatusForbidden); !strings.Contains(msg, "migrate_live") {
		t.Errorf("member's live migration: %q", msg)
	}
	self := apitest.NodeName
	err = servers.LiveMigrate(ctx, admin, id, servers.LiveMigrateOpts{Host: &self, BlockMigration: &no}).ExtractErr()
	if msg := novaFault(t, err, http.StatusBadRequest); !strings.Contains(msg, "current host") {
		t.Errorf("to its own host: %q", msg)
	}
	if err := servers.LiveMigrate(ctx, admin, id, servers.LiveMigrateOpts{Host: &node2, BlockMigration: &no}).ExtractErr(); err != nil {
		t.Fatal(err)
	}
	if st, task := e.status(t, admin, id); st != "MIGRATING" || task != fsm.TaskMigrating {
		t.Fatalf("after live-migrate: %s %s", st, task)
	}
	err = servers.LiveMigrate(ctx, admin, id, servers.LiveMigrateOpts{Host: &node2, BlockMigration: &no}).ExtractErr()
	if msg := novaFault(t, err, http.StatusConflict); msg != "Cannot 'os-migrateLive' instance "+id+" while it is in task_state migrating" {
		t.Errorf("while migrating: %q", msg)
	}

	// The record: os-migrations (2.80's fields) and the server's own.
	admin.Microversion = "2.80"
	pages, err := migrations.List(admin, migrations.ListOpts{InstanceID: ptr(id)}).AllPages(ctx)
	if err != nil {
		t.Fatal(err)
	}
	ms, err := migrations.ExtractMigrations(pages)
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) != 1 || ms[0].MigrationType != fsm.MigrationLive || ms[0].Status != fsm.MigrationPreparing ||
		ms[0].SourceCompute != apitest.NodeName || ms[0].DestCompute != "node2" || ms[0].DestHost != "node2" ||
		ms[0].UUID == "" || ms[0].OldInstanceTypeID != 1 || ms[0].NewInstanceTypeID != 1 || ms[0].CreatedAt.IsZero() {
		t.Fatalf("os-migrations: %+v", ms)
	}
	raw := rawGet(t, admin, "os-migrations")
	entry := raw["migrations"].([]any)[0].(map[string]any)
	if _, ok := entry["links"]; !ok {
		t.Errorf("an in-progress live migration has no links: %v", entry)
	}
	mid := jsonNumber(entry["id"])
	sm := rawGet(t, admin, "servers/"+id+"/migrations")["migrations"].([]any)
	if len(sm) != 1 || sm[0].(map[string]any)["server_uuid"] != id || sm[0].(map[string]any)["uuid"] != ms[0].UUID {
		t.Errorf("the server's migrations: %v", sm)
	}
	show := rawGet(t, admin, "servers/"+id+"/migrations/"+mid)["migration"].(map[string]any)
	if show["status"] != fsm.MigrationPreparing || show["memory_total_bytes"] != nil {
		t.Errorf("the server's migration: %v", show)
	}
	_, err = admin.Post(ctx, admin.ServiceURL("servers", id, "migrations", mid, "action"), map[string]any{"force_complete": nil}, nil, nil)
	if msg := novaFault(t, err, http.StatusBadRequest); !strings.Contains(msg, "Cannot force complete") {
		t.Errorf("force_complete: %q", msg)
	}
	_, err = admin.Delete(ctx, admin.ServiceURL("servers", id, "migrations", mid), nil)
	if msg := novaFault(t, err, http.StatusConflict); !strings.Contains(msg, "not yet supported") {
		t.Errorf("abort at 2.80: %q", msg)
	}
	admin.Microversion = "2.24"
	_, err = admin.Delete(ctx, admin.ServiceURL("servers", id, "migrations", mid), nil)
	if msg := novaFault(t, err, http.StatusBadRequest); !strings.Contains(msg, "Cannot abort live migration") {
		t.Errorf("abort at 2.24: %q", msg)
	}
	e.complete(t, id, fsm.PowerRunning) // the source's Done
	if st, _ := e.status(t, admin, id); st != "ACTIVE" {
		t.Fatalf("after the live migration: %s", st)
	}
	admin.Microversion = "2.80"
	_, err = admin.Get(ctx, admin.ServiceURL("servers", id, "migrations", mid), nil, nil)
	novaFault(t, err, http.StatusNotFound) // no longer in progress

	// Resize (the owner's), confirmed.
	err = servers.Resize(ctx, member, id, servers.ResizeOpts{FlavorRef: "99"}).ExtractErr()
	if msg := novaFault(t, err, http.StatusBadRequest); msg != "Flavor 99 could not be found." {
		t.Errorf("resize to no flavor: %q", msg)
	}
	err = servers.ConfirmResize(ctx, member, id).ExtractErr()
	if msg := novaFault(t, err, http.StatusConflict); msg != "Cannot 'confirmResize' instance "+id+" while it is in vm_state active" {
		t.Errorf("confirm of an active server: %q", msg)
	}
	if err := servers.Resize(ctx, member, id, servers.ResizeOpts{FlavorRef: "2"}).ExtractErr(); err != nil {
		t.Fatal(err)
	}
	if st, task := e.status(t, member, id); st != "RESIZE" || task != fsm.TaskResizePrep {
		t.Fatalf("after resize: %s %s", st, task)
	}
	e.schedule(t, id, apitest.NodeName)
	e.complete(t, id, fsm.PowerShutdown) // resize_migrating on node2
	e.complete(t, id, fsm.PowerRunning)  // resize_finish on node1
	if st, _ := e.status(t, member, id); st != "VERIFY_RESIZE" {
		t.Fatalf("after the resize: %s", st)
	}
	if err := servers.ConfirmResize(ctx, member, id).ExtractErr(); err != nil {
		t.Fatal(err)
	}
	if s, _ := servers.Get(ctx, member, id).Extract(); s.Status != "ACTIVE" || s.Flavor["id"] != "2" {
		t.Fatalf("after confirm: %s %v", s.Status, s.Flavor)
	}

	// Cold migration (an admin's), reverted by the owner.
	if err := servers.Migrate(ctx, member, id).ExtractErr(); err == nil {
		t.Fatal("a member migrated a server")
	}
	if err := servers.Migrate(ctx, admin, id).ExtractErr(); err != nil {
		t.Fatal(err)
	}
	e.schedule(t, id, "node2")
	e.complete(t, id, fsm.PowerShutdown)
	e.complete(t, id, fsm.PowerRunning)
	if err := servers.RevertResize(ctx, member, id).ExtractErr(); err != nil {
		t.Fatal(err)
	}
	if st, task := e.status(t, member, id); st != "REVERT_RESIZE" || task != fsm.TaskResizeReverting {
		t.Fatalf("after revert: %s %s", st, task)
	}
	e.complete(t, id, fsm.PowerShutdown)
	e.complete(t, id, fsm.PowerRunning)
	if s, _ := servers.Get(ctx, member, id).Extract(); s.Status != "ACTIVE" || s.HostID == "" {
		t.Fatalf("after the revert: %s", s.Status)
	}

	pages, err = migrations.List(admin, migrations.ListOpts{Host: ptr("node2")}).AllPages(ctx)
	if err != nil {
		t.Fatal(err)
	}
	ms, _ = migrations.ExtractMigrations(pages)
	var got []string
	for _, m := range ms {
		got = append(got, m.MigrationType+":"+m.Status)
	}
	if strings.Join(got, " ") != "migration:reverted resize:confirmed live-migration:completed" {
		t.Errorf("the record, newest first: %v", got)
	}
}

func ptr[T any](v T) *T { return &v }

// jsonNumber writes a decoded JSON number as the path segment it is.
func jsonNumber(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
