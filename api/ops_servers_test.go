package api

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/shoal-project/shoal/fsm"
)

// asCaller is a request context of p, as the guard makes it.
func asCaller(p Principal) context.Context {
	return withPrincipal(context.Background(), p)
}

// TestOpsServers: Ops.Servers has /v1's scope and filters without its
// strict parsing.
func TestOpsServers(t *testing.T) {
	w := newTenants(t)
	ops := w.srv.Ops()
	alpha := asCaller(Principal{UserID: w.alpha.user, ProjectID: w.alpha.project, Roles: []string{fsm.RoleMember}})
	admin := asCaller(Principal{ProjectID: "admin", Roles: []string{fsm.RoleAdmin}})
	for _, tc := range []struct {
		name   string
		ctx    context.Context
		filter ServerFilter
		want   []string
		err    error
	}{
		{"own project", alpha, ServerFilter{}, []string{w.alpha.server}, nil},
		{"status in any case", alpha, ServerFilter{Status: "active"}, []string{w.alpha.server}, nil},
		{"unknown status matches nothing", alpha, ServerFilter{Status: "SLEEPY"}, nil, nil},
		{"name expression", alpha, ServerFilter{Name: "^vm-"}, []string{w.alpha.server}, nil},
		{"limit over the page", alpha, ServerFilter{Limit: 5000}, []string{w.alpha.server}, nil},
		{"all projects, admin", admin, ServerFilter{AllTenants: true}, []string{w.alpha.server, w.beta.server}, nil},
		{"one project, admin", admin, ServerFilter{ProjectID: w.beta.project}, []string{w.beta.server}, nil},
		{"marker", admin, ServerFilter{AllTenants: true, Marker: w.alpha.server}, []string{w.beta.server}, nil},
		{"all projects, member", alpha, ServerFilter{AllTenants: true}, nil, fsm.ErrForbidden},
		{"another project, member", alpha, ServerFilter{ProjectID: w.beta.project}, nil, fsm.ErrForbidden},
		{"bad expression", alpha, ServerFilter{Name: "("}, nil, fsm.ErrInvalid},
		{"negative limit", alpha, ServerFilter{Limit: -1}, nil, fsm.ErrInvalid},
		{"unknown marker", alpha, ServerFilter{Marker: "nope"}, nil, fsm.ErrInvalid},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ops.Servers(tc.ctx, tc.filter)
			if !errors.Is(err, tc.err) || (tc.err == nil && err != nil) {
				t.Fatalf("error %v, want %v", err, tc.err)
			}
			var ids []string
			for _, d := range got {
				ids = append(ids, d.ID)
			}
			if strings.Join(ids, ",") != strings.Join(tc.want, ",") {
				t.Errorf("servers %v, want %v", ids, tc.want)
			}
		})
	}
	if _, _, err := ops.Server(alpha, w.beta.server); !errors.Is(err, fsm.ErrNotFound) {
		t.Errorf("another project's server: %v", err)
	}
	if _, err := ops.ServerActions(alpha, w.beta.server); !errors.Is(err, fsm.ErrNotFound) {
		t.Errorf("another project's actions: %v", err)
	}
	if _, _, err := ops.ServerAction(alpha, w.alpha.server, ServerActionRequest{Action: fsm.ActionResetState, State: "error"}); !errors.Is(err, fsm.ErrForbidden) {
		t.Errorf("a member's reset-state: %v", err)
	}
	idx, d, err := ops.ServerAction(alpha, w.alpha.server, ServerActionRequest{Action: fsm.ActionStop})
	if err != nil || idx == 0 || d.ID != w.alpha.server || d.TaskState != fsm.TaskPoweringOff {
		t.Errorf("stop: %d %+v %v", idx, d, err)
	}
}

// consoleModule reads its request's body, then asks Ops for a console log,
// as Nova's os-getConsoleOutput action does.
type consoleModule struct{}

func (consoleModule) Prefix() string { return "/console" }
func (consoleModule) Register(r Router, ops *Ops) {
	r.Route("POST /console/{id}", AccessProjectMember, func(w http.ResponseWriter, r *http.Request) {
		if _, err := io.ReadAll(r.Body); err != nil {
			panic(err)
		}
		out, err := ops.ConsoleLog(r.Context(), r.PathValue("id"), 1)
		if err != nil {
			WriteJSON(w, StatusOf(err), map[string]string{"kind": KindOf(err), "message": err.Error()})
			return
		}
		WriteJSON(w, http.StatusOK, ConsoleOutput{Output: out})
	})
}
func (consoleModule) WriteError(w http.ResponseWriter, _ *http.Request, status int, err error) {
	WriteJSON(w, status, map[string]string{"kind": KindOf(err), "message": err.Error()})
}

// TestOpsConsoleLogElsewhere: a console log asked through a module, whose
// body is already read, comes from the server's host with the caller's
// token (the host's route wants a member's token: without it the answer
// would be a 401).
func TestOpsConsoleLogElsewhere(t *testing.T) {
	c := newFakeCluster(t)
	cp := c.seedCompute(t)
	member := c.addTenant(t, "alpha", fsm.RoleMember)
	now := time.Unix(150, 0).UTC()
	c.MustApply(t, &fsm.CreateInstances{RequestID: "r", Time: now, ProjectID: member.ProjectID, UserID: member.UserID,
		Instances: []fsm.NewInstance{{ID: "there", Name: "b", FlavorID: "1", ImageID: cp.image.ID}}})
	c.place(t, "there", "node2", "")

	remote := New(Config{State: c.FSM, Cluster: c, NodeName: "node2", Auth: testAuth(),
		Consoles: fakeConsoles{"there": "remote 1\nremote 2\n"}})
	ts2 := nodeServer(t, remote.Handler(), nodeIdentity(t, testCA(), "node2"))
	c.MustApply(t, &fsm.RegisterHost{Name: "node2", HTTPAddress: strings.TrimPrefix(ts2.URL, "https://"), Time: now})
	c.set(func(c *fakeCluster) { c.client = nodeClient(t, nodeIdentity(t, testCA(), "node1")) })
	local := New(Config{State: c.FSM, Cluster: c, NodeName: "node1", Auth: testAuth(), Modules: []Module{consoleModule{}}})
	ts := httptest.NewServer(local.Handler())
	t.Cleanup(ts.Close)

	resp, raw := call(t, ts, "POST", "/console/there", `{"os-getConsoleOutput":{"length":1}}`, HeaderAuthToken, member.Token)
	if got := decode[ConsoleOutput](t, raw); resp.StatusCode != http.StatusOK || got.Output != "remote 2\n" {
		t.Fatalf("console from node2: %d %s", resp.StatusCode, raw)
	}
	// Another project's server is absent here, before any host is asked.
	beta := c.addTenant(t, "beta", fsm.RoleMember)
	resp, raw = call(t, ts, "POST", "/console/there", `{}`, HeaderAuthToken, beta.Token)
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("another project's console: %d %s", resp.StatusCode, raw)
	}
}
