package neutron

import (
	"net/http"
	"slices"

	"github.com/shoal-project/shoal/api"
	"github.com/shoal-project/shoal/api/openstack/osapi"
)

// Discovery: keystoneauth reads the version list at the catalog's URL and
// follows v2.0's self link; the SDK and the CLI then trust the extension
// list to decide what to ask for, so it names only what the routes below
// honour.

type versionDoc struct {
	ID     string       `json:"id"`
	Status string       `json:"status"`
	Links  []osapi.Link `json:"links"`
}

// versions is GET /networking and /networking/: v2.0, the one version.
func versions(w http.ResponseWriter, r *http.Request) {
	api.WriteJSON(w, http.StatusOK, map[string][]versionDoc{"versions": {{ID: "v2.0", Status: "CURRENT",
		Links: []osapi.Link{{Rel: "self", Href: api.BaseURL(r) + v2 + "/"}}}}})
}

// collections are the resources served, singular and plural, as the
// v2.0 root lists them.
var collections = []struct{ name, collection string }{
	{"network", "networks"}, {"subnet", "subnets"}, {"port", "ports"}, {"floatingip", "floatingips"},
	{"security_group", "security-groups"}, {"security_group_rule", "security-group-rules"}, {"quota", "quotas"},
}

type resourceDoc struct {
	Name       string       `json:"name"`
	Collection string       `json:"collection"`
	Links      []osapi.Link `json:"links"`
}

// resources is GET /networking/v2.0/: the collections served.
func resources(w http.ResponseWriter, r *http.Request) {
	out := make([]resourceDoc, 0, len(collections))
	for _, c := range collections {
		out = append(out, resourceDoc{Name: c.name, Collection: c.collection,
			Links: []osapi.Link{{Rel: "self", Href: api.BaseURL(r) + v2 + "/" + c.collection}}})
	}
	api.WriteJSON(w, http.StatusOK, map[string][]resourceDoc{"resources": out})
}

// Extension is one entry of GET /v2.0/extensions.
type Extension struct {
	Name        string       `json:"name"`
	Alias       string       `json:"alias"`
	Description string       `json:"description"`
	Updated     string       `json:"updated"`
	Links       []osapi.Link `json:"links"`
}

// extensions are those whose attributes and resources the module serves,
// with Neutron's names and dates. Left out on purpose: standard-attr-tag
// (tags are always empty and cannot be set), revision-if-match (If-Match
// is not checked), standard-attr-revisions (revision_number is always 1:
// the views do not count changes), filter-validation (unknown filters are
// ignored, as Neutron without it), binding, net-mtu, routers themselves.
var extensions = []Extension{
	{Name: "Neutron external network", Alias: "external-net", Updated: "2013-01-14T10:00:00-00:00",
		Description: "Adds external network attribute to network resource."},
	{Name: "Neutron L3 Router", Alias: "router", Updated: "2012-07-20T10:00:00-00:00",
		Description: "Router abstraction for basic L3 forwarding between L2 Neutron networks and access to external networks via a NAT gateway."},
	{Name: "security-group", Alias: "security-group", Updated: "2012-10-05T10:00:00-00:00",
		Description: "The security groups extension."},
	{Name: "Stateful security group", Alias: "stateful-security-group", Updated: "2019-11-26T09:00:00-00:00",
		Description: "Indicates if the security group is stateful or not"},
	{Name: "Quota management support", Alias: "quotas", Updated: "2012-07-29T10:00:00-00:00",
		Description: "Expose functions for quotas management per tenant"},
	{Name: "Quota details management support", Alias: "quota_details", Updated: "2017-02-10T10:00:00-00:00",
		Description: "Expose functions for quotas usage statistics per project"},
	{Name: "Resource timestamps", Alias: "standard-attr-timestamp", Updated: "2016-09-12T10:00:00-00:00",
		Description: "Adds created_at and updated_at fields to all Neutron resources that have Neutron standard attributes."},
	{Name: "standard-attr-description", Alias: "standard-attr-description", Updated: "2016-02-10T10:00:00-00:00",
		Description: "Extension to add descriptions to standard attributes"},
	{Name: "project_id field enabled", Alias: "project-id", Updated: "2016-09-09T09:09:09-09:09",
		Description: "Extension that indicates that project_id field is enabled."},
}

func listExtensions(w http.ResponseWriter, _ *http.Request) {
	out := slices.Clone(extensions)
	for k := range out {
		out[k].Links = []osapi.Link{}
	}
	api.WriteJSON(w, http.StatusOK, map[string][]Extension{"extensions": out})
}

func showExtension(w http.ResponseWriter, r *http.Request) {
	alias := r.PathValue("alias")
	k := slices.IndexFunc(extensions, func(e Extension) bool { return e.Alias == alias })
	if k < 0 {
		writeError(w, r, named(notFoundError("extension "+alias), "HTTPNotFound",
			"Extension with alias "+alias+" does not exist"))
		return
	}
	e := extensions[k]
	e.Links = []osapi.Link{}
	api.WriteJSON(w, http.StatusOK, map[string]Extension{"extension": e})
}
