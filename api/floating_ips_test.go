package api

import (
	"encoding/json"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/shoal-project/shoal/fsm"
)

// TestFloatingIPLifecycle: allocate, attach, see it on the server, detach,
// release; another project neither sees nor attaches it.
func TestFloatingIPLifecycle(t *testing.T) {
	w := newTenants(t)
	resp, raw := w.as(t, member, "POST", "/v1/floating-ips", `{"floating_ip":{"network":"public"}}`)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("allocate = %d %s", resp.StatusCode, raw)
	}
	fip := decode[FloatingIPResponse](t, raw).FloatingIP
	// The seed holds .200 (alpha's) and .201 (beta's): allocation takes the
	// lowest free address.
	want := FloatingIP{ID: fip.ID, IP: "10.66.0.202", Network: publicNetwork, ProjectID: w.alpha.project, Created: fip.Created}
	if !reflect.DeepEqual(fip, want) || time.Since(fip.Created) > time.Minute {
		t.Errorf("allocated %+v\nwant %+v", fip, want)
	}
	if loc := resp.Header.Get("Location"); loc != "/v1/floating-ips/"+fip.ID {
		t.Errorf("Location = %q", loc)
	}
	var m map[string]map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"id", "ip", "network", "server_id", "fixed_ip", "project_id"} { // the keys
		if _, ok := m["floating_ip"][k]; !ok {
			t.Errorf("floating IP JSON lacks %q: %s", k, raw)
		}
	}

	// Alpha's reader lists and shows it (by ID or address); beta does not
	// see it, nor attach it to its own server.
	resp, raw = w.as(t, reader, "GET", "/v1/floating-ips", "")
	if got := decode[FloatingIPList](t, raw).FloatingIPs; resp.StatusCode != 200 || len(got) != 2 || got[1].ID != fip.ID {
		t.Errorf("alpha's list = %d %+v", resp.StatusCode, got)
	}
	for _, ref := range []string{fip.ID, fip.IP} {
		if resp, raw = w.as(t, reader, "GET", "/v1/floating-ips/"+ref, ""); resp.StatusCode != 200 ||
			decode[FloatingIPResponse](t, raw).FloatingIP != fip {
			t.Errorf("show %s = %d %s", ref, resp.StatusCode, raw)
		}
		resp, raw = w.as(t, betaUser, "GET", "/v1/floating-ips/"+ref, "")
		wantError(t, resp, raw, http.StatusNotFound, ref)
	}
	resp, raw = w.as(t, betaUser, "GET", "/v1/floating-ips", "")
	if got := decode[FloatingIPList](t, raw).FloatingIPs; len(got) != 1 || got[0].ID != w.beta.fip {
		t.Errorf("beta's list = %+v", got)
	}
	before := w.c.Index()
	resp, raw = w.as(t, betaUser, "POST", "/v1/servers/"+w.beta.server+"/action", `{"action":"add-floating-ip","address":"`+fip.IP+`"}`)
	wantError(t, resp, raw, http.StatusNotFound, fip.IP)
	resp, raw = w.as(t, betaUser, "DELETE", "/v1/floating-ips/"+fip.ID, "")
	wantError(t, resp, raw, http.StatusNotFound, fip.ID)
	// Nor may alpha put its floating IP on beta's server (absent to it).
	resp, raw = w.as(t, member, "POST", "/v1/servers/"+w.beta.server+"/action", `{"action":"add-floating-ip","address":"`+fip.IP+`"}`)
	wantError(t, resp, raw, http.StatusNotFound, w.beta.server)
	if w.c.Index() != before {
		t.Error("a refused request was proposed")
	}

	// Attached: the server shows it after its fixed IP, and the floating
	// IP names the server.
	resp, raw = w.as(t, member, "POST", "/v1/servers/"+w.alpha.server+"/action", `{"action":"add-floating-ip","address":"`+fip.IP+`"}`)
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("add-floating-ip = %d %s", resp.StatusCode, raw)
	}
	vm := decode[ServerResponse](t, raw).Server
	fixed := vm.Addresses[0]
	wantAddrs := []ServerAddress{fixed, {Address: fsm.Address{Network: fixed.Network, IP: fip.IP, MAC: fixed.MAC}, Type: AddressFloating}}
	if fixed.Type != AddressFixed || !reflect.DeepEqual(vm.Addresses, wantAddrs) {
		t.Errorf("addresses = %+v, want %+v", vm.Addresses, wantAddrs)
	}
	if !strings.Contains(string(raw), `"OS-EXT-IPS:type":"floating"`) || !strings.Contains(string(raw), `"OS-EXT-IPS:type":"fixed"`) {
		t.Errorf("server JSON lacks the address types: %s", raw)
	}
	resp, raw = w.as(t, reader, "GET", "/v1/floating-ips/"+fip.ID, "")
	if got := decode[FloatingIPResponse](t, raw).FloatingIP; got.ServerID != w.alpha.server || got.FixedIP != fixed.IP {
		t.Errorf("attached floating IP = %+v", got)
	}
	// Attaching it again to the same server changes nothing.
	resp, raw = w.as(t, member, "POST", "/v1/servers/"+w.alpha.server+"/action", `{"action":"add-floating-ip","address":"`+fip.IP+`"}`)
	if resp.StatusCode != http.StatusAccepted {
		t.Errorf("add-floating-ip again = %d %s", resp.StatusCode, raw)
	}
	// A second floating IP on the same fixed IP is a conflict.
	resp, raw = w.as(t, member, "POST", "/v1/servers/"+w.alpha.server+"/action", `{"action":"add-floating-ip","address":"`+w.alpha.fipAddress+`"}`)
	wantError(t, resp, raw, http.StatusConflict, "already has floating IP")

	// Detach: not attached to this server → 409; then detached.
	resp, raw = w.as(t, member, "POST", "/v1/servers/"+w.alpha.server+"/action", `{"action":"remove-floating-ip","address":"`+w.alpha.fipAddress+`"}`)
	wantError(t, resp, raw, http.StatusConflict, "is not associated with instance")
	resp, raw = w.as(t, member, "POST", "/v1/servers/"+w.alpha.server+"/action", `{"action":"remove-floating-ip","address":"`+fip.IP+`"}`)
	if got := decode[ServerResponse](t, raw).Server; resp.StatusCode != http.StatusAccepted || len(got.Addresses) != 1 {
		t.Errorf("remove-floating-ip = %d %+v", resp.StatusCode, got.Addresses)
	}

	// Releasing an attached floating IP detaches it first.
	w.as(t, member, "POST", "/v1/servers/"+w.alpha.server+"/action", `{"action":"add-floating-ip","address":"`+fip.IP+`"}`)
	if resp, raw = w.as(t, member, "DELETE", "/v1/floating-ips/"+fip.IP, ""); resp.StatusCode != http.StatusNoContent {
		t.Fatalf("release = %d %s", resp.StatusCode, raw)
	}
	resp, raw = w.as(t, reader, "GET", "/v1/servers/"+w.alpha.server, "")
	if got := decode[ServerResponse](t, raw).Server; len(got.Addresses) != 1 {
		t.Errorf("addresses after release = %+v", got.Addresses)
	}
	resp, raw = w.as(t, reader, "GET", "/v1/floating-ips/"+fip.ID, "")
	wantError(t, resp, raw, http.StatusNotFound, fip.ID)
}

