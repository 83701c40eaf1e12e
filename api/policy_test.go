package api

import (
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/shoal-project/shoal/api/identity/identitytest"
)

// Expected outcomes in the policy table. allowed is any 2xx, or a business
// answer (400, 409, 415, 503…) that is none of 401, 403, 404.
const (
	allowed   = "ok"
	forbidden = "403"
	absent    = "404"
	badReq    = "400"
)

// policyRow is one route: how to call it, and what reader, member and admin
// get on their own project's objects. In path and body, %project, %user
// (its member), %server, %group, %image, %jointoken (the cluster's) and %self (the caller; the other
// project's member on the other side) name the caller's own project's
// objects, or the other project's (%fip a floating IP, %fipaddress its
// address, %secgroup a security group, %rule its rule); %role is the
// member role. With subject,
// X-Subject-Token carries the caller's own token (or the other project
// member's). other is what a reader or member gets on the other side (""
// = the same as on their own); an admin gets its own outcome on both.
// Every route is also called without and with a bad token: 401, unless
// public, or node-only (403: a token is not what it takes).
type policyRow struct {
	path, body            string
	subject               bool
	reader, member, admin string
	other                 string
}

// policyTable is Nova's, Glance's and Keystone's default policy for every
// route, by the pattern it is registered with.
var policyTable = map[string]policyRow{
	"GET /v1/health":                      {path: "/v1/health", reader: allowed, member: allowed, admin: allowed},
	"GET /v1/cluster/members":             {path: "/v1/cluster/members", reader: forbidden, member: forbidden, admin: allowed},
	"GET /v1/cluster/leader":              {path: "/v1/cluster/leader", reader: forbidden, member: forbidden, admin: allowed},
	"GET /v1/cluster/join-tokens":         {path: "/v1/cluster/join-tokens", reader: forbidden, member: forbidden, admin: allowed},
	"POST /v1/cluster/join-tokens":        {path: "/v1/cluster/join-tokens", body: `{"ttl":"10m"}`, reader: forbidden, member: forbidden, admin: allowed},
	"DELETE /v1/cluster/join-tokens/{id}": {path: "/v1/cluster/join-tokens/%jointoken", reader: forbidden, member: forbidden, admin: allowed},
	"POST /v1/cluster/gossip-key/rotate":  {path: "/v1/cluster/gossip-key/rotate", reader: forbidden, member: forbidden, admin: allowed},
	"POST /v1/cluster/leave":              {path: "/v1/cluster/leave", reader: forbidden, member: forbidden, admin: allowed},
	"GET /v1/flavors":                     {path: "/v1/flavors", reader: allowed, member: allowed, admin: allowed},
	"GET /v1/flavors/{id}":                {path: "/v1/flavors/1", reader: allowed, member: allowed, admin: allowed},
	"POST /v1/flavors":                    {path: "/v1/flavors", body: `{"name":"m9","vcpus":1,"ram":512,"disk":1}`, reader: forbidden, member: forbidden, admin: allowed},
	"DELETE /v1/flavors/{id}":             {path: "/v1/flavors/5", reader: forbidden, member: forbidden, admin: allowed},
	"GET /v1/hosts":                       {path: "/v1/hosts", reader: forbidden, member: forbidden, admin: allowed},
	"POST /v1/hosts/{name}/disable":       {path: "/v1/hosts/node2/disable", body: `{}`, reader: forbidden, member: forbidden, admin: allowed},
	"POST /v1/hosts/{name}/enable":        {path: "/v1/hosts/node2/enable", reader: forbidden, member: forbidden, admin: allowed},
	"POST /v1/hosts/{name}/force-down": {path: "/v1/hosts/node2/force-down", body: `{"forced_down":true}`,
		reader: forbidden, member: forbidden, admin: allowed},
	"POST /v1/hosts/{name}/evacuate": {path: "/v1/hosts/node2/evacuate", body: `{}`, reader: forbidden, member: forbidden, admin: allowed},
	"DELETE /v1/hosts/{name}":        {path: "/v1/hosts/node2", reader: forbidden, member: forbidden, admin: allowed},
	"GET /v1/hosts/{name}/drain":     {path: "/v1/hosts/node2/drain", reader: forbidden, member: forbidden, admin: allowed},
	"POST /v1/hosts/{name}/drain":    {path: "/v1/hosts/node2/drain", reader: forbidden, member: forbidden, admin: allowed},
	"DELETE /v1/hosts/{name}/drain":  {path: "/v1/hosts/node2/drain", reader: forbidden, member: forbidden, admin: allowed},

	// Servers: a project's own (Nova); another project's are absent, and
	// listing another project's is an admin's.
	"GET /v1/servers":         {path: "/v1/servers?project_id=%project", reader: allowed, member: allowed, admin: allowed, other: forbidden},
	"GET /v1/servers/{id}":    {path: "/v1/servers/%server", reader: allowed, member: allowed, admin: allowed, other: absent},
	"DELETE /v1/servers/{id}": {path: "/v1/servers/%server", reader: forbidden, member: allowed, admin: allowed, other: absent},
	// An image the caller cannot see is a bad imageRef, as in Nova.
	"POST /v1/servers": {path: "/v1/servers", body: `{"server":{"name":"new","flavor":"1","image":"%image"}}`,
		reader: forbidden, member: allowed, admin: allowed, other: badReq},
	"POST /v1/servers/{id}/action":     {path: "/v1/servers/%server/action", body: `{"action":"stop"}`, reader: forbidden, member: allowed, admin: allowed, other: absent},
	"GET /v1/servers/{id}/actions":     {path: "/v1/servers/%server/actions", reader: allowed, member: allowed, admin: allowed, other: absent},
	"GET /v1/servers/{id}/console-log": {path: "/v1/servers/%server/console-log", reader: forbidden, member: allowed, admin: allowed, other: absent},
	// Nova's trigger_crash_dump (2.17): an NMI to the guest.
	"POST /v1/servers/{id}/trigger-crash-dump": {path: "/v1/servers/%server/trigger-crash-dump",
		reader: forbidden, member: allowed, admin: allowed, other: absent},

	// Migrations: a reader's list is its project's servers' migrations
	// (the fixture has none, so any one by ID is absent to all).
	"GET /v1/migrations":      {path: "/v1/migrations", reader: allowed, member: allowed, admin: allowed},
	"GET /v1/migrations/{id}": {path: "/v1/migrations/1", reader: absent, member: absent, admin: absent},

	// Images (Glance): private ones are their project's.
	"GET /v1/images":           {path: "/v1/images", reader: allowed, member: allowed, admin: allowed},
	"GET /v1/images/{id}":      {path: "/v1/images/%image", reader: allowed, member: allowed, admin: allowed, other: absent},
	"POST /v1/images":          {path: "/v1/images", body: `{"name":"new","disk_format":"qcow2","container_format":"bare"}`, reader: forbidden, member: allowed, admin: allowed},
	"DELETE /v1/images/{id}":   {path: "/v1/images/%image", reader: forbidden, member: allowed, admin: allowed, other: absent},
	"GET /v1/images/{id}/file": {path: "/v1/images/%image/file", reader: allowed, member: allowed, admin: allowed, other: absent},
	// Another node's, with its certificate: no token opens it, not even
	// the admin's (nodecert_test.go proves a node certificate does).
	"GET /internal/v1/images/{id}/file": {path: "/internal/v1/images/%image/file", reader: forbidden, member: forbidden, admin: forbidden},
	"PUT /v1/images/{id}/file":          {path: "/v1/images/%image/file", body: "data", reader: forbidden, member: allowed, admin: allowed, other: absent},
	"GET /v1/server-groups":             {path: "/v1/server-groups", reader: allowed, member: allowed, admin: allowed},
	"GET /v1/server-groups/{id}":        {path: "/v1/server-groups/%group", reader: allowed, member: allowed, admin: allowed, other: absent},
	"POST /v1/server-groups":            {path: "/v1/server-groups", body: `{"server_group":{"name":"g","policy":"affinity"}}`, reader: forbidden, member: allowed, admin: allowed},
	"DELETE /v1/server-groups/{id}":     {path: "/v1/server-groups/%group", reader: forbidden, member: allowed, admin: allowed, other: absent},

	// Networking (Neutron): every project sees the networks, only an admin
	// makes and removes them (deleting public, which holds floating IPs, is
	// a 409: allowed); floating IPs and security groups are their project's,
	// another project's are absent, and listing another project's is an
	// admin's.
	"GET /v1/networks":                {path: "/v1/networks", reader: allowed, member: allowed, admin: allowed},
	"GET /v1/networks/{id}":           {path: "/v1/networks/public", reader: allowed, member: allowed, admin: allowed},
	"POST /v1/networks":               {path: "/v1/networks", body: `{"network":{"name":"ext2","external":true,"cidr":"10.77.0.0/24","gateway":"10.77.0.1"}}`, reader: forbidden, member: forbidden, admin: allowed},
	"DELETE /v1/networks/{id}":        {path: "/v1/networks/public", reader: forbidden, member: forbidden, admin: allowed},
	"GET /v1/floating-ips":            {path: "/v1/floating-ips?project_id=%project", reader: allowed, member: allowed, admin: allowed, other: forbidden},
	"GET /v1/floating-ips/{id}":       {path: "/v1/floating-ips/%fip", reader: allowed, member: allowed, admin: allowed, other: absent},
	"POST /v1/floating-ips":           {path: "/v1/floating-ips", body: `{"floating_ip":{"network":"public"}}`, reader: forbidden, member: allowed, admin: allowed},
	"DELETE /v1/floating-ips/{id}":    {path: "/v1/floating-ips/%fipaddress", reader: forbidden, member: allowed, admin: allowed, other: absent},
	"GET /v1/security-groups":         {path: "/v1/security-groups?project_id=%project", reader: allowed, member: allowed, admin: allowed, other: forbidden},
	"GET /v1/security-groups/{id}":    {path: "/v1/security-groups/%secgroup", reader: allowed, member: allowed, admin: allowed, other: absent},
	"POST /v1/security-groups":        {path: "/v1/security-groups", body: `{"security_group":{"name":"db"}}`, reader: forbidden, member: allowed, admin: allowed},
	"DELETE /v1/security-groups/{id}": {path: "/v1/security-groups/%secgroup", reader: forbidden, member: allowed, admin: allowed, other: absent},
	"PUT /v1/security-groups/{id}": {path: "/v1/security-groups/%secgroup", body: `{"security_group":{"description":"d"}}`,
		reader: forbidden, member: allowed, admin: allowed, other: absent},
	// A rule on another project's group: the group is absent.
	"POST /v1/security-group-rules": {path: "/v1/security-group-rules", body: `{"security_group_rule":{"security_group_id":"%secgroup",` +
		`"direction":"ingress","protocol":"tcp","port_range_min":80,"port_range_max":80}}`, reader: forbidden, member: allowed, admin: allowed, other: absent},
	"DELETE /v1/security-group-rules/{id}": {path: "/v1/security-group-rules/%rule", reader: forbidden, member: allowed, admin: allowed, other: absent},

	// Keypairs (Nova): a user's own whatever its roles; another user's
	// (user_id) are an admin's.
	"GET /v1/keypairs":         {path: "/v1/keypairs?user_id=%self", reader: allowed, member: allowed, admin: allowed, other: forbidden},
	"GET /v1/keypairs/{id}":    {path: "/v1/keypairs/key?user_id=%self", reader: allowed, member: allowed, admin: allowed, other: forbidden},
	"POST /v1/keypairs":        {path: "/v1/keypairs", body: `{"keypair":{"name":"new","user_id":"%self"}}`, reader: allowed, member: allowed, admin: allowed, other: forbidden},
	"DELETE /v1/keypairs/{id}": {path: "/v1/keypairs/key?user_id=%self", reader: allowed, member: allowed, admin: allowed, other: forbidden},

	// Quotas (Nova): one's own project's are readable, another's are an
	// admin's (403: a quota is not an object of the project); only an
	// admin sets them.
	"GET /v1/quota-sets/{project_id}":          {path: "/v1/quota-sets/%project", reader: allowed, member: allowed, admin: allowed, other: forbidden},
	"GET /v1/quota-sets/{project_id}/defaults": {path: "/v1/quota-sets/%project/defaults", reader: allowed, member: allowed, admin: allowed},
	"PUT /v1/quota-sets/{project_id}":          {path: "/v1/quota-sets/%project", body: `{"quota_set":{"instances":20}}`, reader: forbidden, member: forbidden, admin: allowed},
	"DELETE /v1/quota-sets/{project_id}":       {path: "/v1/quota-sets/%project", reader: forbidden, member: forbidden, admin: allowed},
	"GET /v1/limits":                           {path: "/v1/limits?tenant_id=%project", reader: allowed, member: allowed, admin: allowed, other: forbidden},

	// What OpenStack clients change after create (Nova's and Glance's
	// policies): a server's name and metadata and an image are their
	// project's; a flavor's description, extra specs and access list an
	// admin's, its extra specs readable by whoever sees it. The objects
	// and keys named here are seeded by seedPolicyUpdates.
	"PUT /v1/servers/{id}": {path: "/v1/servers/%server", body: `{"server":{"name":"renamed"}}`,
		reader: forbidden, member: allowed, admin: allowed, other: absent},
	"GET /v1/servers/{id}/metadata": {path: "/v1/servers/%server/metadata", reader: allowed, member: allowed, admin: allowed, other: absent},
	"POST /v1/servers/{id}/metadata": {path: "/v1/servers/%server/metadata", body: `{"metadata":{"k":"v"}}`,
		reader: forbidden, member: allowed, admin: allowed, other: absent},
	"PUT /v1/servers/{id}/metadata": {path: "/v1/servers/%server/metadata", body: `{"metadata":{"k":"v"}}`,
		reader: forbidden, member: allowed, admin: allowed, other: absent},
	"GET /v1/servers/{id}/metadata/{key}": {path: "/v1/servers/%server/metadata/role", reader: allowed, member: allowed, admin: allowed, other: absent},
	"PUT /v1/servers/{id}/metadata/{key}": {path: "/v1/servers/%server/metadata/role", body: `{"meta":{"role":"db"}}`,
		reader: forbidden, member: allowed, admin: allowed, other: absent},
	"DELETE /v1/servers/{id}/metadata/{key}": {path: "/v1/servers/%server/metadata/role", reader: forbidden, member: allowed, admin: allowed, other: absent},
	"PUT /v1/flavors/{id}":                   {path: "/v1/flavors/1", body: `{"flavor":{"description":"d"}}`, reader: forbidden, member: forbidden, admin: allowed},
	"GET /v1/flavors/{id}/extra-specs":       {path: "/v1/flavors/1/extra-specs", reader: allowed, member: allowed, admin: allowed},
	"POST /v1/flavors/{id}/extra-specs": {path: "/v1/flavors/1/extra-specs", body: `{"extra_specs":{"k":"v"}}`,
		reader: forbidden, member: forbidden, admin: allowed},
	"GET /v1/flavors/{id}/extra-specs/{key}": {path: "/v1/flavors/1/extra-specs/hw:cpu_policy", reader: allowed, member: allowed, admin: allowed},
	"PUT /v1/flavors/{id}/extra-specs/{key}": {path: "/v1/flavors/1/extra-specs/hw:cpu_policy", body: `{"hw:cpu_policy":"dedicated"}`,
		reader: forbidden, member: forbidden, admin: allowed},
	"DELETE /v1/flavors/{id}/extra-specs/{key}": {path: "/v1/flavors/1/extra-specs/hw:cpu_policy", reader: forbidden, member: forbidden, admin: allowed},
	"GET /v1/flavors/{id}/access":               {path: "/v1/flavors/private/access", reader: forbidden, member: forbidden, admin: allowed},
	// Both projects are on the list already: a 409, which is allowed.
	"POST /v1/flavors/{id}/access": {path: "/v1/flavors/private/access", body: `{"tenant_id":"%project"}`,
		reader: forbidden, member: forbidden, admin: allowed},
	"DELETE /v1/flavors/{id}/access/{project_id}": {path: "/v1/flavors/private/access/%project", reader: forbidden, member: forbidden, admin: allowed},
	"PATCH /v1/images/{id}": {path: "/v1/images/%image", body: `[{"op":"replace","path":"/name","value":"renamed"}]`,
		reader: forbidden, member: allowed, admin: allowed, other: absent},
	"PUT /v1/images/{id}/tags/{tag}":    {path: "/v1/images/%image/tags/new", reader: forbidden, member: allowed, admin: allowed, other: absent},
	"DELETE /v1/images/{id}/tags/{tag}": {path: "/v1/images/%image/tags/base", reader: forbidden, member: allowed, admin: allowed, other: absent},

	"GET /v1/hypervisors":            {path: "/v1/hypervisors", reader: forbidden, member: forbidden, admin: allowed},
	"GET /v1/hypervisors/statistics": {path: "/v1/hypervisors/statistics", reader: forbidden, member: forbidden, admin: allowed},
	"GET /v1/hypervisors/{name}":     {path: "/v1/hypervisors/node1", reader: forbidden, member: forbidden, admin: allowed},

	// A migration's source asks its destination, with its node
	// certificate: no token opens it (migration_target_test.go proves a
	// node certificate does).
	"POST /internal/v1/servers/{id}/migration-target": {path: "/internal/v1/servers/%server/migration-target",
		reader: forbidden, member: forbidden, admin: forbidden},

	// Keystone: version documents and logging in are open; one's own token
	// and user are one's own; the rest is an admin's.
	"GET /identity":                         {path: "/identity", reader: allowed, member: allowed, admin: allowed},
	"GET /identity/{$}":                     {path: "/identity/", reader: allowed, member: allowed, admin: allowed},
	"GET /identity/v3":                      {path: "/identity/v3", reader: allowed, member: allowed, admin: allowed},
	"GET /identity/v3/{$}":                  {path: "/identity/v3/", reader: allowed, member: allowed, admin: allowed},
	"POST /identity/v3/auth/tokens":         {path: "/identity/v3/auth/tokens", body: login, reader: allowed, member: allowed, admin: allowed},
	"GET /identity/v3/auth/tokens":          {path: "/identity/v3/auth/tokens", subject: true, reader: allowed, member: allowed, admin: allowed, other: forbidden},
	"DELETE /identity/v3/auth/tokens":       {path: "/identity/v3/auth/tokens", subject: true, reader: allowed, member: allowed, admin: allowed, other: forbidden},
	"GET /identity/v3/users/{id}":           {path: "/identity/v3/users/%self", reader: allowed, member: allowed, admin: allowed, other: forbidden},
	"POST /identity/v3/users/{id}/password": {path: "/identity/v3/users/%self/password", body: changePassword, reader: allowed, member: allowed, admin: allowed, other: forbidden},
	"GET /identity/v3/users":                {path: "/identity/v3/users", reader: forbidden, member: forbidden, admin: allowed},
	"POST /identity/v3/users":               {path: "/identity/v3/users", body: `{"user":{"name":"carol","password":"secret-pw-1"}}`, reader: forbidden, member: forbidden, admin: allowed},
	"PATCH /identity/v3/users/{id}":         {path: "/identity/v3/users/%user", body: `{"user":{"enabled":true}}`, reader: forbidden, member: forbidden, admin: allowed},
	"DELETE /identity/v3/users/{id}":        {path: "/identity/v3/users/%user", reader: forbidden, member: forbidden, admin: allowed},
	"GET /identity/v3/projects":             {path: "/identity/v3/projects", reader: forbidden, member: forbidden, admin: allowed},
	"GET /identity/v3/projects/{id}":        {path: "/identity/v3/projects/%project", reader: forbidden, member: forbidden, admin: allowed},
	"POST /identity/v3/projects":            {path: "/identity/v3/projects", body: `{"project":{"name":"gamma"}}`, reader: forbidden, member: forbidden, admin: allowed},
	"PATCH /identity/v3/projects/{id}":      {path: "/identity/v3/projects/%project", body: `{"project":{"description":"x"}}`, reader: forbidden, member: forbidden, admin: allowed},
	"DELETE /identity/v3/projects/{id}":     {path: "/identity/v3/projects/%project", reader: forbidden, member: forbidden, admin: allowed},
	"GET /identity/v3/domains":              {path: "/identity/v3/domains", reader: forbidden, member: forbidden, admin: allowed},
	"GET /identity/v3/domains/{id}":         {path: "/identity/v3/domains/default", reader: forbidden, member: forbidden, admin: allowed},
	"GET /identity/v3/roles":                {path: "/identity/v3/roles", reader: forbidden, member: forbidden, admin: allowed},
	"GET /identity/v3/roles/{id}":           {path: "/identity/v3/roles/%role", reader: forbidden, member: forbidden, admin: allowed},
	"POST /identity/v3/roles":               {path: "/identity/v3/roles", body: `{"role":{"name":"operator"}}`, reader: forbidden, member: forbidden, admin: allowed},
	"DELETE /identity/v3/roles/{id}":        {path: "/identity/v3/roles/%role", reader: forbidden, member: forbidden, admin: allowed},
	"GET /identity/v3/role_assignments":     {path: "/identity/v3/role_assignments", reader: forbidden, member: forbidden, admin: allowed},
	"GET /identity/v3/projects/{project}/users/{user}/roles": {path: "/identity/v3/projects/%project/users/%user/roles",
		reader: forbidden, member: forbidden, admin: allowed},
	"PUT /identity/v3/projects/{project}/users/{user}/roles/{role}": {path: "/identity/v3/projects/%project/users/%user/roles/%role",
		reader: forbidden, member: forbidden, admin: allowed},
	"GET /identity/v3/projects/{project}/users/{user}/roles/{role}": {path: "/identity/v3/projects/%project/users/%user/roles/%role",
		reader: forbidden, member: forbidden, admin: allowed},
	"DELETE /identity/v3/projects/{project}/users/{user}/roles/{role}": {path: "/identity/v3/projects/%project/users/%user/roles/%role",
		reader: forbidden, member: forbidden, admin: allowed},
}

