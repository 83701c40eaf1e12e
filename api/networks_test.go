package api

import (
	"encoding/json"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/shoal-project/shoal/api/identity/identitytest"
	"github.com/shoal-project/shoal/fsm"
)

// publicBody is the issue's own external network.
const publicBody = `{"network":{"name":"public","external":true,"cidr":"10.66.0.0/24","gateway":"10.66.0.1",` +
	`"allocation_pools":[{"start":"10.66.0.200","end":"10.66.0.240"}]}}`

func TestNetworkLifecycle(t *testing.T) {
	c, ts := newTestServer(t)
	member := c.addTenant(t, "alpha", fsm.RoleMember)

	resp, raw := call(t, ts, "GET", "/v1/networks", "", HeaderAuthToken, member.Token)
	tenant := Network{ID: fsm.DefaultNetworkID, Name: "default", CIDR: "10.88.0.0/16", Gateway: "10.88.0.1",
		AllocationPools: []fsm.IPRange{{Start: "10.88.0.2", End: "10.88.255.254"}}}
	if got := decode[NetworkList](t, raw).Networks; resp.StatusCode != 200 || !reflect.DeepEqual(got, []Network{tenant}) {
		t.Fatalf("list = %d %+v, want the tenant network %+v", resp.StatusCode, got, tenant)
	}

	// A member may not make an external network: 403, nothing proposed.
	before := c.Index()
	resp, raw = call(t, ts, "POST", "/v1/networks", publicBody, HeaderAuthToken, member.Token)
	wantError(t, resp, raw, http.StatusForbidden, "policy")
	if c.Index() != before {
		t.Errorf("a refused create was proposed (index %d → %d)", before, c.Index())
	}

	resp, raw = call(t, ts, "POST", "/v1/networks", publicBody)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("create = %d %s", resp.StatusCode, raw)
	}
	public := decode[NetworkResponse](t, raw).Network
	if _, err := uuid.Parse(public.ID); err != nil {
		t.Errorf("network ID %q: %v", public.ID, err)
	}
	want := Network{ID: public.ID, Name: "public", External: true, CIDR: "10.66.0.0/24", Gateway: "10.66.0.1",
		AllocationPools: []fsm.IPRange{{Start: "10.66.0.200", End: "10.66.0.240"}}, ProjectID: identitytest.AdminProjectID,
		Created: public.Created}
	if !reflect.DeepEqual(public, want) || time.Since(public.Created) > time.Minute {
		t.Errorf("created %+v\nwant %+v", AccessPublic, want)
	}
	if loc := resp.Header.Get("Location"); loc != "/v1/networks/"+public.ID {
		t.Errorf("Location = %q", loc)
	}
	// The wire shape: every key, pools as Neutron's start/end.
	var m map[string]map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"id", "name", "external", "cidr", "gateway", "allocation_pools", "project_id", "created"} {
		if _, ok := m["network"][k]; !ok {
			t.Errorf("network JSON lacks %q: %s", k, raw)
		}
	}

	// Every project sees it, by ID or name.
	for _, ref := range []string{public.ID, "public"} {
		resp, raw = call(t, ts, "GET", "/v1/networks/"+ref, "", HeaderAuthToken, member.Token)
		if got := decode[NetworkResponse](t, raw).Network; resp.StatusCode != 200 || !reflect.DeepEqual(got, public) {
			t.Errorf("show %s = %d %+v", ref, resp.StatusCode, got)
		}
	}
	resp, raw = call(t, ts, "GET", "/v1/networks", "", HeaderAuthToken, member.Token)
	if got := decode[NetworkList](t, raw).Networks; len(got) != 2 || got[0].ID != fsm.DefaultNetworkID || got[1].ID != public.ID {
		t.Errorf("list = %+v", got)
	}

	// A network with floating IPs, and the tenant network, stay.
	resp, raw = call(t, ts, "POST", "/v1/floating-ips", `{"floating_ip":{"network":"public"}}`, HeaderAuthToken, member.Token)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("allocate = %d %s", resp.StatusCode, raw)
	}
	fip := decode[FloatingIPResponse](t, raw).FloatingIP
	resp, raw = call(t, ts, "DELETE", "/v1/networks/public", "")
	wantError(t, resp, raw, http.StatusConflict, "floating IP")
	resp, raw = call(t, ts, "DELETE", "/v1/networks/default", "")
	wantError(t, resp, raw, http.StatusConflict, "tenant network")
	resp, raw = call(t, ts, "DELETE", "/v1/networks/public", "", HeaderAuthToken, member.Token)
	wantError(t, resp, raw, http.StatusForbidden, "policy")

	if resp, raw = call(t, ts, "DELETE", "/v1/floating-ips/"+fip.ID, "", HeaderAuthToken, member.Token); resp.StatusCode != http.StatusNoContent {
		t.Fatalf("release = %d %s", resp.StatusCode, raw)
	}
	if resp, raw = call(t, ts, "DELETE", "/v1/networks/public", ""); resp.StatusCode != http.StatusNoContent {
		t.Fatalf("delete = %d %s", resp.StatusCode, raw)
	}
	resp, raw = call(t, ts, "GET", "/v1/networks/"+public.ID, "")
	wantError(t, resp, raw, http.StatusNotFound, public.ID)
}

