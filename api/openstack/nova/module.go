// Package nova serves OpenStack Compute v2.1 (Nova's API) under /compute
// over api.Ops: the nova CLI, openstacksdk, gophercloud and Tempest talk to
// shoal as to Nova. It holds wire shapes only; api keeps every rule.
package nova

import (
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/shoal-project/shoal/api"
	"github.com/shoal-project/shoal/api/openstack/osapi"
)

// MaxVersion is the highest compute microversion we serve. Raise it only
// when every change up to it, for every resource we serve, is done
// (MICROVERSIONS.md is the checklist): clients negotiate min(theirs, ours)
// and then expect that version's shapes everywhere.
const MaxVersion = "2.100"

// MinVersion is the lowest, Nova's own: v2.1 without a header.
const MinVersion = "2.1"

// prefix is the unversioned root (the catalog's compute endpoint minus
// "/v2.1"); root is the versioned one every resource hangs under.
const (
	prefix = "/compute"
	root   = prefix + "/v2.1"
)

// Module is Compute v2.1 over api.Ops: it decodes Nova's bodies, renders
// Nova's shapes and writes Nova's faults; every rule stays in api.
type Module struct {
	ops        *api.Ops
	negotiator osapi.Negotiator
}

// New returns the compute module, to mount in api.Config.Modules.
func New() *Module { return NewUpTo(MaxVersion) }

// NewUpTo returns the compute module serving microversions up to max: the
// tests of a version's changes use it before MaxVersion reaches that
// version (the agent always mounts New).
func NewUpTo(max string) *Module {
	lowest, _ := osapi.ParseVersion(MinVersion)
	highest, ok := osapi.ParseVersion(max)
	if !ok {
		panic("nova: " + max + " is not a version")
	}
	return &Module{negotiator: osapi.Negotiator{
		Service:      "compute",
		LegacyHeader: "X-OpenStack-Nova-API-Version",
		Min:          lowest,
		Max:          highest,
	}}
}

// Prefix is the path the module's dialect covers.
func (m *Module) Prefix() string { return prefix }

// Register adds every compute route to api's one route and policy table.
// Each area registers its own routes in its own file.
func (m *Module) Register(r api.Router, ops *api.Ops) {
	m.ops = ops
	m.registerVersions(r)
	m.registerFlavors(r)
	m.registerKeyPairs(r)
	m.registerServerGroups(r)
	m.registerServices(r)
	m.registerHypervisors(r)
	m.registerHosts(r)
	m.registerAggregates(r)
	m.registerAvailabilityZones(r)
	m.registerQuotas(r)
	m.registerQuotaClasses(r)
	m.registerLimits(r)
	m.registerUsage(r)
	m.registerExtensions(r)
	m.registerServers(r)
	m.registerSecurityGroups(r)
	m.registerFloatingIPs(r)
	m.registerNetworks(r)
	m.registerImages(r)
	m.registerMigrations(r)
}

// WriteError writes err as a Nova fault: the status is the one given, else
// a *fault's (the module's own 400/413 wording), else api.StatusOf(err). An over-quota error keeps fsm's message, which is
// Nova's word for word (clients and Tempest match on it).
func (m *Module) WriteError(w http.ResponseWriter, r *http.Request, status int, err error) {
	var f *fault
	switch {
	case status != 0:
	case errors.As(err, &f):
		status = f.status
	default:
		status = api.StatusOf(err)
	}
	setRequestID(w, r)
	osapi.NovaFault(w, status, message(err))
}

// message is what a fault says of err: fsm's over-quota message as it is
// (Nova's word for word), else err's text without the sentinel's own
// leading "not found: " (Nova's messages are sentences of their own).
func message(err error) string { return api.MessageOf(err) }

// fail is WriteError with the status err's sentinel gives: what handlers call.
func (m *Module) fail(w http.ResponseWriter, r *http.Request, err error) {
	m.WriteError(w, r, 0, err)
}

// route registers h for pattern ("GET /servers/{id}", below /compute/v2.1)
// with access a, behind microversion negotiation; ranges, when given, are
// the microversions the route exists in (404 outside them, as Nova).
func (m *Module) route(r api.Router, pattern string, a api.Access, h http.HandlerFunc, ranges ...osapi.Range) {
	method, path, ok := strings.Cut(pattern, " ")
	if !ok || !strings.HasPrefix(path, "/") {
		panic("nova: route pattern " + pattern + " is not \"METHOD /path\"")
	}
	r.Route(method+" "+root+path, a, withRequestID(m.negotiator.Wrap(h, osapi.NovaFault, ranges...)))
}

// withRequestID adds Nova's two request-ID headers (the same ID api puts
// in X-Request-Id), which clients log and Tempest reads.
func withRequestID(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		setRequestID(w, r)
		h(w, r)
	}
}

func setRequestID(w http.ResponseWriter, r *http.Request) {
	id := api.RequestID(r.Context())
	if id == "" {
		return
	}
	w.Header().Set("x-openstack-request-id", id)
	w.Header().Set("x-compute-request-id", id)
}

// naiveTime is how Nova writes the times its database hands back as they
// are (services' updated_at, tenant usage): UTC without a zone, with
// microseconds, as Python's isoformat. The zero time is "".
func naiveTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02T15:04:05.000000")
}

// links are a resource's self and bookmark links; path is below both roots
// ("/flavors/1").
func links(r *http.Request, path string) []osapi.Link {
	base := api.BaseURL(r)
	return osapi.SelfAndBookmark(base+root, base+prefix, path)
}
