package osapi

import (
	"net/http/httptest"
	"strings"
	"testing"
)

func TestFaultBodies(t *testing.T) {
	for _, c := range []struct {
		write func(*httptest.ResponseRecorder)
		want  string
	}{
		{func(w *httptest.ResponseRecorder) { NovaFault(w, 404, "Instance x could not be found.") },
			`{"itemNotFound":{"code":404,"message":"Instance x could not be found."}}`},
		{func(w *httptest.ResponseRecorder) { NovaFault(w, 409, "locked") }, `{"conflictingRequest":{"code":409,"message":"locked"}}`},
		{func(w *httptest.ResponseRecorder) { NovaFault(w, 406, "v") }, `{"computeFault":{"code":406,"message":"v"}}`},
		{func(w *httptest.ResponseRecorder) { GlanceFault(w, 404, "No image found") },
			`{"code":"404 Not Found","message":"No image found","title":"Not Found"}`},
		{func(w *httptest.ResponseRecorder) {
			NeutronFault(w, 404, "NetworkNotFound", "Network n could not be found.")
		},
			`{"NeutronError":{"detail":"","message":"Network n could not be found.","type":"NetworkNotFound"}}`},
		{func(w *httptest.ResponseRecorder) { NeutronFault(w, 403, "", "no") },
			`{"NeutronError":{"detail":"","message":"no","type":"PolicyNotAuthorized"}}`},
	} {
		w := httptest.NewRecorder()
		c.write(w)
		if got := strings.TrimSpace(w.Body.String()); got != c.want || w.Header().Get("Content-Type") != "application/json" {
			t.Errorf("got %s, want %s", got, c.want)
		}
	}
}

func TestDerivedIDs(t *testing.T) {
	a, b := TenantNetworkID("cluster-a"), TenantNetworkID("cluster-b")
	if a == b || a != TenantNetworkID("cluster-a") || len(a) != 36 {
		t.Fatalf("network IDs %q %q", a, b)
	}
	if SubnetID(a) == a || PortID("i", "m") == PortID("i", "n") || PortID("ab", "c") == PortID("a", "bc") {
		t.Error("IDs collide")
	}
	if HostUUID("c", "service", "h1") == HostUUID("c", "hypervisor", "h1") {
		t.Error("service and hypervisor share an ID")
	}
	if HostID("p", "") != "" || len(HostID("p", "h1")) != 56 || HostID("p", "h1") == HostID("q", "h1") {
		t.Errorf("hostId %q", HostID("p", "h1"))
	}
}
