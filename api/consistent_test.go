package api

import (
	"net/http"
	"net/url"
	"sync"
	"testing"

	"github.com/shoal-project/shoal/fsm"
)

func TestConsistentReadOnLeader(t *testing.T) {
	c, ts := newTestServer(t)
	for _, q := range []string{"?consistent=true", "?consistent", "?consistent=1"} {
		_, before := c.counts()
		resp, body := call(t, ts, "GET", "/v1/flavors"+q, "")
		if _, after := c.counts(); resp.StatusCode != 200 || after != before+1 {
			t.Errorf("%s: %d %s, barriers %d→%d", q, resp.StatusCode, body, before, after)
		}
	}
	_, before := c.counts()
	call(t, ts, "GET", "/v1/flavors?consistent=false", "")
	if _, after := c.counts(); after != before {
		t.Error("consistent=false ran a barrier")
	}
	resp, body := call(t, ts, "GET", "/v1/flavors?consistent=maybe", "")
	wantError(t, resp, body, 400, "consistent")
}

// seen records what the leader's API received.
type seen struct {
	mu      sync.Mutex
	headers []http.Header
	urls    []string
}

func (s *seen) wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.headers = append(s.headers, r.Header.Clone())
		s.urls = append(s.urls, r.URL.String())
		s.mu.Unlock()
		h.ServeHTTP(w, r)
	})
}

func (s *seen) get() ([]http.Header, []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]http.Header(nil), s.headers...), append([]string(nil), s.urls...)
}

func TestConsistentReadOnFollower(t *testing.T) {
	// The leader has a flavor the follower has not seen yet.
	leader := newFakeCluster(t)
	leader.MustApply(t, &fsm.CreateFlavor{Flavor: fsm.Flavor{ID: "new", Name: "fresh", VCPUs: 1, RAM: 1}})
	var rec seen
	// Over HTTPS, node to node, as nodes forward.
	leaderTS := nodeServer(t, rec.wrap(New(Config{State: leader.FSM, Cluster: leader, NodeName: "leader", Auth: testAuth()}).Handler()),
		nodeIdentity(t, testCA(), "leader"))
	u, _ := url.Parse(leaderTS.URL)

	follower, ts := newTestServer(t)
	follower.set(func(c *fakeCluster) {
		c.leader = false
		c.leaderOf = Leader{Name: "leader", HTTPAddress: u.Host}
		c.client = nodeClient(t, nodeIdentity(t, testCA(), "node1"))
	})

	resp, body := call(t, ts, "GET", "/v1/flavors/fresh", "")
	wantError(t, resp, body, 404, "fresh")

	resp, body = call(t, ts, "GET", "/v1/flavors/fresh?consistent=true", "", HeaderRequestID, "trace-1")
	if resp.StatusCode != 200 {
		t.Fatalf("consistent read = %d %s", resp.StatusCode, body)
	}
	if f := decode[FlavorResponse](t, body).Flavor; f.ID != "new" {
		t.Errorf("flavor = %+v", f)
	}
	if got := indexOf(t, resp); got != leader.FSM.Index() {
		t.Errorf("index = %d, want the leader's %d", got, leader.FSM.Index())
	}
	if ids := resp.Header.Values(HeaderRequestID); len(ids) != 1 || ids[0] != "trace-1" {
		t.Errorf("request IDs = %q", ids)
	}
	headers, urls := rec.get()
	if len(headers) != 1 || headers[0].Get(HeaderForwarded) != "1" || headers[0].Get(HeaderRequestID) != "trace-1" {
		t.Fatalf("leader saw %v", headers)
	}
	if _, barriers := leader.counts(); urls[0] != "/v1/flavors/fresh?consistent=true" || barriers != 1 {
		t.Errorf("leader saw %s, barriers %d", urls[0], barriers)
	}

	// Errors from the leader come back as they are.
	resp, body = call(t, ts, "GET", "/v1/flavors/nope?consistent=true", "")
	wantError(t, resp, body, 404, "nope")

	// A forwarded request that lands on a follower stops there.
	resp, body = call(t, ts, "GET", "/v1/flavors?consistent=true", "", HeaderForwarded, "1")
	wantError(t, resp, body, 503, "not the leader")
	if headers, _ := rec.get(); len(headers) != 2 {
		t.Errorf("leader saw %d requests, want 2", len(headers))
	}

	// Leader unreachable.
	leaderTS.Close()
	resp, body = call(t, ts, "GET", "/v1/flavors?consistent=true", "")
	wantError(t, resp, body, 503, "forwarding to \"leader\"")

	// No leader at all.
	follower.set(func(c *fakeCluster) { c.hasLeader = false })
	resp, body = call(t, ts, "GET", "/v1/hosts?consistent=true", "")
	wantError(t, resp, body, 503, "no cluster leader")
	if resp.Header.Get("Retry-After") != "1" {
		t.Error("no Retry-After")
	}
}
