package api

import (
	"fmt"
	"net/http/httptest"
	"net/url"
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
		{"unknown flavor", "POST", "/v1/servers", `{"server":{"name":"vm","flavor":"nope","image":"cirros"}}`, 400, `Flavor nope could not be found.`},
		{"missing image", "POST", "/v1/servers", `{"server":{"name":"vm","flavor":"1"}}`, 400, "image is required"},
		{"unknown image", "POST", "/v1/servers", `{"server":{"name":"vm","flavor":"1","image":"nope"}}`, 400, `Image nope could not be found.`},
		{"ambiguous image", "POST", "/v1/servers", `{"server":{"name":"vm","flavor":"1","image":"twin"}}`, 400, "ambiguous"},
		{"queued image", "POST", "/v1/servers", `{"server":{"name":"vm","flavor":"1","image":"queued"}}`, 400, "not active"},
		{"image needs RAM", "POST", "/v1/servers", `{"server":{"name":"vm","flavor":"1","image":"hungry"}}`, 400, "memory is too small"},
		{"image larger than disk", "POST", "/v1/servers", `{"server":{"name":"vm","flavor":"1","image":"fat"}}`, 400, "disk is too small"},
		{"image min disk", "POST", "/v1/servers", `{"server":{"name":"vm","flavor":"1","image":"picky"}}`, 400, "minimum size"},
		{"unknown group", "POST", "/v1/servers", server(`,"server_group":"nope"`), 400, `Server group nope could not be found.`},
		{"zero count", "POST", "/v1/servers", server(`,"count":0`), 400, "count"},
		{"negative count", "POST", "/v1/servers", server(`,"count":-1`), 400, "count"},
		{"huge count", "POST", "/v1/servers", server(`,"count":101`), 400, "count"},
		{"string count", "POST", "/v1/servers", server(`,"count":"2"`), 400, "integer"},
		// How many items is the metadata_items quota (Nova's 403 and message).
		{"too much metadata", "POST", "/v1/servers", server(manyMeta(129)), 403, "Maximum number of metadata items exceeds 128"},
		{"empty metadata key", "POST", "/v1/servers", server(`,"metadata":{"":"v"}`), 400, "empty"},
		{"long metadata key", "POST", "/v1/servers", server(`,"metadata":{"` + long + `":"v"}`), 400, "255"},
		{"long metadata value", "POST", "/v1/servers", server(`,"metadata":{"k":"` + long + `"}`), 400, "255"},
		{"metadata not strings", "POST", "/v1/servers", server(`,"metadata":{"k":1}`), 400, "string"},
		{"az empty host", "POST", "/v1/servers", server(`,"availability_zone":"nova:"`), 400, "ZONE:HOST"},
		{"az with node", "POST", "/v1/servers", server(`,"availability_zone":"nova:node1:x"`), 400, "ZONE:HOST"},
		{"az unknown host", "POST", "/v1/servers", server(`,"availability_zone":":ghost"`), 400, `Host ghost could not be found.`},

		// GET /v1/servers filters
		{"bad regexp", "GET", "/v1/servers?name=(", "", 400, "regular expression"},
		{"bad status", "GET", "/v1/servers?status=RUNNING", "", 400, "RUNNING"},
		{"zero limit", "GET", "/v1/servers?limit=0", "", 400, "limit"},
		{"negative limit", "GET", "/v1/servers?limit=-1", "", 400, "limit"},
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
			id := seedServer(t, ts)
			before := c.snapshot()
			resp, raw := call(t, ts, tt.method, strings.ReplaceAll(tt.path, vm, id), tt.body)
			wantError(t, resp, raw, tt.status, tt.contains)
			if after := c.snapshot(); !reflect.DeepEqual(after, before) {
				t.Errorf("state changed: index %d→%d, applied %d→%d", before.index, after.index, before.applied, after.applied)
			}
		})
	}
}