// An admin may put a project's floating IP on another project's server
// (Nova's and Neutron's admin may cross projects).
func TestFloatingIPAdminCrossesProjects(t *testing.T) {
	w := newTenants(t)
	resp, raw := w.as(t, admin, "POST", "/v1/servers/"+w.beta.server+"/action", `{"action":"add-floating-ip","address":"`+w.alpha.fipAddress+`"}`)
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("add-floating-ip as admin = %d %s", resp.StatusCode, raw)
	}
	if f := w.c.FSM.FloatingIPs(fsm.FloatingIPsOf(w.alpha.project)); f[0].InstanceID != w.beta.server {
		t.Errorf("floating IP = %+v", f[0])
	}
}

// TestFloatingIPBadInput: refused requests answer 4xx with the error shape
// and store nothing; those the replica can judge are never proposed.
func TestFloatingIPBadInput(t *testing.T) {
	w := newTenants(t)
	action := func(fields string) string { return `{"action":"add-floating-ip"` + fields + `}` }
	// Alpha's floating IP attached to alpha's server, and a second server
	// of alpha's, for "already attached".
	w.c.MustApply(t, &fsm.AssociateFloatingIP{FloatingIPID: w.alpha.fip, InstanceID: w.alpha.server})
	other := "5e000000-0000-4000-8000-0000000000aa"
	w.c.MustApply(t, &fsm.CreateInstances{RequestID: "req-2", Time: time.Unix(400, 0).UTC(), ProjectID: w.alpha.project,
		UserID: w.alpha.user, Instances: []fsm.NewInstance{{ID: other, Name: "vm-other", FlavorID: "1", ImageID: w.alpha.image}}})
	serverAction := "/v1/servers/" + other + "/action"
	tests := []struct {
		name, method, path, body string
		status                   int
		contains                 string
	}{
		{"already attached elsewhere", "POST", serverAction, action(`,"address":"` + w.alpha.fipAddress + `"`), 409, "already associated with server " + w.alpha.server},
		{"not attached here", "POST", serverAction, `{"action":"remove-floating-ip","address":"` + w.alpha.fipAddress + `"}`, 409, "not associated"},
		{"unknown address", "POST", serverAction, action(`,"address":"10.66.0.239"`), 404, "10.66.0.239"},
		{"another project's", "POST", serverAction, action(`,"address":"` + w.beta.fipAddress + `"`), 404, w.beta.fipAddress},
		{"no address", "POST", serverAction, action(``), 400, "needs the floating IP's address"},
		{"address with stop", "POST", serverAction, `{"action":"stop","address":"10.66.0.200"}`, 400, "address goes only with add-floating-ip or remove-floating-ip"},
		{"fixed address elsewhere", "POST", serverAction, `{"action":"remove-floating-ip","address":"x","fixed_address":"10.88.0.9"}`, 400, "fixed_address goes only with add-floating-ip"},
		{"unknown network", "POST", "/v1/floating-ips", `{"floating_ip":{"network":"nope"}}`, 404, "nope"},
		{"tenant network", "POST", "/v1/floating-ips", `{"floating_ip":{"network":"default"}}`, 400, "not an external network"},
		{"no network", "POST", "/v1/floating-ips", `{"floating_ip":{}}`, 400, "network is required"},
		{"unknown field", "POST", "/v1/floating-ips", `{"floating_ip":{"network":"public","port_id":"p"}}`, 400, `"port_id"`},
		{"member chooses the address", "POST", "/v1/floating-ips", `{"floating_ip":{"network":"public","ip":"10.66.0.230"}}`, 403, "admin"},
		{"address not a string", "POST", "/v1/floating-ips", `{"floating_ip":{"network":"public","ip":5}}`, 400, "ip"},
		{"list another project", "GET", "/v1/floating-ips?project_id=" + w.beta.project, "", 403, "policy"},
		{"list all projects", "GET", "/v1/floating-ips?all_projects=1", "", 403, "policy"},
		{"unknown parameter", "GET", "/v1/floating-ips?server=x", "", 400, `"server"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := w.c.snapshot()
			fips := w.c.FSM.FloatingIPs(nil)
			resp, raw := w.as(t, member, tt.method, tt.path, tt.body)
			wantError(t, resp, raw, tt.status, tt.contains)
			if after := w.c.snapshot(); !reflect.DeepEqual(after, before) || !reflect.DeepEqual(w.c.FSM.FloatingIPs(nil), fips) {
				t.Error("a refused request changed the state or was proposed")
			}
		})
	}
}

// An admin may choose the address (Neutron's floating_ip_address): it must
// be free and in one of the network's pools, Apply's checks.
func TestFloatingIPChosenAddress(t *testing.T) {
	w := newTenants(t)
	resp, raw := w.as(t, admin, "POST", "/v1/floating-ips", `{"floating_ip":{"network":"public","ip":"10.66.0.230"}}`)
	if f := decode[FloatingIPResponse](t, raw).FloatingIP; resp.StatusCode != http.StatusCreated || f.IP != "10.66.0.230" || f.Network != publicNetwork {
		t.Fatalf("chosen address = %d %s", resp.StatusCode, raw)
	}
	for _, tt := range []struct {
		name, ip string
		status   int
		contains string
	}{
		{"taken", "10.66.0.230", http.StatusConflict, "10.66.0.230"},
		{"outside the pools", "10.66.0.5", http.StatusBadRequest, "10.66.0.5"},
		{"not an address", "ten", http.StatusBadRequest, "ten"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			fips := w.c.FSM.FloatingIPs(nil)
			resp, raw := w.as(t, admin, "POST", "/v1/floating-ips", `{"floating_ip":{"network":"public","ip":"`+tt.ip+`"}}`)
			wantError(t, resp, raw, tt.status, tt.contains)
			if !reflect.DeepEqual(w.c.FSM.FloatingIPs(nil), fips) {
				t.Error("a refused allocation was stored")
			}
		})
	}
}

// The floating_ips quota: Nova's message, nothing allocated past it.
func TestFloatingIPQuota(t *testing.T) {
	w := newTenants(t)
	if resp, raw := w.as(t, admin, "PUT", "/v1/quota-sets/"+w.alpha.project, `{"quota_set":{"floating_ips":2}}`); resp.StatusCode != 200 {
		t.Fatalf("set quota = %d %s", resp.StatusCode, raw)
	}
	if resp, raw := w.as(t, member, "POST", "/v1/floating-ips", `{"floating_ip":{"network":"public"}}`); resp.StatusCode != http.StatusCreated {
		t.Fatalf("second floating IP = %d %s", resp.StatusCode, raw)
	}
	resp, raw := w.as(t, member, "POST", "/v1/floating-ips", `{"floating_ip":{"network":"public"}}`)
	wantError(t, resp, raw, http.StatusForbidden, "floating_ips")
	if n := len(w.c.FSM.FloatingIPs(fsm.FloatingIPsOf(w.alpha.project))); n != 2 {
		t.Errorf("alpha holds %d floating IPs, want 2", n)
	}
	resp, raw = w.as(t, member, "GET", "/v1/limits", "")
	if l := decode[LimitsBody](t, raw).Limits.Absolute; l.MaxTotalFloatingIPs != 2 || l.TotalFloatingIPsUsed != 2 {
		t.Errorf("limits = %+v", l)
	}
}
