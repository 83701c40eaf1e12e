package api

import (
	"testing"

	"github.com/shoal-project/shoal/api/identity/identitytest"
	"github.com/shoal-project/shoal/fsm"
)

// A token of a user this replica has not heard of yet (created through
// another node a moment ago) is accepted once the replica has caught up; a
// token that is plainly bad never makes the node ask the leader.
func TestAuthenticateCatchesUp(t *testing.T) {
	c, ts := newTestServer(t)
	shadow := newFakeCluster(t) // the leader's state, one user ahead
	cmds, bob := identitytest.TenantCommands(shadow.FSM, "demo", fsm.RoleReader)
	c.set(func(c *fakeCluster) {
		c.onSync = func() { c.MustApply(t, cmds...) }
	})
	if resp, body := call(t, ts, "GET", "/v1/servers", "", HeaderAuthToken, bob.Token); resp.StatusCode != 200 {
		t.Fatalf("GET /v1/servers with a token of a user made elsewhere = %d %s", resp.StatusCode, body)
	}

	before := c.syncCount()
	resp, body := call(t, ts, "GET", "/v1/servers", "", HeaderAuthToken, "shoal1.garbage.x")
	wantError(t, resp, body, 401, "requires authentication")
	if after := c.syncCount(); after != before {
		t.Errorf("a malformed token made the node sync (%d → %d)", before, after)
	}
}

func (c *fakeCluster) syncCount() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.syncs
}
