package api

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/shoal-project/shoal/fsm"
)

type fakeConsoles map[string]string

func (f fakeConsoles) ConsoleLog(_ context.Context, id string, lines int) (string, error) {
	all := strings.Split(strings.TrimSuffix(f[id], "\n"), "\n")
	if lines < len(all) {
		all = all[len(all)-lines:]
	}
	return strings.Join(all, "\n") + "\n", nil
}

// InjectNMI appends the kernel's line to the log: a domain without a log
// does not run.
func (f fakeConsoles) InjectNMI(_ context.Context, id string) error {
	if _, ok := f[id]; !ok {
		return fmt.Errorf("%w: domain %s is not running", fsm.ErrConflict, id)
	}
	f[id] += "NMI received\n"
	return nil
}

func TestConsoleLog(t *testing.T) {
	c := newFakeCluster(t)
	cp := c.seedCompute(t)
	now := time.Unix(150, 0).UTC()
	c.MustApply(t, &fsm.CreateInstances{RequestID: "r", Time: now, Instances: []fsm.NewInstance{
		{ID: "here", Name: "a", FlavorID: "1", ImageID: cp.image.ID},
		{ID: "there", Name: "b", FlavorID: "1", ImageID: cp.image.ID},
		{ID: "nowhere", Name: "c", FlavorID: "1", ImageID: cp.image.ID}}})
	c.place(t, "here", "node1", "")
	c.place(t, "there", "node2", "")

	// node2's API, as the host of "there": it serves from its own driver.
	remote := New(Config{State: c.FSM, Cluster: c, NodeName: "node2", Auth: testAuth(),
		Consoles: fakeConsoles{"there": "remote 1\nremote 2\n"}})
	ts2 := nodeServer(t, remote.Handler(), nodeIdentity(t, testCA(), "node2"))
	c.MustApply(t, &fsm.RegisterHost{Name: "node2", HTTPAddress: strings.TrimPrefix(ts2.URL, "https://"), Time: now})
	c.set(func(c *fakeCluster) { c.client = nodeClient(t, nodeIdentity(t, testCA(), "node1")) })

	local := New(Config{State: c.FSM, Cluster: c, NodeName: "node1", Auth: testAuth(),
		Consoles: fakeConsoles{"here": "line 1\nline 2\nshoal-tiny: boot done\n"}})
	ts := httptest.NewServer(local.Handler())
	t.Cleanup(ts.Close)

	for _, tc := range []struct {
		path, want string
	}{
		{"/v1/servers/here/console-log", "line 1\nline 2\nshoal-tiny: boot done\n"},
		{"/v1/servers/here/console-log?lines=1", "shoal-tiny: boot done\n"},
		{"/v1/servers/there/console-log?lines=1", "remote 2\n"}, // forwarded to node2
	} {
		resp, body := call(t, ts, http.MethodGet, tc.path, "")
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%s: status %d: %s", tc.path, resp.StatusCode, body)
		}
		var out ConsoleOutput
		if err := json.Unmarshal(body, &out); err != nil || out.Output != tc.want {
			t.Fatalf("%s: output %q (err %v), want %q", tc.path, out.Output, err, tc.want)
		}
	}
	resp, body := call(t, ts, http.MethodGet, "/v1/servers/nowhere/console-log", "")
	wantError(t, resp, body, http.StatusConflict, "no host")
	resp, body = call(t, ts, http.MethodGet, "/v1/servers/here/console-log?lines=0", "")
	wantError(t, resp, body, http.StatusBadRequest, "lines")
	resp, body = call(t, ts, http.MethodGet, "/v1/servers/missing/console-log", "")
	wantError(t, resp, body, http.StatusNotFound, "missing")
	// A forwarded request that lands on the wrong node does not bounce again.
	resp, body = call(t, ts, http.MethodGet, "/v1/servers/there/console-log", "", HeaderForwarded, "1")
	wantError(t, resp, body, http.StatusServiceUnavailable, "runs on node2")
}
