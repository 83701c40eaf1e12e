package api

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/shoal-project/shoal/fsm"
)

func TestTriggerCrashDump(t *testing.T) {
	c := newFakeCluster(t)
	cp := c.seedCompute(t)
	now := time.Unix(150, 0).UTC()
	c.MustApply(t, &fsm.CreateInstances{RequestID: "r", Time: now, Instances: []fsm.NewInstance{
		{ID: "here", Name: "a", FlavorID: "1", ImageID: cp.image.ID},
		{ID: "there", Name: "b", FlavorID: "1", ImageID: cp.image.ID},
		{ID: "nowhere", Name: "c", FlavorID: "1", ImageID: cp.image.ID},
		{ID: "ghost", Name: "d", FlavorID: "1", ImageID: cp.image.ID},
		{ID: "stopping", Name: "e", FlavorID: "1", ImageID: cp.image.ID}}})
	for _, id := range []string{"here", "ghost", "stopping"} {
		c.place(t, id, "node1", "")
	}
	c.place(t, "there", "node2", "")
	c.MustApply(t, &fsm.InstanceAction{ID: "stopping", Action: fsm.ActionStop, RequestID: "r", Time: now})

	remoteLogs := fakeConsoles{"there": ""}
	remote := New(Config{State: c.FSM, Cluster: c, NodeName: "node2", Auth: testAuth(), Consoles: remoteLogs})
	ts2 := nodeServer(t, remote.Handler(), nodeIdentity(t, testCA(), "node2"))
	c.MustApply(t, &fsm.RegisterHost{Name: "node2", HTTPAddress: strings.TrimPrefix(ts2.URL, "https://"), Time: now})
	c.set(func(c *fakeCluster) { c.client = nodeClient(t, nodeIdentity(t, testCA(), "node1")) })

	logs := fakeConsoles{"here": "", "stopping": ""}
	local := New(Config{State: c.FSM, Cluster: c, NodeName: "node1", Auth: testAuth(), Consoles: logs})
	ts := httptest.NewServer(local.Handler())
	t.Cleanup(ts.Close)

	for _, id := range []string{"here", "there"} {
		resp, body := call(t, ts, http.MethodPost, "/v1/servers/"+id+"/trigger-crash-dump", "")
		if resp.StatusCode != http.StatusAccepted || len(body) != 0 {
			t.Fatalf("%s: status %d, body %q; want 202 and no body", id, resp.StatusCode, body)
		}
	}
	if logs["here"] != "NMI received\n" || remoteLogs["there"] != "NMI received\n" {
		t.Errorf("NMIs seen: here %q, there (on node2) %q; want one each", logs["here"], remoteLogs["there"])
	}
	for _, tc := range []struct {
		id, forwarded string
		status        int
		contains      string
	}{
		{"nowhere", "", http.StatusConflict, "is building"},
		{"stopping", "", http.StatusConflict, "a crash dump needs it active, paused or in error"},
		{"ghost", "", http.StatusConflict, "not ready"},
		{"missing", "", http.StatusNotFound, "missing"},
		// A forwarded request that lands on the wrong node does not bounce again.
		{"there", "1", http.StatusServiceUnavailable, "runs on node2"},
	} {
		h := []string{}
		if tc.forwarded != "" {
			h = []string{HeaderForwarded, tc.forwarded}
		}
		resp, body := call(t, ts, http.MethodPost, "/v1/servers/"+tc.id+"/trigger-crash-dump", "", h...)
		wantError(t, resp, body, tc.status, tc.contains)
	}
	if logs["stopping"] != "" {
		t.Errorf("a stopping server was sent an NMI")
	}
}