// TestNetworkBadInput: every refused create answers 4xx with the error
// shape and stores nothing; what needs no state is refused before anything
// is proposed.
func TestNetworkBadInput(t *testing.T) {
	c, ts := newTestServer(t)
	if resp, raw := call(t, ts, "POST", "/v1/networks", publicBody); resp.StatusCode != http.StatusCreated {
		t.Fatalf("create = %d %s", resp.StatusCode, raw)
	}
	network := func(fields string) string {
		return `{"network":{"name":"ext","external":true` + fields + `}}`
	}
	pool := func(start, end string) string {
		return `,"allocation_pools":[{"start":"` + start + `","end":"` + end + `"}]`
	}
	tests := []struct {
		name, body string
		status     int
		contains   string
	}{
		{"overlaps an external network", network(`,"cidr":"10.66.0.0/16","gateway":"10.66.0.1"`), 409, "overlaps network public"},
		{"inside an external network", network(`,"cidr":"10.66.0.128/25","gateway":"10.66.0.129"`), 409, "overlaps"},
		{"overlaps the tenant network", network(`,"cidr":"10.88.7.0/24","gateway":"10.88.7.1"`), 409, "overlaps network default"},
		{"pool outside the CIDR", network(`,"cidr":"10.77.0.0/24","gateway":"10.77.0.1"` + pool("10.77.1.10", "10.77.1.20")), 400, "not an address in 10.77.0.0/24"},
		{"pool ends outside", network(`,"cidr":"10.77.0.0/24","gateway":"10.77.0.1"` + pool("10.77.0.10", "10.77.1.20")), 400, "not an address in"},
		{"pool backwards", network(`,"cidr":"10.77.0.0/24","gateway":"10.77.0.1"` + pool("10.77.0.20", "10.77.0.10")), 400, "starts after it ends"},
		{"pool holds the gateway", network(`,"cidr":"10.77.0.0/24","gateway":"10.77.0.1"` + pool("10.77.0.1", "10.77.0.10")), 400, "gateway"},
		{"pool on broadcast", network(`,"cidr":"10.77.0.0/24","gateway":"10.77.0.1"` + pool("10.77.0.10", "10.77.0.255")), 400, "broadcast"},
		{"pools overlap", network(`,"cidr":"10.77.0.0/24","gateway":"10.77.0.1","allocation_pools":[` +
			`{"start":"10.77.0.10","end":"10.77.0.20"},{"start":"10.77.0.15","end":"10.77.0.30"}]`), 400, "overlap"},
		{"gateway outside", network(`,"cidr":"10.77.0.0/24","gateway":"10.78.0.1"`), 400, "gateway"},
		{"gateway not an address", network(`,"cidr":"10.77.0.0/24","gateway":"gw"`), 400, "gateway"},
		{"bad CIDR", network(`,"cidr":"10.77.0.0/33"`), 400, "IPv4 CIDR"},
		{"IPv6 CIDR", network(`,"cidr":"fd00::/64"`), 400, "IPv4 CIDR"},
		{"no CIDR", network(``), 400, "CIDR"},
		{"not external", `{"network":{"name":"t2","cidr":"10.77.0.0/24"}}`, 400, "only external networks"},
		{"no name", `{"network":{"external":true,"cidr":"10.77.0.0/24"}}`, 400, "name must not be empty"},
		{"unknown field", network(`,"cidr":"10.77.0.0/24","shared":true`), 400, `"shared"`},
		{"pool not an object", network(`,"cidr":"10.77.0.0/24","allocation_pools":["10.77.0.10-10.77.0.20"]`), 400, "allocation_pools"},
		{"empty body", "", 400, "empty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before, networks := c.Index(), c.FSM.Networks()
			resp, raw := call(t, ts, "POST", "/v1/networks", tt.body)
			wantError(t, resp, raw, tt.status, tt.contains)
			if got := c.FSM.Networks(); !reflect.DeepEqual(got, networks) {
				t.Errorf("networks changed:\n%+v\nwas\n%+v", got, networks)
			}
			if c.Index() != before {
				t.Errorf("a refused create was proposed (index %d → %d)", before, c.Index())
			}
		})
	}
	for _, path := range []string{"/v1/networks/nope", "/v1/networks/" + strings.Repeat("x", 300)} {
		resp, raw := call(t, ts, "GET", path, "")
		if resp.StatusCode != http.StatusNotFound && resp.StatusCode != http.StatusBadRequest {
			t.Errorf("GET %s = %d %s", path[:20], resp.StatusCode, raw)
		}
	}
	resp, raw := call(t, ts, "GET", "/v1/networks?external=true", "")
	wantError(t, resp, raw, 400, `"external"`)
}
