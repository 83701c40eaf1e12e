package nova_test

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/shoal-project/shoal/api"
	"github.com/shoal-project/shoal/api/apitest"
	"github.com/shoal-project/shoal/api/openstack/nova"
	"github.com/shoal-project/shoal/api/openstack/osapi"
	"github.com/shoal-project/shoal/fsm"
)

// routeRecorder lists the patterns a module registers, with their access.
type routeRecorder map[string]api.Access

func (r routeRecorder) Route(pattern string, a api.Access, _ http.HandlerFunc) { r[pattern] = a }

// Who a policy row's request is made as.
const (
	asAnonymous = iota
	asReader    // a reader of the server's project
	asMember    // a member of it
	asOther     // a member of another project
	asAdmin
)

var callerNames = [5]string{"anonymous", "reader", "member", "other project", "admin"}

// serverPolicyRows: every pattern of the servers part, with the status each
// caller gets on a running server of alpha's ({id} in path; {port} its
// port). Nova's default policies: reading a server is a project reader's,
// changing it a member's, resetState and evacuate an admin's; another
// project's server is absent (404), even where the caller could not act.
var serverPolicyRows = []struct {
	pattern, path, body string
	want                [5]int
}{
	{"GET /compute/v2.1/servers", "/servers", "", [5]int{401, 200, 200, 200, 200}},
	{"GET /compute/v2.1/servers/detail", "/servers/detail", "", [5]int{401, 200, 200, 200, 200}},
	{"POST /compute/v2.1/servers", "/servers", `{"server":{"name":"p","imageRef":"` + apitest.CirrosID + `","flavorRef":"1"}}`,
		[5]int{401, 403, 202, 202, 202}},
	{"GET /compute/v2.1/servers/{id}", "/servers/{id}", "", [5]int{401, 200, 200, 404, 200}},
	{"PUT /compute/v2.1/servers/{id}", "/servers/{id}", `{"server":{"name":"renamed"}}`, [5]int{401, 403, 200, 404, 200}},
	{"DELETE /compute/v2.1/servers/{id}", "/servers/{id}", "", [5]int{401, 403, 204, 404, 204}},
	{"POST /compute/v2.1/servers/{id}/action", "/servers/{id}/action", `{"os-stop":null}`, [5]int{401, 403, 202, 404, 202}},
	{"POST /compute/v2.1/servers/{id}/action", "/servers/{id}/action", `{"os-resetState":{"state":"error"}}`,
		[5]int{401, 403, 403, 404, 202}},
	// The server's host is up: an admin is told evacuate needs it down.
	{"POST /compute/v2.1/servers/{id}/action", "/servers/{id}/action", `{"evacuate":{"onSharedStorage":false}}`,
		[5]int{401, 403, 403, 404, 400}},
	{"POST /compute/v2.1/servers/{id}/action", "/servers/{id}/action", `{"os-getConsoleOutput":{"length":5}}`,
		[5]int{401, 403, 200, 404, 200}},
	{"POST /compute/v2.1/servers/{id}/action", "/servers/{id}/action", `{"lock":null}`, [5]int{401, 403, 202, 404, 202}},
	{"POST /compute/v2.1/servers/{id}/action", "/servers/{id}/action", `{"forceDelete":null}`, [5]int{401, 403, 202, 404, 202}},
	{"POST /compute/v2.1/servers/{id}/action", "/servers/{id}/action", `{"rebuild":{"imageRef":"` + apitest.CirrosID + `"}}`,
		[5]int{401, 403, 202, 404, 202}},
	{"GET /compute/v2.1/servers/{id}/metadata", "/servers/{id}/metadata", "", [5]int{401, 200, 200, 404, 200}},
	{"PUT /compute/v2.1/servers/{id}/metadata", "/servers/{id}/metadata", `{"metadata":{"a":"b"}}`, [5]int{401, 403, 200, 404, 200}},
	{"POST /compute/v2.1/servers/{id}/metadata", "/servers/{id}/metadata", `{"metadata":{"a":"b"}}`, [5]int{401, 403, 200, 404, 200}},
	{"GET /compute/v2.1/servers/{id}/metadata/{key}", "/servers/{id}/metadata/k", "", [5]int{401, 200, 200, 404, 200}},
	{"PUT /compute/v2.1/servers/{id}/metadata/{key}", "/servers/{id}/metadata/k", `{"meta":{"k":"w"}}`,
		[5]int{401, 403, 200, 404, 200}},
	{"DELETE /compute/v2.1/servers/{id}/metadata/{key}", "/servers/{id}/metadata/k", "", [5]int{401, 403, 204, 404, 204}},
	{"GET /compute/v2.1/servers/{id}/ips", "/servers/{id}/ips", "", [5]int{401, 200, 200, 404, 200}},
	{"GET /compute/v2.1/servers/{id}/ips/{network}", "/servers/{id}/ips/default", "", [5]int{401, 200, 200, 404, 200}},
	{"GET /compute/v2.1/servers/{id}/os-interface", "/servers/{id}/os-interface", "", [5]int{401, 200, 200, 404, 200}},
	{"GET /compute/v2.1/servers/{id}/os-interface/{port}", "/servers/{id}/os-interface/{port}", "",
		[5]int{401, 200, 200, 404, 200}},
	{"POST /compute/v2.1/servers/{id}/os-interface", "/servers/{id}/os-interface", `{"interfaceAttachment":{}}`,
		[5]int{401, 403, 400, 404, 400}},
	{"DELETE /compute/v2.1/servers/{id}/os-interface/{port}", "/servers/{id}/os-interface/{port}", "",
		[5]int{401, 403, 501, 404, 501}},
	{"GET /compute/v2.1/servers/{id}/os-instance-actions", "/servers/{id}/os-instance-actions", "",
		[5]int{401, 200, 200, 404, 200}},
	{"GET /compute/v2.1/servers/{id}/os-instance-actions/{request}", "/servers/{id}/os-instance-actions/req-seed", "",
		[5]int{401, 200, 200, 404, 200}},
	{"GET /compute/v2.1/servers/{id}/os-security-groups", "/servers/{id}/os-security-groups", "",
		[5]int{401, 200, 200, 404, 200}},
	{"GET /compute/v2.1/servers/{id}/os-server-password", "/servers/{id}/os-server-password", "",
		[5]int{401, 200, 200, 404, 200}},
	{"DELETE /compute/v2.1/servers/{id}/os-server-password", "/servers/{id}/os-server-password", "",
		[5]int{401, 403, 204, 404, 204}},
	// Server tags exist from 2.26: at 2.1 every role gets past the policy
	// to the microversion's 404 (TestServerTags covers them at 2.26).
	{"GET /compute/v2.1/servers/{id}/tags", "/servers/{id}/tags", "", [5]int{401, 404, 404, 404, 404}},
	{"PUT /compute/v2.1/servers/{id}/tags", "/servers/{id}/tags", `{"tags":[]}`, [5]int{401, 403, 404, 404, 404}},
	{"DELETE /compute/v2.1/servers/{id}/tags", "/servers/{id}/tags", "", [5]int{401, 403, 404, 404, 404}},
	{"GET /compute/v2.1/servers/{id}/tags/{tag}", "/servers/{id}/tags/t", "", [5]int{401, 404, 404, 404, 404}},
	{"PUT /compute/v2.1/servers/{id}/tags/{tag}", "/servers/{id}/tags/t", "", [5]int{401, 403, 404, 404, 404}},
	{"DELETE /compute/v2.1/servers/{id}/tags/{tag}", "/servers/{id}/tags/t", "", [5]int{401, 403, 404, 404, 404}},
	// Moving servers: live and cold migration are an admin's, resize the
	// owner's; a server's migrations are an admin's (from 2.22–2.24: at
	// 2.1 the admin gets past the policy to the microversion's 404).
	{"POST /compute/v2.1/servers/{id}/action", "/servers/{id}/action", `{"migrate":null}`, [5]int{401, 403, 403, 404, 202}},
	{"POST /compute/v2.1/servers/{id}/action", "/servers/{id}/action",
		`{"os-migrateLive":{"host":null,"block_migration":false,"disk_over_commit":false}}`, [5]int{401, 403, 403, 404, 202}},
	{"POST /compute/v2.1/servers/{id}/action", "/servers/{id}/action", `{"resize":{"flavorRef":"2"}}`,
		[5]int{401, 403, 202, 404, 202}},
	{"POST /compute/v2.1/servers/{id}/action", "/servers/{id}/action", `{"confirmResize":null}`,
		[5]int{401, 403, 409, 404, 409}},
	{"GET /compute/v2.1/servers/{id}/migrations", "/servers/{id}/migrations", "", [5]int{401, 403, 403, 403, 404}},
	{"GET /compute/v2.1/servers/{id}/migrations/{mid}", "/servers/{id}/migrations/1", "", [5]int{401, 403, 403, 403, 404}},
	{"DELETE /compute/v2.1/servers/{id}/migrations/{mid}", "/servers/{id}/migrations/1", "", [5]int{401, 403, 403, 403, 404}},
	{"POST /compute/v2.1/servers/{id}/migrations/{mid}/action", "/servers/{id}/migrations/1/action", `{"force_complete":null}`,
		[5]int{401, 403, 403, 403, 404}},
	// Removed with nova-network: 410 for anyone with a token, as Nova.
	{"GET /compute/v2.1/servers/{id}/os-virtual-interfaces", "/servers/{id}/os-virtual-interfaces", "",
		[5]int{401, 410, 410, 410, 410}},
}

