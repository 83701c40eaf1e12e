package api

import (
	"net/http"
	"testing"
	"time"

	"github.com/shoal-project/shoal/fsm"
)

// done reports, as host would, that server id finished its current task
// (errMsg: it failed).
func (w *tenants) done(t *testing.T, host, id, errMsg string) {
	t.Helper()
	inst, err := w.c.FSM.Instance(id)
	if err != nil {
		t.Fatal(err)
	}
	w.c.MustApply(t, &fsm.ReportInstances{Host: host, Time: time.Unix(400, 0).UTC(), Reports: []fsm.InstanceReport{
		{ID: id, PowerState: fsm.PowerRunning, Done: inst.TaskState, TaskIndex: inst.TaskIndex, Error: errMsg}}})
}

// schedule places a migration waiting for the scheduler on host.
func (w *tenants) schedule(t *testing.T, id, host string) {
	t.Helper()
	w.c.MustApply(t, &fsm.Plan{Time: time.Unix(400, 0).UTC(), Ratios: fsm.DefaultRatios, MaxAttempts: 3,
		Placements: []fsm.Placement{{InstanceID: id, Host: host}}})
}

func (w *tenants) action(t *testing.T, caller, id, body string) (*http.Response, ServerDetail) {
	t.Helper()
	resp, raw := w.as(t, caller, "POST", "/v1/servers/"+id+"/action", body)
	if resp.StatusCode != http.StatusAccepted {
		return resp, ServerDetail{}
	}
	return resp, decode[ServerResponse](t, raw).Server
}

