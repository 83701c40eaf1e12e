package nova_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/shoal-project/shoal/api"
	"github.com/shoal-project/shoal/api/apitest"
	"github.com/shoal-project/shoal/api/openstack/nova"
	"github.com/shoal-project/shoal/fsm"
)

// policyTable is who may call each route this part registers (Nova's
// default policies; /servers and below are the servers part's, with a
// table of their own). A route registered without a row, or a row without
// a route, fails TestPolicyTable.
var policyTable = map[string]api.Access{
	"GET /compute":                                                  api.AccessPublic,
	"GET /compute/{$}":                                              api.AccessPublic,
	"GET /compute/v2":                                               api.AccessPublic,
	"GET /compute/v2/{$}":                                           api.AccessPublic,
	"GET /compute/v2.1":                                             api.AccessPublic,
	"GET /compute/v2.1/{$}":                                         api.AccessPublic,
	"GET /compute/v2.1/extensions":                                  api.AccessAuthenticated,
	"GET /compute/v2.1/extensions/{alias}":                          api.AccessAuthenticated,
	"GET /compute/v2.1/flavors":                                     api.AccessAuthenticated,
	"GET /compute/v2.1/flavors/detail":                              api.AccessAuthenticated,
	"GET /compute/v2.1/flavors/{id}":                                api.AccessAuthenticated,
	"POST /compute/v2.1/flavors":                                    api.AccessAdmin,
	"DELETE /compute/v2.1/flavors/{id}":                             api.AccessAdmin,
	"PUT /compute/v2.1/flavors/{id}":                                api.AccessAdmin,
	"GET /compute/v2.1/flavors/{id}/os-extra_specs":                 api.AccessAuthenticated,
	"POST /compute/v2.1/flavors/{id}/os-extra_specs":                api.AccessAdmin,
	"GET /compute/v2.1/flavors/{id}/os-extra_specs/{key}":           api.AccessAuthenticated,
	"PUT /compute/v2.1/flavors/{id}/os-extra_specs/{key}":           api.AccessAdmin,
	"DELETE /compute/v2.1/flavors/{id}/os-extra_specs/{key}":        api.AccessAdmin,
	"GET /compute/v2.1/flavors/{id}/os-flavor-access":               api.AccessAdmin,
	"POST /compute/v2.1/flavors/{id}/action":                        api.AccessAdmin,
	"GET /compute/v2.1/os-keypairs":                                 api.AccessAuthenticated,
	"POST /compute/v2.1/os-keypairs":                                api.AccessAuthenticated,
	"GET /compute/v2.1/os-keypairs/{name}":                          api.AccessAuthenticated,
	"DELETE /compute/v2.1/os-keypairs/{name}":                       api.AccessAuthenticated,
	"GET /compute/v2.1/os-server-groups":                            api.AccessProjectReader,
	"POST /compute/v2.1/os-server-groups":                           api.AccessProjectMember,
	"GET /compute/v2.1/os-server-groups/{id}":                       api.AccessProjectReader,
	"DELETE /compute/v2.1/os-server-groups/{id}":                    api.AccessProjectMember,
	"GET /compute/v2.1/os-security-groups":                          api.AccessProjectReader,
	"POST /compute/v2.1/os-security-groups":                         api.AccessProjectMember,
	"GET /compute/v2.1/os-security-groups/{id}":                     api.AccessProjectReader,
	"PUT /compute/v2.1/os-security-groups/{id}":                     api.AccessProjectMember,
	"DELETE /compute/v2.1/os-security-groups/{id}":                  api.AccessProjectMember,
	"POST /compute/v2.1/os-security-group-rules":                    api.AccessProjectMember,
	"DELETE /compute/v2.1/os-security-group-rules/{id}":             api.AccessProjectMember,
	"GET /compute/v2.1/os-services":                                 api.AccessAdmin,
	"PUT /compute/v2.1/os-services/{id}":                            api.AccessAdmin,
	"DELETE /compute/v2.1/os-services/{id}":                         api.AccessAdmin,
	"GET /compute/v2.1/os-hypervisors":                              api.AccessAdmin,
	"GET /compute/v2.1/os-migrations":                               api.AccessAdmin,
	"GET /compute/v2.1/os-hypervisors/detail":                       api.AccessAdmin,
	"GET /compute/v2.1/os-hypervisors/statistics":                   api.AccessAdmin,
	"GET /compute/v2.1/os-hypervisors/{id}":                         api.AccessAdmin,
	"GET /compute/v2.1/os-hypervisors/{id}/uptime":                  api.AccessAdmin,
	"GET /compute/v2.1/os-hypervisors/{hostname}/search":            api.AccessAdmin,
	"GET /compute/v2.1/os-hypervisors/{hostname}/servers":           api.AccessAdmin,
	"GET /compute/v2.1/os-hosts":                                    api.AccessAdmin,
	"GET /compute/v2.1/os-hosts/{name}":                             api.AccessAdmin,
	"PUT /compute/v2.1/os-hosts/{name}":                             api.AccessAdmin,
	"GET /compute/v2.1/os-hosts/{name}/startup":                     api.AccessAdmin,
	"GET /compute/v2.1/os-hosts/{name}/shutdown":                    api.AccessAdmin,
	"GET /compute/v2.1/os-hosts/{name}/reboot":                      api.AccessAdmin,
	"GET /compute/v2.1/os-quota-class-sets/{id}":                    api.AccessAdmin,
	"PUT /compute/v2.1/os-quota-class-sets/{id}":                    api.AccessAdmin,
	"GET /compute/v2.1/os-aggregates":                               api.AccessAdmin,
	"POST /compute/v2.1/os-aggregates":                              api.AccessAdmin,
	"GET /compute/v2.1/os-aggregates/{id}":                          api.AccessAdmin,
	"PUT /compute/v2.1/os-aggregates/{id}":                          api.AccessAdmin,
	"DELETE /compute/v2.1/os-aggregates/{id}":                       api.AccessAdmin,
	"POST /compute/v2.1/os-aggregates/{id}/action":                  api.AccessAdmin,
	"GET /compute/v2.1/os-availability-zone":                        api.AccessAuthenticated,
	"GET /compute/v2.1/os-availability-zone/detail":                 api.AccessAdmin,
	"GET /compute/v2.1/os-quota-sets/{project_id}":                  api.AccessProjectReader,
	"GET /compute/v2.1/os-quota-sets/{project_id}/detail":           api.AccessProjectReader,
	"GET /compute/v2.1/os-quota-sets/{project_id}/defaults":         api.AccessAuthenticated,
	"PUT /compute/v2.1/os-quota-sets/{project_id}":                  api.AccessAdmin,
	"DELETE /compute/v2.1/os-quota-sets/{project_id}":               api.AccessAdmin,
	"GET /compute/v2.1/limits":                                      api.AccessAuthenticated,
	"GET /compute/v2.1/os-simple-tenant-usage":                      api.AccessAdmin,
	"GET /compute/v2.1/os-simple-tenant-usage/{tenant_id}":          api.AccessProjectReader,
	"GET /compute/v2.1/os-floating-ips":                             api.AccessProjectReader,
	"POST /compute/v2.1/os-floating-ips":                            api.AccessProjectMember,
	"GET /compute/v2.1/os-floating-ips/{id}":                        api.AccessProjectReader,
	"DELETE /compute/v2.1/os-floating-ips/{id}":                     api.AccessProjectMember,
	"GET /compute/v2.1/os-floating-ip-pools":                        api.AccessProjectReader,
	"GET /compute/v2.1/os-networks":                                 api.AccessProjectReader,
	"GET /compute/v2.1/os-networks/{id}":                            api.AccessProjectReader,
	"GET /compute/v2.1/os-tenant-networks":                          api.AccessProjectReader,
	"GET /compute/v2.1/os-tenant-networks/{id}":                     api.AccessProjectReader,
	"POST /compute/v2.1/os-networks":                                api.AccessProjectMember,
	"POST /compute/v2.1/os-networks/add":                            api.AccessProjectMember,
	"DELETE /compute/v2.1/os-networks/{id}":                         api.AccessProjectMember,
	"POST /compute/v2.1/os-networks/{id}/action":                    api.AccessProjectMember,
	"POST /compute/v2.1/os-tenant-networks":                         api.AccessProjectMember,
	"DELETE /compute/v2.1/os-tenant-networks/{id}":                  api.AccessProjectMember,
	"GET /compute/v2.1/os-fixed-ips/{id}":                           api.AccessAuthenticated,
	"POST /compute/v2.1/os-fixed-ips/{id}/action":                   api.AccessProjectMember,
	"GET /compute/v2.1/os-floating-ips-bulk":                        api.AccessAuthenticated,
	"POST /compute/v2.1/os-floating-ips-bulk":                       api.AccessProjectMember,
	"GET /compute/v2.1/os-floating-ips-bulk/{id}":                   api.AccessAuthenticated,
	"PUT /compute/v2.1/os-floating-ips-bulk/{id}":                   api.AccessProjectMember,
	"GET /compute/v2.1/os-floating-ip-dns":                          api.AccessAuthenticated,
	"PUT /compute/v2.1/os-floating-ip-dns/{id}":                     api.AccessProjectMember,
	"DELETE /compute/v2.1/os-floating-ip-dns/{id}":                  api.AccessProjectMember,
	"GET /compute/v2.1/os-floating-ip-dns/{domain}/entries/{id}":    api.AccessAuthenticated,
	"PUT /compute/v2.1/os-floating-ip-dns/{domain}/entries/{id}":    api.AccessProjectMember,
	"DELETE /compute/v2.1/os-floating-ip-dns/{domain}/entries/{id}": api.AccessProjectMember,
	"GET /compute/v2.1/images":                                      api.AccessProjectReader,
	"GET /compute/v2.1/images/detail":                               api.AccessProjectReader,
	"GET /compute/v2.1/images/{id}":                                 api.AccessProjectReader,
	"DELETE /compute/v2.1/images/{id}":                              api.AccessProjectMember,
	"GET /compute/v2.1/images/{id}/metadata":                        api.AccessProjectReader,
	"POST /compute/v2.1/images/{id}/metadata":                       api.AccessProjectMember,
	"PUT /compute/v2.1/images/{id}/metadata":                        api.AccessProjectMember,
	"GET /compute/v2.1/images/{id}/metadata/{key}":                  api.AccessProjectReader,
	"PUT /compute/v2.1/images/{id}/metadata/{key}":                  api.AccessProjectMember,
	"DELETE /compute/v2.1/images/{id}/metadata/{key}":               api.AccessProjectMember,
}

