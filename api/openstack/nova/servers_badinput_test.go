package nova_test

import (
	"strings"
	"testing"

	"github.com/shoal-project/shoal/api/apitest"
)

// TestServerBadInput: each bad request gets Nova's status, fault name and
// (where Nova's words are fixed) message, and changes nothing: the Raft
// index stays where it was, except for the transitions only the FSM can
// judge (it refuses them in Apply: an entry, but the server unchanged).
func TestServerBadInput(t *testing.T) {
	e := newServersEnv(t)
	const id = "e0000000-0000-4000-8000-000000000001"
	e.SeedServer(t, e.alpha, id, "web", apitest.CirrosID, apitest.NodeName)
	e.Consoles.Set(id, "x")
	e.SeedExternalNetwork(t)
	create := func(server string) string {
		return `{"server":{"name":"n","imageRef":"` + apitest.CirrosID + `","flavorRef":"1"` + server + `}}`
	}
	other := "f0000000-0000-4000-8000-00000000000f"
	for _, c := range []struct {
		name, method, path, body, token string
		status                          int
		message                         string // "" when Nova's words are not fixed
	}{
		{"create, no body", "POST", "/servers", "", "", 400, "Malformed request body"},
		{"create, not JSON", "POST", "/servers", "{server", "", 400, "Malformed request body"},
		{"create, no server", "POST", "/servers", `{}`, "", 400, "'server' is a required property"},
		{"create, unknown top key", "POST", "/servers", `{"server":{},"extra":1}`, "", 400,
			"Additional properties are not allowed ('extra' was unexpected)"},
		{"create, no name", "POST", "/servers", `{"server":{"flavorRef":"1"}}`, "", 400, ""},
		{"create, unknown key", "POST", "/servers", create(`,"bogus":1`), "", 400, ""},
		{"create, blank-edged name", "POST", "/servers", `{"server":{"name":" n","flavorRef":"1","imageRef":"` + apitest.CirrosID + `"}}`,
			"", 400, "An invalid 'name' value was provided. The name must be: printable characters. Can not start or end with whitespace."},
		{"create, long name", "POST", "/servers", `{"server":{"name":"` + strings.Repeat("n", 256) + `","flavorRef":"1"}}`, "", 400, ""},
		{"create, image not a UUID", "POST", "/servers", `{"server":{"name":"n","flavorRef":"1","imageRef":"-1"}}`, "", 400, ""},
		{"create, no image", "POST", "/servers", `{"server":{"name":"n","flavorRef":"1"}}`, "", 400, "Missing imageRef attribute"},
		{"create, unknown image", "POST", "/servers", `{"server":{"name":"n","flavorRef":"1","imageRef":"` + other + `"}}`, "", 400, ""},
		{"create, unknown flavor", "POST", "/servers", strings.Replace(create(""), `"flavorRef":"1"`, `"flavorRef":"99"`, 1), "", 400,
			"Flavor 99 could not be found."},
		{"create, flavor by name", "POST", "/servers", strings.Replace(create(""), `"flavorRef":"1"`, `"flavorRef":"m1.tiny"`, 1), "",
			400, "Flavor m1.tiny could not be found."},
		{"create, empty flavor", "POST", "/servers", strings.Replace(create(""), `"flavorRef":"1"`, `"flavorRef":""`, 1), "", 400, ""},
		{"create, metadata value", "POST", "/servers", create(`,"metadata":{"a":1}`), "", 400, ""},
		{"create, metadata key", "POST", "/servers", create(`,"metadata":{"a/b":"c"}`), "", 400, ""},
		{"create, other network", "POST", "/servers", create(`,"networks":[{"uuid":"nope"}]`), "", 400, "Network nope could not be found."},
		{"create, external network", "POST", "/servers", create(`,"networks":[{"uuid":"` + apitest.PublicNetworkID + `"}]`), "", 403,
			"It is not allowed to create an interface on external network " + apitest.PublicNetworkID},
		{"create, port", "POST", "/servers", create(`,"networks":[{"port":"` + other + `"}]`), "", 400,
			"Port id " + other + " could not be found."},
		{"create, fixed IP", "POST", "/servers", create(`,"networks":[{"uuid":"default","fixed_ip":"10.88.0.9"}]`), "", 400, ""},
		{"create, two ports", "POST", "/servers", create(`,"networks":[{"uuid":"default"},{"uuid":"default"}]`), "", 400, ""},
		{"create, min_count 0", "POST", "/servers", create(`,"min_count":0`), "", 400, ""},
		{"create, min_count not a number", "POST", "/servers", create(`,"min_count":"x"`), "", 400, ""},
		{"create, min above max", "POST", "/servers", create(`,"min_count":3,"max_count":2`), "", 400, "min_count must be <= max_count"},
		{"create, unknown key_name", "POST", "/servers", create(`,"key_name":"nokey"`), "", 400, "Invalid key_name provided."},
		{"create, bad accessIPv4", "POST", "/servers", create(`,"accessIPv4":"1.2.3"`), "", 400, ""},
		{"create, personality", "POST", "/servers", create(`,"personality":[{"path":"/a","contents":"eA=="}]`), "", 400, ""},
		{"create, volumes", "POST", "/servers", create(`,"block_device_mapping_v2":[{"boot_index":0}]`), "", 400, ""},
		{"create, config_drive", "POST", "/servers", create(`,"config_drive":"maybe"`), "", 400, ""},
		{"create, user_data", "POST", "/servers", create(`,"user_data":"not base64!"`), "", 400, ""},
		{"create, group hint", "POST", "/servers", create(`},"os:scheduler_hints":{"group":"g"`), "", 400, ""},
		{"create, unknown group", "POST", "/servers", create(`},"os:scheduler_hints":{"group":"` + other + `"`), "", 400, ""},

		{"action, empty", "POST", "/servers/{id}/action", `{}`, "", 400, "Malformed request body"},
		{"action, two", "POST", "/servers/{id}/action", `{"pause":null,"unpause":null}`, "", 400, "Malformed request body"},
		{"action, unknown", "POST", "/servers/{id}/action", `{"frobnicate":null}`, "", 400, "There is no such action: frobnicate"},
		{"action, not served", "POST", "/servers/{id}/action", `{"createImage":{"name":"snap"}}`, "", 400,
			"There is no such action: createImage"},
		{"rebuild, no image", "POST", "/servers/{id}/action", `{"rebuild":{"name":"n"}}`, "", 400, ""},
		{"rebuild, unknown image", "POST", "/servers/{id}/action", `{"rebuild":{"imageRef":"` + other + `"}}`, "", 400,
			"Cannot find image for rebuild"},
		{"rebuild, personality", "POST", "/servers/{id}/action", `{"rebuild":{"imageRef":"` + apitest.CirrosID +
			`","personality":[{"path":"/a","contents":"eA=="}]}}`, "", 400, ""},
		{"restore, not soft-deleted", "POST", "/servers/{id}/action", `{"restore":null}`, "", 409,
			"Cannot 'restore' instance " + id + " while it is in vm_state active"},
		{"force delete, unknown server", "POST", "/servers/" + other + "/action", `{"forceDelete":null}`, "", 404,
			"Instance " + other + " could not be found."},
		{"reboot, no type", "POST", "/servers/{id}/action", `{"reboot":{}}`, "", 400, ""},
		{"reboot, bad type", "POST", "/servers/{id}/action", `{"reboot":{"type":"MEDIUM"}}`, "", 400, ""},
		{"start, active", "POST", "/servers/{id}/action", `{"os-start":null}`, "", 409,
			"Cannot 'start' instance " + id + " while it is in vm_state active"},
		{"unpause, active", "POST", "/servers/{id}/action", `{"unpause":null}`, "", 409,
			"Cannot 'unpause' instance " + id + " while it is in vm_state active"},
		{"resetState, bad state", "POST", "/servers/{id}/action", `{"os-resetState":{"state":"stopped"}}`, apitest.AdminToken, 400, ""},
		{"evacuate, no onSharedStorage", "POST", "/servers/{id}/action", `{"evacuate":{}}`, apitest.AdminToken, 400, ""},
		{"evacuate, to its host", "POST", "/servers/{id}/action", `{"evacuate":{"host":"` + apitest.NodeName + `","onSharedStorage":false}}`,
			apitest.AdminToken, 400, "The target host can't be the same one."},
		{"evacuate, host up", "POST", "/servers/{id}/action", `{"evacuate":{"host":"node2","onSharedStorage":false}}`,
			apitest.AdminToken, 400, "Compute service of " + apitest.NodeName + " is still in use."},
		{"evacuate, password on shared storage", "POST", "/servers/{id}/action",
			`{"evacuate":{"onSharedStorage":true,"adminPass":"p"}}`, apitest.AdminToken, 400, "admin password can't be changed on existing disk"},
		{"console, bad length", "POST", "/servers/{id}/action", `{"os-getConsoleOutput":{"length":"x"}}`, "", 400, ""},
		{"console, length below -1", "POST", "/servers/{id}/action", `{"os-getConsoleOutput":{"length":-2}}`, "", 400, ""},
		{"console, null", "POST", "/servers/{id}/action", `{"os-getConsoleOutput":null}`, "", 400, ""},
		{"add floating IP, no address", "POST", "/servers/{id}/action", `{"addFloatingIp":{}}`, "", 400, ""},
		{"add floating IP, not an address", "POST", "/servers/{id}/action", `{"addFloatingIp":{"address":"x"}}`, "", 400, ""},
		{"add floating IP, not ours", "POST", "/servers/{id}/action", `{"addFloatingIp":{"address":"10.66.0.200"}}`, "", 404,
			"floating IP not found"},
		{"remove floating IP, not ours", "POST", "/servers/{id}/action", `{"removeFloatingIp":{"address":"10.66.0.200"}}`, "", 404,
			"floating IP not found"},
		{"add security group, unknown", "POST", "/servers/{id}/action", `{"addSecurityGroup":{"name":"nope"}}`, "", 404, ""},
		{"add security group, blank", "POST", "/servers/{id}/action", `{"addSecurityGroup":{"name":" "}}`, "", 400, ""},

		{"unknown server", "GET", "/servers/" + other, "", "", 404, "Instance " + other + " could not be found."},
		{"unknown server's action", "POST", "/servers/" + other + "/action", `{"os-stop":null}`, "", 404,
			"Instance " + other + " could not be found."},
		{"unknown network", "GET", "/servers/{id}/ips/public", "", "", 404, "Instance is not a member of specified network"},
		{"unknown port", "GET", "/servers/{id}/os-interface/" + other, "", "", 404, "Port id " + other + " could not be found."},
		{"unknown request", "GET", "/servers/{id}/os-instance-actions/req-x", "", "", 404,
			"Action req-x not found"},
		{"attach interface", "POST", "/servers/{id}/os-interface", `{"interfaceAttachment":{"net_id":"x"}}`, "", 400,
			"Attaching interfaces is not supported for instance " + id + "."},
	} {
		t.Run(c.name, func(t *testing.T) {
			token := c.token
			if token == "" {
				token = e.alpha.Token
			}
			before, server := e.FSM.Index(), e.modified(t, id)
			status, raw := e.call(t, c.method, strings.ReplaceAll(c.path, "{id}", id), c.body, token)
			if status != c.status {
				t.Fatalf("%d, want %d: %s", status, c.status, raw)
			}
			_, code, msg := fault(t, raw)
			if code != c.status || c.message != "" && msg != c.message {
				t.Errorf("fault %s, want %q", raw, c.message)
			}
			if after := e.FSM.Index(); after != before && status != 409 && !strings.Contains(c.name, "host up") {
				t.Errorf("the index moved from %d to %d", before, after)
			}
			if after := e.modified(t, id); after != server {
				t.Errorf("the server changed at %d", after)
			}
		})
	}
}

// modified is the index the server last changed at.
func (e *serversEnv) modified(t *testing.T, id string) uint64 {
	t.Helper()
	inst, err := e.FSM.Instance(id)
	if err != nil {
		t.Fatal(err)
	}
	return inst.ModifyIndex
}
