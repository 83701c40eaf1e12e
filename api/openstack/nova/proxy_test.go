package nova_test

import (
	"strings"
	"testing"

	"github.com/shoal-project/shoal/api/apitest"
	"github.com/shoal-project/shoal/api/openstack/nova"
	"github.com/shoal-project/shoal/api/openstack/osapi"
	"github.com/shoal-project/shoal/fsm"
)

var (
	floatingIPShape = shape{"id": "string", "ip": "string", "fixed_ip": "string|null", "instance_id": "string|null",
		"pool": "string"}
	imageLinkShape   = []any{shape{"rel": "string", "href": "string", "?type": "string"}}
	imageDetailShape = shape{"id": "string", "status": "string", "updated": "datetime", "links": imageLinkShape,
		"name": "string|null", "created": "datetime", "minDisk": "integer", "minRam": "integer", "progress": "integer",
		"metadata": dict{"string"}, "?server": "any", "?OS-EXT-IMG-SIZE:size": "integer|null", "?OS-DCF:diskConfig": "string"}
)

// TestFloatingIPProxy: os-floating-ips and os-floating-ip-pools in
// Tempest's shapes; a pool is named by name or ID (none: the one external
// network), an unknown one is 404; delete is 202; addFloatingIp moves a
// floating IP to another server and refuses a fixed IP that has one (400);
// from 2.36 the proxy is 404.
func TestFloatingIPProxy(t *testing.T) {
	e := &serversEnv{Env: apitest.New(t, nova.NewUpTo("2.100"))}
	e.SeedCompute(t)
	e.alpha = e.AddTenant(t, "alpha", "member")
	e.SeedExternalNetwork(t)
	const s1, s2 = "f2000000-0000-4000-8000-000000000001", "f2000000-0000-4000-8000-000000000002"
	e.SeedServer(t, e.alpha, s1, "one", apitest.CirrosID, apitest.NodeName)
	e.SeedServer(t, e.alpha, s2, "two", apitest.CirrosID, apitest.NodeName)
	tok := e.alpha.Token

	status, raw := e.call(t, "GET", "/os-floating-ip-pools", "", tok)
	if status != 200 || !strings.Contains(string(raw), `{"name":"public"}`) {
		t.Fatalf("pools: %d %s", status, raw)
	}
	var ids []string
	for _, body := range []string{`{"pool":"public"}`, `{"pool":"` + apitest.PublicNetworkID + `"}`, "", `{"pool":null}`} {
		status, raw = e.call(t, "POST", "/os-floating-ips", body, tok)
		if status != 200 {
			t.Fatalf("create %q: %d %s", body, status, raw)
		}
		checkShape(t, "create", raw, shape{"floating_ip": floatingIPShape})
		var f struct {
			FloatingIP nova.FloatingIP `json:"floating_ip"`
		}
		decode(t, raw, &f)
		if f.FloatingIP.Pool != "public" || f.FloatingIP.InstanceID != nil {
			t.Errorf("create %q: %s", body, raw)
		}
		ids = append(ids, f.FloatingIP.ID)
	}
	for _, c := range []struct {
		method, path, body string
		status             int
	}{
		{"POST", "/os-floating-ips", `{"pool":"nowhere"}`, 404},
		{"POST", "/os-floating-ips", `{"pool":"default"}`, 404},
		{"POST", "/os-floating-ips", `{"pool":1}`, 400},
		{"POST", "/os-floating-ips", `{`, 400},
		{"GET", "/os-floating-ips/" + "10.66.0.200", "", 404},
		{"GET", "/os-floating-ips/f2000000-0000-4000-8000-0000000000ff", "", 404},
		{"DELETE", "/os-floating-ips/f2000000-0000-4000-8000-0000000000ff", "", 404},
		{"POST", "/servers/" + s1 + "/action", `{"addFloatingIp":{"address":"10.66.0.200"}}`, 202},
		{"POST", "/servers/" + s2 + "/action", `{"addFloatingIp":{"address":"10.66.0.200"}}`, 202},
		{"POST", "/servers/" + s2 + "/action", `{"addFloatingIp":{"address":"10.66.0.201"}}`, 400},
		{"POST", "/servers/" + s1 + "/action", `{"removeFloatingIp":{"address":"10.66.0.200"}}`, 409},
		{"POST", "/servers/" + s1 + "/action", `{"addFloatingIp":{"address":"0.0.0.0"}}`, 404},
	} {
		if status, raw := e.call(t, c.method, c.path, c.body, tok); status != c.status {
			t.Errorf("%s %s %s: %d %s", c.method, c.path, c.body, status, raw)
		}
	}
	status, raw = e.call(t, "GET", "/os-floating-ips/"+ids[0], "", tok)
	checkShape(t, "show", raw, shape{"floating_ip": floatingIPShape})
	if status != 200 || !strings.Contains(string(raw), `"instance_id":"`+s2+`"`) {
		t.Errorf("show after the move: %d %s", status, raw)
	}
	status, raw = e.call(t, "GET", "/os-floating-ips", "", tok)
	checkShape(t, "list", raw, shape{"floating_ips": []any{floatingIPShape}})
	if status != 200 || strings.Count(string(raw), `"pool"`) != 4 {
		t.Errorf("list: %d %s", status, raw)
	}
	if status, raw := e.call(t, "DELETE", "/os-floating-ips/"+ids[0], "", tok); status != 202 || len(raw) != 0 {
		t.Errorf("delete: %d %s", status, raw)
	}
	if status, _ := e.call(t, "GET", "/os-floating-ips", "", tok, "X-OpenStack-Nova-API-Version", "2.36"); status != 404 {
		t.Errorf("list at 2.36: %d", status)
	}
	if status, _ := e.call(t, "POST", "/servers/"+s1+"/action", `{"addFloatingIp":{"address":"10.66.0.201"}}`, tok,
		"X-OpenStack-Nova-API-Version", "2.44"); status != 404 {
		t.Errorf("addFloatingIp at 2.44: %d", status)
	}
}

