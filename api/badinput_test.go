package api

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
)

// TestComputeBadInput checks that every refused request answers 4xx with the
// error shape and leaves the replica exactly as it was: same index, nothing
// proposed, same servers, images, groups, hosts and flavors.
func TestComputeBadInput(t *testing.T) {
	server := func(fields string) string {
		return `{"server":{"name":"vm","flavor":"m1.tiny","image":"cirros"` + fields + `}}`
	}
	long := strings.Repeat("x", 256)
	manyMeta := func(n int) string {
		var kv []string
		for k := range n {
			kv = append(kv, fmt.Sprintf(`"k%d":"v"`, k))
		}
		return `,"metadata":{` + strings.Join(kv, ",") + `}`
	}
	image := func(mod string) string {
		return `{"name":"img","disk_format":"qcow2","container_format":"bare"` + mod + `}`
	}
	const vm = "{vm}" // replaced by the existing server's ID
	tests := []struct {
		name, method, path, body string
		status                   int
		contains                 string
	}{
		// POST /v1/servers
		{"empty body", "POST", "/v1/servers", "", 400, "empty"},
		{"malformed", "POST", "/v1/servers", `{"server":`, 400, "truncated"},
		{"null server", "POST", "/v1/servers", `{"server":null}`, 400, "object"},
		{"server not object", "POST", "/v1/servers", `{"server":3}`, 400, "object"},
		{"extra wrapper key", "POST", "/v1/servers", `{"server":{"name":"vm","flavor":"1","image":"cirros"},"x":1}`, 400, `"x"`},
		{"unknown field", "POST", "/v1/servers", server(`,"networks":"auto"`), 400, `"networks"`},
		{"trailing data", "POST", "/v1/servers", server("") + "{}", 400, "after"},
		{"missing name", "POST", "/v1/servers", `{"server":{"flavor":"1","image":"cirros"}}`, 400, "name must not be empty"},
		{"long name", "POST", "/v1/servers", `{"server":{"name":"` + long + `","flavor":"1","image":"cirros"}}`, 400, "255"},
		{"control in name", "POST", "/v1/servers", `{"server":{"name":"a\tb","flavor":"1","image":"cirros"}}`, 400, "control"},
		{"count makes long name", "POST", "/v1/servers", `{"server":{"name":"` + long[:254] + `","flavor":"1","image":"cirros","count":2}}`, 400, "255"},
		{"missing flavor", "POST", "/v1/servers", `{"server":{"name":"vm","image":"cirros"}}`, 400, "flavor is required"},
		{"unknown flavor", "POST", "/v1/servers", `{"server":{"name":"vm","flavor":"nope","image":"cirros"}}`, 400, `flavor "nope" could not be found`},
		{"missing image", "POST", "/v1/servers", `{"server":{"name":"vm","flavor":"1"}}`, 400, "image is required"},
		{"unknown image", "POST", "/v1/servers", `{"server":{"name":"vm","flavor":"1","image":"nope"}}`, 400, `image "nope" could not be found`},
		{"ambiguous image", "POST", "/v1/servers", `{"server":{"name":"vm","flavor":"1","image":"twin"}}`, 400, "ambiguous"},
		{"queued image", "POST", "/v1/servers", `{"server":{"name":"vm","flavor":"1","image":"queued"}}`, 400, "not active"},
		{"image needs RAM", "POST", "/v1/servers", `{"server":{"name":"vm","flavor":"1","image":"hungry"}}`, 400, "memory is too small"},
		{"image larger than disk", "POST", "/v1/servers", `{"server":{"name":"vm","flavor":"1","image":"fat"}}`, 400, "disk is too small"},
		{"image min disk", "POST", "/v1/servers", `{"server":{"name":"vm","flavor":"1","image":"picky"}}`, 400, "minimum size"},
		{"unknown group", "POST", "/v1/servers", server(`,"server_group":"nope"`), 400, `server group "nope" could not be found`},
		{"zero count", "POST", "/v1/servers", server(`,"count":0`), 400, "count"},
		{"negative count", "POST", "/v1/servers", server(`,"count":-1`), 400, "count"},
		{"huge count", "POST", "/v1/servers", server(`,"count":101`), 400, "count"},
		{"string count", "POST", "/v1/servers", server(`,"count":"2"`), 400, "integer"},
		{"too much metadata", "POST", "/v1/servers", server(manyMeta(129)), 400, "128"},
		{"empty metadata key", "POST", "/v1/servers", server(`,"metadata":{"":"v"}`), 400, "empty"},
		{"long metadata key", "POST", "/v1/servers", server(`,"metadata":{"` + long + `":"v"}`), 400, "255"},
		{"long metadata value", "POST", "/v1/servers", server(`,"metadata":{"k":"` + long + `"}`), 400, "255"},
		{"metadata not strings", "POST", "/v1/servers", server(`,"metadata":{"k":1}`), 400, "string"},
		{"az empty host", "POST", "/v1/servers", server(`,"availability_zone":"nova:"`), 400, "ZONE:HOST"},
		{"az with node", "POST", "/v1/servers", server(`,"availability_zone":"nova:node1:x"`), 400, "ZONE:HOST"},
		{"az unknown host", "POST", "/v1/servers", server(`,"availability_zone":":ghost"`), 400, `host "ghost" could not be found`},

		// GET /v1/servers filters
		{"bad regexp", "GET", "/v1/servers?name=(", "", 400, "regular expression"},
		{"bad status", "GET", "/v1/servers?status=RUNNING", "", 400, "RUNNING"},
		{"zero limit", "GET", "/v1/servers?limit=0", "", 400, "limit"},
		{"huge limit", "GET", "/v1/servers?limit=1001", "", 400, "limit"},
		{"word limit", "GET", "/v1/servers?limit=ten", "", 400, "limit"},
		{"unknown marker", "GET", "/v1/servers?marker=nope", "", 400, "marker"},
		{"unknown parameter", "GET", "/v1/servers?flavor=1", "", 400, `"flavor"`},
		{"repeated parameter", "GET", "/v1/servers?host=a&host=b", "", 400, "2 times"},
		{"show unknown", "GET", "/v1/servers/nope", "", 404, "nope"},
		{"delete unknown", "DELETE", "/v1/servers/nope", "", 404, "nope"},
		{"actions of unknown", "GET", "/v1/servers/nope/actions", "", 404, "nope"},

		// POST /v1/servers/{id}/action
		{"action unknown server", "POST", "/v1/servers/nope/action", `{"action":"start"}`, 404, "nope"},
		{"action empty", "POST", "/v1/servers/" + vm + "/action", "", 400, "empty"},
		{"action unknown", "POST", "/v1/servers/" + vm + "/action", `{"action":"explode"}`, 400, "unknown action"},
		{"action delete", "POST", "/v1/servers/" + vm + "/action", `{"action":"delete"}`, 400, "unknown action"},
		{"action missing", "POST", "/v1/servers/" + vm + "/action", `{}`, 400, "unknown action"},
		{"action extra field", "POST", "/v1/servers/" + vm + "/action", `{"action":"start","force":true}`, 400, `"force"`},
		{"reboot bad type", "POST", "/v1/servers/" + vm + "/action", `{"action":"reboot","type":"MEDIUM"}`, 400, "SOFT or HARD"},
		{"type with stop", "POST", "/v1/servers/" + vm + "/action", `{"action":"stop","type":"HARD"}`, 400, "only with reboot"},
		{"reset-state no state", "POST", "/v1/servers/" + vm + "/action", `{"action":"reset-state"}`, 400, "active or error"},
		{"reset-state bad state", "POST", "/v1/servers/" + vm + "/action", `{"action":"reset-state","state":"paused"}`, 400, "active or error"},
		{"state with start", "POST", "/v1/servers/" + vm + "/action", `{"action":"start","state":"active"}`, 400, "only with reset-state"},

		// images
		{"image no name", "POST", "/v1/images", `{"disk_format":"qcow2","container_format":"bare"}`, 400, "name"},
		{"image bad disk format", "POST", "/v1/images", `{"name":"i","disk_format":"exe","container_format":"bare"}`, 400, "disk_format"},
		{"image no disk format", "POST", "/v1/images", `{"name":"i","container_format":"bare"}`, 400, "disk_format"},
		{"image bad container", "POST", "/v1/images", `{"name":"i","disk_format":"raw","container_format":"zip"}`, 400, "container_format"},
		{"image with size", "POST", "/v1/images", image(`,"size":1024`), 400, "read-only"},
		{"image fractional size", "POST", "/v1/images", image(`,"size":1.5`), 400, "integer"},
		{"image negative min_ram", "POST", "/v1/images", image(`,"min_ram":-1`), 400, "min_ram"},
		{"image negative min_disk", "POST", "/v1/images", image(`,"min_disk":-1`), 400, "min_disk"},
		{"image with checksum", "POST", "/v1/images", image(`,"checksum":"` + strings.Repeat("ab", 32) + `"`), 400, "read-only"},
		{"image bad id", "POST", "/v1/images", image(`,"id":"my-image"`), 400, "UUID"},
		{"image duplicate id", "POST", "/v1/images", image(`,"id":"0f0e0d0c-0000-4000-8000-000000000001"`), 409, "already exists"},
		{"image status given", "POST", "/v1/images", image(`,"status":"active"`), 400, `"status"`},
		{"image long property", "POST", "/v1/images", image(`,"properties":{"k":"` + long + `"}`), 400, "255"},
		{"image property control", "POST", "/v1/images", image(`,"properties":{"k\n":"v"}`), 400, "control"},
		{"image too many properties", "POST", "/v1/images", image(strings.Replace(manyMeta(129), "metadata", "properties", 1)), 400, "128"},
		{"image show unknown", "GET", "/v1/images/nope", "", 404, "nope"},
		{"image show ambiguous", "GET", "/v1/images/twin", "", 409, "use the ID"},
		{"image delete unknown", "DELETE", "/v1/images/nope", "", 404, "nope"},
		{"image delete in use", "DELETE", "/v1/images/cirros", "", 409, "in use by 1 server"},

		// server groups
		{"group no policy", "POST", "/v1/server-groups", `{"server_group":{"name":"g"}}`, 400, "policy"},
		{"group bad policy", "POST", "/v1/server-groups", `{"server_group":{"name":"g","policy":"together"}}`, 400, "together"},
		{"group policies list", "POST", "/v1/server-groups", `{"server_group":{"name":"g","policies":["affinity"]}}`, 400, `"policies"`},
		{"group empty name", "POST", "/v1/server-groups", `{"server_group":{"name":"","policy":"affinity"}}`, 400, "name"},
		{"group show unknown", "GET", "/v1/server-groups/nope", "", 404, "nope"},
		{"group delete unknown", "DELETE", "/v1/server-groups/nope", "", 404, "nope"},

		// hosts and hypervisors
		{"disable unknown host", "POST", "/v1/hosts/ghost/disable", "", 404, "ghost"},
		{"enable unknown host", "POST", "/v1/hosts/ghost/enable", "", 404, "ghost"},
		{"disable long reason", "POST", "/v1/hosts/node1/disable", `{"reason":"` + long + `"}`, 400, "255"},
		{"disable bad field", "POST", "/v1/hosts/node1/disable", `{"why":"x"}`, 400, `"why"`},
		{"enable with body", "POST", "/v1/hosts/node1/enable", `{"reason":"x"}`, 400, `"reason"`},
		{"disable wrong method", "GET", "/v1/hosts/node1/disable", "", 405, "POST"},
		{"hypervisor unknown", "GET", "/v1/hypervisors/ghost", "", 404, "ghost"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, ts := newTestServer(t)
			c.seedCompute(t)
			c.seedOddImages(t)
			resp, raw := call(t, ts, "POST", "/v1/servers", `{"server":{"name":"existing","flavor":"1","image":"cirros"}}`)
			if resp.StatusCode != 202 {
				t.Fatalf("seed server = %d %s", resp.StatusCode, raw)
			}
			id := decode[ServerResponse](t, raw).Server.ID
			before := c.snapshot()
			resp, raw = call(t, ts, tt.method, strings.ReplaceAll(tt.path, vm, id), tt.body)
			wantError(t, resp, raw, tt.status, tt.contains)
			if after := c.snapshot(); !reflect.DeepEqual(after, before) {
				t.Errorf("state changed: index %d→%d, applied %d→%d", before.index, after.index, before.applied, after.applied)
			}
		})
	}
}
