package nova_test

import (
	"encoding/json"
	"regexp"
	"testing"

	"github.com/shoal-project/shoal/api/apitest"
	"github.com/shoal-project/shoal/api/openstack/osapi"
	"github.com/shoal-project/shoal/fsm"
)

// Tempest's server schemas (tempest/lib/api_schema/response/compute/v2_1/
// servers.py and interfaces.py) as shapes: every key Nova may send, no
// other, null only where Tempest allows it.
var (
	addressShape       = shape{"version": "integer", "addr": "string"}
	detailAddressShape = shape{"version": "integer", "addr": "string", "?OS-EXT-IPS:type": "string",
		"?OS-EXT-IPS-MAC:mac_addr": "string"}
	commonServer = shape{
		"id": "string", "name": "string", "status": "string", "image": "any", "flavor": shape{"id": "string", "links": links},
		"?fault":  shape{"code": "integer", "created": "datetime", "message": "string", "?details": "string"},
		"user_id": "string", "tenant_id": "string", "created": "datetime", "updated": "datetime",
		"?progress": "integer", "metadata": dict{"string"}, "links": links, "addresses": dict{[]any{addressShape}},
		"hostId": "string", "?OS-DCF:diskConfig": "string", "?accessIPv4": "string", "?accessIPv6": "string",
	}
	serverDetail = withKeys(commonServer, shape{
		"?key_name": "string|null", "?security_groups": []any{shape{"name": "string"}},
		"?OS-SRV-USG:launched_at": "string|null", "?OS-SRV-USG:terminated_at": "string|null",
		"?OS-EXT-AZ:availability_zone": "string", "?OS-EXT-STS:task_state": "string|null",
		"?OS-EXT-STS:vm_state": "string", "?OS-EXT-STS:power_state": "integer",
		"?OS-EXT-SRV-ATTR:host": "string|null", "?OS-EXT-SRV-ATTR:instance_name": "string",
		"?OS-EXT-SRV-ATTR:hypervisor_hostname":  "string|null",
		"?os-extended-volumes:volumes_attached": []any{shape{"id": "string"}}, "?config_drive": "string",
		"addresses": dict{[]any{detailAddressShape}},
	})
	createShape = shape{"server": shape{"id": "string", "?security_groups": []any{shape{"?name": "string"}}, "links": links,
		"?OS-DCF:diskConfig": "string", "adminPass": "string"}}
	listShape      = shape{"servers": []any{shape{"id": "string", "links": links, "name": "string"}}, "?servers_links": links}
	detailShape    = shape{"servers": []any{serverDetail}, "?servers_links": links}
	interfaceShape = shape{"port_state": "string", "fixed_ips": []any{shape{"subnet_id": "string", "ip_address": "string"}},
		"port_id": "string", "net_id": "string", "mac_addr": "string"}
	instanceActionShape = shape{"action": "string", "request_id": "string", "user_id": "string", "project_id": "string",
		"start_time": "datetime", "message": "string|null", "instance_uuid": "string",
		"?events": []any{shape{"event": "string", "start_time": "datetime", "finish_time": "datetime|null",
			"result": "string|null", "?traceback": "string|null"}}}
)

// withKeys is base with more (or replaced) keys.
func withKeys(base, more shape) shape {
	out := shape{}
	for k, v := range base {
		out[k] = v
	}
	for k, v := range more {
		delete(out, k)
		delete(out, "?"+k[min(1, len(k)):])
		out[k] = v
	}
	return out
}

var macAddress = regexp.MustCompile(`^(?:[a-f0-9]{2}:){5}[a-f0-9]{2}$`)