// Bodies of the Keystone rows: alpha's member logs in; a user changes its
// own password.
var (
	login = `{"auth":{"identity":{"methods":["password"],"password":{"user":{"name":"alpha-member",` +
		`"domain":{"name":"Default"},"password":"` + identitytest.Password + `"}}},` +
		`"scope":{"project":{"name":"alpha","domain":{"name":"Default"}}}}}`
	changePassword = `{"user":{"password":"another secret","original_password":"` + identitytest.Password + `"}}`
)

// Every route × role × own/other project: the table must name every
// registered route, so a route added without a policy row fails here. A
// module's routes are its own table's (each module tests its policy on
// apitest), so they are left out here.
func TestPolicyEveryRoute(t *testing.T) {
	reads := seedPolicyUpdates(t, newTenants(t)) // shared by the cases that change nothing
	routes := reads.srv.access
	patterns := slices.Sorted(maps.Keys(routes))
	for _, pattern := range patterns {
		if _, path, _ := strings.Cut(pattern, " "); reads.srv.moduleFor(path) != nil {
			continue
		}
		row, ok := policyTable[pattern]
		if !ok {
			t.Errorf("route %q (access %s) has no row in policyTable", pattern, routes[pattern])
			continue
		}
		method, _, _ := strings.Cut(pattern, " ")
		open := routes[pattern] == AccessPublic
		for _, caller := range []string{noToken, badToken, reader, member, admin} {
			for _, side := range []string{"own", "other"} {
				t.Run(fmt.Sprintf("%s/%s/%s", pattern, caller, side), func(t *testing.T) {
					// A fresh cluster for each write: a delete or an action
					// must not change what the next caller finds.
					w := reads
					if method != http.MethodGet {
						w = seedPolicyUpdates(t, newTenants(t))
					}
					target, want := w.alpha, row.want(caller)
					if side == "other" {
						target = w.beta
						if row.other != "" && caller != admin && want == allowed {
							want = row.other
						}
					}
					if (caller == noToken || caller == badToken) && !open && routes[pattern] != AccessNode {
						want = "401"
					}
					self, subject := w.user[caller], w.token[caller]
					if side == "other" {
						self, subject = w.beta.user, w.token[betaUser]
					}
					fill := strings.NewReplacer("%project", target.project, "%user", target.user, "%server", target.server,
						"%group", target.group, "%image", target.image, "%self", self, "%role", identitytest.MemberRoleID,
						"%jointoken", policyJoinToken,
						"%fipaddress", target.fipAddress, "%fip", target.fip, "%secgroup", target.secgroup, "%rule", target.rule)
					path, body := fill.Replace(row.path), fill.Replace(row.body)
					var header []string
					if row.subject {
						header = []string{HeaderSubjectToken, subject}
					}
					resp, raw := w.as(t, caller, method, path, body, header...)
					if !outcome(resp.StatusCode, want) {
						t.Errorf("%s %s as %s = %d, want %s; body %s", method, path, caller, resp.StatusCode, want, raw)
					}
				})
			}
		}
	}
	for pattern := range policyTable {
		if !slices.Contains(patterns, pattern) {
			t.Errorf("policyTable has a row for %q, which is not a route", pattern)
		}
	}
}

func (row policyRow) want(caller string) string {
	switch caller {
	case reader:
		return row.reader
	case member:
		return row.member
	}
	return row.admin
}

func outcome(status int, want string) bool {
	if want != allowed {
		return fmt.Sprint(status) == want
	}
	return status < 400 || !slices.Contains([]int{401, 403, 404, 405}, status)
}
