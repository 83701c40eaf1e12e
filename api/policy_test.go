package api

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
)

// Expected outcomes in the policy table. allowed is any 2xx, or a business
// answer (400, 409, 415, 503…) that is none of 401, 403, 404.
const (
	allowed   = "ok"
	forbidden = "403"
	absent    = "404"
	badReq    = "400"
)

// object is what a route's path (or query) names: %s in it becomes that
// object's ID in the caller's own project or in the other one.
type object int

const (
	none object = iota
	server
	group
	image
	project
)

func (o owned) id(kind object) string {
	return map[object]string{server: o.server, group: o.group, image: o.image, project: o.project}[kind]
}

// policyRow is one route: how to call it, and what reader, member and admin
// get on their own project's object. other is what a reader or member gets
// on the other project's object ("" = the same as on their own); an admin
// gets its own outcome on both. Routes are called without and with a bad
// token too: 401, unless public.
type policyRow struct {
	path, body            string
	obj                   object
	reader, member, admin string
	other                 string
}

// policyTable is Nova's, Glance's and Keystone's default policy for every
// route, by the pattern it is registered with.
var policyTable = map[string]policyRow{
	"GET /v1/health":                {path: "/v1/health", reader: allowed, member: allowed, admin: allowed},
	"GET /v1/cluster/members":       {path: "/v1/cluster/members", reader: forbidden, member: forbidden, admin: allowed},
	"GET /v1/cluster/leader":        {path: "/v1/cluster/leader", reader: forbidden, member: forbidden, admin: allowed},
	"POST /v1/cluster/join":         {path: "/v1/cluster/join", body: `{"peers":["127.0.0.1:7946"]}`, reader: forbidden, member: forbidden, admin: allowed},
	"POST /v1/cluster/leave":        {path: "/v1/cluster/leave", reader: forbidden, member: forbidden, admin: allowed},
	"GET /v1/flavors":               {path: "/v1/flavors", reader: allowed, member: allowed, admin: allowed},
	"GET /v1/flavors/{id}":          {path: "/v1/flavors/1", reader: allowed, member: allowed, admin: allowed},
	"POST /v1/flavors":              {path: "/v1/flavors", body: `{"name":"m9","vcpus":1,"ram":512,"disk":1}`, reader: forbidden, member: forbidden, admin: allowed},
	"DELETE /v1/flavors/{id}":       {path: "/v1/flavors/5", reader: forbidden, member: forbidden, admin: allowed},
	"GET /v1/hosts":                 {path: "/v1/hosts", reader: forbidden, member: forbidden, admin: allowed},
	"POST /v1/hosts/{name}/disable": {path: "/v1/hosts/node2/disable", body: `{}`, reader: forbidden, member: forbidden, admin: allowed},
	"POST /v1/hosts/{name}/enable":  {path: "/v1/hosts/node2/enable", reader: forbidden, member: forbidden, admin: allowed},
	"POST /v1/hosts/{name}/force-down": {path: "/v1/hosts/node2/force-down", body: `{"forced_down":true}`,
		reader: forbidden, member: forbidden, admin: allowed},
	"POST /v1/hosts/{name}/evacuate": {path: "/v1/hosts/node2/evacuate", body: `{}`, reader: forbidden, member: forbidden, admin: allowed},

	// Servers: a project's own (Nova); another project's are absent, and
	// listing another project's is an admin's.
	"GET /v1/servers":         {path: "/v1/servers?project_id=%s", obj: project, reader: allowed, member: allowed, admin: allowed, other: forbidden},
	"GET /v1/servers/{id}":    {path: "/v1/servers/%s", obj: server, reader: allowed, member: allowed, admin: allowed, other: absent},
	"DELETE /v1/servers/{id}": {path: "/v1/servers/%s", obj: server, reader: forbidden, member: allowed, admin: allowed, other: absent},
	// An image the caller cannot see is a bad imageRef, as in Nova.
	"POST /v1/servers": {path: "/v1/servers", body: `{"server":{"name":"new","flavor":"1","image":"%s"}}`, obj: image,
		reader: forbidden, member: allowed, admin: allowed, other: badReq},
	"POST /v1/servers/{id}/action":     {path: "/v1/servers/%s/action", body: `{"action":"stop"}`, obj: server, reader: forbidden, member: allowed, admin: allowed, other: absent},
	"GET /v1/servers/{id}/actions":     {path: "/v1/servers/%s/actions", obj: server, reader: allowed, member: allowed, admin: allowed, other: absent},
	"GET /v1/servers/{id}/console-log": {path: "/v1/servers/%s/console-log", obj: server, reader: forbidden, member: allowed, admin: allowed, other: absent},

	// Images (Glance): private ones are their project's.
	"GET /v1/images":                {path: "/v1/images", reader: allowed, member: allowed, admin: allowed},
	"GET /v1/images/{id}":           {path: "/v1/images/%s", obj: image, reader: allowed, member: allowed, admin: allowed, other: absent},
	"POST /v1/images":               {path: "/v1/images", body: `{"name":"new","disk_format":"qcow2","container_format":"bare"}`, reader: forbidden, member: allowed, admin: allowed},
	"DELETE /v1/images/{id}":        {path: "/v1/images/%s", obj: image, reader: forbidden, member: allowed, admin: allowed, other: absent},
	"GET /v1/images/{id}/file":      {path: "/v1/images/%s/file", obj: image, reader: allowed, member: allowed, admin: allowed, other: absent},
	"PUT /v1/images/{id}/file":      {path: "/v1/images/%s/file", body: "data", obj: image, reader: forbidden, member: allowed, admin: allowed, other: absent},
	"GET /v1/server-groups":         {path: "/v1/server-groups", reader: allowed, member: allowed, admin: allowed},
	"GET /v1/server-groups/{id}":    {path: "/v1/server-groups/%s", obj: group, reader: allowed, member: allowed, admin: allowed, other: absent},
	"POST /v1/server-groups":        {path: "/v1/server-groups", body: `{"server_group":{"name":"g","policy":"affinity"}}`, reader: forbidden, member: allowed, admin: allowed},
	"DELETE /v1/server-groups/{id}": {path: "/v1/server-groups/%s", obj: group, reader: forbidden, member: allowed, admin: allowed, other: absent},

	// Quotas (Nova): one's own project's are readable, another's are an
	// admin's (403: a quota is not an object of the project); only an
	// admin sets them.
	"GET /v1/quota-sets/{project_id}":          {path: "/v1/quota-sets/%s", obj: project, reader: allowed, member: allowed, admin: allowed, other: forbidden},
	"GET /v1/quota-sets/{project_id}/defaults": {path: "/v1/quota-sets/%s/defaults", obj: project, reader: allowed, member: allowed, admin: allowed},
	"PUT /v1/quota-sets/{project_id}":          {path: "/v1/quota-sets/%s", body: `{"quota_set":{"instances":20}}`, obj: project, reader: forbidden, member: forbidden, admin: allowed},
	"DELETE /v1/quota-sets/{project_id}":       {path: "/v1/quota-sets/%s", obj: project, reader: forbidden, member: forbidden, admin: allowed},
	"GET /v1/limits":                           {path: "/v1/limits?tenant_id=%s", obj: project, reader: allowed, member: allowed, admin: allowed, other: forbidden},

	"GET /v1/hypervisors":            {path: "/v1/hypervisors", reader: forbidden, member: forbidden, admin: allowed},
	"GET /v1/hypervisors/statistics": {path: "/v1/hypervisors/statistics", reader: forbidden, member: forbidden, admin: allowed},
	"GET /v1/hypervisors/{name}":     {path: "/v1/hypervisors/node1", reader: forbidden, member: forbidden, admin: allowed},
}