// TestServerShapes checks every server answer against Tempest's schema,
// and what the schema cannot say: null where Nova has null, the admin-only
// attributes for admins alone, the derived IDs.
func TestServerShapes(t *testing.T) {
	e := newServersEnv(t)
	const id = "b0000000-0000-4000-8000-000000000001"
	inst := e.SeedServer(t, e.alpha, id, "web", apitest.CirrosID, apitest.NodeName)
	e.Consoles.Set(id, "boot\x07 done\n")

	for _, who := range []struct {
		name, token string
		admin       bool
	}{{"member", e.alpha.Token, false}, {"admin", apitest.AdminToken, true}} {
		status, raw := e.call(t, "GET", "/servers/"+id, "", who.token)
		if status != 200 {
			t.Fatalf("show as %s: %d %s", who.name, status, raw)
		}
		checkShape(t, "show as "+who.name, raw, shape{"server": serverDetail})
		var got struct{ Server map[string]any }
		decode(t, raw, &got)
		s := got.Server
		if _, ok := s["OS-EXT-SRV-ATTR:host"]; ok != who.admin {
			t.Errorf("as %s: OS-EXT-SRV-ATTR:host present %v", who.name, ok)
		}
		for k, want := range map[string]any{"key_name": nil, "OS-EXT-STS:task_state": nil, "OS-SRV-USG:terminated_at": nil,
			"OS-EXT-STS:vm_state": "active", "OS-EXT-STS:power_state": 1.0, "status": "ACTIVE", "progress": 0.0,
			"config_drive": "", "OS-EXT-AZ:availability_zone": "nova", "hostId": osapi.HostID(e.alpha.ProjectID, apitest.NodeName),
			"OS-DCF:diskConfig": "MANUAL", "accessIPv4": ""} {
			if s[k] != want {
				t.Errorf("as %s: %s is %#v, want %#v", who.name, k, s[k], want)
			}
		}
		addr := s["addresses"].(map[string]any)["default"].([]any)[0].(map[string]any)
		if addr["addr"] != inst.Addresses[0].IP || !macAddress.MatchString(addr["OS-EXT-IPS-MAC:mac_addr"].(string)) {
			t.Errorf("address %v", addr)
		}
		if who.admin && s["OS-EXT-SRV-ATTR:instance_name"] != "shoal-"+id {
			t.Errorf("instance_name %v", s["OS-EXT-SRV-ATTR:instance_name"])
		}
	}

	for path, want := range map[string]any{
		"/servers":                         listShape,
		"/servers/detail":                  detailShape,
		"/servers/" + id + "/ips":          shape{"addresses": dict{[]any{addressShape}}},
		"/servers/" + id + "/ips/default":  dict{[]any{addressShape}},
		"/servers/" + id + "/os-interface": shape{"interfaceAttachments": []any{interfaceShape}},
		"/servers/" + id + "/os-interface/" + osapi.PortID(id, inst.Addresses[0].MAC): shape{"interfaceAttachment": interfaceShape},
		"/servers/" + id + "/os-instance-actions":                                     shape{"instanceActions": []any{instanceActionShape}},
		"/servers/" + id + "/os-instance-actions/req-seed":                            shape{"instanceAction": instanceActionShape},
		"/servers/" + id + "/os-server-password":                                      shape{"password": "string"},
	} {
		for _, token := range []string{e.alpha.Token, apitest.AdminToken} {
			if token == apitest.AdminToken && (path == "/servers" || path == "/servers/detail") {
				continue // the admin's own project has no servers
			}
			status, raw := e.call(t, "GET", path, "", token)
			if status != 200 {
				t.Fatalf("GET %s: %d %s", path, status, raw)
			}
			checkShape(t, path, raw, want)
		}
	}

	// The interface is the port the Neutron module shows: the derived IDs.
	_, raw := e.call(t, "GET", "/servers/"+id+"/os-interface", "", e.alpha.Token)
	var ifaces struct {
		InterfaceAttachments []struct {
			Net      string `json:"net_id"`
			Port     string `json:"port_id"`
			State    string `json:"port_state"`
			FixedIPs []struct {
				Subnet string `json:"subnet_id"`
				IP     string `json:"ip_address"`
			} `json:"fixed_ips"`
		}
	}
	decode(t, raw, &ifaces)
	net := osapi.TenantNetworkID(apitest.ClusterID)
	if a := ifaces.InterfaceAttachments; len(a) != 1 || a[0].Net != net || a[0].Port != osapi.PortID(id, inst.Addresses[0].MAC) ||
		a[0].State != "ACTIVE" || a[0].FixedIPs[0].Subnet != osapi.SubnetID(net) || a[0].FixedIPs[0].IP != inst.Addresses[0].IP {
		t.Errorf("interfaces %s", raw)
	}

	// Events are an admin's.
	_, raw = e.call(t, "GET", "/servers/"+id+"/os-instance-actions/req-seed", "", apitest.AdminToken)
	var shown struct {
		InstanceAction struct {
			Action string
			Events []struct{ Event, Result string }
		}
	}
	decode(t, raw, &shown)
	if a := shown.InstanceAction; a.Action != "create" || len(a.Events) != 1 || a.Events[0].Result != "Success" {
		t.Errorf("admin's action %s", raw)
	}
	_, raw = e.call(t, "GET", "/servers/"+id+"/os-instance-actions/req-seed", "", e.alpha.Token)
	shown.InstanceAction.Events = nil
	decode(t, raw, &shown)
	if len(shown.InstanceAction.Events) != 0 {
		t.Errorf("member sees events: %s", raw)
	}

	// The console output, control characters gone.
	status, raw := e.call(t, "POST", "/servers/"+id+"/action", `{"os-getConsoleOutput":{"length":-1}}`, e.alpha.Token)
	var out map[string]string
	decode(t, raw, &out)
	if status != 200 || len(out) != 1 || out["output"] != "boot done\n" {
		t.Errorf("console: %d %s", status, raw)
	}

	// A rebuild answers the common view and the password, and Location.
	resp, raw := e.Do(t, "POST", "/compute/v2.1/servers/"+id+"/action", `{"rebuild":{"imageRef":"`+apitest.CirrosID+`"}}`,
		e.alpha.Token, "Content-Type", "application/json")
	if resp.StatusCode != 202 || resp.Header.Get("Location") == "" {
		t.Fatalf("rebuild: %d %s", resp.StatusCode, raw)
	}
	checkShape(t, "rebuild", raw, shape{"server": withKeys(commonServer, shape{"adminPass": "string"})})
	status, raw = e.call(t, "POST", "/servers/"+id+"/action", `{"rebuild":{"imageRef":"`+apitest.CirrosID+`"}}`, e.alpha.Token)
	if _, _, msg := fault(t, raw); status != 409 || msg != "Cannot 'rebuild' instance "+id+" while it is in task_state rebuilding" {
		t.Errorf("rebuild while rebuilding: %d %s", status, raw)
	}

	// A create answers Nova's brief shape, with the self link in Location.
	resp, raw = e.Do(t, "POST", "/compute/v2.1/servers", `{"server":{"name":"new","imageRef":"`+apitest.CirrosID+
		`","flavorRef":"1","security_groups":[{"name":"default"}]}}`, e.alpha.Token, "Content-Type", "application/json")
	if resp.StatusCode != 202 {
		t.Fatalf("create: %d %s", resp.StatusCode, raw)
	}
	checkShape(t, "create", raw, createShape)
	var created struct{ Server struct{ Links []osapi.Link } }
	decode(t, raw, &created)
	if resp.Header.Get("Location") != created.Server.Links[0].Href {
		t.Errorf("Location %q, self %q", resp.Header.Get("Location"), created.Server.Links[0].Href)
	}
}