// TestServerPolicy runs every row as every caller, each on a server of its
// own, and checks the error bodies: api's 401 (keystonemiddleware's), and
// Nova's faults for the rest.
func TestServerPolicy(t *testing.T) {
	rec := routeRecorder{}
	nova.New().Register(rec, nil)
	for pattern := range rec {
		if strings.HasPrefix(pattern, strings.Fields(pattern)[0]+" /compute/v2.1/servers") &&
			!slices.ContainsFunc(serverPolicyRows, func(row struct {
				pattern, path, body string
				want                [5]int
			}) bool {
				return row.pattern == pattern
			}) {
			t.Errorf("pattern %q has no policy row", pattern)
		}
	}

	e := newServersEnv(t)
	tokens := [5]string{"", e.reader.Token, e.alpha.Token, e.beta.Token, apitest.AdminToken}
	n := 0
	for _, row := range serverPolicyRows {
		for who, want := range row.want {
			t.Run(fmt.Sprintf("%s %s as %s", row.pattern, row.body, callerNames[who]), func(t *testing.T) {
				n++
				id := fmt.Sprintf("a0000000-0000-4000-8000-%012d", n)
				inst := e.SeedServer(t, e.alpha, id, fmt.Sprintf("srv-%d", n), apitest.CirrosID, apitest.NodeName)
				e.Consoles.Set(id, "login:\n")
				e.Apply(t, &fsm.UpdateInstanceMetadata{ID: id, Set: map[string]string{"k": "v"}, Time: apitest.SeedTime})
				path := strings.ReplaceAll(row.path, "{id}", id)
				path = strings.ReplaceAll(path, "{port}", osapi.PortID(id, inst.Addresses[0].MAC))
				status, raw := e.call(t, strings.Fields(row.pattern)[0], path, row.body, tokens[who])
				if status != want {
					t.Fatalf("%d, want %d: %s", status, want, raw)
				}
				switch {
				case status == 401:
					if !strings.Contains(string(raw), `"error":{"code":401`) {
						t.Errorf("401 body %s, want keystonemiddleware's", raw)
					}
				case status >= 400:
					name, code, msg := fault(t, raw)
					if code != status || name == "" || msg == "" {
						t.Errorf("fault %s", raw)
					}
					if status == 404 && who == asOther && !strings.Contains(row.path, "/tags") &&
						msg != "Instance "+id+" could not be found." {
						t.Errorf("404 says %q", msg)
					}
				}
			})
		}
	}
}
