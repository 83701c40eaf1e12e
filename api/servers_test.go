package api

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/shoal-project/shoal/api/identity/identitytest"
	"github.com/shoal-project/shoal/fsm"
)

func TestServerLifecycle(t *testing.T) {
	c, ts := newTestServer(t)
	seed := c.seedCompute(t)

	body := `{"server":{"name":"vm1","flavor":"m1.tiny","image":"cirros","availability_zone":"nova","server_group":"spread","metadata":{"role":"web"}}}`
	resp, raw := call(t, ts, "POST", "/v1/servers", body, HeaderRequestID, "req-create-1")
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("create = %d %s", resp.StatusCode, raw)
	}
	vm := decode[ServerResponse](t, raw).Server
	if _, err := uuid.Parse(vm.ID); err != nil {
		t.Errorf("server ID %q: %v", vm.ID, err)
	}
	want := ServerDetail{
		ID: vm.ID, Name: "vm1", Status: "BUILD", Flavor: fsm.FlavorSpec{ID: "1", Name: "m1.tiny", VCPUs: 1, RAM: 512, Disk: 1},
		Image: ImageRef{ID: seed.image.ID, Name: "cirros"}, Addresses: vm.Addresses,
		VMState: fsm.VMBuilding, TaskState: fsm.TaskScheduling, Created: vm.Created, Updated: vm.Created,
		Metadata: map[string]string{"role": "web"}, AvailabilityZone: "nova", ServerGroup: seed.group.ID, HA: fsm.HARestart,
		TenantID: identitytest.AdminProjectID, UserID: identitytest.AdminUserID,
		SecurityGroups: []SecurityGroupRef{{Name: "default"}}, // none asked for: the project's default
	}
	if !reflect.DeepEqual(vm, want) {
		t.Errorf("created\n %+v\nwant\n %+v", vm, want)
	}
	if len(vm.Addresses) != 1 || vm.Addresses[0].Network != "default" || !strings.HasPrefix(vm.Addresses[0].IP, "10.88.") ||
		!strings.HasPrefix(vm.Addresses[0].MAC, "fa:16:3e:") {
		t.Errorf("addresses = %+v", vm.Addresses)
	}
	if time.Since(vm.Created) > time.Minute || vm.Created.Location() != time.UTC {
		t.Errorf("created = %v", vm.Created)
	}
	if idx := indexOf(t, resp); idx != c.FSM.Index() {
		t.Errorf("index %d, fsm at %d", idx, c.FSM.Index())
	}
	if loc := resp.Header.Get("Location"); loc != "/v1/servers/"+vm.ID {
		t.Errorf("Location = %q", loc)
	}
	if g, _ := c.FSM.ServerGroup("spread"); !slices.Contains(g.Members, vm.ID) {
		t.Errorf("group members = %q", g.Members)
	}

	// The wire shape: every documented key, task_state as "", no fault.
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &struct{ Server *map[string]json.RawMessage }{&m}); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"id", "name", "status", "host", "flavor", "image", "addresses", "vm_state", "task_state",
		"power_state", "created", "updated", "metadata", "availability_zone", "server_group"} {
		if _, ok := m[k]; !ok {
			t.Errorf("server JSON lacks %q: %s", k, raw)
		}
	}
	if _, ok := m["fault"]; ok {
		t.Errorf("fault present without one: %s", raw)
	}

	resp, raw = call(t, ts, "GET", "/v1/servers/"+vm.ID, "")
	if got := decode[ServerResponse](t, raw).Server; resp.StatusCode != 200 || !reflect.DeepEqual(got, vm) {
		t.Errorf("show = %d %+v", resp.StatusCode, got)
	}

	c.place(t, vm.ID, "node1", "")
	resp, raw = call(t, ts, "GET", "/v1/servers/"+vm.ID, "")
	if got := decode[ServerResponse](t, raw).Server; got.Status != "ACTIVE" || got.Host != "node1" || got.PowerState != fsm.PowerRunning || got.TaskState != "" {
		t.Errorf("after placement = %+v", got)
	}

	// Actions: stop is accepted, a second stop while powering off conflicts.
	resp, raw = call(t, ts, "POST", "/v1/servers/"+vm.ID+"/action", `{"action":"stop"}`, HeaderRequestID, "req-stop-1")
	if got := decode[ServerResponse](t, raw).Server; resp.StatusCode != 202 || got.TaskState != fsm.TaskPoweringOff {
		t.Fatalf("stop = %d %s", resp.StatusCode, raw)
	}
	if idx := indexOf(t, resp); idx != c.FSM.Index() {
		t.Errorf("action index %d, fsm at %d", idx, c.FSM.Index())
	}
	resp, raw = call(t, ts, "POST", "/v1/servers/"+vm.ID+"/action", `{"action":"stop"}`)
	wantError(t, resp, raw, 409, "busy")
	resp, raw = call(t, ts, "POST", "/v1/servers/"+vm.ID+"/action", `{"action":"reset-state","state":"active"}`)
	if got := decode[ServerResponse](t, raw).Server; resp.StatusCode != 202 || got.Status != "ACTIVE" || got.TaskState != "" {
		t.Fatalf("reset-state = %d %s", resp.StatusCode, raw)
	}
	resp, raw = call(t, ts, "POST", "/v1/servers/"+vm.ID+"/action", `{"action":"unpause"}`)
	wantError(t, resp, raw, 409, "PAUSED")
	resp, raw = call(t, ts, "POST", "/v1/servers/"+vm.ID+"/action", `{"action":"reboot","type":"hard"}`)
	if got := decode[ServerResponse](t, raw).Server; resp.StatusCode != 202 || got.Status != "HARD_REBOOT" {
		t.Fatalf("hard reboot = %d %s", resp.StatusCode, raw)
	}

	resp, raw = call(t, ts, "GET", "/v1/servers/"+vm.ID+"/actions", "")
	actions := decode[ServerActionList](t, raw).Actions
	var names []string
	for _, a := range actions {
		names = append(names, a.Action)
	}
	if want := []string{"reboot (hard)", "reset-state active", "stop", "create"}; resp.StatusCode != 200 || !reflect.DeepEqual(names, want) {
		t.Errorf("actions = %q, want %q", names, want)
	}
	if a := actions[len(actions)-1]; a.RequestID != "req-create-1" || a.Result != "success" {
		t.Errorf("create action = %+v", a)
	}
	if a := actions[2]; a.RequestID != "req-stop-1" || a.Result != "error" || a.Message != "interrupted by reset-state" {
		t.Errorf("stop action = %+v", a)
	}

	// Delete: the host still has it, so it is marked deleting, then gone.
	resp, raw = call(t, ts, "DELETE", "/v1/servers/"+vm.ID, "")
	if resp.StatusCode != http.StatusNoContent || len(raw) != 0 {
		t.Fatalf("delete = %d %s", resp.StatusCode, raw)
	}
	if inst, _ := c.FSM.Instance(vm.ID); inst.TaskState != fsm.TaskDeleting {
		t.Errorf("after delete task_state = %q", inst.TaskState)
	}
	resp, raw = call(t, ts, "DELETE", "/v1/servers/"+vm.ID, "")
	wantError(t, resp, raw, 409, "already being deleted")
	deleting, _ := c.FSM.Instance(vm.ID)
	c.MustApply(t, &fsm.ReportInstances{Host: "node1", Reports: []fsm.InstanceReport{{ID: vm.ID, Done: fsm.TaskDeleting, TaskIndex: deleting.TaskIndex}}})
	for _, path := range []string{"/v1/servers/" + vm.ID, "/v1/servers/" + vm.ID + "/actions"} {
		resp, raw = call(t, ts, "GET", path, "")
		wantError(t, resp, raw, 404, vm.ID)
	}
}