func TestMigrationActionsAndRecord(t *testing.T) {
	w := newTenants(t)
	srv := w.alpha.server

	// Refusals, before anything is proposed.
	for _, c := range []struct {
		caller, body string
		status       int
		contains     string
	}{
		{member, `{"action":"live-migrate"}`, http.StatusForbidden, "policy"},
		{member, `{"action":"migrate","host":"node2"}`, http.StatusForbidden, "policy"},
		{betaUser, `{"action":"resize","flavor":"m1.small"}`, http.StatusNotFound, ""},
		{admin, `{"action":"live-migrate","host":"node9"}`, http.StatusBadRequest, "Compute host node9 could not be found."},
		{admin, `{"action":"live-migrate","host":"node1"}`, http.StatusBadRequest, "current host"},
		{admin, `{"action":"live-migrate","flavor":"2"}`, http.StatusBadRequest, "flavor goes only with resize"},
		{member, `{"action":"resize"}`, http.StatusBadRequest, "resize needs the flavor"},
		{member, `{"action":"resize","flavor":"m9.huge"}`, http.StatusBadRequest, "Flavor m9.huge could not be found."},
		{member, `{"action":"resize","flavor":"m1.tiny"}`, http.StatusBadRequest, "must change flavor"},
		{member, `{"action":"resize","flavor":"2","host":"node2"}`, http.StatusBadRequest, "host goes only with"},
		{member, `{"action":"confirm-resize"}`, http.StatusConflict, "vm_state active"},
		{member, `{"action":"revert-resize"}`, http.StatusConflict, "vm_state active"},
	} {
		before := w.c.FSM.Index()
		resp, raw := w.as(t, c.caller, "POST", "/v1/servers/"+srv+"/action", c.body)
		wantError(t, resp, raw, c.status, c.contains)
		if c.status != http.StatusConflict && w.c.FSM.Index() != before {
			t.Errorf("%s %s: refused at %d but proposed", c.caller, c.body, c.status)
		}
	}

	// A live migration to a named host: MIGRATING, then on node2.
	resp, d := w.action(t, admin, srv, `{"action":"live-migrate","host":"node2"}`)
	if resp.StatusCode != http.StatusAccepted || d.Status != "MIGRATING" || d.TaskState != fsm.TaskMigrating {
		t.Fatalf("live-migrate: %d %+v", resp.StatusCode, d)
	}
	resp, raw := w.as(t, member, "POST", "/v1/servers/"+srv+"/action", `{"action":"stop"}`)
	wantError(t, resp, raw, http.StatusConflict, "task_state migrating")
	list := func(caller, query string) []fsm.Migration {
		t.Helper()
		resp, raw := w.as(t, caller, "GET", "/v1/migrations"+query, "")
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("list %s: %d %s", query, resp.StatusCode, raw)
		}
		return decode[MigrationList](t, raw).Migrations
	}
	ms := list(member, "")
	if len(ms) != 1 || ms[0].InstanceID != srv || ms[0].Kind != fsm.MigrationLive || ms[0].Status != fsm.MigrationPreparing ||
		ms[0].Source != "node1" || ms[0].Dest != "node2" || ms[0].UUID == "" || ms[0].RequestID == "" {
		t.Fatalf("member's list: %+v", ms)
	}
	if got := list(betaUser, ""); len(got) != 0 {
		t.Errorf("beta sees alpha's migrations: %+v", got)
	}
	resp, raw = w.as(t, betaUser, "GET", "/v1/migrations/1", "")
	wantError(t, resp, raw, http.StatusNotFound, "")
	resp, raw = w.as(t, reader, "GET", "/v1/migrations/1", "")
	if resp.StatusCode != http.StatusOK || decode[MigrationResponse](t, raw).Migration.UUID != ms[0].UUID {
		t.Fatalf("show: %d %s", resp.StatusCode, raw)
	}
	w.done(t, "node1", srv, "")
	if inst, _ := w.c.FSM.Instance(srv); inst.Host != "node2" || inst.Status() != "ACTIVE" {
		t.Fatalf("after the live migration: %s %s", inst.Host, inst.Status())
	}

	// A resize, placed by the scheduler, finished, then confirmed.
	resp, d = w.action(t, member, srv, `{"action":"resize","flavor":"m1.small"}`)
	if resp.StatusCode != http.StatusAccepted || d.Status != "RESIZE" {
		t.Fatalf("resize: %d %+v", resp.StatusCode, d)
	}
	w.schedule(t, srv, "node1")
	w.done(t, "node2", srv, "") // resize_migrating on the source
	w.done(t, "node1", srv, "") // resize_finish on the destination
	resp, raw = w.as(t, member, "GET", "/v1/servers/"+srv, "")
	if d := decode[ServerResponse](t, raw).Server; d.Status != "VERIFY_RESIZE" || d.Flavor.ID != "2" || d.Host != "node1" {
		t.Fatalf("after the resize: %+v", d)
	}
	if got := list(admin, "?status=FINISHED&migration_type=resize&host=node2"); len(got) != 1 || got[0].NewFlavor.ID != "2" {
		t.Fatalf("filtered list: %+v", got)
	}
	resp, d = w.action(t, member, srv, `{"action":"confirm-resize"}`)
	if resp.StatusCode != http.StatusAccepted || d.Status != "ACTIVE" {
		t.Fatalf("confirm: %d %+v", resp.StatusCode, d)
	}

	// A cold migration the admin asks for, reverted by the owner.
	if resp, d = w.action(t, admin, srv, `{"action":"migrate","host":"node2"}`); resp.StatusCode != http.StatusAccepted || d.Status != "RESIZE" {
		t.Fatalf("migrate: %d %+v", resp.StatusCode, d)
	}
	w.done(t, "node1", srv, "")
	w.done(t, "node2", srv, "")
	if resp, d = w.action(t, member, srv, `{"action":"revert-resize"}`); resp.StatusCode != http.StatusAccepted || d.Status != "REVERT_RESIZE" {
		t.Fatalf("revert: %d %+v", resp.StatusCode, d)
	}
	w.done(t, "node2", srv, "")
	w.done(t, "node1", srv, "")

	all := list(admin, "?instance_uuid="+srv)
	var statuses []string
	for _, m := range all {
		statuses = append(statuses, m.Kind+":"+m.Status)
	}
	want := []string{"migration:reverted", "resize:confirmed", "live-migration:completed"}
	if len(statuses) != len(want) || statuses[0] != want[0] || statuses[1] != want[1] || statuses[2] != want[2] {
		t.Errorf("record, newest first: %v, want %v", statuses, want)
	}
	if inst, _ := w.c.FSM.Instance(srv); inst.Host != "node1" || inst.Status() != "ACTIVE" {
		t.Errorf("after the revert: %s %s", inst.Host, inst.Status())
	}
	// A named host is checked as a placement would be.
	w.c.MustApply(t, &fsm.SetHostEnabled{Name: "node2", Enabled: false, Time: time.Unix(500, 0).UTC()})
	resp, raw = w.as(t, admin, "POST", "/v1/servers/"+srv+"/action", `{"action":"migrate","host":"node2"}`)
	wantError(t, resp, raw, http.StatusBadRequest, "host node2 is disabled")
	resp, raw = w.as(t, admin, "GET", "/v1/migrations?bogus=1", "")
	wantError(t, resp, raw, http.StatusBadRequest, "unknown query parameter")
	resp, raw = w.as(t, admin, "GET", "/v1/migrations/x", "")
	wantError(t, resp, raw, http.StatusNotFound, "")
}