// TestNetworkProxies: os-networks and os-tenant-networks show the tenant
// network by its Neutron ID, in Nova's shapes; the nova-network APIs Nova
// removed are its 410 computeFault.
func TestNetworkProxies(t *testing.T) {
	e := newServersEnv(t)
	tok := e.alpha.Token
	net := osapi.TenantNetworkID(apitest.ClusterID)
	tenantShape := shape{"id": "string", "cidr": "string", "label": "string"}
	status, raw := e.call(t, "GET", "/os-tenant-networks", "", tok)
	checkShape(t, "tenant networks", raw, shape{"networks": []any{tenantShape}})
	if status != 200 || !strings.Contains(string(raw), `"id":"`+net+`"`) || !strings.Contains(string(raw), `"cidr":"None"`) {
		t.Errorf("tenant networks: %d %s", status, raw)
	}
	status, raw = e.call(t, "GET", "/os-tenant-networks/"+net, "", tok)
	checkShape(t, "tenant network", raw, shape{"network": tenantShape})
	netShape := shape{"id": "string", "label": "string"}
	for _, f := range []string{"cidr", "netmask", "gateway", "broadcast", "dns1", "dns2", "cidr_v6", "gateway_v6", "netmask_v6"} {
		netShape[f] = "string|null"
	}
	// An external network (no project's, as the seed makes it) is listed
	// to every project, as Neutron lists it (Tempest's NetworksTest finds
	// its public network so).
	e.SeedExternalNetwork(t)
	status, raw = e.call(t, "GET", "/os-networks", "", tok)
	if status != 200 || !strings.Contains(string(raw), `"id":"`+apitest.PublicNetworkID+`"`) || !strings.Contains(string(raw), `"id":"`+net+`"`) {
		t.Errorf("networks with an external one: %d %s", status, raw)
	}
	status, raw = e.call(t, "GET", "/os-networks/"+net, "", tok)
	checkShape(t, "network", raw, shape{"network": netShape})
	if status != 200 {
		t.Errorf("network: %d %s", status, raw)
	}
	for _, c := range []struct {
		method, path, body string
		status             int
	}{
		{"GET", "/os-networks", "", 200},
		{"GET", "/os-networks/default-nope", "", 404},
		{"GET", "/os-tenant-networks/f2000000-0000-4000-8000-0000000000ff", "", 404},
		{"POST", "/os-networks", `{"network":{}}`, 410},
		{"DELETE", "/os-networks/" + net, "", 410},
		{"POST", "/os-networks/" + net + "/action", `{"disassociate":null}`, 410},
		{"POST", "/os-tenant-networks", `{}`, 410},
		{"GET", "/os-fixed-ips/10.0.0.2", "", 410},
		{"GET", "/os-floating-ips-bulk", "", 410},
		{"GET", "/os-floating-ip-dns", "", 410},
		{"GET", "/os-networks", "", 200},
	} {
		status, raw := e.call(t, c.method, c.path, c.body, tok)
		if status != c.status {
			t.Errorf("%s %s: %d %s", c.method, c.path, status, raw)
		}
		if status == 410 {
			if name, code, _ := fault(t, raw); name != "computeFault" || code != 410 {
				t.Errorf("%s %s: %s", c.method, c.path, raw)
			}
		}
	}
}

