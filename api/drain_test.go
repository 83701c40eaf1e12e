package api_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/shoal-project/shoal/api"
	"github.com/shoal-project/shoal/api/apitest"
	"github.com/shoal-project/shoal/fsm"
)

// drainCall sends method to /v1/hosts/{host}/drain as token and decodes
// the drain it answers with (zero on an error status).
func drainCall(t *testing.T, e *apitest.Env, method, host, body, token string) (int, fsm.DrainProgress, string) {
	t.Helper()
	var headers []string
	if body != "" {
		headers = []string{"Content-Type", "application/json"}
	}
	resp, raw := e.Do(t, method, "/v1/hosts/"+host+"/drain", body, token, headers...)
	var out api.HostDrainResponse
	if resp.StatusCode < 300 {
		if err := json.Unmarshal(raw, &out); err != nil {
			t.Fatalf("%s drain of %s: %v in %s", method, host, err, raw)
		}
	}
	return resp.StatusCode, out.Drain, string(raw)
}

func TestHostDrainRoutes(t *testing.T) {
	e := apitest.New(t)
	e.SeedCompute(t)
	tenant := e.AddTenant(t, "p1", "member")
	e.SeedServer(t, tenant, "s-1", "web", apitest.CirrosID, apitest.NodeName)
	e.SeedServer(t, tenant, "s-2", "db", apitest.CirrosID, apitest.NodeName)
	admin := apitest.AdminToken
	node := apitest.NodeName

	code, p, raw := drainCall(t, e, "GET", node, "", admin)
	if code != 200 || p.State != fsm.DrainIdle || p.Total != 0 || !strings.Contains(raw, `"in_progress":[]`) ||
		!strings.Contains(raw, `"failed":[]`) || strings.Contains(raw, "started_at") {
		t.Fatalf("a host never drained = %d %s", code, raw)
	}

	code, p, raw = drainCall(t, e, "POST", node, "", admin)
	if code != http.StatusAccepted || p.Host != node || p.State != fsm.DrainDraining || p.Total != 2 || p.Remaining != 2 ||
		p.Moved != 0 || p.StartedAt.IsZero() || p.UpdatedAt.Before(p.StartedAt) {
		t.Fatalf("start = %d %s", code, raw)
	}
	h, err := e.FSM.Host(node)
	if err != nil || h.Enabled || h.DisabledReason != fsm.DrainReason || !h.Draining {
		t.Fatalf("host after the start: %+v %v", h, err)
	}

	for _, c := range []struct {
		name, method, path, body, token string
		status                          int
		says                            string
	}{
		{"start again", "POST", "/v1/hosts/" + node + "/drain", "", admin, 409, "already draining"},
		{"enable while draining", "POST", "/v1/hosts/" + node + "/enable", "", admin, 409, "cancel the drain"},
		{"unknown host", "POST", "/v1/hosts/ghost/drain", "", admin, 404, "ghost"},
		{"unknown host's progress", "GET", "/v1/hosts/ghost/drain", "", admin, 404, "ghost"},
		{"unknown host's cancel", "DELETE", "/v1/hosts/ghost/drain", "", admin, 404, "ghost"},
		{"a field", "POST", "/v1/hosts/node2/drain", `{"force":true}`, admin, 400, "force"},
		{"a member", "POST", "/v1/hosts/node2/drain", "", tenant.Token, 403, ""},
		{"a member reads", "GET", "/v1/hosts/" + node + "/drain", "", tenant.Token, 403, ""},
		{"cancel what does not drain", "DELETE", "/v1/hosts/node2/drain", "", admin, 409, "not draining"},
	} {
		var headers []string
		if c.body != "" {
			headers = []string{"Content-Type", "application/json"}
		}
		resp, raw := e.Do(t, c.method, c.path, c.body, c.token, headers...)
		if resp.StatusCode != c.status || !strings.Contains(string(raw), c.says) {
			t.Errorf("%s: %d %s, want %d saying %q", c.name, resp.StatusCode, raw, c.status, c.says)
		}
	}
	if h, _ := e.FSM.Host("node2"); !h.Enabled || h.Draining {
		t.Errorf("node2 after the refused start: %+v", h)
	}

	// One server broke, the other moved: the leader ends the drain failed.
	e.Apply(t, &fsm.InstanceAction{ID: "s-1", Action: fsm.ActionResetState, State: "error", Admin: true,
		RequestID: "req-reset", Time: apitest.SeedTime})
	e.Apply(t, &fsm.MigrateInstance{ID: "s-2", Kind: fsm.MigrationLive, MigrationUUID: "m-2", RequestID: "req-m",
		Admin: true, Time: apitest.SeedTime})
	if _, p, raw = drainCall(t, e, "GET", node, "", admin); len(p.InProgress) != 1 || p.InProgress[0] != "s-2" ||
		len(p.Failed) != 1 || p.Failed[0].Instance != "s-1" {
		t.Fatalf("a move under way and a failure: %s", raw)
	}
	e.Apply(t, &fsm.Plan{Time: apitest.SeedTime, Ratios: fsm.DefaultRatios, MaxAttempts: 3,
		Placements: []fsm.Placement{{InstanceID: "s-2", Host: "node2"}}})
	inst, _ := e.FSM.Instance("s-2")
	e.Apply(t, &fsm.ReportInstances{Host: node, Time: apitest.SeedTime, Reports: []fsm.InstanceReport{
		{ID: "s-2", PowerState: fsm.PowerRunning, Done: fsm.TaskMigrating, TaskIndex: inst.TaskIndex}}},
		&fsm.DrainHost{Name: node, Result: fsm.DrainFailed, Time: apitest.SeedTime})
	code, p, raw = drainCall(t, e, "GET", node, "", admin)
	if code != 200 || p.State != fsm.DrainFailed || p.Total != 2 || p.Moved != 1 || p.Remaining != 1 ||
		len(p.InProgress) != 0 || len(p.Failed) != 1 || !strings.Contains(p.Failed[0].Message, "ERROR") {
		t.Errorf("after the end = %d %s", code, raw)
	}

	// A drain that runs can be cancelled; the host stays disabled.
	if code, _, raw = drainCall(t, e, "POST", "node2", "{}", admin); code != http.StatusAccepted {
		t.Fatalf("start node2 = %d %s", code, raw)
	}
	code, p, raw = drainCall(t, e, "DELETE", "node2", "", admin)
	if code != 200 || p.State != fsm.DrainIdle || p.Total != 1 {
		t.Errorf("cancel = %d %s, want idle with s-2 counted", code, raw)
	}
	if h, _ := e.FSM.Host("node2"); h.Enabled || h.Draining || h.DrainResult != fsm.DrainCancelled {
		t.Errorf("node2 after the cancel: %+v", h)
	}
}