// recorder is a Router that only notes what is registered.
type recorder map[string]api.Access

func (r recorder) Route(pattern string, a api.Access, _ http.HandlerFunc) { r[pattern] = a }

// ours reports whether pattern is this part's: the servers part owns
// /servers and everything below it.
func ours(pattern string) bool {
	_, path, _ := strings.Cut(pattern, " ")
	return !strings.HasPrefix(path, "/compute/v2.1/servers")
}

func TestPolicyTable(t *testing.T) {
	rec := recorder{}
	nova.New().Register(rec, nil)
	for pattern, a := range rec {
		want, ok := policyTable[pattern]
		switch {
		case !ours(pattern):
		case !ok:
			t.Errorf("%s (%v) has no row in policyTable", pattern, a)
		case want != a:
			t.Errorf("%s is registered %v, the table says %v", pattern, a, want)
		}
	}
	for pattern := range policyTable {
		if _, ok := rec[pattern]; !ok {
			t.Errorf("policyTable row %s is registered by nothing", pattern)
		}
	}
}

// TestPolicy calls every route of the table as nobody, as a reader, as a
// member and as an admin: an anonymous call is 401 with the API's body
// (keystonemiddleware's, not a Nova fault), a call below the route's level
// is a Nova 403, any other passes the guard.
func TestPolicy(t *testing.T) {
	e, _ := computeEnv(t)
	reader := e.AddTenant(t, "gamma", fsm.RoleReader)
	member := e.AddTenant(t, "delta", fsm.RoleMember)
	// Each caller names its own project where a path takes one (the
	// admin, member's): another project's quotas are refused by the
	// handler, not by the guard, which this test is about.
	params := func(project string) *strings.Replacer {
		return strings.NewReplacer("{id}", "1", "{key}", "k", "{name}", "n", "{alias}", "OS-DCF",
			"{hostname}", apitest.NodeName, "{project_id}", project, "{tenant_id}", project, "{$}", "")
	}
	for pattern, a := range policyTable {
		method, path, _ := strings.Cut(pattern, " ")
		for _, c := range []struct {
			who, token, project string
			level               api.Access
		}{
			{"anonymous", "", member.ProjectID, api.AccessPublic},
			{"reader", reader.Token, reader.ProjectID, api.AccessProjectReader},
			{"member", member.Token, member.ProjectID, api.AccessProjectMember},
			{"admin", apitest.AdminToken, member.ProjectID, api.AccessAdmin},
		} {
			resp, raw := e.Do(t, method, params(c.project).Replace(path), "{}", c.token, "Content-Type", "application/json")
			var body map[string]json.RawMessage
			_ = json.Unmarshal(raw, &body)
			allowed := c.level >= a
			switch {
			case allowed && (resp.StatusCode == 401 || resp.StatusCode == 403):
				t.Errorf("%s as %s: %d %s, want past the guard", pattern, c.who, resp.StatusCode, raw)
			case !allowed && c.token == "" && (resp.StatusCode != 401 || body["error"] == nil):
				t.Errorf("%s as %s: %d %s, want the API's 401", pattern, c.who, resp.StatusCode, raw)
			case !allowed && c.token != "" && (resp.StatusCode != 403 || body["forbidden"] == nil):
				t.Errorf("%s as %s: %d %s, want Nova's 403", pattern, c.who, resp.StatusCode, raw)
			}
		}
	}
}