func TestServerCreateCountAndFault(t *testing.T) {
	c, ts := newTestServer(t)
	seed := c.seedCompute(t)

	resp, raw := call(t, ts, "POST", "/v1/servers", fmt.Sprintf(`{"name":"web","flavor":"1","image":%q,"count":3}`, seed.image.ID))
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("create = %d %s", resp.StatusCode, raw)
	}
	servers := decode[ServerList](t, raw).Servers
	var names []string
	ips := map[string]bool{}
	for _, s := range servers {
		names = append(names, s.Name)
		ips[s.Addresses[0].IP] = true
	}
	if want := []string{"web-1", "web-2", "web-3"}; !reflect.DeepEqual(names, want) || len(ips) != 3 {
		t.Errorf("names %q, %d distinct IPs", names, len(ips))
	}
	if resp.Header.Get("Location") != "" {
		t.Error("a multi-create has a Location")
	}

	c.place(t, servers[0].ID, "node1", "disk on fire")
	resp, raw = call(t, ts, "GET", "/v1/servers/"+servers[0].ID, "")
	got := decode[ServerResponse](t, raw).Server
	if got.Status != "ERROR" || got.Fault == nil || got.Fault.Code != 500 || !strings.Contains(got.Fault.Message, "disk on fire") {
		t.Errorf("failed build = %+v (fault %+v)", got, got.Fault)
	}
	if !strings.Contains(string(raw), `"fault":{"code":500,"message":"Build of instance`) {
		t.Errorf("fault JSON: %s", raw)
	}

	// Forced host (Nova's zone:host) reaches the command.
	resp, raw = call(t, ts, "POST", "/v1/servers", `{"server":{"name":"pinned","flavor":"m1.tiny","image":"cirros","availability_zone":":node2"}}`)
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("create forced = %d %s", resp.StatusCode, raw)
	}
	inst, err := c.FSM.Instance(decode[ServerResponse](t, raw).Server.ID)
	if err != nil || inst.ForceHost != "node2" || inst.AvailabilityZone != "" {
		t.Errorf("forced host: %+v, %v", inst, err)
	}
	// A zero-disk flavor skips the image's disk checks, as Nova does.
	c.MustApply(t, &fsm.CreateFlavor{Flavor: fsm.Flavor{ID: "z", Name: "zero", VCPUs: 1, RAM: 128}})
	c.MustApply(t, &fsm.CreateImage{Image: fsm.Image{ID: "big", Name: "big", Status: "active", Size: 50 << 30, MinDisk: 40}})
	resp, raw = call(t, ts, "POST", "/v1/servers", `{"server":{"name":"z","flavor":"zero","image":"big"}}`)
	if resp.StatusCode != http.StatusAccepted {
		t.Errorf("zero-disk flavor = %d %s", resp.StatusCode, raw)
	}
}

