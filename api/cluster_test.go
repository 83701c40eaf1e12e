package api

import (
	"net/http"
	"reflect"
	"testing"

	"github.com/shoal-project/shoal/fsm"
)

func TestHealth(t *testing.T) {
	tests := []struct {
		status     string
		code       int
		retryAfter string
	}{
		{"ok", 200, ""},
		{"waiting", 503, "1"},
		{"no-leader", 503, "1"},
	}
	for _, tt := range tests {
		t.Run(tt.status, func(t *testing.T) {
			c, ts := newTestServer(t)
			c.set(func(c *fakeCluster) { c.health.Status = tt.status })
			resp, body := call(t, ts, "GET", "/v1/health", "")
			if resp.StatusCode != tt.code || resp.Header.Get("Retry-After") != tt.retryAfter {
				t.Fatalf("status %d, Retry-After %q; want %d, %q", resp.StatusCode, resp.Header.Get("Retry-After"), tt.code, tt.retryAfter)
			}
			if h := decode[Health](t, body); h.Status != tt.status || h.Name != "node1" || h.Index != c.FSM.Index() {
				t.Errorf("health = %+v", h)
			}
		})
	}
}

func TestMembersSorted(t *testing.T) {
	c, ts := newTestServer(t)
	c.set(func(c *fakeCluster) {
		c.members = []Member{{Name: "node3", Status: "dead"}, {Name: "node1", Status: "alive", Role: "leader"}, {Name: "node2", Status: "alive"}}
	})
	resp, body := call(t, ts, "GET", "/v1/cluster/members", "")
	var names []string
	for _, m := range decode[MemberList](t, body).Members {
		names = append(names, m.Name)
	}
	if resp.StatusCode != 200 || !reflect.DeepEqual(names, []string{"node1", "node2", "node3"}) {
		t.Errorf("members = %d %v", resp.StatusCode, names)
	}

	c.set(func(c *fakeCluster) { c.members = nil })
	_, body = call(t, ts, "GET", "/v1/cluster/members", "")
	if string(body) != "{\"members\":[]}\n" {
		t.Errorf("no members = %s", body)
	}
}

func TestLeader(t *testing.T) {
	c, ts := newTestServer(t)
	resp, body := call(t, ts, "GET", "/v1/cluster/leader", "")
	if got := decode[LeaderResponse](t, body).Leader; resp.StatusCode != 200 || got != c.leaderOf {
		t.Errorf("leader = %d %+v", resp.StatusCode, got)
	}
	c.set(func(c *fakeCluster) { c.hasLeader, c.leader = false, false })
	resp, body = call(t, ts, "GET", "/v1/cluster/leader", "")
	wantError(t, resp, body, http.StatusServiceUnavailable, "no cluster leader")
	if resp.Header.Get("Retry-After") != "1" {
		t.Error("no Retry-After")
	}
}

func TestHosts(t *testing.T) {
	c, ts := newTestServer(t)
	for _, name := range []string{"node2", "node1", "node3", "node4"} {
		c.MustApply(t, &fsm.RegisterHost{Name: name, HTTPAddress: name + ":8774"})
	}
	c.MustApply(t, &fsm.SetHostEnabled{Name: "node2", Enabled: false, Reason: "maintenance"})
	c.set(func(c *fakeCluster) {
		c.members = []Member{{Name: "node1", Status: "alive"}, {Name: "node2", Status: "suspect"}, {Name: "node3", Status: "dead"}}
	})
	resp, body := call(t, ts, "GET", "/v1/hosts", "")
	if resp.StatusCode != 200 {
		t.Fatalf("hosts = %d %s", resp.StatusCode, body)
	}
	type row struct{ name, state, status, reason, http string }
	var got []row
	for _, h := range decode[HostList](t, body).Hosts {
		got = append(got, row{h.Name, h.State, h.Status, h.DisabledReason, h.HTTPAddress})
	}
	want := []row{
		{"node1", "up", "enabled", "", "node1:8774"},
		{"node2", "up", "disabled", "maintenance", "node2:8774"},
		{"node3", "down", "enabled", "", "node3:8774"},
		{"node4", "down", "enabled", "", "node4:8774"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("hosts = %+v\nwant %+v", got, want)
	}
}

func TestLeave(t *testing.T) {
	fc, ts := newTestServer(t)
	resp, body := call(t, ts, http.MethodPost, "/v1/cluster/leave", "")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("leave: status %d, body %s", resp.StatusCode, body)
	}
	fc.mu.Lock()
	left := fc.left
	fc.mu.Unlock()
	if !left {
		t.Fatal("leave did not reach the cluster")
	}
	resp, body = call(t, ts, http.MethodPost, "/v1/cluster/leave", `{"x":1}`)
	wantError(t, resp, body, http.StatusBadRequest, "no body")
}