// Every route × role × own/other project: the table must name every
// registered route, so a route added without a policy row fails here.
func TestPolicyEveryRoute(t *testing.T) {
	routes := newTenants(t).srv.access
	patterns := slices.Sorted(maps.Keys(routes))
	for _, pattern := range patterns {
		row, ok := policyTable[pattern]
		if !ok {
			t.Errorf("route %q (access %s) has no row in policyTable", pattern, routes[pattern])
			continue
		}
		method, _, _ := strings.Cut(pattern, " ")
		open := routes[pattern] == public
		for _, caller := range []string{noToken, badToken, reader, member, admin} {
			for _, side := range []string{"own", "other"} {
				t.Run(fmt.Sprintf("%s/%s/%s", pattern, caller, side), func(t *testing.T) {
					// A fresh cluster per case: a delete or an action must
					// not change what the next caller finds.
					w := newTenants(t)
					target, want := w.alpha, row.want(caller)
					if side == "other" {
						target = w.beta
						if row.other != "" && caller != admin && want == allowed {
							want = row.other
						}
					}
					if (caller == noToken || caller == badToken) && !open {
						want = "401"
					}
					id := target.id(row.obj)
					path, body := strings.ReplaceAll(row.path, "%s", id), strings.ReplaceAll(row.body, "%s", id)
					resp, raw := w.as(t, caller, method, path, body)
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