func TestServerList(t *testing.T) {
	c, ts := newTestServer(t)
	c.seedCompute(t)
	var ids []string
	for _, name := range []string{"web-a", "web-b", "db", "cache"} {
		resp, raw := call(t, ts, "POST", "/v1/servers", `{"server":{"name":"`+name+`","flavor":"m1.tiny","image":"cirros"}}`)
		if resp.StatusCode != http.StatusAccepted {
			t.Fatalf("create %s = %d %s", name, resp.StatusCode, raw)
		}
		ids = append(ids, decode[ServerResponse](t, raw).Server.ID)
	}
	c.place(t, ids[0], "node1", "")
	c.place(t, ids[2], "node1", "")

	tests := []struct {
		query string
		want  []int // indexes into ids
	}{
		{"", []int{0, 1, 2, 3}},
		{"?status=active", []int{0, 2}},
		{"?status=BUILD", []int{1, 3}},
		{"?host=node1", []int{0, 2}},
		{"?host=node2", []int{}},
		{"?name=^web", []int{0, 1}},
		{"?name=" + url.QueryEscape("b$"), []int{1, 2}},
		{"?name=" + url.QueryEscape("a$|^c"), []int{0, 3}},
		{"?limit=2", []int{0, 1}},
		{"?limit=2&marker=" + ids[1], []int{2, 3}},
		{"?marker=" + ids[3], []int{}},
		{"?status=BUILD&limit=1&marker=" + ids[0], []int{1}},
		{"?consistent=true&host=node1", []int{0, 2}},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			resp, raw := call(t, ts, "GET", "/v1/servers"+tt.query, "")
			if resp.StatusCode != 200 {
				t.Fatalf("status %d %s", resp.StatusCode, raw)
			}
			if idx := indexOf(t, resp); idx != c.FSM.Index() {
				t.Errorf("index %d", idx)
			}
			got := []string{}
			for _, s := range decode[ServerList](t, raw).Servers {
				got = append(got, s.ID)
			}
			want := []string{}
			for _, k := range tt.want {
				want = append(want, ids[k])
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("got %q, want %q", got, want)
			}
		})
	}
	_, raw := call(t, ts, "GET", "/v1/servers?host=none", "")
	if !strings.Contains(string(raw), `"servers":[]`) {
		t.Errorf("empty list JSON: %s", raw)
	}
}

func TestReadsCarryIndexCompute(t *testing.T) {
	c, ts := newTestServer(t)
	seed := c.seedCompute(t)
	wantReadIndex(t, ts, c.FSM.Index(), "/v1/servers", "/v1/images", "/v1/images/cirros", "/v1/server-groups", "/v1/server-groups/"+seed.group.ID,
		"/v1/hypervisors", "/v1/hypervisors/node1", "/v1/hypervisors/statistics")
}

// TestServerCreateFields keeps the client's request type and the server's
// decoding type in step: a field only one of them has would be refused.
func TestServerCreateFields(t *testing.T) {
	names := func(v any) []string {
		var out []string
		typ := reflect.TypeOf(v)
		for k := range typ.NumField() {
			name, _, _ := strings.Cut(typ.Field(k).Tag.Get("json"), ",")
			out = append(out, name)
		}
		return out
	}
	if a, b := names(ServerCreate{}), names(serverCreateRequest{}); !reflect.DeepEqual(a, b) {
		t.Errorf("ServerCreate fields %q, serverCreateRequest fields %q", a, b)
	}
}