// TestImageProxy: /images in Tempest's shapes, Nova's filters and paging,
// 404 for what is not an image's ID; the metadata calls change the
// image's properties (merge, replace, one key, delete).
func TestImageProxy(t *testing.T) {
	e := &serversEnv{Env: apitest.New(t, nova.NewUpTo("2.100"))}
	e.SeedCompute(t)
	e.alpha = e.AddTenant(t, "alpha", "member")
	tok := e.alpha.Token
	const own = "f3000000-0000-4000-8000-000000000001"
	e.Apply(t, &fsm.CreateImage{Image: fsm.Image{ID: own, Name: "mine", DiskFormat: "raw", ContainerFormat: "bare",
		Status: fsm.ImageQueued, ProjectID: e.alpha.ProjectID, UserID: e.alpha.UserID, Created: apitest.SeedTime.Add(1),
		Updated: apitest.SeedTime.Add(1)}})

	status, raw := e.call(t, "GET", "/images/detail", "", tok)
	checkShape(t, "detail", raw, shape{"images": []any{imageDetailShape}, "?images_links": "any"})
	if status != 200 || !strings.Contains(string(raw), `"status":"SAVING"`) || !strings.Contains(string(raw), `"status":"ACTIVE"`) {
		t.Errorf("detail: %d %s", status, raw)
	}
	status, raw = e.call(t, "GET", "/images?limit=1", "", tok)
	checkShape(t, "list", raw, shape{"images": []any{shape{"id": "string", "name": "string|null", "links": imageLinkShape}},
		"?images_links": "any"})
	if status != 200 || !strings.Contains(string(raw), own) || !strings.Contains(string(raw), "images_links") {
		t.Errorf("list: %d %s", status, raw)
	}
	for _, c := range []struct {
		method, path, body string
		status             int
		want               string
	}{
		{"GET", "/images?name=cirros", "", 200, apitest.CirrosID},
		{"GET", "/images?status=ACTIVE", "", 200, apitest.CirrosID},
		{"GET", "/images?marker=nope", "", 400, ""},
		{"GET", "/images?limit=x", "", 400, ""},
		{"GET", "/images/" + apitest.CirrosID, "", 200, `"minRam":64`},
		{"GET", "/images/cirros", "", 404, "Image not found."},
		{"GET", "/images/f3000000-0000-4000-8000-0000000000ff", "", 404, "Image not found."},
		{"DELETE", "/images/-1", "", 404, ""},
		{"POST", "/images/" + own + "/metadata", `{"metadata":{"os_distro":"cirros","os_version":"1"}}`, 200, `"os_version":"1"`},
		{"POST", "/images/" + own + "/metadata", `{"metadata":{"a/b":"x"}}`, 400, ""},
		{"POST", "/images/" + own + "/metadata", `{"meta":{}}`, 400, ""},
		{"PUT", "/images/" + own + "/metadata", `{"metadata":{"os_distro":"debian"}}`, 200, `{"metadata":{"os_distro":"debian"}}`},
		{"GET", "/images/" + own + "/metadata", "", 200, `{"metadata":{"os_distro":"debian"}}`},
		{"PUT", "/images/" + own + "/metadata/os_version", `{"meta":{"os_version":"12"}}`, 200, `{"meta":{"os_version":"12"}}`},
		{"PUT", "/images/" + own + "/metadata/os_version", `{"meta":{"other":"12"}}`, 400, "Request body and URI mismatch"},
		{"GET", "/images/" + own + "/metadata/os_version", "", 200, `{"meta":{"os_version":"12"}}`},
		{"DELETE", "/images/" + own + "/metadata/os_version", "", 204, ""},
		{"DELETE", "/images/" + own + "/metadata/os_version", "", 404, "Invalid metadata key"},
		{"GET", "/images/" + own + "/metadata/os_version", "", 404, ""},
		{"GET", "/images/f3000000-0000-4000-8000-0000000000ff/metadata", "", 404, ""},
		{"POST", "/images/" + apitest.CirrosID + "/metadata", `{"metadata":{"k":"v"}}`, 403, ""},
		{"DELETE", "/images/" + apitest.CirrosID, "", 403, "You are not allowed to delete the image."},
		{"DELETE", "/images/" + own, "", 204, ""},
		{"GET", "/images/" + own, "", 404, ""},
	} {
		status, raw := e.call(t, c.method, c.path, c.body, tok)
		if status != c.status || !strings.Contains(string(raw), c.want) {
			t.Errorf("%s %s %s: %d %s", c.method, c.path, c.body, status, raw)
		}
	}
	if status, _ := e.call(t, "GET", "/images", "", tok, "X-OpenStack-Nova-API-Version", "2.36"); status != 404 {
		t.Errorf("images at 2.36: %d", status)
	}
	if status, _ := e.call(t, "GET", "/images/"+apitest.CirrosID+"/metadata", "", tok, "X-OpenStack-Nova-API-Version", "2.38"); status != 200 {
		t.Errorf("image metadata at 2.38: %d", status)
	}
}