// TestJSONText checks every JSON body the API decodes for what encoding/json
// would silently turn into U+FFFD (a \u escape of half a UTF-16 surrogate
// pair, bytes that are not UTF-8): each is refused with 400 and changes
// nothing, wherever it sits (a value, a key, inside a wrapper).
func TestJSONText(t *testing.T) {
	const vm = "{vm}"
	bodies := []struct{ name, method, path, body string }{
		{"server", "POST", "/v1/servers", `{"server":{"name":"%s","flavor":"1","image":"cirros"}}`},
		{"server metadata key", "POST", "/v1/servers", `{"server":{"name":"vm","flavor":"1","image":"cirros","metadata":{"%s":"v"}}}`},
		{"wrapper key", "POST", "/v1/servers", `{"%s":{"name":"vm","flavor":"1","image":"cirros"}}`},
		{"flavor", "POST", "/v1/flavors", `{"flavor":{"name":"%s","vcpus":1,"ram":1,"disk":0}}`},
		{"bare flavor", "POST", "/v1/flavors", `{"name":"%s","vcpus":1,"ram":1,"disk":0}`},
		{"image", "POST", "/v1/images", `{"name":"%s","disk_format":"qcow2","container_format":"bare"}`},
		{"image property", "POST", "/v1/images", `{"name":"i","disk_format":"qcow2","container_format":"bare","properties":{"k":"%s"}}`},
		{"server group", "POST", "/v1/server-groups", `{"server_group":{"name":"%s","policy":"affinity"}}`},
		{"server action", "POST", "/v1/servers/" + vm + "/action", `{"action":"reset-state","state":"%s"}`},
		{"host disable", "POST", "/v1/hosts/node1/disable", `{"reason":"%s"}`},
		{"host evacuate", "POST", "/v1/hosts/node2/evacuate", `{"host":"%s"}`},
		{"join token", "POST", "/v1/cluster/join-tokens", `{"ttl":"%s"}`},
	}
	texts := []struct{ name, text, contains string }{
		{"lone high surrogate", `\ud800`, "surrogate"},
		{"lone low surrogate", `a\udc00b`, "surrogate"},
		{"high then letter", `\ud83d\u0041`, "surrogate"},
		{"two highs", `\ud83d\ud83d\ude00`, "surrogate"},
		{"low then high", `\ude00\ud83d`, "surrogate"},
		{"escaped backslash, then lone", `\\\ud800`, "surrogate"},
		{"raw surrogate bytes", "\xed\xa0\x80", "UTF-8"},
		{"bad byte", "a\xffb", "UTF-8"},
	}
	for _, b := range bodies {
		for _, tx := range texts {
			t.Run(b.name+"/"+tx.name, func(t *testing.T) {
				c, ts := newTestServer(t)
				c.seedCompute(t)
				id := seedServer(t, ts)
				before := c.snapshot()
				resp, raw := call(t, ts, b.method, strings.ReplaceAll(b.path, vm, id), fmt.Sprintf(b.body, tx.text))
				wantError(t, resp, raw, 400, tx.contains)
				if after := c.snapshot(); !reflect.DeepEqual(after, before) {
					t.Errorf("state changed: index %d→%d, applied %d→%d", before.index, after.index, before.applied, after.applied)
				}
			})
		}
	}
}

// TestJSONTextKept: what is well formed passes the check unchanged: a
// surrogate pair is one character, and an escaped backslash before "u" is
// just text.
func TestJSONTextKept(t *testing.T) {
	tests := []struct{ sent, stored string }{
		{`\ud83d\ude00 smile`, "😀 smile"},
		{`\uD83D\uDE00`, "😀"},
		{`a\\ud800`, `a\ud800`},
		{`caf\u00e9 \u2603`, "café ☃"},
		{"raw 😀", "raw 😀"},
	}
	for _, tt := range tests {
		t.Run(tt.stored, func(t *testing.T) {
			_, ts := newTestServer(t)
			resp, raw := call(t, ts, "POST", "/v1/flavors", `{"flavor":{"name":"`+tt.sent+`","vcpus":1,"ram":1,"disk":0}}`)
			if resp.StatusCode != 201 {
				t.Fatalf("create = %d %s", resp.StatusCode, raw)
			}
			if got := decode[FlavorResponse](t, raw).Flavor.Name; got != tt.stored {
				t.Errorf("stored name %q, want %q", got, tt.stored)
			}
		})
	}
}

// TestServerListLimit: a limit above the page maximum is a full page, as in
// Nova; what is not a positive integer is refused.
func TestServerListLimit(t *testing.T) {
	tests := []struct {
		limit string
		want  int
		ok    bool
	}{
		{"1", 1, true},
		{"1000", maxListLimit, true},
		{"1001", maxListLimit, true},
		{"99999999", maxListLimit, true},
		{"0", 0, false},
		{"-1", 0, false},
		{"ten", 0, false},
		{"1.5", 0, false},
	}
	for _, tt := range tests {
		q, err := parseServerQuery(url.Values{"limit": {tt.limit}})
		if (err == nil) != tt.ok || q.Limit != tt.want {
			t.Errorf("limit=%s: Limit %d, err %v; want %d, ok %v", tt.limit, q.Limit, err, tt.want, tt.ok)
		}
	}
	c, ts := newTestServer(t)
	c.seedCompute(t)
	for range 3 {
		if resp, raw := call(t, ts, "POST", "/v1/servers", `{"server":{"name":"vm","flavor":"1","image":"cirros"}}`); resp.StatusCode != 202 {
			t.Fatalf("create = %d %s", resp.StatusCode, raw)
		}
	}
	resp, raw := call(t, ts, "GET", "/v1/servers?limit=1001", "")
	if resp.StatusCode != 200 || len(decode[ServerList](t, raw).Servers) != 3 {
		t.Errorf("GET limit=1001 = %d %s", resp.StatusCode, raw)
	}
}

// seedServer creates the server "existing" (flavor 1, image cirros) that the
// bad requests aim at, and returns its ID.
func seedServer(t *testing.T, ts *httptest.Server) string {
	t.Helper()
	resp, raw := call(t, ts, "POST", "/v1/servers", `{"server":{"name":"existing","flavor":"1","image":"cirros"}}`)
	if resp.StatusCode != 202 {
		t.Fatalf("seed server = %d %s", resp.StatusCode, raw)
	}
	return decode[ServerResponse](t, raw).Server.ID
}
