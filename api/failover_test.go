package api

import (
	"errors"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/shoal-project/shoal/fsm"
)

// Evacuation is refused while the host is up (Nova's rule) and accepted once
// the leader declared it down; force-down shows in the host list; bad input
// changes nothing.
func TestEvacuateAndForceDown(t *testing.T) {
	c, ts := newTestServer(t)
	c.seedCompute(t)
	resp, raw := call(t, ts, "POST", "/v1/servers", `{"name":"db","flavor":"m1.tiny","image":"cirros","ha":"none"}`)
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("create = %d %s", resp.StatusCode, raw)
	}
	vm := decode[ServerResponse](t, raw).Server
	if vm.HA != fsm.HANone {
		t.Fatalf("ha = %q, want none", vm.HA)
	}
	c.place(t, vm.ID, "node1", "")

	for _, tc := range []struct{ path, body string }{
		{"/v1/servers", `{"name":"x","flavor":"m1.tiny","image":"cirros","ha":"sometimes"}`},
		{"/v1/servers/" + vm.ID + "/action", `{"action":"start","host":"node2"}`},
		{"/v1/hosts/node1/force-down", `{"forced_down":"yes"}`},
		{"/v1/hosts/node1/evacuate", `{"target":"node2"}`},
	} {
		before := c.snapshot()
		if resp, raw := call(t, ts, "POST", tc.path, tc.body); resp.StatusCode != http.StatusBadRequest {
			t.Errorf("POST %s %s = %d %s, want 400", tc.path, tc.body, resp.StatusCode, raw)
		}
		if !reflect.DeepEqual(c.snapshot(), before) {
			t.Errorf("POST %s %s changed the state", tc.path, tc.body)
		}
	}
	evac := `{"action":"evacuate","host":"node2"}`
	resp, raw = call(t, ts, "POST", "/v1/servers/"+vm.ID+"/action", evac)
	if resp.StatusCode != http.StatusConflict || !strings.Contains(string(raw), "is up") {
		t.Fatalf("evacuate from a live host = %d %s, want 409", resp.StatusCode, raw)
	}
	if resp, raw = call(t, ts, "POST", "/v1/hosts/node1/evacuate", ""); resp.StatusCode != http.StatusConflict {
		t.Fatalf("host evacuate of a live host = %d %s, want 409", resp.StatusCode, raw)
	}
	if resp, raw = call(t, ts, "POST", "/v1/hosts/nope/force-down", `{"forced_down":true}`); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("force-down of an unknown host = %d %s", resp.StatusCode, raw)
	}

	resp, raw = call(t, ts, "POST", "/v1/hosts/node1/force-down", `{"forced_down":true}`)
	h := decode[HostResponse](t, raw).Host
	if resp.StatusCode != http.StatusOK || !h.ForcedDown || h.State != "down" {
		t.Fatalf("force-down = %d %+v", resp.StatusCode, h)
	}
	c.MustApply(t, &fsm.MarkHostDown{Name: "node1", LastSeen: time.Unix(200, 0).UTC(), Reason: "test", Time: time.Unix(210, 0).UTC()})
	if got, _ := c.FSM.Instance(vm.ID); got.Status() != "ERROR" {
		t.Fatalf("ha=none server on a down host is %s, want ERROR", got.Status())
	}
	resp, raw = call(t, ts, "POST", "/v1/hosts/node1/evacuate", `{"host":"node2"}`)
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("host evacuate = %d %s", resp.StatusCode, raw)
	}
	moved := decode[ServerList](t, raw).Servers
	if len(moved) != 1 || moved[0].ID != vm.ID || moved[0].Status != "REBUILD" || moved[0].Host != "" ||
		moved[0].Addresses[0].IP != vm.Addresses[0].IP {
		t.Fatalf("evacuated: %+v", moved)
	}
	resp, raw = call(t, ts, "GET", "/v1/servers/"+vm.ID+"/actions", "")
	acts := decode[ServerActionList](t, raw).Actions
	if resp.StatusCode != http.StatusOK || len(acts) == 0 || acts[0].Action != fsm.ActionEvacuate {
		t.Fatalf("actions = %d %+v", resp.StatusCode, acts)
	}
}

// TestRemoveHost: an admin removes a host with no servers (its record goes,
// its certificates are revoked); a host with servers, an unknown host and a
// non-admin are refused and change nothing.
func TestRemoveHost(t *testing.T) {
	c, ts := newTestServer(t)
	c.seedCompute(t)
	c.MustApply(t, &fsm.RecordNodeCert{Serial: "abc123", Node: "node2", NotAfter: time.Unix(1e9, 0).UTC(),
		Now: time.Unix(100, 0).UTC()})
	resp, raw := call(t, ts, "POST", "/v1/servers", `{"name":"db","flavor":"m1.tiny","image":"cirros"}`)
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("create = %d %s", resp.StatusCode, raw)
	}
	c.place(t, decode[ServerResponse](t, raw).Server.ID, "node1", "")
	member := c.addTenant(t, "ops", fsm.RoleMember)
	for _, tc := range []struct {
		path   string
		header []string
		want   int
	}{
		{"/v1/hosts/node1", nil, http.StatusConflict},
		{"/v1/hosts/nosuch", nil, http.StatusNotFound},
		{"/v1/hosts/node2", []string{"X-Auth-Token", member.Token}, http.StatusForbidden},
	} {
		// A refused command is in the log (the index moves) and changes nothing.
		hosts, certs := c.FSM.Hosts(), c.FSM.NodeCerts("")
		if resp, raw := call(t, ts, "DELETE", tc.path, "", tc.header...); resp.StatusCode != tc.want {
			t.Errorf("DELETE %s = %d %s, want %d", tc.path, resp.StatusCode, raw, tc.want)
		}
		if !reflect.DeepEqual(c.FSM.Hosts(), hosts) || !reflect.DeepEqual(c.FSM.NodeCerts(""), certs) {
			t.Errorf("DELETE %s changed the hosts or certificates", tc.path)
		}
	}
	if resp, raw := call(t, ts, "DELETE", "/v1/hosts/node2", ""); resp.StatusCode != http.StatusNoContent {
		t.Fatalf("DELETE node2 = %d %s", resp.StatusCode, raw)
	}
	if _, err := c.FSM.Host("node2"); !errors.Is(err, fsm.ErrNotFound) {
		t.Fatalf("node2 still recorded: %v", err)
	}
	if !c.FSM.NodeCertRevoked("abc123") {
		t.Fatal("node2's certificate is not revoked")
	}
}
