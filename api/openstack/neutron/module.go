package neutron

import (
	"errors"
	"net/http"

	"github.com/shoal-project/shoal/api"
	"github.com/shoal-project/shoal/api/openstack/osapi"
	"github.com/shoal-project/shoal/fsm"
)

// prefix is where the catalog's network endpoint points; clients add v2.0.
const prefix = "/networking"

// v2 is the root of every versioned route.
const v2 = prefix + "/v2.0"

// Module serves Neutron's Network API v2.0 subset over api.Ops.
type Module struct{}

// New is the module cmd mounts.
func New() Module { return Module{} }

var _ api.Module = Module{}

// Prefix is where the network endpoint lives.
func (Module) Prefix() string { return prefix }

// handlers are the routes' handlers, holding the Ops they call.
type handlers struct{ ops *api.Ops }

// Register adds Neutron's routes, each with Neutron's default policy:
// version documents are public; networks, subnets and extensions are any
// authenticated caller's; a project's ports, floating IPs and security
// groups its readers' to read and its members' to change (another
// project's are absent, as Neutron hides them); networks and quotas are
// the admin's to change.
func (Module) Register(r api.Router, ops *api.Ops) {
	h := handlers{ops: ops}
	route := func(pattern string, a api.Access, f http.HandlerFunc) { r.Route(pattern, a, withRequestID(f)) }
	route("GET "+prefix, api.AccessPublic, versions)
	route("GET "+prefix+"/{$}", api.AccessPublic, versions)
	route("GET "+v2, api.AccessPublic, resources)
	route("GET "+v2+"/{$}", api.AccessPublic, resources)
	route("GET "+v2+"/extensions", api.AccessAuthenticated, listExtensions)
	route("GET "+v2+"/extensions/{alias}", api.AccessAuthenticated, showExtension)

	route("GET "+v2+"/networks", api.AccessAuthenticated, h.listNetworks)
	route("GET "+v2+"/networks/{id}", api.AccessAuthenticated, h.showNetwork)
	route("POST "+v2+"/networks", api.AccessAdmin, h.createNetwork)
	route("DELETE "+v2+"/networks/{id}", api.AccessAdmin, h.deleteNetwork)
	route("GET "+v2+"/subnets", api.AccessAuthenticated, h.listSubnets)
	route("GET "+v2+"/subnets/{id}", api.AccessAuthenticated, h.showSubnet)
	route("GET "+v2+"/ports", api.AccessProjectReader, h.listPorts)
	route("GET "+v2+"/ports/{id}", api.AccessProjectReader, h.showPort)

	route("GET "+v2+"/floatingips", api.AccessProjectReader, h.listFloatingIPs)
	route("GET "+v2+"/floatingips/{id}", api.AccessProjectReader, h.showFloatingIP)
	route("POST "+v2+"/floatingips", api.AccessProjectMember, h.createFloatingIP)
	route("PUT "+v2+"/floatingips/{id}", api.AccessProjectMember, h.updateFloatingIP)
	route("DELETE "+v2+"/floatingips/{id}", api.AccessProjectMember, h.deleteFloatingIP)

	route("GET "+v2+"/security-groups", api.AccessProjectReader, h.listSecurityGroups)
	route("GET "+v2+"/security-groups/{id}", api.AccessProjectReader, h.showSecurityGroup)
	route("POST "+v2+"/security-groups", api.AccessProjectMember, h.createSecurityGroup)
	route("PUT "+v2+"/security-groups/{id}", api.AccessProjectMember, h.updateSecurityGroup)
	route("DELETE "+v2+"/security-groups/{id}", api.AccessProjectMember, h.deleteSecurityGroup)
	route("GET "+v2+"/security-group-rules", api.AccessProjectReader, h.listRules)
	route("GET "+v2+"/security-group-rules/{id}", api.AccessProjectReader, h.showRule)
	route("POST "+v2+"/security-group-rules", api.AccessProjectMember, h.createRule)
	route("DELETE "+v2+"/security-group-rules/{id}", api.AccessProjectMember, h.deleteRule)

	route("GET "+v2+"/quotas/{project_id}", api.AccessProjectReader, h.showQuota)
	route("GET "+v2+"/quotas/{project_id}/default", api.AccessProjectReader, h.showDefaultQuota)
	route("GET "+v2+"/quotas/{project_id}/details", api.AccessProjectReader, h.showQuotaDetails)
	// gophercloud asks with Neutron's old format suffix.
	route("GET "+v2+"/quotas/{project_id}/details.json", api.AccessProjectReader, h.showQuotaDetails)
	route("PUT "+v2+"/quotas/{project_id}", api.AccessAdmin, h.updateQuota)
}

// withRequestID adds the header Neutron's clients log requests by.
func withRequestID(f http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Openstack-Request-Id", api.RequestID(r.Context()))
		f(w, r)
	}
}

// WriteError answers err as Neutron does: {"NeutronError":{"type","message",
// "detail"}}. The status is api's (StatusOf) unless given; the type is the
// one a handler named (NetworkNotFound…), else Neutron's generic one for
// the status, with Neutron's words for the refusals api writes itself (the
// policy's 403, the mux's 404).
func (Module) WriteError(w http.ResponseWriter, r *http.Request, status int, err error) {
	if status == 0 {
		status = statusOf(err)
	}
	typ, named := typeOf(err, status)
	msg := message(err)
	switch {
	case named:
	case status == http.StatusForbidden && errors.Is(err, fsm.ErrForbidden):
		msg = policyMessage(r)
	case status == http.StatusNotFound:
		msg = "The resource could not be found."
	case status == http.StatusServiceUnavailable:
		if w.Header().Get("Retry-After") == "" {
			w.Header().Set("Retry-After", "1")
		}
	case status == http.StatusNotImplemented:
		typ = "HTTPNotImplemented"
	case status >= http.StatusInternalServerError:
		msg = "Request Failed: internal server error while processing your request."
	}
	osapi.NeutronFault(w, status, typ, msg)
}