// TestServerViewStates: a building server shows no addresses in the
// server views (Nova hides them until its network is up) but /ips does; a
// failed one shows its fault with the time and no progress.
func TestServerViewStates(t *testing.T) {
	e := newServersEnv(t)
	const building, failed = "c0000000-0000-4000-8000-000000000001", "c0000000-0000-4000-8000-000000000002"
	e.SeedServer(t, e.alpha, building, "b", apitest.CirrosID, "")
	e.SeedServer(t, e.alpha, failed, "f", apitest.CirrosID, "")
	e.Place(t, failed, apitest.NodeName, "disk full")

	var got struct{ Server map[string]any }
	_, raw := e.call(t, "GET", "/servers/"+building, "", e.alpha.Token)
	decode(t, raw, &got)
	checkShape(t, "building", raw, shape{"server": serverDetail})
	if got.Server["status"] != "BUILD" || len(got.Server["addresses"].(map[string]any)) != 0 ||
		got.Server["OS-EXT-STS:task_state"] != fsm.TaskScheduling || got.Server["progress"] != 0.0 {
		t.Errorf("building server %s", raw)
	}
	_, raw = e.call(t, "GET", "/servers/"+building+"/ips", "", e.alpha.Token)
	var ips struct{ Addresses map[string][]json.RawMessage }
	decode(t, raw, &ips)
	if len(ips.Addresses["default"]) != 1 {
		t.Errorf("ips of a building server: %s", raw)
	}

	_, raw = e.call(t, "GET", "/servers/"+failed, "", e.alpha.Token)
	got.Server = nil
	decode(t, raw, &got)
	checkShape(t, "failed", raw, shape{"server": serverDetail})
	f, _ := got.Server["fault"].(map[string]any)
	if got.Server["status"] != "ERROR" || f == nil || f["created"] == "" || f["code"] != 500.0 {
		t.Errorf("failed server %s", raw)
	}
	if _, ok := got.Server["progress"]; ok {
		t.Errorf("progress shown in ERROR: %s", raw)
	}
}
